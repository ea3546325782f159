"""A text file without any quote is read line by line (split at the delimiter): exactly what csv.reader gives.

The fast path is taken only when the encoding scan saw no ``"`` in the whole file; these files are read both
ways and must give the same blocks (line numbers, cells, error cells, blank rows left out).
"""

from __future__ import annotations

import codecs
import random
from pathlib import Path
from typing import Any

import pytest

from aimport.readers.text import TextWorkbook

CELLS = ["a", " b ", "", "  ", "#N/A", " #DIV/0! ", "x\x00y", "Ägnes Öberg", "€5", "a b", "#", "—", "5' 3", "x,y",
         "p;q", "\u00a0", "1.5", "0040",
         # characters str.splitlines() takes for line ends (the file reader and csv.reader do not)
         "a\x0bb", "a\x0cb", "a\x1cb\x1dc\x1ed", "a\u2028b", "a\x85b"]
ENDS = ["\r\n", "\r\n", "\n", "\r"]
BOMS = {"utf-8-sig": codecs.BOM_UTF8, "utf-16": b"", "cp1252": b""}


def _blocks(wb: TextWorkbook) -> list[Any]:
    return [(list(nos), [[(type(c).__name__, c) for c in row] for row in rows]) for nos, rows in wb._blocks()]


def _write(path: Path, rnd: random.Random, encoding: str, delimiter: str, rows: int) -> Path:
    usable = [c for c in CELLS if c.encode(encoding, "replace").decode(encoding) == c]  # (Windows-1252 has no U+2028)
    out = [delimiter.join(["Name", "Description", "Extra"]) + "\r\n"]
    for _ in range(rows):
        kind = rnd.random()
        if kind < 0.05:
            line = ""  # a blank line
        elif kind < 0.08:
            line = rnd.choice([" ", "\t", delimiter * 2, " " + delimiter])  # a row without text
        else:
            cells = [rnd.choice(usable).replace(delimiter, "") for _ in range(rnd.choice([1, 2, 3, 3, 3, 4]))]
            line = delimiter.join(cells) + (delimiter if rnd.random() < 0.05 else "")
        out.append(line + rnd.choice(ENDS))
    text = "".join(out)
    if rnd.random() < 0.5:
        text = text.rstrip("\r\n")  # the last line without a line end
    path.write_bytes(BOMS[encoding] + text.encode(encoding))
    return path


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("delimiter", ["\t", ",", ";"])
def test_a_file_without_quotes_reads_as_csv_reads_it(tmp_path: Path, seed: int, encoding: str, delimiter: str) -> None:
    rnd = random.Random(seed)
    p = _write(tmp_path / "f.txt", rnd, encoding, delimiter, rnd.choice([5, 300, 4500]))  # 4500: blocks of 2000
    wb = TextWorkbook(p, delimiter, "cp1252")
    assert not wb._quoted
    fast = _blocks(wb)
    wb._quoted = True  # the csv.reader path
    assert fast == _blocks(wb)
    assert fast and fast[0][0][0] == 1


def test_one_quote_anywhere_takes_the_csv_path(tmp_path: Path) -> None:
    rows = "".join(f"N{i}\tplain\r\n" for i in range(3000))
    p = tmp_path / "q.txt"
    p.write_bytes(codecs.BOM_UTF8 + ("Name\tDescription\r\n" + rows + 'Last\t"quoted\r\nover two lines"\r\n').encode())
    wb = TextWorkbook(p, "\t")
    assert wb._quoted
    blocks = _blocks(wb)
    last_nos, last_rows = blocks[-1]
    assert last_rows[-1] == [("str", "Last"), ("str", "quoted\r\nover two lines")] and last_nos[-1] == 3003
