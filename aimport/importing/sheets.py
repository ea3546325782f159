"""Plan the sheets of a workbook: which visible sheet holds which item type, in the order they are applied."""

from __future__ import annotations

from collections.abc import Iterable

from aimport.importing.headers import HeaderError, find_header, sheet_hint
from aimport.importing.outcome import FileFailure
from aimport.importing.stagetable import Flat
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.catalog import CATALOG
from aimport.itemtypes.schema import ItemType
from aimport.readers.base import Workbook

__all__ = ["plan_sheets"]


def plan_sheets(import_type: str, wb: Workbook, log: ImportLog) -> list[tuple[ItemType, str]]:
    """Which sheet holds which item type, in the order they must be applied.

    Hidden and very hidden sheets are never imported (``sheet_names()`` leaves them out).
    """
    names = wb.sheet_names()
    if not names:
        if wb.hidden:
            raise FileFailure("NO_ROWS", f"every sheet of the workbook is hidden ({_quoted(wb.hidden)}): "
                              "hidden sheets are never imported; unhide the sheet that holds the data")
        raise FileFailure("NO_ROWS", "the workbook has no sheets")
    if import_type == "Configuration":
        for name in wb.hidden:
            hidden_type = CATALOG.config_sheet(name)
            if hidden_type is not None:
                log.warning(f"sheet {name!r} is hidden and was skipped: hidden sheets are never imported "
                            f"(unhide it to import its {hidden_type.label}s)")
            else:
                log.info(f"hidden sheet {name!r} skipped")
        found: dict[str, tuple[ItemType, str]] = {}
        for name in names:
            t = CATALOG.config_sheet(name)
            if t is None:
                other = CATALOG.not_configuration(name)
                if other:
                    hint = f"; {other.label}s import through the {other.folder} folder"
                else:  # a Skills file dropped here says so
                    raw = wb.sheet(name)
                    hint = sheet_hint(None, raw.rows(), raw.hidden_rows)
                log.warning(f"sheet {name!r} is not a configuration sheet and was skipped "
                            f"(known: {', '.join(x.sheet or '' for x in CATALOG.config_types())}){hint}")
            elif t.key in found:
                log.warning(f"sheet {name!r} was skipped: sheet {found[t.key][1]!r} already holds the {t.sheet}")
            else:
                found[t.key] = (t, name)
        if not found:
            raise FileFailure("NO_KNOWN_SHEET", "the workbook has no known configuration sheet: expected one of "
                              + ", ".join(x.sheet or "" for x in CATALOG.config_types()))
        return [found[t.key] for t in CATALOG.config_types() if t.key in found]
    t = CATALOG.for_folder(import_type)
    if t is None:
        raise FileFailure("NOT_SUPPORTED_YET", f"import type {import_type} is not supported yet")
    return [(t, _pick_sheet(t, wb, log))]


def _pick_sheet(t: ItemType, wb: Workbook, log: ImportLog) -> str:
    """The first visible sheet whose header is a header of ``t`` (one sheet per single-type file)."""
    names = wb.sheet_names()
    taken, passed, first_error = names[0], [f"{n!r} (hidden)" for n in wb.hidden], None
    if len(names) > 1:
        for name in names:
            try:
                raw = wb.sheet(name)
                find_header(t, Flat(raw.iter_blocks()), raw.hidden_rows)  # never a hidden row, nor a pivot table
            except HeaderError as exc:
                if exc.code == "NO_HEADER":  # not this type's sheet (a lookup list, notes, a chart's data)
                    passed.append(f"{name!r} (no {t.label} header)")
                    first_error = first_error or exc
                    continue
            taken = name
            break
        else:
            log.info(f"no visible sheet has a {t.label} header; sheets passed over: {', '.join(passed)}")
            raise first_error or HeaderError("NO_HEADER", f"no sheet has a {t.label} header")
        passed += [f"{n!r} (not read: one sheet is imported per file)" for n in names[names.index(taken) + 1:]]
    if passed:
        log.info(f"sheet {taken!r} taken as the {t.label} sheet; sheets passed over: {', '.join(passed)}")
    return taken


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)
