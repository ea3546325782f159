"""Stage 1 of an import: parse and check every row into a scratch SQLite file.

Runs without any lock on the system store, so several imports parse side by
side; memory stays flat because rows stream from the reader to the scratch
file in batches. Duplicate identification inside the file is found with SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimport import faults
from aimport.importing.columns import Slow, parse_block
from aimport.importing.headers import HeaderMap, find_header
from aimport.importing.rowparse import Rejection, parse_cells
from aimport.importing.sheetnotes import note_phones_from_numbers, report_hidden_rows
from aimport.importing.stagehelper import StageHelper
from aimport.importing.stagetable import Flat
from aimport.importing.stagewriter import StageWriter
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.schema import DELETE, Field, ItemType
from aimport.itemtypes.values import Invalid, as_text, parse, values_read
from aimport.readers.base import RawSheet, rebase_1904

BATCH = 2000
Progress = Callable[[int], None]


@dataclass
class StagedSheet:
    sheet: str
    item: ItemType
    table: str
    fields: list[Field]  # staged value columns v0..vn, in this order
    rows: int = 0  # data rows read (excluding header)
    rejected: int = 0
    duplicates: set[int] = field(default_factory=set)  # row numbers rejected as duplicates


class Stage:
    """A scratch database for one import (deleted when the import ends)."""

    def __init__(self, path: Path, helper: bool = True) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        if helper:  # a large sheet's rows go to the helper after the first ones: their cache need not be large
            self.conn.execute("PRAGMA cache_size = -512")  # 1.1 MB less resident (staging alone: 2 MB is 5-10 % faster)
        self._n = 0
        self._helper = StageHelper(path) if helper else None  # a second core for large sheets (started when met)

    def close(self) -> None:
        if self._helper is not None:
            self._helper.close()
        self.conn.close()
        for p in (self.path, self.path.with_name(self.path.name + "-journal")):
            p.unlink(missing_ok=True)

    def stage_sheet(self, t: ItemType, raw: RawSheet, log: ImportLog, progress: Progress | None = None,
                    hidden_rows: str = "import") -> StagedSheet:
        """Stage one sheet; its hidden data rows are imported, skipped or rejected (``hidden_rows``), and named."""
        from aimport.readers.hiddenrows import HiddenRows

        for note in raw.warnings:  # first: a note (a pivot table left out) may say why no header is found
            log.warning(f"sheet {raw.name!r}: {note}")
        flat = Flat(raw.iter_blocks())
        header = find_header(t, flat, raw.hidden_rows)
        for name in header.unknown:
            log.warning(f"sheet {raw.name!r}: unknown column {name!r} ignored")
        if t.warn_without and t.warn_without not in {f.name for f in header.present}:
            log.warning(
                f"sheet {raw.name!r}: no {t.warn_without} column, so every row creates a new {t.label}; "
                f"importing this file again would duplicate them"
            )
        self._n += 1
        table = f"s{self._n}"
        fields = header.present
        cols = ", ".join(f"v{i}" for i in range(len(fields)))
        self.conn.execute(f"CREATE TABLE {table} (row_no INTEGER PRIMARY KEY, del INTEGER, {cols})")
        staged = StagedSheet(raw.name, t, table, fields)
        idents = _dup_idents(staged)
        key: list[int] | None = None
        verb = "INSERT"
        if len(idents) == 1:  # one identification: duplicates are found by a UNIQUE index as rows go in
            pos = {f.name: i for i, f in enumerate(fields)}
            key = [2 + pos[n] for n in idents[0]]
            kc = [f"v{pos[n]}" for n in idents[0]]
            self.conn.execute(f"CREATE UNIQUE INDEX {table}_key ON {table} ({', '.join(kc)}) "
                              f"WHERE {' AND '.join(f'{c} IS NOT NULL' for c in kc)}")
            verb = "INSERT OR IGNORE"
        insert = f"{verb} INTO {table} VALUES ({', '.join('?' * (len(fields) + 2))})"
        self.conn.execute("BEGIN")
        writer = StageWriter(self.conn, table, insert, key, self._helper)
        first = True
        hidden = HiddenRows(raw.hidden_rows, hidden_rows)
        blocks = hidden.blocks(flat.rest()) if raw.hidden_rows else flat.rest()
        if raw.date1904:  # plain-number date serials of a 1904 workbook count from 1904-01-01
            blocks = rebase_1904(blocks, [i for i, f, _ in header.plan if f.kind in ("date", "dates")])
        for nos, rows in blocks:
            if first:
                first = False
                if _is_note_row(rows[0]):  # a template's column guide
                    nos, rows = nos[1:], rows[1:]
                    if not rows:
                        continue
            staged.rows += len(rows)
            try:
                batch = parse_block(t, header, nos, rows)
            except Slow:  # something to reject or look at closely: row by row
                batch = [p for p in (self._parse_row(t, header, raw.name, n, r, log) for n, r in zip(nos, rows))
                         if p is not None]
            staged.rejected += len(rows) - len(batch)
            writer.put(batch)
            if progress:
                progress(staged.rows)
            faults.point("mid_parse")
        writer.finish()
        rejected = report_hidden_rows(hidden, raw.name, log)
        staged.rows += rejected
        staged.rejected += rejected
        if progress:
            progress(staged.rows)
        if key is not None:
            self._log_duplicates(staged, idents[0], writer.duplicates, log)
        else:
            self._find_duplicates(staged, log)
        return staged

    def _parse_row(
        self, t: ItemType, header: HeaderMap, sheet: str, row_no: int, row: list[Any], log: ImportLog
    ) -> tuple[Any, ...] | None:
        """Parse one row into ``(row_no, del, v0..vn)``; log and return None when it is rejected."""
        values = parse_cells(header.plan, row, _cell)
        if values_read().from_numbers:  # phones from number cells: named (or dropped with a rejected row)
            note_phones_from_numbers(log, values_read(), sheet, row_no, not isinstance(values, Rejection))
        if isinstance(values, Rejection):
            log.rejected(sheet, row_no, values.column, values.reason)
            return None
        delete = values.pop(DELETE.name, False)
        if delete:
            if not any(all(values.get(n) is not None for n in ident) for ident in t.identification):
                log.rejected(sheet, row_no, "Delete", f"Delete=D needs an identification value ({_idents(t)})")
                return None
        else:
            for name in header.mandatory:
                if name not in values:
                    log.rejected(sheet, row_no, name, f"{name} is mandatory")
                    return None
            # checks of the whole object, when this file's columns decide them (else the engine checks the
            # stored object as updated: a file of ExternalId | Phone updates entries whose names it does not hold)
            present = header.names
            if t.mandatory_any and all(n in present for n in t.mandatory_any) and not any(
                    values.get(n) for n in t.mandatory_any):
                log.rejected(sheet, row_no, None, f"one of {', '.join(t.mandatory_any)} is needed")
                return None
            if t.row_check is not None and all(n in present for n in t.check_fields):
                reason = t.row_check(values)
                if reason:
                    column, _, why = reason.partition(": ")  # "Column: reason"
                    log.rejected(sheet, row_no, column, why or reason)
                    return None
        out: list[Any] = [row_no, 1 if delete else 0]
        for name, is_list in header.staged:
            v = values.get(name)
            out.append(json.dumps(v) if is_list and v is not None else v)
        return tuple(out)

    def _log_duplicates(self, staged: StagedSheet, ident: tuple[str, ...], dups: list[tuple[int, tuple[Any, ...]]],
                        log: ImportLog) -> None:
        """Reject the rows the UNIQUE index left out, naming the row that holds the same key."""
        pos = {f.name: i for i, f in enumerate(staged.fields)}
        where = " AND ".join(f"v{pos[n]} = ?" for n in ident)
        for row_no, key in dups:
            (first,) = self.conn.execute(f"SELECT MIN(row_no) FROM {staged.table} WHERE {where}", key).fetchone()
            staged.duplicates.add(row_no)
            log.rejected(staged.sheet, row_no, "/".join(ident),
                         f"duplicate {'/'.join(ident)}: the same {staged.item.label} is already in row {first}")
        staged.rejected += len(staged.duplicates)

    def _find_duplicates(self, staged: StagedSheet, log: ImportLog) -> None:
        pos = {f.name: i for i, f in enumerate(staged.fields)}
        for ident in _dup_idents(staged):
            cols = [f"v{pos[n]}" for n in ident]
            on = " AND ".join(f"s.{c} = d.{c}" for c in cols)
            notnull = " AND ".join(f"{c} IS NOT NULL" for c in cols)
            sql = (
                f"SELECT s.row_no, d.first FROM {staged.table} s JOIN (SELECT {', '.join(cols)}, MIN(row_no) AS first "
                f"FROM {staged.table} WHERE {notnull} GROUP BY {', '.join(cols)} HAVING COUNT(*) > 1) d ON {on} "
                "WHERE s.row_no > d.first ORDER BY s.row_no"
            )
            for row_no, first in self.conn.execute(sql):
                if row_no not in staged.duplicates:
                    staged.duplicates.add(row_no)
                    log.rejected(
                        staged.sheet, row_no, "/".join(ident),
                        f"duplicate {'/'.join(ident)}: the same {staged.item.label} is already in row {first}",
                    )
        staged.rejected += len(staged.duplicates)

    def rows_without(self, staged: StagedSheet, columns: list[int]) -> set[int]:
        """Row numbers of the staged rows (not deletes) in which every one of the value ``columns`` is empty."""
        empty = " AND ".join(f"v{i} IS NULL" for i in columns) or "1"
        return {r for (r,) in self.conn.execute(f"SELECT row_no FROM {staged.table} WHERE del = 0 AND {empty}")}

    def all_rows(self, staged: StagedSheet, columns: Sequence[str] | None = None) -> Iterator[tuple[Any, ...]]:
        """Every staged ``(row_no, del, v0..vn)`` (or only ``columns`` of it), in row order, duplicates included
        (the store leaves those out itself)."""
        cols = ", ".join(columns) if columns else "*"
        return iter(self.conn.execute(f"SELECT {cols} FROM {staged.table} ORDER BY row_no"))

    def staged_rows(self, staged: StagedSheet, only: set[int] | None = None) -> Iterator[list[tuple[Any, ...]]]:
        """Batches of ``(row_no, del, v0..vn)`` in row order, duplicates left out (and only ``only``, if given)."""
        if only is not None and not only:
            return
        cur = self.conn.execute(f"SELECT * FROM {staged.table} ORDER BY row_no")
        while True:
            batch = cur.fetchmany(BATCH)
            if not batch:
                return
            if only is not None:
                batch = [r for r in batch if r[0] in only]
            elif staged.duplicates:
                batch = [r for r in batch if r[0] not in staged.duplicates]
            if batch:
                yield batch


def _is_note_row(row: list[Any]) -> bool:
    """A template's column guide: every non-empty cell is ``[MANDATORY; ...]`` or ``[optional; ...]``."""
    cells = [c.strip() for c in row if isinstance(c, str) and c.strip()]
    return bool(cells) and len(cells) == len([c for c in row if c not in (None, "")]) and all(
        c.lower().startswith(("[mandatory", "[optional")) and c.endswith("]") for c in cells)


def _cell(f: Field, raw: Any) -> Any:
    """A non-empty cell without a fast converter; the Delete column holds D (True) or nothing."""
    if f is DELETE:
        if as_text(raw).upper() != "D":
            raise Invalid(f"{as_text(raw)!r}: the Delete column holds D or nothing")
        return True
    return parse(f, raw)


def _dup_idents(staged: StagedSheet) -> list[tuple[str, ...]]:
    """The identifications duplicates are looked for by (Id only when the file has an Id column)."""
    names = {f.name for f in staged.fields}
    return [i for i in staged.item.identification if all(n in names for n in i)]


def _idents(t: ItemType) -> str:
    return " or ".join("+".join(i) for i in t.identification)
