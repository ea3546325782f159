"""Outbound campaigns: import, call results, completion and exactly-once export."""
