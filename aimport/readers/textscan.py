"""Checks of a text import before and after parsing: the encoding of every byte, and quotes.

The encoding scan reads the whole file once with an incremental decoder, so a bad byte is
reported with its line and its byte offset in the file (not of a chunk), and a file without a
byte order mark that is not UTF-8 can be read with the fallback encoding instead.
The quote checks say where a quote that breaks the file was opened.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aimport.readers.base import ReadError, Row

CHUNK = 1 << 20
LABELS = {"cp1252": "Windows-1252", "utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16",
          "mac-roman": "Mac OS Roman"}


def codec_label(codec: str) -> str:
    """'UTF-8', 'UTF-16', 'Windows-1252', else the codec's own name."""
    name = codecs.lookup(codec).name
    return LABELS.get(name, name)


@dataclass(frozen=True)
class BadBytes:
    """Where a text file stops being valid in its encoding."""

    codec: str
    offset: int  # byte offset in the file (0-based)
    line: int  # 1-based line of that byte
    sample: bytes

    def where(self) -> str:
        return f"line {self.line}, byte {self.offset} of the file: {self.sample.hex(' ')}"

    def error(self, codec: str, fallback: str) -> ReadError:
        label = codec_label(self.codec)
        if codec == "utf-8" and self.codec == "utf-8" and fallback == "none":
            hint = ("the file has no byte order mark and text_fallback_encoding is none; save it as UTF-8 "
                    "with BOM or Unicode text, or set text_fallback_encoding (for example cp1252)")
        elif codec == "utf-8" and self.codec != "utf-8":
            hint = (f"the file is neither UTF-8 nor {label} (text_fallback_encoding); "
                    "save it as UTF-8 with BOM or Unicode text")
        else:
            hint = "save the file as UTF-8 with BOM or Unicode text"
        return ReadError("BAD_ENCODING", f"invalid {label} bytes at {self.where()}; {hint}")


@dataclass(frozen=True)
class TextScan:
    has_nul: bool
    bad: BadBytes | None
    has_quote: bool = True  # a '"' anywhere in the text (until the first bad byte)


def scan_text(path: Path, codec: str) -> TextScan:
    """Decode the whole file with ``codec`` (strictly): NUL characters, quotes, and the first bad byte if any."""
    skip = 3 if codec == "utf-8-sig" else 0  # the BOM; offsets stay offsets of the file
    decoder = codecs.getincrementaldecoder("utf-8" if skip else codec)(errors="strict")
    nul = quote = False
    pos = skip
    with open(path, "rb") as fh:
        fh.seek(skip)
        for chunk in _chunks(fh):
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                offset = pos - pending + exc.start
                return TextScan(nul, BadBytes(codec, offset, _line_at(path, codec, offset),
                                              bytes(exc.object[exc.start:exc.start + 4])))
            nul = nul or "\x00" in text
            quote = quote or '"' in text
            pos += len(chunk)
    return TextScan(nul, None, quote)


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    read = fh.read
    while True:
        chunk = read(CHUNK)
        yield chunk
        if not chunk:
            return


def _line_at(path: Path, codec: str, offset: int) -> int:
    """The 1-based line holding byte ``offset`` (an error path: reads the file up to there)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    lines = 1
    left = offset
    cr = False
    with open(path, "rb") as fh:
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            text = decoder.decode(chunk)
            # CR alone ends a line too (an old Mac's text file); a CRLF cut between two chunks counts once
            lines += text.count("\n") + text.count("\r") - text.count("\r\n") - (cr and text.startswith("\n"))
            cr = text.endswith("\r")
    return lines


def column_name(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def check_spans(nos: Sequence[int], rows: list[Row], delimiter: str, width: int) -> None:
    """A quoted cell over line ends that holds whole rows of the file is a quote left open: refuse it.

    A line inside the cell with as many delimiters as a whole row is a row swallowed by a stray quote
    when the record is shorter than the widest row (writers write every cell of every row) or when the
    cell's line breaks are CRLF, the records' own line end (Excel and LibreOffice write a line break
    inside a cell as LF alone).
    """
    if width < 2:
        return
    for last, row in zip(nos, rows):
        for col, cell in enumerate(row):
            inner = cell.splitlines()
            if len(inner) < 2 or (len(row) >= width and "\r\n" not in cell):
                continue
            suspect = [ln for ln in inner[1:] if ln.count(delimiter) >= width - 1]
            if suspect:
                first = last - (len(inner) - 1)
                raise ReadError(
                    "BAD_FORMAT",
                    f"line {first}: the quote that opens the cell in column {column_name(col)} runs over "
                    f"{len(inner) - 1} line end(s) to line {last} and holds what look like whole rows "
                    f"({suspect[0][:40]!r}): a quote is probably not closed; remove it, or write a quote "
                    "inside a cell as two quotes (\"\")",
                )


def quote_error(path: Path, codec: str, delimiter: str, start: int, detail: str) -> ReadError:
    """BAD_FORMAT naming the line where the quote that breaks the record starting on line ``start`` opened."""
    line = 0
    opened = 0
    quoted = False
    field_start = True
    with open(path, encoding=codec, newline="", errors="replace") as fh:
        for text in fh:
            line += 1
            if line < start:
                continue
            i, n = 0, len(text)
            while i < n:
                c = text[i]
                if quoted:
                    if c == '"':
                        if i + 1 < n and text[i + 1] == '"':
                            i += 2
                            continue
                        quoted = False
                        after = text[i + 1] if i + 1 < n else "\n"
                        if after not in (delimiter, "\r", "\n"):
                            where = "here" if opened == line else f"on line {opened}"
                            return ReadError(
                                "BAD_FORMAT",
                                f"line {line}: the quoted cell opened {where} is followed by more text after "
                                f"its closing quote ({text[max(0, i - 20):i + 20].strip()!r}); a quote inside a "
                                "quoted cell must be written as two quotes (\"\")",
                            )
                elif c == '"' and field_start:
                    quoted, opened = True, line
                field_start = c in (delimiter, "\r", "\n")
                i += 1
            if not quoted:  # the record ends on this line
                break
    if quoted:
        return ReadError(
            "BAD_FORMAT",
            f"line {opened}: the quote opened on this line is never closed (the file ends inside the quoted "
            "cell); remove the quote, or write a quote inside a cell as two quotes (\"\")",
        )
    return ReadError("BAD_FORMAT", f"line {start}: {detail}")
