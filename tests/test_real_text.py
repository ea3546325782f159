"""Text files as users write them (fixtures/real/text/, made by fixtures/real/make_text.py).

LibreOffice "Save as text/CSV" (short locale dates, UTF-8 and UTF-16, ``,`` ``;`` and tab), Excel's
"CSV (Comma delimited)" (Windows-1252, no BOM) and hand-made files (quotes left open, quotes inside
cells). Each case: the setting it runs with, the expected status and code, what the .log says and
exactly what is stored. Never a ``succeeded`` that stores something the file does not say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, CliResult, StoreUnderTest

TEXT = Path(__file__).resolve().parent.parent / "fixtures" / "real" / "text"
SKILLS = "SELECT name, description FROM skills ORDER BY id"
BLOCKED = "SELECT number, description, valid_until FROM blocked_numbers ORDER BY id"


@dataclass
class Case:
    file: str
    import_type: str
    status: str
    code: str | None
    stored: list[tuple[Any, ...]]
    log: list[str] = field(default_factory=list)
    date_order: str = "auto"
    fallback: str = "cp1252"

    @property
    def id(self) -> str:
        return f"{self.file}-{self.date_order}-{self.fallback}"


CASES = [
    # issue 12.3: a quote opened and never closed is a failed file naming the line, whatever the delimiter
    Case("hand-unterminated.csv", "Skills", "failed", "BAD_FORMAT", [],
         ["line 3: the quote opened on this line is never closed"]),
    Case("hand-unterminated-semicolon.csv", "Skills", "failed", "BAD_FORMAT", [],
         ["line 3: the quote opened on this line is never closed"]),
    Case("hand-unterminated-utf16.txt", "Skills", "failed", "BAD_FORMAT", [],
         ["line 3: the quote opened on this line is never closed"]),
    Case("hand-swallowed-rows.csv", "Skills", "failed", "BAD_FORMAT", [],
         ["line 3: the quote that opens the cell in column B runs over 2 line end(s) to line 5"]),
    Case("hand-text-after-quote.txt", "Skills", "failed", "BAD_FORMAT", [],
         ["line 2: the quoted cell opened here is followed by more text after its closing quote"]),
    # quotes inside unquoted cells are characters; real multi-line quoted cells stay one cell
    Case("hand-inch-quotes.csv", "Skills", "succeeded", None, [('5" floppy', '3.5" disk'), ("plain", "text")]),
    Case("hand-utf16-multiline.txt", "Skills", "succeeded", None,
         [("Address", "Street 1\r\nCity, Country"), ("Next", "ok")]),
    Case("lo-quotes-and-lines.csv", "Skills", "succeeded", None,
         [("Floppy", '5" floppy, "3.5" too'), ("Two lines", "first line\nsecond, with a comma")]),
    # issue 13.2 in text: a formula that failed is saved as its error text (#N/A, #DIV/0!): a rejected row
    Case("lo-error-cells.csv", "Skills", "partial", "ROWS_REJECTED", [("Support", "Helps")],
         ["row 2 column Description: the cell holds the error value #N/A",
          "row 4 column Description: the cell holds the error value #DIV/0!"]),
    # issue 13.7: Excel's CSV is Windows-1252
    Case("excel-cp1252.csv", "Skills", "succeeded", None,
         [("Café", '5€ per cup, "strong"'), ("Smørrebrød", "Øre")],
         ["WARNING the file has no byte order mark and is not valid UTF-8 (line 2, byte 21 of the file",
          "read as Windows-1252 (setting text_fallback_encoding)"]),
    Case("excel-cp1252.csv", "Skills", "failed", "BAD_ENCODING", [],
         ["invalid UTF-8 bytes at line 2, byte 21 of the file: e9", "text_fallback_encoding is none"],
         fallback="none"),
    Case("excel-cp1252-dates.csv", "BlockedNumbers", "partial", "ROWS_REJECTED",
         [("0407777", "Déjà vu", "2027-12-31")],
         ["row 3 column ValidUntil: '03/04/2027' is ambiguous: 2027-04-03 (day first) or 2027-03-04 "
          "(month first); set date_order to DMY or MDY"]),
    Case("excel-cp1252-dates.csv", "BlockedNumbers", "succeeded", None,
         [("0407777", "Déjà vu", "2027-12-31"), ("0408888", "ambigu", "2027-04-03")], date_order="DMY"),
    # issue 13.4: the locale's short dates as LibreOffice writes them
    Case("lo-us-short-dates.csv", "BlockedNumbers", "partial", "ROWS_REJECTED",
         [("0401111", "end of year", "2027-12-31")], ["'03/04/27' is ambiguous", "date_order"]),
    Case("lo-us-short-dates.csv", "BlockedNumbers", "succeeded", None,
         [("0401111", "end of year", "2027-12-31"), ("0402222", "March or April", "2027-03-04")], date_order="MDY"),
    Case("lo-us-short-dates.csv", "BlockedNumbers", "partial", "ROWS_REJECTED",
         [("0402222", "March or April", "2027-04-03")], ["'12/31/27' is not a date"], date_order="DMY"),
    Case("lo-us-dates-utf16.txt", "BlockedNumbers", "partial", "ROWS_REJECTED",
         [("0404444", "thirty-first", "2027-01-31")], ["'3/7/2027' is ambiguous"]),
    Case("lo-us-dates-utf16.txt", "BlockedNumbers", "succeeded", None,
         [("0403333", "seventh of March", "2027-03-07"), ("0404444", "thirty-first", "2027-01-31")],
         date_order="MDY"),
    Case("lo-de-dates-semicolon.csv", "BlockedNumbers", "succeeded", None,
         [("0405555", "Silvester", "2027-12-31"), ("0406666", "4. März", "2027-03-04")]),
    Case("lo-de-dates-semicolon.csv", "BlockedNumbers", "succeeded", None,
         [("0405555", "Silvester", "2027-12-31"), ("0406666", "4. März", "2027-03-04")], date_order="DMY"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_real_text_file(store: StoreUnderTest, case: Case) -> None:
    o = store.imp(TEXT / case.file, case.import_type, date_order=case.date_order, text_fallback_encoding=case.fallback)
    text = o.log_path.read_text() if o.log_path else ""
    assert (o.status, o.error_code) == (case.status, case.code), text
    for line in case.log:
        assert line in text, text
    assert "Traceback" not in text
    sql = SKILLS if case.import_type == "Skills" else BLOCKED
    stored = store.query(sql) if Path(store.address).exists() else []
    assert stored == case.stored, text


def test_fixtures_are_what_the_script_writes(tmp_path: Path) -> None:
    """The hand-made files are reproducible byte for byte (the LibreOffice ones need soffice)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_text", TEXT.parent / "make_text.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.OUT = tmp_path
    mod.hand_files()
    for made in tmp_path.iterdir():
        assert made.read_bytes() == (TEXT / made.name).read_bytes(), made.name


def test_settings_reach_the_import_request(tmp_path: Path) -> None:
    """date_order and text_fallback_encoding go from flags/env/TOML into the worker's ImportRequest."""
    from aimport.service.importjob import make_request
    from aimport.service.jobcontext import JobContext
    from aimport.settings import from_sources

    toml = tmp_path / "a.toml"
    toml.write_text('[aimport]\ndate_order = "mdy"\ntext_fallback_encoding = "latin-1"\n')
    s = from_sources({"root": tmp_path, "state_dir": tmp_path}, env={}, config=toml)
    assert (s.date_order, s.text_fallback_encoding) == ("MDY", "iso8859-1")
    s = from_sources({"root": tmp_path, "state_dir": tmp_path, "date_order": "DMY"},
                     env={"AIMPORT_DATE_ORDER": "YMD", "AIMPORT_TEXT_FALLBACK_ENCODING": "none"}, config=toml)
    assert (s.date_order, s.text_fallback_encoding) == ("DMY", "none")
    import anyio

    ctx = JobContext(settings=s, layout=s.layout, audit=None, audit_uuid="u",  # type: ignore[arg-type]
                     limiter=anyio.CapacityLimiter(2))
    req = make_request(ctx, 1, tmp_path / "x.csv", "Skills")
    assert (req.date_order, req.text_fallback_encoding) == ("DMY", "none")
    assert req.stage_helper  # no other import runs: a large sheet may use a second core


@pytest.mark.parametrize("name,value", [("date_order", "DDMMYY"), ("text_fallback_encoding", "utf-16"),
                                        ("text_fallback_encoding", "klingon")])
def test_bad_setting_values_are_refused(name: str, value: str) -> None:
    from aimport.settings import SettingsError, from_sources

    with pytest.raises(SettingsError, match=name):
        from_sources({name: value}, env={})


def test_check_command_honours_the_environment(cli: Cli, tmp_path: Path) -> None:
    """``aimport check`` with AIMPORT_DATE_ORDER / AIMPORT_TEXT_FALLBACK_ENCODING in its environment."""
    def check(**env: str) -> CliResult:
        return cli("check", TEXT / "excel-cp1252-dates.csv", "--type", "BlockedNumbers", "--state-dir", tmp_path, env=env)
    auto = check()
    assert auto.returncode == 3 and "is ambiguous" in auto.stdout, auto.stdout + auto.stderr
    dmy = check(AIMPORT_DATE_ORDER="DMY")
    assert dmy.returncode == 0 and "read as Windows-1252" in dmy.stdout, dmy.stdout + dmy.stderr
    refused = check(AIMPORT_TEXT_FALLBACK_ENCODING="none")
    assert refused.returncode == 1 and "BAD_ENCODING" in refused.stdout, refused.stdout + refused.stderr


def _active_campaign(store: StoreUnderTest, settings: dict[str, Any]) -> None:
    """A store with a script holding a Date question and an Active campaign created from a file."""
    from tests.campaign_helpers import campaign_file
    from tests.helpers import write_text

    rows = [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"],
            ["Survey", "Q1", "Call back on", "Date", "", "No"]]
    assert store.imp(write_text(store.folder / "script.txt", rows), "Scripts").status == "succeeded"
    o = store.imp(campaign_file(store.folder / "Spring.xlsx", 2, {"Script": "Survey", **settings}), "OutboundCampaign")
    assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""


def record(cli: Cli, store: StoreUnderTest, *args: str, **env: str) -> CliResult:
    return cli("campaign", "record", "Spring", *args, "--state-dir", store.folder, env=env)


def test_campaign_dates_and_date_answers_use_the_same_rule(cli: Cli, store: StoreUnderTest) -> None:
    """StartDate/EndDate in a campaign CSV-style text and Date answers of ``campaign record``."""
    _active_campaign(store, {"StartDate": "13/1/2020", "EndDate": "31.12.29"})  # 29: 2029 (00-29)
    assert store.query("SELECT start_date, end_date FROM campaigns") == [("2020-01-13", "2029-12-31")]
    amb = record(cli, store, "C0", "--result", "Busy", "--answer", "Q1=03/04/2027")
    assert amb.returncode != 0 and "ambiguous" in amb.stderr and "date_order" in amb.stderr, amb.stderr
    ok = record(cli, store, "C0", "--result", "Busy", "--answer", "Q1=03/04/2027", "--date-order", "MDY")
    assert ok.returncode == 0, ok.stderr
    env_ok = record(cli, store, "C1", "--result", "Busy", "--answer", "Q1=12/31/27", AIMPORT_DATE_ORDER="auto")
    assert env_ok.returncode == 0, env_ok.stderr
    assert store.query("SELECT answer FROM answers ORDER BY customer_id") == [("2027-03-04",), ("2027-12-31",)]


def test_campaign_record_refuses_an_agent_longer_than_a_cell(cli: Cli, store: StoreUnderTest) -> None:
    _active_campaign(store, {})
    long = record(cli, store, "C0", "--result", "Busy", "--agent", "a" * 32768)
    assert long.returncode != 0 and "--agent is 32,768 characters long" in long.stderr, long.stderr
    assert store.query("SELECT number_of_calls, agent FROM customers WHERE external_id = 'C0'") == [(0, None)]
    fits = record(cli, store, "C0", "--result", "Busy", "--agent", "a" * 32767)
    assert fits.returncode == 0, fits.stderr
