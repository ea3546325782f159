"""Several units, one share, one PostgreSQL store: real services import at once (issue 15, part 3).

Two services watch the same unit folder from different state directories ("the same unit on two hosts": they
race for each file and the atomic rename into InProcess/ decides), a third watches another unit. Files of
both units create the same identifications at the same moment; one of the two same-unit services is killed
with ``kill -9`` half-way and started again. Afterwards: every file archived exactly once, every row applied
exactly once (one ledger row per file, one object per identification), each campaign exported once across
all instances, and no instance ever ran more imports at once than its ``--max-concurrent``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aimport.layout import Layout
from tests.campaign_helpers import SCRIPT_ROWS, campaign_file
from tests.helpers import (
    Cli,
    Rows,
    archived,
    query,
    result_of,
    wait_archived,
    wait_for,
    write_openpyxl,
    write_text,
    write_xlsxwriter,
)
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e

UNIT1, UNIT2 = "SRV1", "SRV2"  # the unit folders SRV1_VUBJS and SRV2_VUBJS
FAST = ["--settle-ms", "50", "--supervise-s", "0.3", "--rescan-s", "5"]
CAMPAIGNS = ["Promo 1", "Promo 2", "Promo 3"]
PAIRS = 149  # pairs of files, one per unit, dropped together: 298 files + the script and the queue = 300
KINDS = ["Skills", "Directory", "Queues", "Calendar", "UserGroup", "Presence", "BlockedNumbers", "Scripts", "Configuration"]
IDENTIFICATION = {"skills": "name", "directory_entries": "external_id", "queues": "name", "calendars": "name",
                  "user_groups": "name", "presence_profiles": "name", "blocked_numbers": "number",
                  "script_questions": "script, question_id", "users": "login"}  # what one object per identification means


@dataclass
class Drop:
    """One file for a unit's type folder: its sheets, and the identifications its good rows create."""

    server: str
    import_type: str
    name: str
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)
    keys: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)  # table -> identifications
    partial: bool = False  # one row is rejected on purpose: the file ends partial (ROWS_REJECTED)

    def add(self, sheet: str, table: str, header: list[str], rows: list[list[Any]], key: int | tuple[int, ...] = 0) -> None:
        cols = (key,) if isinstance(key, int) else key
        self.sheets[sheet] = [header, *rows]
        self.keys[table] = {tuple(r[c] for c in cols) for r in rows}

    def reject(self, sheet: str, row: list[Any]) -> None:
        self.sheets[sheet].append(row)
        self.partial = True


def pair(j: int) -> list[Drop]:
    """Two files of one type, one per unit, dropped together: each has names of its own, two it shares with the
    other file and one every file of its type has; every 10th pair's first file also has a row that is rejected."""
    t = KINDS[j % len(KINDS)]
    out = []
    for side, server in (("a", UNIT1), ("b", UNIT2)):
        names = [f"{t[:3]}-{j}-{side}{k}" for k in range(3)] + [f"{t[:3]}-{j}-shared{k}" for k in range(2)] + [f"{t[:3]}-common"]
        numbers = [f"+3585{j:04d}{side == 'a':d}{k}0" for k in range(3)] + [f"+3585{j:04d}2{k}0" for k in range(2)] + ["+35860000000"]
        ext = "xlsx" if t == "Configuration" or j % 3 == 0 else "txt"
        d = Drop(server, t, f"{t} {j}{side}.{ext}")
        bad = side == "a" and j % 10 == 0
        if t == "Skills":
            d.add("Skills", "skills", ["Name", "Description"], [[n, f"from {side}"] for n in names])
        elif t == "Directory":
            d.add("Directory", "directory_entries", ["ExternalId", "FirstName", "Phone"], [[n, side, "+358401234567"] for n in names])
            if bad:
                d.reject("Directory", [f"Dir-{j}-bad", None, "+358401234567"])  # no FirstName, LastName or Company
        elif t == "Queues":
            d.add("Queues", "queues", ["Name", "ExternalId", "Channel"], [[n, f"X{n}", "Voice"] for n in names])
        elif t == "Calendar":
            d.add("Calendars", "calendars", ["Name", "TimeZone"], [[n, "Europe/Helsinki"] for n in names])
            if bad:
                d.reject("Calendars", [f"Cal-{j}-bad", "Mars/Olympus"])  # not a time zone
        elif t == "UserGroup":
            d.add("UserGroups", "user_groups", ["Name", "ExternalId", "Description"], [[n, f"X{n}", side] for n in names])
        elif t == "Presence":
            d.add("PresenceProfiles", "presence_profiles", ["Name", "Status"], [[n, "Busy" if side == "a" else "Away"] for n in names])
            if bad:
                d.reject("PresenceProfiles", [f"Pre-{j}-bad", "Sleeping"])  # not a status
        elif t == "BlockedNumbers":
            d.add("BlockedNumbers", "blocked_numbers", ["Number", "Description"], [[n, side] for n in numbers])
        elif t == "Scripts":
            rows = [["Script", n, f"Question {side}?", "Text"] for n in names]
            d.add("Scripts", "script_questions", ["Script", "QuestionId", "Question", "AnswerType"], rows, (0, 1))
            if bad:
                d.reject("Scripts", ["Script", f"Scr-{j}-bad", "Which?", "Choice"])  # a Choice needs Options
        else:  # a Configuration workbook: skills and users
            d.add("Skills", "skills", ["Name"], [[f"cfg {n}"] for n in names])
            d.add("Users", "users", ["Login", "FirstName", "Surname"], [[n.lower(), "Ann", side] for n in names])
        out.append(d)
    return out


def write(d: Drop, path: Path, j: int) -> Path:
    if path.suffix == ".txt":
        [rows] = d.sheets.values()
        return write_text(path, rows)
    sheets: dict[str, Rows] = dict(d.sheets)
    return (write_openpyxl if j % 2 else write_xlsxwriter)(path, sheets)


def types_of(layout: Layout) -> list[str]:
    return [t for t in os.listdir(layout.automatic) if t != "Export"]


def history_data(layout: Layout) -> list[Path]:
    return [p for t in types_of(layout) for p in layout.history_dir(t).iterdir()
            if not p.name.endswith((".log", ".result", ".err")) and ".rejected" not in p.name]


def results_written(layouts: list[Layout]) -> int:
    return sum(1 for lay in layouts for t in types_of(lay) for n in os.listdir(lay.history_dir(t)) if n.endswith(".result"))


def max_overlap(audit_db: Path) -> int:
    """The most imports this instance ran at once, from its audit trail's start and finish times (a sweep)."""
    spans = query(audit_db, "SELECT started_at, finished_at FROM imports")
    assert all(s and f for s, f in spans), spans  # every import finished
    marks = sorted([(f, 0) for _, f in spans] + [(s, 1) for s, _ in spans])  # at one instant a finish comes first
    running = peak = 0
    for _, up in marks:
        running += 1 if up else -1
        peak = max(peak, running)
    return peak


def audit_events(services: list[ServiceProcess], kind: str) -> list[dict[str, Any]]:
    return [json.loads(d) for s in services for (d,) in query(s.audit_db, "SELECT detail FROM events WHERE kind = ?", (kind,))]


def start_all(services: list[ServiceProcess]) -> None:
    for s in services:
        s.start(wait=False)
    for s in services:
        s.wait_ready(60)


def stop_all(services: list[ServiceProcess]) -> None:
    for s in services:
        try:
            s.stop(timeout=30)
        except Exception:  # noqa: BLE001 - whatever stopping hit, the process must not outlive the test
            s.kill()


def close_when_active(cli: Cli, layout: Layout, name: str, store: str) -> None:
    [hist] = wait_archived(layout, "OutboundCampaign", f"{name}.xlsx", timeout=60)
    assert result_of(hist)["campaign_status"] == "Active"
    r = cli("campaign", "close", name, "--store", store)
    assert r.returncode == 0, r.stderr


def test_three_instances_one_store_one_killed_half_way(cli: Cli, tmp_path: Path, pg_url: str) -> None:
    root, staging = tmp_path / "share", tmp_path / "staging"
    staging.mkdir()
    a, b, c = (ServiceProcess(root=root, state=tmp_path / f"state-{n}", server=unit, store=pg_url,
                              args=[*FAST, "--max-concurrent", str(limit)])
               for n, unit, limit in (("a", UNIT1, 2), ("b", UNIT1, 2), ("c", UNIT2, 3)))
    services, limits = [a, b, c], {"state-a": 2, "state-b": 2, "state-c": 3}
    units = {UNIT1: a.layout, UNIT2: c.layout}
    try:
        start_all(services)
        # first what the campaigns refer to: their script (unit 1) and queue (unit 2)
        script, queue = Drop(UNIT1, "Scripts", "survey.txt"), Drop(UNIT2, "Queues", "outbound.txt")
        script.add("Scripts", "script_questions", SCRIPT_ROWS[0], SCRIPT_ROWS[1:], (0, 1))
        queue.add("Queues", "queues", ["Name"], [["Outbound"]])
        for d in (script, queue):
            os.replace(write(d, staging / d.name, 0), units[d.server].type_dir(d.import_type) / d.name)
            wait_archived(units[d.server], d.import_type, d.name, timeout=60)
        drops = [script, queue]
        for i, name in enumerate(CAMPAIGNS):
            d = Drop(UNIT1 if i < 2 else UNIT2, "OutboundCampaign", f"{name}.xlsx")
            f = campaign_file(staging / d.name, 3, {"Script": "Survey", "Queue": "Outbound"})
            os.replace(f, units[d.server].type_dir(d.import_type) / d.name)
            drops.append(d)
        pairs = [(j, d) for j in range(PAIRS) for d in pair(j)]
        staged = [(d, write(d, staging / d.name, j)) for j, d in pairs]
        for d, path in staged:  # the two files of a pair land at the same moment, one in each unit
            os.replace(path, units[d.server].type_dir(d.import_type) / d.name)
            drops.append(d)
        assert len(drops) == 303 and len({d.name for d in drops}) == 303

        close_when_active(cli, units[UNIT1], CAMPAIGNS[0], pg_url)
        wait_for(lambda: results_written(list(units.values())) >= len(drops) // 2, 90, what="half of the files archived")
        wait_for(lambda: query(a.audit_db, "SELECT COUNT(*) FROM imports WHERE finished_at IS NULL")[0][0], 30,
                 what="the service to kill in the middle of an import")
        a.kill()  # kill -9 one of the two services of unit 1 half-way, and start it again on its state directory
        a.start(wait=False)
        a.wait_ready(60)
        close_when_active(cli, units[UNIT1], CAMPAIGNS[1], pg_url)
        close_when_active(cli, units[UNIT2], CAMPAIGNS[2], pg_url)
        wait_for(lambda: results_written(list(units.values())) >= len(drops), 120, what="every file archived")
        wait_for(lambda: query(pg_url, "SELECT COUNT(*) FROM campaigns WHERE exported_at IS NOT NULL") == [(3,)], 60,
                 what="three exports, acknowledged in the store")
        wait_for(lambda: sum(query(s.audit_db, "SELECT COUNT(*) FROM imports WHERE finished_at IS NULL")[0][0]
                             for s in services) == 0, 30, what="every audit row finished")
        stop_all(services)

        # 0 files lost: each file archived exactly once with its .result, nothing left in a drop folder or InProcess/
        for d in drops:
            [hist] = archived(units[d.server], d.import_type, d.name)
            res = result_of(hist)
            want = ("partial", "ROWS_REJECTED") if d.partial else ("succeeded", "")
            assert (res["status"], res.get("error_code", "")) == want, (d.name, res)
        for layout in units.values():
            for t in types_of(layout):
                assert sorted(os.listdir(layout.type_dir(t))) == ["History", "InProcess"], (layout.server, t)
                assert os.listdir(layout.in_process_dir(t)) == [], (layout.server, t)
        assert sum(len(history_data(lay)) for lay in units.values()) == len(drops)
        claimed = [n for s in services for (n,) in query(s.audit_db, "SELECT file_name FROM imports")]
        assert sorted(claimed) == sorted(d.name for d in drops)  # each file claimed by one instance, once
        statuses = Counter(st for s in services for (st,) in query(s.audit_db, "SELECT status FROM imports"))
        assert statuses == Counter(succeeded=len(drops) - sum(d.partial for d in drops),
                                   partial=sum(d.partial for d in drops)), statuses

        # 0 rows doubled: one ledger row per file, one object per identification, each created once
        ledger = [n for (n,) in query(pg_url, "SELECT file_name FROM import_ledger")]
        assert sorted(ledger) == sorted(d.name for d in drops)
        expected: dict[str, set[tuple[Any, ...]]] = {table: set() for table in IDENTIFICATION}
        for d in drops:
            for table, keys in d.keys.items():
                expected[table] |= keys
        for table, keys in expected.items():
            col, admin = IDENTIFICATION[table], int(table == "users")  # the logon user, created at start
            count, distinct = query(pg_url, f"SELECT COUNT(*), COUNT(DISTINCT ({col})) FROM {table}")[0]
            assert (count, distinct) == (len(keys) + admin, len(keys) + admin), table
        created = sum(int(result_of(h)["created"]) for lay in units.values() for h in history_data(lay)
                      if h.parent.parent.name != "OutboundCampaign")
        assert created == sum(len(k) for k in expected.values())
        assert query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT (campaign_id, external_id)) FROM customers") == [(9, 9)]

        # every campaign exported exactly once, into one of the units' Export folders, and announced once
        exports = sorted(p.name for lay in units.values() for p in lay.export_dir.iterdir())
        assert sorted(n[16:] for n in exports) == [f"{n}.xlsx" for n in CAMPAIGNS], exports  # no temp file either
        assert sorted(e["campaign"] for e in audit_events(services, "campaign_exported")) == CAMPAIGNS

        # never more imports at once than an instance's --max-concurrent
        peaks = {s.state.name: max_overlap(s.audit_db) for s in services}
        assert all(peaks[name] <= limit for name, limit in limits.items()), peaks
        share = {s.state.name: query(s.audit_db, "SELECT COUNT(*) FROM imports")[0][0] for s in services}
        print(f"peak imports at once {peaks}; files per instance {share}; "
              f"recovered after the kill {len(audit_events([a], 'recovered'))}")
    finally:
        stop_all(services)


def test_two_units_create_the_same_500_entries_at_once(tmp_path: Path, pg_url: str) -> None:
    """Two files on two units create the same 500 Directory ExternalIds at once: one creates, the other updates."""
    root = tmp_path / "share"
    one, two = (ServiceProcess(root=root, state=tmp_path / f"state-{unit}", server=unit, store=pg_url, args=FAST)
                for unit in (UNIT1, UNIT2))
    try:
        start_all([one, two])
        paths = []
        for s, name in ((one, "Ann"), (two, "Bob")):
            rows = [["ExternalId", "FirstName", "Phone"]] + [[f"E{i}", f"{name} {i}", f"040{i:07d}"] for i in range(500)]
            paths.append((write_text(tmp_path / f"people {s.server}.txt", rows), s))
        for path, s in paths:
            os.replace(path, s.layout.type_dir("Directory") / path.name)
        results = [result_of(s.wait_done("Directory", path.name, timeout=60)[0]) for path, s in paths]
        assert [r["status"] for r in results] == ["succeeded", "succeeded"], results
        first, second = sorted(results, key=lambda r: -int(r["created"]))
        assert (first["created"], first["updated"]) == ("500", "0"), first
        assert (second["created"], second["updated"], second["unchanged"]) == ("0", "500", "0"), second
        assert query(pg_url, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(500, 500)]
        assert query(pg_url, "SELECT COUNT(*) FROM import_ledger") == [(2,)]
    finally:
        stop_all([one, two])
