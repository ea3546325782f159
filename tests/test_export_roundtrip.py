"""Export from store A, import into an empty store B, export from B: the same workbooks, for every type.

The Configuration workbook carries calendars, skills, presence profiles, scripts, queues and users;
user groups, directory entries and blocked numbers are exported one type per workbook and go back in
through their own folders (user groups first: a Users sheet refers to groups already in the store).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from aimport.itemtypes.catalog import CATALOG
from aimport.workbooks.configexport import export_configuration, headers
from tests.helpers import Cli, CliResult, StoreUnderTest, write_openpyxl, write_xlsxwriter

# any printable text: letters, digits, punctuation and symbols in every script, inner spaces; not ';'
# (it separates names in lists) and nothing that looks like a template's note cell
NAME = st.text(st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters=";"), min_size=1, max_size=14).map(
    str.strip).filter(lambda s: s != "" and not s.lower().startswith(("[mandatory", "[optional")))
TEXT = st.sampled_from([None, "plain", "=1+1", "+358 40 123", "-5", "@SUM(A1)", "'quoted", "0042", "1.50", "TRUE",
                        "_x0041_", "Ünïcødé ✓", "tab\there", "line\nbreak", "x" * 2000])
SHORT = TEXT.filter(lambda s: s is None or len(s) <= 200)
ZONES = [None, "Europe/Helsinki", "America/New_York", "Asia/Kolkata", "UTC"]
HOURS = [None, "Mon-Fri 08:00-17:00", "Mon-Sun 00:00-24:00; Sat 09:00-13:00"]
HOLIDAYS = [None, "2026-12-24", "2026-12-24; 2027-01-01"]
PHONES = ["+358 40 {n}", "00358-40-{n}", "(09) {n}", "0{n}", "{n}"]  # {n}: 7 digits; national ones read as FI numbers
ITEMS = {"UserGroup": "usergroups", "Directory": "directory", "BlockedNumbers": "blockednumbers"}
Sheets = dict[str, Any]


def _pick(draw: Any, pool: list[str], most: int) -> str | None:
    return ";".join(draw(st.lists(st.sampled_from(pool), unique=True, max_size=most))) or None if pool else None


@st.composite
def configurations(draw: Any) -> dict[str, Sheets]:
    names = iter(draw(st.lists(NAME, min_size=40, max_size=60, unique=True)))
    take = lambda k: [next(names) for _ in range(k)]  # noqa: E731
    cals, skills, presence, groups, queues, users = (take(draw(st.integers(1, 5))) for _ in range(6))
    scripts = take(2)
    config: Sheets = {
        "Users": [["Login", "ExternalId", "FirstName", "Surname", "Email", "UserGroup", "PresenceProfile", "Queues", "Skills", "Rights"]] + [
            [u, draw(st.sampled_from([None, f"U{i}"])), draw(NAME), draw(NAME), draw(st.sampled_from([None, f"u{i}@example.com"])),
             draw(st.sampled_from([*groups, None])), draw(st.sampled_from([*presence, None])), _pick(draw, queues, 2),
             ";".join(f"{s}:{draw(st.integers(1, 10))}" for s in draw(st.lists(st.sampled_from(skills), unique=True, max_size=3))) or None,
             _pick(draw, ["Agent", "Supervise", "Report", "ImportExport"], 3)] for i, u in enumerate(users)],
        "Queues": [["ExternalId", "Name", "Description", "Channel", "Calendar", "Skills", "Priority"]] + [
            [draw(st.sampled_from([None, f"Q{i}"])), q, draw(TEXT), draw(st.sampled_from([None, "Voice", "chat", "EMAIL"])),
             draw(st.sampled_from([*cals, None])), _pick(draw, skills, 3), draw(st.sampled_from([None, 1, 5, 10, "7"]))]
            for i, q in enumerate(queues)],
        "Calendars": [["Name", "Description", "TimeZone", "OpeningHours", "Holidays"]] + [
            [c, draw(TEXT), draw(st.sampled_from(ZONES)), draw(st.sampled_from(HOURS)), draw(st.sampled_from(HOLIDAYS))] for c in cals],
        "Skills": [["Name", "Description"]] + [[s, draw(TEXT)] for s in skills],
        "Presence Profiles": [["Name", "Status", "Description"]] + [
            [p, draw(st.sampled_from([None, "Available", "busy", "Away", "Offline"])), draw(TEXT)] for p in presence],
        "Scripts": [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"]] + [
            [s, f"Q{k}", draw(NAME), kind, "Yes;No;Maybe" if kind == "Choice" else None, draw(st.sampled_from([None, "Yes", "no"]))]
            for s in scripts for k in range(draw(st.integers(1, 3))) for kind in [draw(st.sampled_from(["Text", "Number", "Date", "Choice", None]))]],
    }
    numbers = draw(st.lists(st.integers(1000000, 8999999), min_size=1, max_size=6, unique=True))
    return {
        "UserGroup": {"Groups": [["Name", "ExternalId", "Parent", "Description"]] + [
            [g, draw(st.sampled_from([None, f"G{i}"])), draw(st.sampled_from([None, *groups[:i]])), draw(TEXT)] for i, g in enumerate(groups)]},
        "Directory": {"Dir": [["ExternalId", "FirstName", "LastName", "Company", "Phone", "Mobile", "Email", "Department", "DirectoryGroup"]] + [
            [draw(st.sampled_from([None, f"D{i}"])), draw(NAME), draw(st.sampled_from([None, "Lee"])), draw(st.sampled_from([None, "ACME"])),
             draw(st.sampled_from(PHONES)).format(n=1234000 + i), None, None, draw(SHORT), None] for i in range(draw(st.integers(1, 5)))]},
        "BlockedNumbers": {"Blocked": [["Number", "Description", "ValidUntil"]] + [
            [draw(st.sampled_from(PHONES)).format(n=n), draw(TEXT), draw(st.sampled_from([None, "2027-01-31", 46000]))] for n in numbers]},
        "Configuration": config,
    }


def load(path: Path) -> dict[str, list[list[Any]]]:
    """What the importer will see (calamine), trailing empty cells dropped."""
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        rows = [list(r) for r in wb.get_sheet_by_name(name).iter_rows()]
        out[name] = [r[: max([i + 1 for i, v in enumerate(r) if v != ""], default=0)] for r in rows]
    return out


def import_into(tmp: Path, db: str, workbook: Path, import_type: str, phone_region: str = "", national: int = 0) -> str:
    """Import into store ``db``; no WARNING but, with ``national``, the one line saying that many national phone
    numbers were kept as their digits (no ``phone_region``)."""
    o = StoreUnderTest(tmp / f"{db}.sqlite", tmp).imp(workbook, import_type, key=f"{db}-{workbook.name}", actor="t",
                                                     log=False, phone_region=phone_region)
    log = o.log_text
    assert o.status == "succeeded", log
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    if national:
        assert len(warnings) == 1 and f"{national} national phone number(s) were stored as their digits" in warnings[0], log
        assert "set phone_region" in warnings[0], log
    else:
        assert warnings == [], log
    return log


def export_all(tmp: Path, db: str) -> dict[str, dict[str, list[list[Any]]]]:
    out = {}
    for folder, item in ITEMS.items():
        export_configuration(tmp / f"{db}.sqlite", tmp / f"{db}-{folder}.xlsx", [item])
        out[folder] = load(tmp / f"{db}-{folder}.xlsx")
    export_configuration(tmp / f"{db}.sqlite", tmp / f"{db}-Configuration.xlsx")
    out["Configuration"] = load(tmp / f"{db}-Configuration.xlsx")
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configurations())
def test_every_type_round_trips(source: dict[str, Sheets]) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for folder in ("UserGroup", "Directory", "BlockedNumbers", "Configuration"):  # groups before users
            import_into(tmp, "A", write_xlsxwriter(tmp / f"src-{folder}.xlsx", source[folder]), folder, "FI")
        a = export_all(tmp, "A")
        for folder in ("UserGroup", "Directory", "BlockedNumbers", "Configuration"):
            import_into(tmp, "B", tmp / f"A-{folder}.xlsx", folder, "FI")
        b = export_all(tmp, "B")
        assert a == b
        assert list(a["Configuration"]) == ["Calendars", "Skills", "PresenceProfiles", "Scripts", "Queues", "Users"]
        for folder, book in a.items():
            for sheet, rows in book.items():
                t = CATALOG.config_sheet(sheet) or CATALOG.for_folder(folder)
                assert t is not None and rows[0] == headers(t) and "Id" not in rows[0]
        for folder, book in source.items():  # every source row arrived (Configuration: per sheet)
            assert sum(len(r) - 1 for r in book.values()) == sum(len(r) - 1 for r in a[folder].values()), folder


def test_export_writes_text_never_formulas_and_keeps_phone_text(tmp_path: Path) -> None:
    import_into(tmp_path, "A", write_xlsxwriter(tmp_path / "s.xlsx", {"Skills": [
        ["Name", "Description"], ["=cmd|' /C calc'!A0", '=HYPERLINK("x")'], ["@SUM(A1)", "+1"], ["-2", "\tTab"]]}), "Skills")
    import_into(tmp_path, "A", write_xlsxwriter(tmp_path / "b.xlsx", {"B": [["Number"], ["+358 40 1234567"], ["040 765 4321"]]}),
                "BlockedNumbers", national=1)  # no region: the national number is kept as its digits
    assert export_configuration(tmp_path / "A.sqlite", tmp_path / "e.xlsx", ["skills"]) == {"Skills": 3}
    ws = openpyxl.load_workbook(tmp_path / "e.xlsx")["Skills"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert {c.data_type for c in cells} == {"s"}
    assert [c.value for c in cells] == ["=cmd|' /C calc'!A0", '=HYPERLINK("x")', "@SUM(A1)", "+1", "-2", "Tab"]
    export_configuration(tmp_path / "A.sqlite", tmp_path / "n.xlsx", ["blocked numbers"])
    ws = openpyxl.load_workbook(tmp_path / "n.xlsx")["BlockedNumbers"]
    assert [(c.value, c.data_type) for c in ws["A"]] == [("Number", "s"), ("+358401234567", "s"), ("0407654321", "s")]


def test_export_cli_subsets_and_errors(cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    import_into(state, "system", write_openpyxl(tmp_path / "c.xlsx", {"Skills": [["Name"], ["Sales"]], "Queues": [["Name", "Skills"], ["Q", "Sales"]]}),
                "Configuration")

    def export(*args: str) -> CliResult:
        return cli("export", "--state-dir", state, *args)

    r = export("-o", str(tmp_path / "q.xlsx"), "--items", "Queues, skills")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == ["Skills: 1 row(s)", "Queues: 1 row(s)"]
    assert load(tmp_path / "q.xlsx") == {"Skills": [["Name", "Description"], ["Sales"]],
                                         "Queues": [headers(CATALOG.by_key("queue")), ["", "Q", "", "", "", "Sales"]]}
    r = export("-o", str(tmp_path / "all.xlsx"))
    assert r.returncode == 0 and "Users: 0 row(s)" in r.stdout
    for args, message in [
        (["-o", str(tmp_path / "x.xlsx"), "--items", "nonsense"], "unknown item 'nonsense'"),
        (["-o", str(tmp_path / "x.xlsx"), "--items", "users,usergroups"], "usergroups cannot share a workbook"),
        (["-o", str(tmp_path / "x.csv")], "give -o a .xlsx name"),
        (["-o", str(tmp_path / "no" / "x.xlsx")], "no such folder"),
    ]:
        r = export(*args)
        assert r.returncode != 0 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = cli("export", "-o", tmp_path / "x.xlsx", "--state-dir", tmp_path / "none")
    assert r.returncode == 1 and "no system store at" in r.stderr
    assert not list(tmp_path.glob(".*.tmp"))


def test_user_groups_export_parents_first(tmp_path: Path) -> None:
    import_into(tmp_path, "A", write_xlsxwriter(tmp_path / "g1.xlsx", {"G": [["Name"], ["Leaf"], ["Mid"], ["Root"]]}), "UserGroup")
    import_into(tmp_path, "A", write_xlsxwriter(tmp_path / "g2.xlsx", {"G": [["Name", "Parent"], ["Mid", "Root"], ["Leaf", "Mid"]]}),
                "UserGroup")
    export_configuration(tmp_path / "A.sqlite", tmp_path / "a.xlsx", ["UserGroup"])
    assert load(tmp_path / "a.xlsx")["UserGroups"][1:] == [["", "Root"], ["", "Mid", "", "Root"], ["", "Leaf", "", "Mid"]]
    import_into(tmp_path, "B", tmp_path / "a.xlsx", "UserGroup")
    export_configuration(tmp_path / "B.sqlite", tmp_path / "b.xlsx", ["user groups"])
    assert load(tmp_path / "a.xlsx") == load(tmp_path / "b.xlsx")
