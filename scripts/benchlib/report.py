"""The benchmark table (markdown, PASS/FAIL per target) and the rows/s chart."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path


class Report:
    def __init__(self, size: str) -> None:
        self.size = size
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.series: tuple[list[int], dict[str, list[float]]] | None = None

    def _add(self, case: str, value: str, target: str, verdict: str, note: str) -> None:
        self.rows.append((case, value, target, verdict, note))
        print(f"{verdict or 'info':5} {case}: {value} {('(target ' + target + ')') if target else ''} {note}", flush=True)

    def ratio(self, case: str, ours: float, base: float, target: float, note: str) -> None:
        r = ours / base if base else 0.0
        self._add(case, f"{r:.2f}x ({ours:,.0f} vs {base:,.0f} rows/s)", f">= {target:g}x", "PASS" if r >= target else "FAIL", note)

    def limit(self, case: str, value: float, limit: float, unit: str, strict: bool = False) -> None:
        ok = value < limit if strict else value <= limit
        self._add(case, f"{value:,.2f} {unit}" if strict else f"{value:,.1f} {unit}",
                  f"{'<' if strict else '<='} {limit:g} {unit}", "PASS" if ok else "FAIL", "")

    def at_least(self, case: str, value: float, target: float, unit: str, note: str, ok: bool = True) -> None:
        """A measured rate with a floor (``ok`` False: the run broke a rule, whatever the rate)."""
        self._add(case, f"{value:,.1f} {unit}", f">= {target:g} {unit}", "PASS" if ok and value >= target else "FAIL", note)

    def info(self, case: str, value: str) -> None:
        self._add(case, value, "", "", "")

    def all_passed(self) -> bool:
        return all(r[3] != "FAIL" for r in self.rows)

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        lines = [f"# aimport benchmark ({self.size})", "",
                 f"{dt.datetime.now().isoformat(timespec='seconds')}, {platform.python_version()}, "
                 f"{os.cpu_count()} cores; ratios are measured against raw baselines in the same run.", "",
                 "| case | measured | target | result | baseline / note |", "|---|---|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in self.rows]
        if self.series:
            sizes, series = self.series
            lines += ["", "| rows | " + " | ".join(f"{k} rows/s" for k in series) + " |", "|---|" + "---|" * len(series)]
            for i, n in enumerate(sizes):
                lines.append(f"| {n:,} | " + " | ".join(f"{series[k][i]:,.0f}" for k in series) + " |")
            self._chart(out / "bench-chart.png", sizes, series)
            lines += ["", "![rows/s by size](bench-chart.png)"]
        (out / "bench-results.md").write_text("\n".join(lines) + "\n")
        print(f"\nwritten: {out / 'bench-results.md'}")

    @staticmethod
    def _chart(path: Path, sizes: list[int], series: dict[str, list[float]]) -> None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib not installed (pip install -e .[bench]): no chart")
            return
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, values in series.items():
            ax.plot(sizes, values, marker="o", label=f".{name} import (drop to .result)")
        ax.set_xscale("log")
        ax.set_xlabel("rows in the file")
        ax.set_ylabel("rows per second")
        ax.set_title("aimport end-to-end import throughput (Directory, 9 columns)")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
