"""Undo in the jobs view (issue 29): what an import changed (``GET /api/imports/<id>/changes``), what its revert
would do (``GET /api/imports/<id>/revert-preview``) and the revert (``POST /api/actions/revert``), against the real
service over real HTTP; then the import's page in Chromium at 1280 and 390 px: the list, the Revert button, its
confirmation with the counts, the conflicts and "Revert anyway"."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from tests import jobspage
from tests.helpers import Cli, drop, query, result_of, wait_for, write_openpyxl
from tests.jobspage import NARROW, WIDE, layout_problems, page_of
from tests.serviceprocess import ServiceProcess
from tests.test_undo import USERS, users_file  # the file: 50 users changed, 10 created, 5 deleted

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
browser = jobspage.browser


def first_workbook() -> dict[str, list[list[Any]]]:
    return {"Skills": [["Name"], *[[f"S{i}"] for i in range(1, 5)]],
            "Queues": [["Name", "Skills"], ["Q1", "S1"], ["Q2", "S1;S2"], ["Q3", ""]],
            "Users": [USERS, *[[f"u{i:02}", "First", f"User{i}", "Q1", "S1:5", "Agent"] for i in range(60)]]}


def later_file() -> dict[str, list[list[Any]]]:
    return {"Users": [[*USERS[:3], "Queues"], ["u07", "Seventh", "User7", "Q1"]]}


class Session:
    """The running service, its Configuration folder and the ``aimport`` command line on its state directory."""

    def __init__(self, service: ServiceProcess, cli: Cli, tmp_path: Path) -> None:
        self.service, self.cli, self.tmp = service, cli, tmp_path
        self.files = 0

    def imp(self, sheets: dict[str, Any], name: str = "") -> int:
        self.files += 1
        name = name or f"f{self.files}.xlsx"
        src = write_openpyxl(self.tmp / "in" / name, sheets)
        self.service.wait_done("Configuration", drop(src, self.service.layout.type_dir("Configuration")).name, timeout=60)
        [(import_id,)] = query(self.service.audit_db, "SELECT id FROM imports WHERE file_name = ?", (name,))
        return int(import_id)

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"http://{self.service.http}{path}", timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(f"http://{self.service.http}/api/actions/revert", method="POST",
                                     data=json.dumps(body).encode(), headers=JSON if headers is None else headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    @property
    def store(self) -> list[str]:
        """``--store URL`` on PostgreSQL (the commands that read the store); nothing on the state directory's SQLite."""
        return ["--store", str(self.service.store)] if str(self.service.store).startswith("postgresql") else []

    def aimport(self, *args: str) -> str:
        r = self.cli(*args, "--state-dir", str(self.service.state))
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    def export(self, name: str) -> dict[str, list[list[Any]]]:
        out = self.tmp / name
        self.aimport("export", "-o", str(out), *self.store)
        wb = CalamineWorkbook.from_path(str(out))
        return {s: [list(r) for r in wb.get_sheet_by_name(s).iter_rows()] for s in wb.sheet_names}

    def row(self, import_id: int) -> dict[str, Any]:
        return dict(json.loads(self.aimport("audit", "show", str(import_id), "--json"))["import"])

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [{"import_id": i, **json.loads(d)} for i, d in query(
            self.service.audit_db, "SELECT import_id, detail FROM events WHERE kind = ? ORDER BY id", (kind,))]


def _session(service: ServiceProcess, cli: Cli, tmp_path: Path) -> Session:
    (tmp_path / "in").mkdir()
    service.start()
    s = Session(service, cli, tmp_path)
    s.imp(first_workbook(), "agents.xlsx")
    return s


@pytest.fixture
def session(service: ServiceProcess, cli: Cli, tmp_path: Path) -> Session:
    """The service on its state directory's SQLite store, 60 users, 4 skills and 3 queues imported."""
    return _session(service, cli, tmp_path)


@pytest.fixture
def session_on_both(service_on_both: ServiceProcess, cli: Cli, tmp_path: Path) -> Session:
    """:func:`session` on each store: SQLite, then PostgreSQL."""
    return _session(service_on_both, cli, tmp_path)


def test_changes_preview_and_revert_over_http(session_on_both: Session) -> None:
    s = session_on_both
    before = s.export("before.xlsx")
    n = s.imp(users_file(), "users-march.xlsx")
    status, page = s.get(f"/api/imports/{n}/changes?limit=1000")
    listed = json.loads(s.aimport("changes", str(n), "--json", "--limit", "0", *s.store))
    assert status == 200 and page["changes"] == listed["changes"] and page["total"] == listed["total"] == 115
    assert page["notes"] == listed["notes"] == []
    status, second = s.get(f"/api/imports/{n}/changes?offset=100&limit=100")
    assert (status, second["offset"], second["total"], second["changes"]) == (200, 100, 115, listed["changes"][100:])
    assert s.get(f"/api/imports/{n}/changes")[1]["limit"] == 100  # a page of 100 unless asked
    for path, code in [("/api/imports/999999/changes", 404), ("/api/imports/x1/changes", 400),
                       (f"/api/imports/{n}/changes?limit=0", 400), (f"/api/imports/{n}/changes?page=2", 400),
                       ("/api/imports/999999/revert-preview", 404), (f"/api/imports/{n}/revert-preview?force=yes", 400)]:
        got, body = s.get(path)
        assert got == code and body["error"], (path, got, body)

    status, preview = s.get(f"/api/imports/{n}/revert-preview")
    assert status == 200 and (preview["restored"], preview["removed"], preview["recreated"]) == (50, 10, 5), preview
    assert preview["conflicts"] == [] and preview["refusal"] is None
    assert s.get(f"/api/imports/{n}/changes?limit=1000")[1]["changes"] == listed["changes"]  # the preview changed nothing

    a = s.service.http
    for headers, code in [({**JSON, "Origin": "http://evil.example"}, 403), ({**JSON, "Sec-Fetch-Site": "cross-site"}, 403),
                          ({"Content-Type": "text/plain"}, 415), ({**JSON, "Host": "attacker.example"}, 403)]:
        got, body = s.post({"import_id": n}, headers)
        assert got == code and body["error"], (headers, got, body)
    for bad in ({}, {"import_id": "x"}, {"import_id": n, "force": "yes"}):
        got, body = s.post(bad)
        assert got == 400 and body["error"], (bad, got, body)
    assert s.row(n)["reverted_by"] is None and s.events("revert_started") == []  # nothing was reverted

    status, done = s.post({"import_id": n, "force": False}, {**JSON, "Origin": f"http://{a}"})  # as the page sends it
    assert status == 200 and done["ok"], done
    assert f"import {n} reverted: restored 50, removed 10, recreated 5" in done["message"], done
    rid = done["revert_id"]
    assert s.export("after.xlsx") == before  # the store's rows are back, cell for cell
    assert s.row(n)["reverted_by"] == rid
    rev = s.row(rid)
    assert rev["file_name"] == f"revert_of_{n}_users-march.xlsx" and rev["status"] == "succeeded"
    assert rev["history_name"].endswith(f"_revert_of_{n}_users-march.xlsx") and rev["history_name"] == done["history"]
    history = s.service.layout.history_dir("Configuration")
    result = result_of(history / rev["history_name"])
    assert (result["restored"], result["removed"], result["recreated"], result["reverts"]) == ("50", "10", "5", str(n))
    assert ", asked by loopback" in (history / f"{rev['history_name']}.log").read_text(encoding="utf-8")
    asked = s.events("revert_requested")[0]
    assert (asked["import_id"], asked["revert_id"], asked["requested_by"], asked["force"]) == (n, rid, "loopback", False)
    assert s.get(f"/api/imports/{n}/changes")[1]["notes"] == [f"reverted by import {rid}"]
    status, again = s.post({"import_id": n})
    assert status == 409 and "already reverted" in again["error"], again

    m = s.imp(users_file(), "users-april.xlsx")
    later = s.imp(later_file(), "u07.xlsx")
    status, preview = s.get(f"/api/imports/{m}/revert-preview")
    assert status == 200 and preview["refusal"] and ("user u07", "Queues", later) in {
        (c["item"], c["field"], c["later_import"]) for c in preview["conflicts"]}, preview
    status, refused = s.post({"import_id": m})
    assert status == 409 and "revert refused" in refused["error"] and refused["conflicts"] == preview["conflicts"], refused
    assert s.row(m)["reverted_by"] is None and len(s.get(f"/api/imports/{m}/changes?limit=1000")[1]["changes"]) == 115
    status, forced = s.post({"import_id": m, "force": True})
    assert status == 200 and "restored 50, removed 10, recreated 5" in forced["message"], forced
    assert "overwrote" in forced["message"] and forced["conflicts"] == preview["conflicts"]
    assert s.row(m)["reverted_by"] == forced["revert_id"]
    assert [(e["import_id"], e["force"], e["reverted"]) for e in s.events("revert_requested")] == [
        (n, False, True), (n, False, False), (m, False, False), (m, True, True)]  # each recorded, refused ones too
    assert "Traceback" not in s.service.output() and " ERROR " not in s.service.output()


def test_a_revert_waits_for_the_write_turn_off_the_event_loop(session_on_both: Session) -> None:
    """While the store's write turn is held (here by the test itself, as an import applying would hold it), a
    revert asked over HTTP waits for it, and the service keeps answering meanwhile; it reverts once the turn is free."""
    from aimport.store import turn
    from aimport.store.schema import open_store

    s = session_on_both
    n = s.imp(users_file(), "users-march.xlsx")
    answers: list[tuple[int, dict[str, Any]]] = []
    previews: list[tuple[int, dict[str, Any]]] = []
    address = s.service.store if s.store else s.service.state / "system.sqlite"
    with open_store(address) as db:
        turn.take(db, turn.EVERY)  # every table's write turn, as `aimport revert` takes it
        try:
            previewing = threading.Thread(target=lambda: previews.append(s.get(f"/api/imports/{n}/revert-preview")))
            previewing.start()
            asking = threading.Thread(target=lambda: answers.append(s.post({"import_id": n})))
            asking.start()
            wait_for(lambda: [e for e in s.events("revert_started") if e["reverts"] == n], 30, what="the revert started")
            assert s.get("/healthz")[0] == 200 and s.get("/api/summary")[0] == 200
            assert s.get(f"/api/imports/{n}/changes")[0] == 200
            assert asking.is_alive() and answers == [] and s.row(n)["reverted_by"] is None  # it waits for the turn
            assert previewing.is_alive() and previews == []  # so does the preview, and the view answers meanwhile
            assert s.get(f"/api/imports/{n}")[0] == 200
        finally:
            db.rollback()
    asking.join(120)
    previewing.join(120)
    assert [p[0] for p in previews] == [200], previews  # before the revert (the counts) or after it (refused)
    [(status, done)] = answers
    assert status == 200 and "restored 50, removed 10, recreated 5" in done["message"], done
    assert s.row(n)["reverted_by"] == done["revert_id"]


class WithoutLogonUser(ServiceProcess):
    """A service with automatic import disabled and no logon user: it shows the view, it cannot revert."""

    def command(self) -> list[str]:
        cmd = super().command()
        at = cmd.index("--logon-user")
        return [*cmd[:at], *cmd[at + 2:], "--disabled"]


def test_a_service_without_a_logon_user_names_the_command_that_reverts(tmp_path: Path, cli: Cli) -> None:
    service = WithoutLogonUser(root=tmp_path / "root", state=tmp_path / "state")
    try:
        service.start()
        s = Session(service, cli, tmp_path)
        for status, body in (s.get("/api/imports/1/revert-preview"), s.post({"import_id": 1})):
            assert status == 409 and "aimport revert 1 --logon-user NAME" in body["error"], body
    finally:
        service.stop(timeout=15)


WIDTHS = (WIDE, NARROW)


def test_the_import_page_lists_the_changes_and_reverts_after_a_confirmation(session: Session, browser: Any,
                                                                           tmp_path: Path) -> None:
    s = session
    n = s.imp(users_file(), "users-march.xlsx")
    page = page_of(browser)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"http://{s.service.http}/imports/{n}")
    wait_for(lambda: page.locator("#changes tbody tr").count() == 100, 30, what="the first page of changes")
    rows = page.locator("#changes tbody tr")
    texts = {tuple(rows.nth(i).locator("td").all_text_contents()) for i in range(100)}
    assert ("user u00", "Queues: Q1 -> Q2; Q3") in texts and ("user n0", "created") in texts, sorted(texts)[:5]
    assert page.text_content("#changes-range") == "1-100 of 115"
    for size in WIDTHS:
        jobspage.resize(page, size)
        assert page.locator("#outcome-actions button.action").all_text_contents() == ["Revert"]
        assert layout_problems(page) == []
        page.screenshot(path=str(tmp_path / f"changes-{size['width']}.png"), full_page=True)
    page.click("#changes-next")
    wait_for(lambda: page.text_content("#changes-range") == "101-115 of 115", 30, what="the second page of changes")
    assert ("user u50", "deleted") in {tuple(r.locator("td").all_text_contents())
                                          for r in page.locator("#changes tbody tr").all()}

    page.click("#outcome-actions button.action")  # at 390 px: the confirmation with the counts
    page.wait_for_selector("#confirm[open]")
    text = page.text_content("#confirm-text") or ""
    assert "50 items get their old values back, 10 items it created are removed, 5 items it deleted are put back" in text
    assert page.text_content("#confirm-title") == "Revert this import?" and not page.is_visible("#confirm-conflicts")
    assert layout_problems(page) == []
    page.screenshot(path=str(tmp_path / "revert-confirm-390.png"))
    page.click("#confirm-keep")
    page.wait_for_selector("#confirm:not([open])", state="attached")
    assert s.events("revert_requested") == []  # kept: nothing sent

    page.click("#outcome-actions button.action")
    page.wait_for_selector("#confirm[open]")
    with page.expect_response("**/api/actions/revert") as answer:
        page.click("#confirm-cancel")
    assert answer.value.status == 200
    rid = answer.value.json()["revert_id"]
    wait_for(lambda: f"import {n} reverted" in (page.text_content("#notice") or ""), 30, what="the revert's answer")
    wait_for(lambda: page.is_visible("#outcome-reverts"), 30, what="reverted by")
    assert page.text_content("#outcome-reverts") == f"Reverted by #{rid}: what it changed was put back."
    assert page.locator("#outcome-actions button.action").count() == 0
    for size in WIDTHS:
        jobspage.resize(page, size)
        assert layout_problems(page) == []
        page.screenshot(path=str(tmp_path / f"reverted-{size['width']}.png"), full_page=True)
    page.goto(f"http://{s.service.http}/")  # the list of recent imports says so too, and links the revert
    reverted = page.locator("#recent tbody tr", has_text="users-march.xlsx").locator("a.reverted")
    wait_for(lambda: reverted.count() == 1, 30, what="the reverted mark in Recent imports")
    assert reverted.text_content() == "reverted" and reverted.get_attribute("href") == f"/imports/{rid}"
    for size in WIDTHS:
        jobspage.resize(page, size)
        assert layout_problems(page) == []
    page.go_back()
    page.click("#outcome-reverts a")
    wait_for(lambda: page.url.endswith(f"/imports/{rid}") and page.is_visible("#outcome-reverts"), 30, what="the revert's page")
    assert (page.text_content("#outcome-reverts") or "").startswith(f"This is the revert of #{n}.")

    m = s.imp(users_file(), "users-april.xlsx")
    later = s.imp(later_file(), "u07.xlsx")
    page.goto(f"http://{s.service.http}/imports/{m}")
    wait_for(lambda: page.locator("#outcome-actions button.action").count() == 1, 30, what="Revert")
    jobspage.resize(page, NARROW)
    page.click("#outcome-actions button.action")
    page.wait_for_selector("#confirm[open]")
    assert page.text_content("#confirm-title") == "Revert anyway?" and page.text_content("#confirm-cancel") == "Revert anyway"
    conflicts = [r.locator("td").all_text_contents() for r in page.locator("#confirm-conflicts-list tbody tr").all()]
    assert ["user u07", "Queues", f"#{later}"] in conflicts, conflicts
    assert "put back" in (page.text_content("#confirm-text") or "") and layout_problems(page) == []
    page.screenshot(path=str(tmp_path / "revert-anyway-390.png"))
    with page.expect_response("**/api/actions/revert") as answer:
        page.click("#confirm-cancel")
    assert answer.value.status == 200 and answer.value.request.post_data_json == {"import_id": m, "force": True}
    wait_for(lambda: "overwrote" in (page.text_content("#notice") or ""), 30, what="the forced revert's answer")
    assert s.row(m)["reverted_by"] == answer.value.json()["revert_id"]
    assert browser.dialogs == [] and failed == [] and browser.errors == [], (failed, browser.errors)
