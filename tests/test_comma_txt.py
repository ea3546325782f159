"""Issue 26.13: a comma-separated file named ``.txt`` (read as tab-delimited) fails saying to name it ``.csv``.

The rule (aimport.readers.text): a ``.txt``/``.tsv`` file is refused with BAD_FORMAT when each of its first
10 non-blank lines (the rows the header search reads) has a comma outside quotes and none has a tab. Read
tab-delimited, each of those lines is then a single cell holding a comma, which is never a column name, so
no header could be found. A one-column file (its header line has no comma) is read as before, commas in its
values and all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aimport.importing.headers import HEADER_SEARCH_ROWS
from aimport.importing.outcome import ImportOutcome
from aimport.itemtypes.catalog import CATALOG
from aimport.readers.text import HEAD_BYTES, HEADER_LINES, looks_comma_separated
from tests.helpers import StoreUnderTest, log_of

HINT = "looks comma-separated: name it .csv"
SKILLS = "SELECT name, description FROM skills ORDER BY id"


def imp_text(store: StoreUnderTest, name: str, text: str, encoding: str = "utf-8-sig") -> ImportOutcome:
    """``text`` written in ``encoding`` to the file ``name``, then imported as Skills."""
    path = store.folder / name
    path.write_bytes(text.encode(encoding))
    return store.imp(path, "Skills")


@pytest.mark.parametrize("text", [
    "Name,Description\r\nSales,Sells things\r\nSupport,Helps\r\n",  # Excel's "CSV (Comma delimited)"
    '"Name","Description"\n"Sales","Sells, things"\n',  # every cell quoted (LibreOffice's "quote all")
    "Name,Description\n",  # a header and nothing else
    "\n\nName,Description\n\nSales,\n",  # blank lines and an empty last cell
])
def test_comma_separated_txt_fails_with_the_hint(store: StoreUnderTest, text: str) -> None:
    o = imp_text(store, "skills.txt", text)
    log = log_of(o)
    assert (o.status, o.error_code) == ("failed", "BAD_FORMAT"), log
    assert HINT in log, log
    assert not Path(store.address).exists() or store.query(SKILLS) == []


def test_the_hint_for_tsv_and_utf16(store: StoreUnderTest) -> None:
    o = imp_text(store, "skills.tsv", "Name,Description\nSales,Sells\n", encoding="utf-16")
    assert (o.status, o.error_code) == ("failed", "BAD_FORMAT") and HINT in log_of(o)


def test_the_same_file_named_csv_imports(store: StoreUnderTest) -> None:
    o = imp_text(store, "skills.csv", "Name,Description\r\nSales,Sells things\r\n")
    assert (o.status, o.error_code) == ("succeeded", None), log_of(o)


@pytest.mark.parametrize(("text", "stored"), [
    # one column: the header line has no comma, the values have
    ("Name\nSales, north\nSupport, south\n", [("Sales, north", None), ("Support, south", None)]),
    # a note line with a comma above a one-column header
    ("Skills, as of Monday\nName\nSales, north\n", [("Sales, north", None)]),
    # tab-delimited with commas everywhere in the values
    ("Name\tDescription\nSales, north\tSells, a lot\n", [("Sales, north", "Sells, a lot")]),
    # a quoted value with a comma in a one-column file
    ('Name\n"Sales, north"\n', [("Sales, north", None)]),
])
def test_tab_files_with_commas_in_values_are_not_refused(store: StoreUnderTest, text: str, stored: list[tuple[str, str | None]]) -> None:
    o = imp_text(store, "skills.txt", text)
    log = log_of(o)
    assert (o.status, o.error_code) == ("succeeded", None), log
    assert HINT not in log
    assert store.query(SKILLS) == stored


def test_a_comma_free_line_within_the_header_rows_means_no_hint(store: StoreUnderTest) -> None:
    """A line without a comma could be a one-column header: the file fails as before (NO_HEADER), no hint."""
    o = imp_text(store, "skills.txt", "Exported\nName,Description\nSales,Sells\n")
    assert (o.status, o.error_code) == ("failed", "NO_HEADER") and HINT not in log_of(o)


def test_the_rule_reads_the_rows_the_header_search_reads() -> None:
    """The rule is sound only while a column name never holds a comma and it scans the header search's rows."""
    assert HEADER_LINES == HEADER_SEARCH_ROWS
    assert not [k for t in CATALOG.all() for k in t.header_map() if "," in k]


def test_a_large_comma_separated_txt_fails_with_the_hint(store: StoreUnderTest) -> None:
    """Judged from the file's start: the line cut at the end of the bytes read does not count."""
    rows = "".join(f"Skill {i:06d},{'x' * 50}\n" for i in range(3 * HEAD_BYTES // 60))
    o = imp_text(store, "skills.txt", "Name,Description\n" + rows)
    assert (o.status, o.error_code) == ("failed", "BAD_FORMAT") and HINT in log_of(o)


@pytest.mark.parametrize(("text", "whole", "expected"), [
    ("a,b\n" * HEADER_LINES + "Name\n", True, True),  # an 11th line is not among the header rows
    ("a,b\n" * (HEADER_LINES - 1) + "Name\n", True, False),  # the 10th is
    ("Note, x\nName", True, False),  # the last line of a whole file counts even without a line end
    ("a,b\nc,d\nName", False, True),  # ... of a file's start it may be cut short: not judged
    ("a,b" * 100, False, False),  # no complete line: no verdict
    ("a,b\rc,d\r", True, True),  # CR line ends (old Mac)
    ('"a,b"\n"c,d"\n', True, False),  # commas inside quotes only
    ("a,b\tc\nd,e\n", True, False),  # a tab
    ("\n \n", True, False),  # blank
])
def test_the_rule(text: str, whole: bool, expected: bool) -> None:
    assert looks_comma_separated(text, whole) is expected
