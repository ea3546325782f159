"""Tab-delimited .txt and .csv reader: BOM-aware, fallback encoding, strict quotes, streaming."""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

from aimport.readers.base import BLOCK_ROWS, ERROR_VALUES, Block, CellError, RawSheet, ReadError, Row
from aimport.readers.textscan import check_spans, codec_label, quote_error, scan_text

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

__all__ = ["HEADER_LINES", "HEAD_BYTES", "TextWorkbook", "fallback_codec", "looks_comma_separated", "sniff_delimiter",
           "sniff_encoding"]

HEADER_LINES = 10  # the rows the header search reads (aimport.importing.headers.HEADER_SEARCH_ROWS)
HEAD_BYTES = 65536  # the start of the file read to tell its encoding and delimiter
LINE_END = re.compile(r"\r\n|\r|\n")  # the line ends the reader splits rows at (csv with newline="")

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 with BOM"),
)


def sniff_encoding(head: bytes) -> tuple[str, str | None]:
    """Return (codec, warning) for the first bytes of a text import."""
    for bom, codec, _label in BOMS:
        if head.startswith(bom):
            return codec, None
    if not head:
        raise ReadError("EMPTY_FILE", "the file is empty")
    sample = head[:4096]
    zeros_odd = sample[1::2].count(0)
    zeros_even = sample[0::2].count(0)
    half = max(1, len(sample) // 2)
    if zeros_odd > half * 0.3 or zeros_even > half * 0.3:
        raise ReadError(
            "BAD_ENCODING",
            "the file looks like UTF-16 without a byte order mark; save it as "
            "'Unicode text' (UTF-16 with BOM) or UTF-8 with BOM",
        )
    return "utf-8", "the file has no byte order mark; read as UTF-8 (save as UTF-8 with BOM to silence this)"


def fallback_codec(fallback: str, head: bytes) -> tuple[str, str]:
    """The codec of a text file without BOM that is not UTF-8, and why (for the WARNING).

    ``auto``: Mac OS Roman for a file whose lines end in CR only (a "Text" file of Excel for old Mac OS),
    else Windows-1252; any other setting is the codec to use.
    """
    if fallback != "auto":
        return fallback, ""
    if b"\r" in head and b"\n" not in head:
        return "mac_roman", " (its lines end in CR only, as in a text file saved by Excel on an old Mac)"
    return "cp1252", ""


def sniff_delimiter(first_line: str) -> str:
    counts = {d: 0 for d in ",;\t"}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def looks_comma_separated(text: str, whole: bool = True) -> bool:
    """Whether a file read as tab-delimited whose text is (``whole``) or starts with ``text`` is comma-separated.

    Yes when each of its first :data:`HEADER_LINES` non-blank lines has a comma outside quotes and none has a
    tab: read tab-delimited, each is one cell holding a comma, never a column name, so the header search
    cannot find a header. A one-column file is not refused: its header line has no comma, whatever its values
    hold. When ``text`` is only the start of the file, its last line (perhaps cut short) is not judged.
    """
    lines = [ln for ln in LINE_END.split(text.lstrip("\ufeff")) if ln.strip()]
    if not whole and len(lines) <= HEADER_LINES:  # the last line may go on beyond ``text``
        lines = lines[:-1]
    lines = lines[:HEADER_LINES]
    return bool(lines) and all("\t" not in ln and _comma_outside_quotes(ln) for ln in lines)


def _comma_outside_quotes(line: str) -> bool:
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            return True
    return False


class TextWorkbook:
    """A text file is a workbook of one sheet named after the file."""

    def __init__(self, path: Path, delimiter: str | None, fallback: str = "auto") -> None:
        self.path = path
        self.warnings: list[str] = []
        self.infos: list[str] = []
        self.hidden: dict[str, str] = {}  # a text file has no hidden sheets
        self._width = 0  # the widest row so far (to spot a quote that swallowed whole rows)
        try:
            with open(path, "rb") as fh:
                head = fh.read(HEAD_BYTES)
        except PermissionError:
            raise ReadError("FILE_UNREADABLE", "the file cannot be read (permission denied)") from None
        self.codec, warning = sniff_encoding(head)
        scan = scan_text(path, self.codec)
        if scan.bad is not None and self.codec == "utf-8" and fallback != "none":
            first_bad = scan.bad
            codec, why = fallback_codec(fallback, head)
            scan = scan_text(path, codec)
            if scan.bad is None:
                self.codec = codec
                warning = (f"the file has no byte order mark and is not valid UTF-8 ({first_bad.where()}): "
                           f"read as {codec_label(codec)}{why} (setting text_fallback_encoding); "
                           "save it as UTF-8 with BOM or Unicode text to be sure")
            fallback = codec
        if scan.bad is not None:
            raise scan.bad.error(self.codec, fallback)
        self._nul = scan.has_nul
        self._quoted = scan.has_quote  # no quote anywhere: every line is one row (see _records)
        if warning:
            self.warnings.append(warning)
        if delimiter is None:
            text = head.decode(self.codec, errors="replace")
            delimiter = sniff_delimiter(text.lstrip("\ufeff").splitlines()[0] if text.strip() else "")
        self.delimiter = delimiter
        if delimiter == "\t" and looks_comma_separated(head.decode(self.codec, errors="replace"), len(head) < HEAD_BYTES):
            raise ReadError("BAD_FORMAT", f"the file looks comma-separated: name it .csv (a {path.suffix.lower()} "
                            "file is read as tab-delimited; its first lines have commas and no tab)")

    def sheet_names(self) -> list[str]:
        return [self.path.stem]

    def sheet(self, name: str) -> RawSheet:
        return RawSheet(name=name, rows=self._rows, warnings=[], blocks=self._blocks)

    def _rows(self) -> Iterator[tuple[int, Row]]:
        for nos, rows in self._blocks():
            yield from zip(nos, rows)

    def _blocks(self) -> Iterator[Block]:
        """Blocks of (line numbers, rows), blank rows left out; csv.reader runs at C speed over the file (a
        file without any quote is split line by line, faster still: :meth:`_records`).

        Strict quoting: a quoted cell ends at a quote followed by the delimiter or a line end, and the
        file must not end inside one; a quote inside an unquoted cell (``5" floppy``) is just a character.
        """
        try:
            with open(self.path, encoding=self.codec, newline="", errors="strict") as fh:
                # a NUL stays in its cell: staging rejects that row (sheet, row, column)
                for nos, rows in self._records(fh):
                    joined = list(map("".join, rows))
                    if not all(map(str.strip, joined)):  # blank rows (no cell with text) are skipped
                        keep = [i for i, j in enumerate(joined) if j.strip()]
                        nos, rows = [nos[i] for i in keep], [rows[i] for i in keep]
                    if rows:
                        if "#" in "".join(joined):  # one C-level search per block, not one per row
                            _mark_errors(rows)
                        yield nos, rows
        except (UnicodeDecodeError, csv.Error):
            raise self._exact_error() from None

    def _records(self, lines: Iterable[str]) -> Iterator[Block]:
        """Blocks of (line numbers, rows) as the file has them (blank rows too)."""
        line = 0
        if not self._quoted:  # no quote in the whole file: each line is one row, split at the delimiter; that
            # is what csv.reader gives for it (a line end can only end a line), at about twice the speed
            split, strip, delimiter = str.split, str.rstrip, self.delimiter
            while True:
                block = list(islice(lines, BLOCK_ROWS))
                if not block:
                    return
                yield range(line + 1, line + len(block) + 1), [split(strip(x, "\r\n"), delimiter) for x in block]
                line += len(block)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        while True:
            rows = list(islice(reader, BLOCK_ROWS))
            if not rows:
                return
            end = reader.line_num
            self._width = max(self._width, max(map(len, rows)))
            if end - line == len(rows):
                nos: Sequence[int] = range(line + 1, end + 1)
            else:  # some cell runs over a line end: the quote must really be meant
                nos = _line_numbers(rows, line)
                check_spans(nos, rows, self.delimiter, self._width)
            line = end
            yield nos, rows

    def _exact_error(self) -> ReadError:
        """Read again to say exactly where the file goes wrong (an error path only)."""
        scan = scan_text(self.path, self.codec)
        if scan.bad is not None:
            return scan.bad.error(self.codec, "none")
        start = 0
        try:
            with open(self.path, encoding=self.codec, newline="", errors="strict") as fh:
                reader = csv.reader((ln.replace("\x00", "") for ln in fh), delimiter=self.delimiter, strict=True)
                for _row in reader:
                    start = reader.line_num
        except csv.Error as exc:
            return quote_error(self.path, self.codec, self.delimiter, start + 1, str(exc))
        return ReadError("FILE_UNREADABLE", "the file changed while it was read")

    def close(self) -> None:
        pass


def _mark_errors(rows: list[Row]) -> None:
    """A cell that is exactly a spreadsheet error value (``#N/A``: "Save as text" of a failed formula) is no data."""
    for row in rows:
        for i, cell in enumerate(row):
            if cell.strip() in ERROR_VALUES:
                row[i] = CellError(cell.strip())


def _line_numbers(rows: list[Row], start: int) -> list[int]:
    """The last physical line of each record when quoted cells span lines (csv.reader's line_num)."""
    out = []
    line = start
    for row in rows:
        line += 1
        for c in row:
            if "\n" in c or "\r" in c:
                line += c.count("\n") + c.count("\r") - c.count("\r\n")
        out.append(line)
    return out
