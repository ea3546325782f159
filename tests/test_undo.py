"""Undo (issue 29): what an import changed (``aimport changes``, ``check --diff``) and its revert, on both stores."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from tests.helpers import Cli, StoreUnderTest, result_of, write_openpyxl

pytestmark = pytest.mark.both_stores

USERS = ["Login", "FirstName", "Surname", "Queues", "Skills", "Rights"]


class Site:
    """An import root and state directory on the test's store, driven through the ``aimport`` command line."""

    def __init__(self, tmp_path: Path, store: StoreUnderTest, cli: Cli) -> None:
        self.tmp, self.cli = tmp_path, cli
        self.root = tmp_path / "root"
        self.store_arg = store.address if isinstance(store.address, str) else "sqlite"
        if not isinstance(store.address, str):
            assert store.address == tmp_path / "system.sqlite"  # the state directory's own SQLite store
        self.files = 0
        (tmp_path / "in").mkdir()

    @property
    def where(self) -> list[str]:
        return ["--state-dir", str(self.tmp), "--store", str(self.store_arg)]

    @property
    def everything(self) -> list[str]:
        return ["--root", str(self.root), "--server", "S", "--unit", "U", *self.where, "--logon-user", "admin"]

    def run(self, *args: str, code: int | None = 0) -> Any:
        r = self.cli(*args)
        assert code is None or r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        return r

    def imp(self, sheets: dict[str, list[list[Any]]], import_type: str, name: str = "") -> int:
        self.files += 1
        f = write_openpyxl(self.tmp / "in" / (name or f"f{self.files}.xlsx"), sheets)
        self.run("import", str(f), "--type", import_type, "--quiet", *self.everything, code=None)
        rows = json.loads(self.run("audit", "--json", "--state-dir", str(self.tmp)).stdout)
        return int(rows[-1]["id"])

    def changes(self, import_id: int) -> list[dict[str, Any]]:
        return json.loads(self.run("changes", str(import_id), "--json", "--limit", "0", *self.where).stdout)["changes"]

    def export(self, name: str) -> dict[str, list[list[Any]]]:
        out = self.tmp / name
        self.run("export", "-o", str(out), *self.where)
        wb = CalamineWorkbook.from_path(str(out))
        return {s: [list(r) for r in wb.get_sheet_by_name(s).iter_rows()] for s in wb.sheet_names}

    def revert(self, import_id: int, *more: str, code: int = 0) -> str:
        return str(self.run("revert", str(import_id), *self.everything, *more, code=code).stdout)

    def audit_row(self, import_id: int) -> dict[str, Any]:
        return dict(json.loads(self.run("audit", "show", str(import_id), "--json", "--state-dir", str(self.tmp)).stdout)["import"])


@pytest.fixture
def site(tmp_path: Path, store: StoreUnderTest, cli: Cli) -> Site:
    s = Site(tmp_path, store, cli)
    s.imp({"Skills": [["Name"], *[[f"S{i}"] for i in range(1, 5)]],
           "Queues": [["Name", "Skills"], ["Q1", "S1"], ["Q2", "S1;S2"], ["Q3", ""]],
           "Users": [USERS, *[[f"u{i:02}", "First", f"User{i}", "Q1", "S1:5", "Agent"] for i in range(60)]]},
          "Configuration")
    return s


def users_file() -> dict[str, list[list[Any]]]:
    rows: list[list[Any]] = [[*USERS, "Delete"]]
    rows += [[f"u{i:02}", "First", f"User{i}", "Q2;Q3", "S2:3;S3:1", "Agent"] for i in range(50)]
    rows += [[f"n{i}", "New", f"Person{i}", "Q1", "S4:2", "Report"] for i in range(10)]
    rows += [[f"u{i:02}", "", "", "", "", "", "D"] for i in range(50, 55)]
    return {"Users": rows}


def test_a_users_import_is_listed_and_reverted_cell_for_cell(site: Site) -> None:
    before = site.export("before.xlsx")
    n = site.imp(users_file(), "Configuration")
    changes = site.changes(n)
    assert sorted(c["item"] for c in changes if c["action"] == "created") == [f"n{i}" for i in range(10)]
    assert sorted(c["item"] for c in changes if c["action"] == "deleted") == [f"u{i}" for i in range(50, 55)]
    updated = [c for c in changes if c["action"] == "updated"]
    assert len(updated) == 100 and {c["field"] for c in updated} == {"Queues", "Skills"}
    u00 = {c["field"]: (c["old"], c["new"]) for c in updated if c["item"] == "u00"}
    assert u00 == {"Queues": ("Q1", "Q2; Q3"), "Skills": ("S1:5", "S2:3; S3:1")}
    table = site.run("changes", str(n), "--limit", "5", *site.where).stdout
    assert "changes 1-5 of 115; --offset 5 for more" in table
    csv_text = site.run("changes", str(n), "--csv", "--limit", "0", *site.where).stdout
    assert csv_text.splitlines()[0] == "item_type,item,action,field,old,new" and len(csv_text.splitlines()) == 116

    dry = site.revert(n, "--dry-run")
    assert "would restore 50, remove 10, recreate 5 (nothing was changed)" in dry
    out = site.revert(n)
    assert "restored 50, removed 10, recreated 5" in out
    assert site.export("after.xlsx") == before
    row = site.audit_row(n)
    revert_id = int(row["reverted_by"])
    rev = site.audit_row(revert_id)
    assert rev["file_name"] == f"revert_of_{n}_f2.xlsx" and rev["status"] == "succeeded"
    assert (rev["created"], rev["updated"], rev["deleted"]) == (5, 50, 10)
    history = site.root / "S_U" / "Automatic" / "Configuration" / "History"
    result = result_of(history / rev["history_name"])
    assert rev["history_name"].endswith(f"_revert_of_{n}_f2.xlsx")
    assert (result["restored"], result["removed"], result["recreated"]) == ("50", "10", "5")
    assert f", asked by {getpass.getuser()}" in (history / f"{rev['history_name']}.log").read_text(encoding="utf-8")
    assert site.revert(n, code=1).count("already reverted")


def test_a_later_change_refuses_the_revert_and_force_overwrites_it(site: Site) -> None:
    n = site.imp(users_file(), "Configuration")
    later = site.imp({"Users": [[*USERS[:3], "Queues"], ["u07", "Seventh", "User7", "Q1"]]}, "Configuration")
    assert "user u07" in site.revert(n, "--dry-run", code=3)
    from aimport.settings import Settings
    from aimport.web.revertaction import revert_preview_answer

    settings = Settings(state_dir=site.tmp, store=str(site.store_arg), logon_user="admin")
    status, body = revert_preview_answer(settings, n)  # what the jobs view's confirmation shows
    assert status == 200 and body["refusal"] and body["restored"] == 0
    assert {(c["item"], c["field"]) for c in body["conflicts"]} == {("user u07", "Queues"), ("user u07", "FirstName")}
    out = site.revert(n, code=3)
    assert "revert refused" in out and "user u07" in out and "Queues" in out and f" {later}" in out
    assert site.changes(n)  # nothing was changed
    out = site.revert(n, "--force")
    assert "overwritten" in out and "user u07" in out
    later_changes = site.changes(later)
    assert {"item": "u07", "field": "Queues", "new": "Q1"}.items() <= next(
        c for c in later_changes if c["field"] == "Queues").items()


def test_a_revert_of_a_revert_gives_the_import_back(site: Site) -> None:
    n = site.imp(users_file(), "Configuration")
    applied = site.export("applied.xlsx")
    site.revert(n)
    revert_id = int(site.audit_row(n)["reverted_by"])
    site.revert(revert_id)
    assert site.export("again.xlsx") == applied
    assert site.audit_row(n)["reverted_by"] is None


def test_a_configuration_workbook_is_reverted_in_one_transaction(site: Site) -> None:
    before = site.export("before.xlsx")
    n = site.imp({
        "Calendars": [["Name", "TimeZone"], ["Office", "Europe/Helsinki"]],
        "Skills": [["Name", "Description"], ["S1", "first"], ["S9", "new"]],
        "PresenceProfiles": [["Name", "Status"], ["Lunch", "Away"]],
        "Scripts": [["Script", "QuestionId", "Question"], ["Survey", "q1", "Happy?"]],
        "Queues": [["Name", "Calendar", "Skills"], ["Q1", "Office", "S9"], ["Q4", "Office", "S1"]],
        "Users": [[*USERS, "Delete"], ["u01", "One", "User1", "Q4", "S9:7", "Agent"], ["u02", "", "", "", "", "", "D"]],
    }, "Configuration")
    kinds = {(c["item_type"], c["action"]) for c in site.changes(n)}
    assert {("calendar", "created"), ("skill", "created"), ("presence profile", "created"),
            ("script question", "created"), ("queue", "updated"), ("queue", "created"), ("user", "updated"),
            ("user", "deleted"), ("skill", "updated")} <= kinds
    assert "restored 3, removed 5, recreated 1" in site.revert(n)
    assert site.export("after.xlsx") == before


def test_check_diff_lists_what_changes_lists_after_the_drop(site: Site) -> None:
    sheets = users_file()
    f = write_openpyxl(site.tmp / "in" / "diff.xlsx", sheets)
    checked = json.loads(site.run("check", str(f), "--type", "Configuration", "--diff", "--json", *site.where).stdout)
    text = site.run("check", str(f), "--type", "Configuration", "--diff", *site.where).stdout
    assert "changes (115):" in text and "u00" in text
    n = site.imp(sheets, "Configuration", name="diff.xlsx")

    def same(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((c["item_type"], c["item"], c["action"], c["field"], c["old"], c["new"]) for c in changes)

    assert len(checked["changes"]) == 115 and same(checked["changes"]) == same(site.changes(n))

    from aimport.settings import Settings
    from aimport.web.changes import changes_answer

    settings = Settings(state_dir=site.tmp, store=str(site.store_arg))
    page = changes_answer(settings, n, 100, 10)  # the jobs view's page: GET /api/imports/<id>/changes
    assert page is not None and page["total"] == 115 and len(page["changes"]) == 10 and page["offset"] == 100
    assert same(page["changes"]) == same(site.changes(n)[100:110]) and changes_answer(settings, 9999) is None
    from aimport.web.changes import changes_response

    answer = changes_response(settings, n, 0, 5)
    assert answer.status_code == 200 and json.loads(bytes(answer.body))["total"] == 115
    assert changes_response(settings, 9999, 0, 5).status_code == 404


def campaign_file(name: str) -> dict[str, list[list[Any]]]:
    return {"Campaign": [["Name", name]],
            "Customers": [["ExternalId", "Phone1", "FirstName"], ["c1", "+358401234567", "A"], ["c2", "+358401234568", "B"]]}


def test_a_campaign_without_results_is_reverted_one_with_results_is_refused(site: Site,
                                                                            store: StoreUnderTest) -> None:
    quiet = site.imp(campaign_file("Quiet"), "OutboundCampaign")
    called = site.imp(campaign_file("Called"), "OutboundCampaign")
    assert [c["item"] for c in site.changes(quiet)] == ["Quiet"]
    assert "removed 1" in site.revert(quiet)
    assert store.query("SELECT name FROM campaigns") == [("Called",)]
    assert store.query("SELECT COUNT(*) FROM customers") == [(2,)]
    with store.open() as db:  # a call result, as the dialer records it
        from aimport.store import calls

        cid = store.query("SELECT id FROM campaigns WHERE name = 'Called'")[0][0]
        call = calls.customer_for_call(db, cid, "c1")
        assert call is not None
        db.begin_write()
        calls.record_call(db, calls.RecordedCall(call.id, "2027-01-04T10:00:00Z", "+358401234567", "Answered",
                                                 None, "agent1", "Answered", 1, 1, None, {}))
        db.commit()
    out = site.revert(called, code=1)
    assert "call results recorded" in out
    assert store.query("SELECT name FROM campaigns") == [("Called",)]


def test_the_logon_user_is_never_removed_by_a_revert(site: Site, store: StoreUnderTest) -> None:
    rights = "ImportExport;ManageCampaigns"
    n = site.imp({"Users": [USERS, ["boss", "Big", "Boss", "", "", rights]]}, "Configuration")
    out = site.revert(n, "--logon-user", "boss")
    assert "user boss: kept: it is the logon user" in out and "removed 0" in out
    assert store.query("SELECT login FROM users WHERE login = 'boss'") == [("boss",)]
    m = site.imp({"Users": [USERS, ["u02", "First", "User2", "Q1", "S1:5", rights]]}, "Configuration")
    out = site.revert(m, "--logon-user", "u02")
    assert "user u02: Rights kept: it is the logon user" in out
    assert store.query("SELECT rights FROM users WHERE login = 'u02'") == [('["ImportExport", "ManageCampaigns"]',)]


@pytest.mark.parametrize("point", ["mid_transaction", "after_commit"])
def test_a_revert_killed_is_applied_once_or_not_at_all_and_the_cli_says_which(site: Site, point: str) -> None:
    import os
    import subprocess
    import sys

    before = site.export("before.xlsx")
    n = site.imp(users_file(), "Configuration")
    applied = site.export("applied.xlsx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")} | {"AIMPORT_FAULT": point}
    killed = subprocess.run([sys.executable, "-m", "aimport", "revert", str(n), *site.everything], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    if point == "mid_transaction":
        assert site.export("killed.xlsx") == applied  # rolled back: nothing of it
        out = site.revert(n)
        assert "was interrupted before it committed: nothing of it was applied" in out
        assert "restored 50, removed 10, recreated 5" in out
    else:
        assert site.export("killed.xlsx") == before  # committed: applied once
        out = site.revert(n)
        assert "was applied before it was interrupted (committed once)" in out
        assert "was reverted (recorded now)" in out
    assert site.export("after.xlsx") == before
    rows = json.loads(site.run("audit", "--json", "--state-dir", str(site.tmp)).stdout)
    reverts = [r for r in rows if r["file_name"].startswith(f"revert_of_{n}_")]
    assert [r["status"] for r in reverts] == (["failed", "succeeded"] if point == "mid_transaction" else ["succeeded"])
    assert site.audit_row(n)["reverted_by"] == reverts[-1]["id"]
    assert site.revert(n, code=1).count("already reverted")


def test_before_images_are_pruned_after_revert_days(site: Site, store: StoreUnderTest) -> None:
    import datetime as dt

    from aimport.store import changes
    from aimport.undo.retention import prune_before_images

    n = site.imp(users_file(), "Configuration")
    assert prune_before_images(store.address, 30) == 0 and len(site.changes(n)) == 115
    with store.open() as db:
        db.begin_write()
        assert changes.prune(db, 30, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31)) > 0
        db.commit()
    assert store.query("SELECT COUNT(*) FROM import_changes") == [(0,)]
    page = json.loads(site.run("changes", str(n), "--json", "--revert-days", "0", *site.where).stdout)
    assert page["changes"] == [] and "is not kept" in page["notes"][0]
    assert "revert_days (0)" in site.revert(n, "--revert-days", "0", code=1)


def test_an_import_from_before_the_store_kept_before_images_is_not_reverted(site: Site, store: StoreUnderTest) -> None:
    n = site.imp(users_file(), "Configuration")
    # the store was upgraded from an aimport without before-images after this import committed
    with store.open() as db:
        db.begin_write()
        db.execute("UPDATE store_facts SET value = '9999' WHERE name = 'before_images_since'")
        db.commit()
    assert "before this store kept before-images" in site.revert(n, code=1)
    assert site.changes(n) == []
