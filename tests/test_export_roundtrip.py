"""Export from store A, import into an empty store B, export from B: the same workbook content."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings, strategies as st

from aimport.export import export_configuration
from aimport.worker import ImportRequest, run_import
from tests.helpers import write_openpyxl, write_xlsxwriter

NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖåé0123456789 _-", min_size=1, max_size=12).map(str.strip).filter(
    lambda s: s != "" and not s.startswith(("-", "[")))
ZONES = ["Europe/Helsinki", "America/New_York", "Asia/Tokyo", None]
HOURS = ["Mon-Fri 08:00-17:00", "Mon-Sun 00:00-24:00; Sat 09:00-13:00", None]


@st.composite
def configurations(draw: Any) -> dict[str, list[list[Any]]]:
    names = draw(st.lists(NAME, min_size=6, max_size=30, unique_by=str.lower))
    pool = iter(names)
    take = lambda k: [next(pool) for _ in range(min(k, 100))]  # noqa: E731
    n = len(names) // 6
    cals, skills, presence, groups, queues, users = (take(n) for _ in range(6))
    sheets: dict[str, list[list[Any]]] = {
        "Calendars": [["Name", "Description", "TimeZone", "OpeningHours", "Holidays"]] + [
            [c, draw(st.sampled_from(["", "desc", "=1+1", "+358 40"])), draw(st.sampled_from(ZONES)),
             draw(st.sampled_from(HOURS)), draw(st.sampled_from(["", "2026-12-24", "2026-12-24;2027-01-01"]))] for c in cals],
        "Skills": [["Name", "Description"]] + [[s, draw(st.sampled_from(["", "x", "@sum"]))] for s in skills],
        "PresenceProfiles": [["Name", "Status"]] + [[p, draw(st.sampled_from(["Available", "Busy", "Away", "Offline", None]))] for p in presence],
        "Scripts": [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"],
                    ["Survey", "Q1", "Happy?", "Choice", "Yes;No", "Yes"], ["Survey", "Q2", "Why", "Text", None, "No"]],
        "Queues": [["ExternalId", "Name", "Channel", "Calendar", "Skills", "Priority"]] + [
            [f"X{i}", q, draw(st.sampled_from(["Voice", "Chat", "Email"])), draw(st.sampled_from(cals + [None])),
             ";".join(draw(st.lists(st.sampled_from(skills), unique=True, max_size=3))) or None,
             draw(st.sampled_from([None, 1, 5, 10]))] for i, q in enumerate(queues)],
        "UserGroups": [["Name", "Parent"]] + [[g, draw(st.sampled_from([None] + groups[:i]))] for i, g in enumerate(groups)],
        "Users": [["Login", "FirstName", "Surname", "UserGroup", "PresenceProfile", "Queues", "Skills", "Rights"]] + [
            [u, "F", "S", draw(st.sampled_from(groups + [None])), draw(st.sampled_from(presence + [None])),
             ";".join(draw(st.lists(st.sampled_from(queues), unique=True, max_size=2))) or None,
             ";".join(f"{s}:{draw(st.integers(1, 10))}" for s in draw(st.lists(st.sampled_from(skills), unique=True, max_size=2))) or None,
             draw(st.sampled_from([None, "Agent", "Agent;Supervise"]))] for u in users],
    }
    return sheets


def load(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def import_into(tmp: Path, store_name: str, workbook: Path) -> None:
    o = run_import(ImportRequest(path=workbook, import_type="Configuration", import_key=f"{store_name}-{workbook.name}",
                                 system_db=tmp / f"{store_name}.sqlite", work_dir=tmp / "w", actor="t"))
    assert o.status == "succeeded", o.extra.get("log_text")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configurations())
def test_round_trip(sheets: dict[str, list[list[Any]]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        import_into(tmp, "A", write_openpyxl(tmp / "source.xlsx", sheets))
        export_configuration(tmp / "A.sqlite", tmp / "a.xlsx")
        import_into(tmp, "B", tmp / "a.xlsx")
        export_configuration(tmp / "B.sqlite", tmp / "b.xlsx")
        a, b = load(tmp / "a.xlsx"), load(tmp / "b.xlsx")
        assert a == b
        assert list(a) == ["Calendars", "Skills", "PresenceProfiles", "Scripts", "Queues", "UserGroups", "Users"]
        assert "Id" not in a["Skills"][0]
        assert len(a["Users"]) == len(sheets["Users"])


def test_export_subset_and_formula_like_text(tmp_path: Path) -> None:
    import_into(tmp_path, "A", write_xlsxwriter(tmp_path / "s.xlsx", {"Skills": [["Name", "Description"], ["Sales", "=HYPERLINK(\"x\")"], ["Tab", "@cmd"]]}))
    counts = export_configuration(tmp_path / "A.sqlite", tmp_path / "e.xlsx", ["skills"])
    assert counts == {"Skills": 2}
    wb = openpyxl.load_workbook(tmp_path / "e.xlsx")
    cell = wb["Skills"]["B2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("x")', "s")
