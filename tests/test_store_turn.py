"""The write turn on a shared PostgreSQL store is narrow, bounded and visible (issue 27).

Real services (subprocesses) on one real PostgreSQL server. A unit whose import is frozen (SIGSTOP) while it
holds the turn of one table stops no other table: another unit's Skills file goes through, its Directory file
is deferred (the event names the frozen holder), the server ends the holder's idle transaction, and after
SIGCONT every file is imported exactly once. Two units apply Skills and Directory at the same time; a Users
sheet (which refers to queues) and a Queues file never hold their turns at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from aimport.store import connect, turn
from aimport.store import units as units_store
from aimport.store.connect import StoreSession, configure, open_db
from aimport.store.schema import ensure_schema
from tests.helpers import archived, query, result_of, wait_for, write_openpyxl, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e

# the turn wait and the server's idle-transaction limit as short as a test allows (seconds)
SHORT = ["--settle-ms", "50", "--rescan-s", "5", "--store-turn-timeout", "2", "--store-idle-timeout", "5"]
HOLDERS = f"""SELECT l.objid::int, l.mode, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.classid = {turn.TURN_CLASS} AND l.objsubid = 2 AND l.granted"""


def key(table: str) -> int:
    return turn.TABLES.index(table) + 1


def held(pg_url: str) -> list[tuple[int, str, str]]:
    return [(int(k), str(m), str(n)) for k, m, n in query(pg_url, HOLDERS)]


def events(s: ServiceProcess, kind: str) -> list[dict[str, Any]]:
    return [json.loads(d) for (d,) in query(s.audit_db, "SELECT detail FROM events WHERE kind = ? ORDER BY id", (kind,))]


def stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except OSError:
        return False


def directory(name: str, n: int) -> list[list[Any]]:
    return [["ExternalId", "FirstName", "Phone"]] + [[f"{name}{i}", f"{name} {i}", f"040{i:07d}"] for i in range(n)]


def drop(s: ServiceProcess, import_type: str, path: Path) -> None:
    os.replace(path, s.layout.type_dir(import_type) / path.name)


def units(tmp_path: Path, pg_url: str, *extra: list[str], env: dict[str, str] | None = None) -> list[ServiceProcess]:
    out = [ServiceProcess(root=tmp_path / "share", state=tmp_path / f"state-{u}", server=u, store=pg_url,
                          args=[*SHORT, *more], env=dict(env or {})) for u, more in zip(("SRV1", "SRV2"), extra)]
    for s in out:
        s.start(wait=False)
    for s in out:
        s.wait_ready(60)
    return out


def stop(services: list[ServiceProcess]) -> None:
    for s in services:
        try:
            s.stop(timeout=30)
        except Exception:  # noqa: BLE001 - the process must not outlive the test
            s.kill()


def test_a_frozen_holder_stops_only_its_own_table_and_its_import_lands_once(tmp_path: Path, pg_url: str) -> None:
    one, two = units(tmp_path, pg_url, [], [], env={"AIMPORT_PAUSE": "before_commit:1500"})
    worker = 0
    try:
        drop(one, "Directory", write_text(tmp_path / "first.txt", directory("A", 40)))
        # the holder: SRV1's worker, inside its apply transaction with the turn of directory_entries
        mine = "aimport SRV1_VUBJS pid "

        def holder() -> int:
            for k, _, name in held(pg_url):
                if k == key("directory_entries") and name.startswith(mine) and turn.SINCE_MARK in name:
                    return int(name[len(mine):].split()[0])
            return 0

        worker = wait_for(holder, 30, interval=0.02)
        os.kill(worker, signal.SIGSTOP)
        drop(two, "Skills", write_text(tmp_path / "skills.txt", [["Name"], ["Sales"], ["Support"]]))
        drop(two, "Directory", write_text(tmp_path / "second.txt", directory("B", 30)))
        [skills] = two.wait_done("Skills", "skills.txt", timeout=60)
        assert result_of(skills)["status"] == "succeeded"
        deferred = wait_for(lambda: [e for e in events(two, "import_deferred") if e.get("file") == "second.txt"], 60)
        assert stopped(worker)  # all of this while the holder is still frozen
        assert f"aimport SRV1_VUBJS pid {worker} import" in deferred[0]["error"], deferred
        assert "directory_entries" in deferred[0]["error"] and "held by" in deferred[0]["error"]
        assert not [e for e in events(two, "import_deferred") if e.get("file") == "skills.txt"]
        # the server ends the frozen holder's idle transaction: its turn is free again
        wait_for(lambda: not holder(), 60)
    finally:
        if worker:
            os.kill(worker, signal.SIGCONT)
    try:
        [first] = one.wait_done("Directory", "first.txt", timeout=90)
        [second] = two.wait_done("Directory", "second.txt", timeout=90)
        assert result_of(first)["status"] == "succeeded" and result_of(first)["created"] == "40"
        assert result_of(second)["status"] == "succeeded" and result_of(second)["created"] == "30"
        assert query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(70, 70)]
        assert query(pg_url, "SELECT COUNT(*) FROM skills") == [(2,)]
        assert query(pg_url, "SELECT COUNT(*) FROM import_ledger") == [(3,)]
        assert [e["file"] for e in events(one, "import_deferred")] == ["first.txt"]  # its COMMIT found no session
    finally:
        stop([one, two])


def test_disjoint_tables_apply_at_once_users_and_queues_never(tmp_path: Path, pg_url: str) -> None:
    pause = {"AIMPORT_PAUSE": "before_commit:4000"}  # each apply holds its turn long enough for the other to come
    one, two = units(tmp_path, pg_url, [], [], env=pause)
    seen: list[set[tuple[int, str]]] = []

    def watch(*files: tuple[ServiceProcess, str, str]) -> None:
        deadline = time.monotonic() + 90
        while not all(archived(s.layout, t, n) for s, t, n in files):
            assert time.monotonic() < deadline, "the files were not archived"
            seen.append({(k, n.split(turn.SINCE_MARK)[0]) for k, m, n in held(pg_url) if m == "ExclusiveLock"})
            time.sleep(0.02)

    def both(k1: int, k2: int) -> bool:
        return any({k for k, _ in s} >= {k1, k2} and len({n for k, n in s if k in (k1, k2)}) == 2 for s in seen)

    try:
        drop(two, "Directory", write_text(tmp_path / "people.txt", directory("P", 200)))
        wait_for(lambda: key("directory_entries") in {k for k, m, _ in held(pg_url) if m == "ExclusiveLock"}, 60,
                 interval=0.02, what="the Directory file holding its table's turn")  # then the Skills file comes
        drop(one, "Skills", write_text(tmp_path / "skills.txt", [["Name"], ["Sales"], ["Support"]]))
        watch((one, "Skills", "skills.txt"), (two, "Directory", "people.txt"))
        assert both(key("skills"), key("directory_entries"))  # applied at overlapping times, on two units
        seen.clear()
        users = write_openpyxl(tmp_path / "users.xlsx", {"Users": [["Login", "FirstName", "Surname", "Queues"],
                                                                   ["ann", "Ann", "A", ""], ["bob", "Bob", "B", ""]]})
        drop(one, "Configuration", users)
        drop(two, "Queues", write_text(tmp_path / "queues.txt", [["Name"], ["Q1"], ["Q2"]]))
        watch((one, "Configuration", "users.xlsx"), (two, "Queues", "queues.txt"))
        assert any(key("users") in {k for k, _ in s} for s in seen) and any(key("queues") in {k for k, _ in s} for s in seen)
        assert not both(key("users"), key("queues"))
        for s, t, name in ((one, "Configuration", "users.xlsx"), (two, "Queues", "queues.txt")):
            assert result_of(s.wait_done(t, name, timeout=60)[0])["status"] == "succeeded"
        assert query(pg_url, "SELECT COUNT(*) FROM users") == [(3,)]  # the logon user and two
        assert query(pg_url, "SELECT COUNT(*) FROM queues") == [(2,)]
    finally:
        stop([one, two])


def test_the_turn_of_a_table_is_bounded_and_names_its_holder(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connect, "_session", None)  # this process's session is put back afterwards
    monkeypatch.setenv(connect.SESSION_ENV, "")
    configure(StoreSession("SRV9_VUBJS", "test", turn_timeout_s=0.5))
    with open_db(pg_url) as first, open_db(pg_url) as second:
        ensure_schema(first)
        got = turn.take(first, turn.keys_for([_type("directory")]))
        assert got.waited_s >= 0 and first.in_transaction
        other = turn.take(second, turn.keys_for([_type("skill")]))  # another table: no wait
        second.rollback()
        assert other.keys.write == ("skills",)
        with pytest.raises(turn.TurnBusy) as busy:
            turn.take(second, turn.keys_for([_type("directory")]))
        assert f"aimport SRV9_VUBJS pid {os.getpid()} test" in str(busy.value) and "directory_entries" in str(busy.value)
        assert busy.value.transient and not second.in_transaction
        found = turn.holders(second)
        assert [(h.table, h.exclusive) for h in found if h.waiting_s is None] == [("directory_entries", True)]
        # while one waits, /healthz's line says for what and for whom (aimport.store.units.waiting)
        waiter = threading.Thread(target=_wait_for_turn, args=(pg_url,))
        waiter.start()
        try:
            line = wait_for(lambda: units_store.waiting(turn.holders(second), "SRV9_VUBJS"), 10, interval=0.02)
        finally:
            waiter.join()
        assert line.startswith("waiting for the write turn of directory_entries ")
        assert f"(held by aimport SRV9_VUBJS pid {os.getpid()} test for " in line, line
        first.rollback()
        assert turn.holders(second) == []


def _wait_for_turn(pg_url: str) -> None:
    with open_db(pg_url) as db, pytest.raises(turn.TurnBusy):
        turn.take(db, turn.keys_for([_type("directory")]), timeout_s=2)


def test_status_lists_the_units_of_the_store(tmp_path: Path, pg_url: str) -> None:
    [one] = units(tmp_path, pg_url, [])
    try:
        wait_for(lambda: query(pg_url, "SELECT to_regclass('aimport_units') IS NOT NULL") == [(True,)]
                 and query(pg_url, "SELECT unit FROM aimport_units"), 30)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
        out = subprocess.run([sys.executable, "-m", "aimport", "status", "--state-dir", str(one.state)],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "SRV1_VUBJS" in out.stdout and "units on the store" in out.stdout, out.stdout
    finally:
        stop([one])
    assert query(pg_url, "SELECT COUNT(*) FROM aimport_units") == [(0,)]  # a stopped service leaves


def _type(key_: str) -> Any:
    from aimport.itemtypes.catalog import CATALOG

    return CATALOG.by_key(key_)
