"""The jobs view's screenshots in the README and the docs come from here: a scripted, realistic session on the real
service (ordinary file names: user groups and users that import, queues with rejected rows, an old .xls that
fails, a campaign, a large file held for office hours, an import in process and one queued behind it), opened in
Chromium at 1280 and at 390 px.

With ``AIMPORT_WRITE_SCREENSHOTS=1`` the screenshots are written to docs/operations/ (``jobs-view.png``,
``jobs-view-narrow.png``, ``jobs-view-import.png``) with ``jobs-view.png.sha256``: the sha256 of the page they
show (index.html, app.js, style.css). Without it they go to the test's tmp folder and the test checks the layout
only (nothing scrolls the page sideways at 390 px, no text clipped). A second test fails when the committed
screenshots are older than the page: regenerate them with

    AIMPORT_WRITE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_jobs_screenshots.py -p no:cacheprovider
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aimport.web
from tests import jobspage
from tests.campaign_helpers import SCRIPT_ROWS, campaign_file
from tests.helpers import drop, result_of, wait_for, write_openpyxl, write_text
from tests.jobspage import NARROW, WIDE, layout_problems, page_of, rows_of, wait_rows
from tests.serviceprocess import ServiceProcess

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "operations"
SHOTS = ("jobs-view.png", "jobs-view-narrow.png", "jobs-view-import.png")
STAMP = DOCS / "jobs-view.png.sha256"
PAGE_FILES = ("index.html", "app.js", "style.css")
REGENERATE = "AIMPORT_WRITE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_jobs_screenshots.py -p no:cacheprovider"

browser = jobspage.browser


def page_sha256() -> str:
    """The sha256 of the page the screenshots show: its three files, each named, in one order."""
    h = hashlib.sha256()
    folder = Path(aimport.web.__file__).parent / "static"
    for name in PAGE_FILES:
        h.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    return h.hexdigest()


def _realistic_session(service: ServiceProcess, tmp_path: Path) -> None:
    """Imports that finished (one of each outcome, a campaign), then a restart that keeps the next import in
    process (paused before its commit), one file queued behind it and one large file held."""
    service.args += ["--office-hours", "Mon-Sun 00:00-24:00", "--time-zone", "UTC", "--large-file-rows", "3000"]
    service.start()
    layout = service.layout

    def imported(import_type: str, path: Path, status: str) -> None:
        drop(path, layout.type_dir(import_type))
        [hist] = service.wait_done(import_type, path.name, timeout=60)
        assert result_of(hist)["status"] == status, (path.name, result_of(hist))

    imported("UserGroup", write_openpyxl(tmp_path / "user-groups.xlsx", {"UserGroups": [
        ["Name", "Description"], ["Sales", "Inside sales"], ["Support", "First-line support"],
        ["Back office", "Orders and invoicing"]]}), "succeeded")
    imported("Configuration", write_openpyxl(tmp_path / "users-march.xlsx", {"Users": [
        ["Login", "FirstName", "Surname", "Email", "UserGroup"],
        *[[f"{f.lower()}.{s.lower()}", f, s, f"{f.lower()}.{s.lower()}@example.com", g] for f, s, g in (
            ("Anna", "Virtanen", "Sales"), ("Mikko", "Korhonen", "Support"), ("Laura", "Nieminen", "Support"),
            ("Jussi", "Mäkinen", "Back office"), ("Sanna", "Laine", "Sales"))]]}), "succeeded")
    imported("Queues", write_openpyxl(tmp_path / "queues-spring.xlsx", {"Queues": [
        ["Name", "Description", "Channel", "Priority"], ["Sales", "Inbound sales", "Voice", 3],
        ["Support chat", "Web chat", "Chat", 5], ["Invoices", "Billing questions", "Email", 11],
        ["Callbacks", "Customer callbacks", "Fax", 4], ["Support", "Phone support", "Voice", 2]]}), "partial")
    old = tmp_path / "opening-hours.xls"
    old.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))  # an old binary workbook
    imported("Calendar", old, "failed")
    imported("Scripts", write_text(tmp_path / "survey-script.txt", SCRIPT_ROWS), "succeeded")
    imported("OutboundCampaign", campaign_file(tmp_path / "Spring renewals.xlsx", 40, {"Script": "Survey"}), "succeeded")
    big = write_text(tmp_path / "skills-catalogue.txt", [["Name", "Description"], *[[f"Skill {i}", "x"] for i in range(5000)]])
    drop(big, layout.type_dir("Skills"))
    wait_for(lambda: service.metric("aimport_held_files") == 1, 30, what="skills-catalogue.txt held")

    service.stop()
    service.env["AIMPORT_PAUSE"] = "before_commit:600000"  # the next import stays in process for the pictures
    service.start()
    contacts = [["ExternalId", "FirstName", "LastName", "Company", "Phone"]]
    contacts += [[f"D{i:05}", "Contact", f"No {i}", "Example Oy", f"+358 40 {1000000 + i}"] for i in range(2000)]
    drop(write_text(tmp_path / "directory-contacts.txt", contacts), layout.type_dir("Directory"))
    wait_for(lambda: service.metric("aimport_pending_files") == 0 and service.metric("aimport_imports_in_flight") == 1, 60,
             what="directory-contacts.txt in process")
    drop(write_text(tmp_path / "directory-partners.txt", contacts[:200]), layout.type_dir("Directory"))


def _save(page: Any, name: str, tmp_path: Path, write: bool) -> None:
    page.screenshot(path=str((DOCS if write else tmp_path) / name), full_page=True)


def test_a_realistic_session_at_both_widths(killed_at_end: ServiceProcess, browser: Any, tmp_path: Path) -> None:
    service, write = killed_at_end, os.environ.get("AIMPORT_WRITE_SCREENSHOTS") == "1"
    _realistic_session(service, tmp_path)
    page = page_of(browser)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"http://{service.http}/")
    wait_rows(page, "running", lambda r: r == ["directory-contacts.txt"], "the import in process")
    wait_rows(page, "queued", lambda r: r == ["directory-partners.txt"], "the file queued behind it")
    wait_rows(page, "held", lambda r: r == ["skills-catalogue.txt"], "the held file")
    wait_rows(page, "recent", lambda r: len(r) >= 6, "the finished imports")
    wait_for(lambda: "of about" in (page.text_content("#running td.progress") or ""), 60, what="rows of about how many")
    wait_for(lambda: page.locator("#campaigns tbody tr").count() == 1 and page.text_content("#live") == "live", 30,
             what="the campaign and live updates")
    assert not [f for f in rows_of(page, "recent") if "<" in f or "onerror" in f]
    assert layout_problems(page) == []
    _save(page, SHOTS[0], tmp_path, write)
    jobspage.resize(page, NARROW)
    assert layout_problems(page) == []
    _save(page, SHOTS[1], tmp_path, write)

    jobspage.resize(page, WIDE)
    page.locator("#recent tbody tr", has_text="queues-spring.xlsx").locator("a").click()
    wait_for(lambda: page.locator("#rejected tbody tr").count() == 2, 30, what="the rejected rows of the partial import")
    assert "ROWS_REJECTED" in (page.text_content("#reason-code") or "")
    assert layout_problems(page) == []
    _save(page, SHOTS[2], tmp_path, write)
    if write:
        STAMP.write_text(f"{page_sha256()}  {' '.join(PAGE_FILES)}\n", encoding="utf-8")
    jobspage.resize(page, NARROW)
    assert layout_problems(page) == []

    page.go_back()
    page.locator("#recent tbody tr", has_text="opening-hours.xls").locator("a").click()
    wait_for(lambda: page.text_content("#reason-code") == "UNSUPPORTED_FORMAT", 30, what="the failed import's page")
    assert (page.text_content("#reason-message") or "").strip() and page.is_visible("#reason-message")
    assert layout_problems(page) == []
    page.screenshot(path=str(tmp_path / "jobs-view-failed-narrow.png"), full_page=True)
    assert browser.dialogs == [] and failed == [] and browser.errors == [], (failed, browser.errors)


@pytest.fixture
def killed_at_end(service: ServiceProcess) -> Iterator[ServiceProcess]:
    """The paused import never ends by itself: the service is killed at the end (start-up recovery is tested
    elsewhere), so teardown does not wait out the stop grace period."""
    yield service
    service.kill()


def test_the_committed_screenshots_show_this_page() -> None:
    """A change to index.html, app.js or style.css without new screenshots fails here (last in this module: with
    AIMPORT_WRITE_SCREENSHOTS=1 the test above has just written them)."""
    for name in SHOTS:
        assert (DOCS / name).is_file(), f"docs/operations/{name} is missing: {REGENERATE}"
    assert STAMP.is_file(), f"docs/operations/jobs-view.png.sha256 is missing: {REGENERATE}"
    stamped = STAMP.read_text(encoding="utf-8").split()[0]
    assert stamped == page_sha256(), f"the screenshots in docs/operations/ are older than the page: {REGENERATE}"
