"""Benchmark helpers for scripts/bench (inputs, baselines, service runs, report)."""
