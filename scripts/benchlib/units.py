"""Several units on one PostgreSQL store (issue 27): files/s and how much of the wall time the write turn is held,
for 1 and 3 instances, before (aimport at the base commit: one store-wide key held from the first row) and after
(one key per table, taken once the rows are staged), in one run.

The drop is mixed: many small files of four types (Skills, Queues, Calendar, UserGroup; half of them create,
half update what earlier files created) and a few 20,000-row Directory files. With 3 instances the files are
spread over three units (SRV1..SRV3), each its own service. The turn's held fraction is sampled from
``pg_locks`` every few milliseconds by a connection of the bench's own: the share of samples in which any
aimport turn key is granted, between the first drop and the last ``.result``.

"Before" is measured twice: the tree of the base commit (``git archive BASE``, no worktree, nothing in the
repository touched, started from its own folder so that its service and worker processes import that
``aimport``: everything else that changed since is in the comparison too), and this tree with
``AIMPORT_BENCH_WIDE_TURN=1`` (every import takes every table's turn before it stages: the same code but the
turn's width and scope).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import inputs
from benchlib.report import Report
from benchlib.service import aged
from tests.helpers import wait_for
from tests.pgserver import PgServer, find_bindir, start_server
from tests.serviceprocess import ServiceProcess

__all__ = ["BASE", "units_case"]

BASE = "3944939"  # the commit before issue 27: one store-wide turn, taken at the start of the apply
TYPES = ("Skills", "Queues", "Calendar", "UserGroup")
OLD_KEY = 0x61696D70  # the store-wide key of BASE: pg_advisory_xact_lock(bigint) -> classid 0, objid OLD_KEY
TURN_CLASS = 0x61696D70  # after: pg_advisory_xact_lock(TURN_CLASS, table)
WIDE_ENV = "AIMPORT_BENCH_WIDE_TURN"  # aimport.store.turn.WIDE_ENV (not imported: the bench also runs the base tree)
HELD_SQL = ("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid = 0 AND objid = %s "
            "AND objsubid = 1 AND mode = 'ExclusiveLock') OR (classid = %s AND objsubid = 2))")


@dataclass
class Run:
    files: int
    seconds: float
    held: float  # fraction of the wall time some turn key was held
    failed: int


def units_case(rep: Report, work: Path, small: int, big: int, big_rows: int, rounds: int = 2) -> None:
    """``small`` small files + ``big`` Directory files of ``big_rows`` rows: 1 and 3 instances, before and after;
    ``rounds`` rounds alternating before and after, the fastest run of each counts (other load comes and goes)."""
    bindir = find_bindir()
    if bindir is None:
        rep.info("several units on one PostgreSQL store", "n/a (no PostgreSQL server binaries)")
        return
    base = _base_tree(work / "base")
    server = start_server(bindir)
    try:
        runs: dict[tuple[str, int], Run] = {}
        every: list[Run] = []
        for i in range(rounds):
            for label, tree in (("before", base), ("wide", None), ("after", None)):
                for n in (1, 3):
                    env = {WIDE_ENV: "1"} if label == "wide" else {}
                    r = _run(server, work / f"units-{label}-{n}-{i}", tree, n, small, big, big_rows, env)
                    every.append(r)
                    print(f"  round {i + 1}, {label}, {n} instance(s): {r.files / r.seconds:.1f} files/s, turn held "
                          f"{r.held:.0%}, {r.failed} failed", flush=True)
                    if (label, n) not in runs or r.seconds < runs[(label, n)].seconds:
                        runs[(label, n)] = r
        what = f"{small} small files of 4 types + {big} Directory files of {big_rows:,} rows"
        names = {"before": f"before (base {BASE})", "wide": f"before (this tree, {WIDE_ENV}=1: one wide turn)",
                 "after": "after (this tree: a narrow turn per table)"}
        for label in ("before", "wide", "after"):
            one, three = runs[(label, 1)], runs[(label, 3)]
            rep.info(f"units on one PostgreSQL store, {names[label]}: "
                     f"{what}; fastest of {rounds}", f"1 instance {one.files / one.seconds:.1f} files/s (turn held {one.held:.0%}); "
                     f"3 instances {three.files / three.seconds:.1f} files/s (turn held {three.held:.0%})")
        after = runs[("after", 1)].held
        for label in ("before", "wide"):
            before = runs[(label, 1)].held
            rep.limit(f"write turn held, share of wall time with 1 instance, after / {names[label]} "
                      f"({after:.0%} / {before:.0%}; target: at least halved)", after / before if before else 1.0,
                      0.5, "x")
        bad = sum(r.failed for r in every)
        rep.limit("files not succeeded in the units runs", bad, 0, "files")
    finally:
        server.stop()


def _base_tree(dest: Path) -> Path:
    """The ``aimport`` package of :data:`BASE`, unpacked into ``dest`` (from ``git archive``)."""
    repo = Path(__file__).resolve().parent.parent.parent
    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / "base.tar"
    with open(tar, "wb") as fh:
        subprocess.run(["git", "-C", str(repo), "archive", BASE, "aimport"], stdout=fh, check=True)
    with tarfile.open(tar) as tf:
        tf.extractall(dest, filter="data")
    tar.unlink()
    found = subprocess.run([sys.executable, "-c", "import aimport; print(aimport.__file__)"], cwd=dest,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert found.startswith(str(dest)), f"the base tree's aimport is not the one imported: {found}"
    return dest


def _files(folder: Path, small: int, big: int, big_rows: int) -> list[tuple[str, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []
    for k in range(small):
        t = TYPES[k % len(TYPES)]
        gen = (k // len(TYPES)) % 2  # the second file of each pair updates what the first created
        pair = k // (2 * len(TYPES))
        rows = [[f"{t}-{pair}-{i}", f"{t} {pair}/{i} v{gen}"] for i in range(3 + k % 8)]
        out.append((t, aged(inputs.text(folder / f"{t}-{k}.txt", ["Name", "Description"], iter(rows)))))
        if big and k % max(1, small // big) == small // (2 * big) and sum(1 for t_, _ in out if t_ == "Directory") < big:
            j = sum(1 for t_, _ in out if t_ == "Directory")
            rows_d = inputs.directory_rows(big_rows, f"U{j}-")
            out.append(("Directory", aged(inputs.text(folder / f"people-{j}.txt", inputs.DIR_HEADER, rows_d))))
    return out


@contextmanager
def _sampler(url: str) -> Iterator[list[int]]:
    """Samples of "some turn key is held" (1/0) every 10 ms on a connection of its own, until the block ends."""
    import psycopg

    samples: list[int] = []
    stop = threading.Event()

    def run() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                samples.append(1 if conn.execute(HELD_SQL, (OLD_KEY, TURN_CLASS)).fetchone()[0] else 0)  # type: ignore[index]
                time.sleep(0.01)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    try:
        yield samples
    finally:
        stop.set()
        th.join(10)


def _run(server: PgServer, work: Path, tree: Path | None, n: int, small: int, big: int, big_rows: int,
         env: dict[str, str]) -> Run:
    url = server.url(server.create_database(prefix="units"))
    work = work.absolute()
    root = work / "root"
    services = [ServiceProcess(root=root, state=work / f"state{i}", server=f"SRV{i + 1}", store=url,
                               args=["--settle-ms", "200", "--rescan-s", "5"], env=env) for i in range(n)]
    here = os.getcwd()
    try:
        if tree is not None:
            os.chdir(tree)  # the service (and its workers) import aimport from the base tree
        for s in services:
            s.start(wait=False)
        for s in services:
            s.wait_ready(120)
    finally:
        os.chdir(here)
    try:
        files = _files(work / "drop", small, big, big_rows)
        placed: list[tuple[ServiceProcess, str, str]] = []
        with _sampler(url) as samples:
            t0 = time.perf_counter()
            for i, (t, p) in enumerate(files):
                s = services[i % n]
                os.replace(p, s.layout.type_dir(t) / p.name)
                placed.append((s, t, p.name))
            wait_for(lambda: _all_done(placed), 1800, interval=0.1, what="every file's .result")
            seconds = time.perf_counter() - t0
        failed = sum(1 for s, t, name in placed if "status: succeeded" not in _result(s, t, name))
        held = sum(samples) / len(samples) if samples else 0.0
        return Run(len(placed), seconds, held, failed)
    finally:
        for s in services:
            s.stop()
        server.drop_database(url.rsplit("/", 1)[1])


def _all_done(placed: list[tuple[ServiceProcess, str, str]]) -> bool:
    """Whether every file has its ``.result`` (one listing per History folder: the bench must not load the machine)."""
    listed: dict[Path, set[str]] = {}
    for s, t, name in placed:
        hist = s.layout.history_dir(t)
        if hist not in listed:
            try:
                listed[hist] = {n.split("_", 2)[-1] for n in os.listdir(hist) if n.endswith(".result")}  # <stamp>_<name>
            except OSError:
                listed[hist] = set()
        if f"{name}.result" not in listed[hist]:
            return False
    return True


def _result(s: ServiceProcess, t: str, name: str) -> str:
    found: Any = list(s.layout.history_dir(t).glob(f"*_{name}.result"))
    return found[0].read_text() if found else ""
