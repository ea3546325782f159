"""Workbooks written part by part, as Excel stores them, for what openpyxl and xlsxwriter cannot write.

Number formats on number cells, hidden rows and outlines, pivot table parts, a workbook part that is not
``xl/workbook.xml``, macro, dialog and chart sheets, and damaged zip members (:func:`corrupt`).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aimport.readers.textscan import column_name

__all__ = ["Cell", "Sheet", "corrupt", "row_xml", "rows_xml", "styles_xml", "write_book"]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
KINDS = {  # sheet kind -> (folder, relationship type, content type, root element)
    "worksheet": ("worksheets", "worksheet", "spreadsheetml.worksheet+xml", "worksheet"),
    "macrosheet": ("macrosheets", "xlMacrosheet", "ms-excel.macrosheet+xml", "xm:macrosheet"),
    "dialogsheet": ("dialogsheets", "dialogsheet", "spreadsheetml.dialogsheet+xml", "dialogsheet"),
    "chartsheet": ("chartsheets", "chartsheet", "spreadsheetml.chartsheet+xml", "chartsheet"),
}


@dataclass
class Cell:
    """A cell with a style index (``s``): a number or a text."""

    value: Any
    s: int


@dataclass
class Sheet:
    name: str
    data: str = ""  # the inside of <sheetData> (see rows_xml)
    kind: str = "worksheet"
    state: str = "visible"
    before: str = ""  # XML before <sheetData> (sheetPr, sheetFormatPr, cols)
    after: str = ""  # XML after </sheetData> (autoFilter ...)
    parts: dict[str, str] = field(default_factory=dict)  # extra parts related to this sheet: type -> XML


def _cell(ref: str, value: Any) -> str:
    s = ""
    if isinstance(value, Cell):
        s, value = f' s="{value.s}"', value.value
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>' if s else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


col_name = column_name  # A, B, ... Z, AA: the readers' own rule


def row_xml(r: int, values: Sequence[Any], attrs: str = "") -> str:
    """One ``<row>`` (1-based ``r``) with ``attrs`` such as ``hidden="1"``."""
    cells = "".join(_cell(f"{col_name(i)}{r}", v) for i, v in enumerate(values))
    return f'<row r="{r}"{" " + attrs if attrs else ""}>{cells}</row>'


def rows_xml(rows: Sequence[Sequence[Any]], attrs: dict[int, str] | None = None, start: int = 1) -> str:
    """Rows from row ``start`` on; ``attrs``: row number -> extra attributes."""
    attrs = attrs or {}
    return "".join(row_xml(start + i, row, attrs.get(start + i, "")) for i, row in enumerate(rows))


def styles_xml(formats: Sequence[int | str]) -> str:
    """A styles part whose cellXfs are General (xf 0), then one xf per entry of ``formats``: a builtin id or a
    custom format code (given ids from 164 on)."""
    custom: dict[str, int] = {}
    ids = []
    for f in formats:
        if isinstance(f, str):
            custom.setdefault(f, 164 + len(custom))
            ids.append(custom[f])
        else:
            ids.append(f)
    num_fmts = "".join(f"<numFmt numFmtId=\"{i}\" formatCode={quoteattr(code)}/>" for code, i in custom.items())
    xfs = "".join(f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
                  for i in ids)
    return (f'{XML}<styleSheet xmlns="{MAIN_NS}"><numFmts count="{len(custom)}">{num_fmts}</numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(ids) + 1}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>{xfs}'
            '</cellXfs></styleSheet>')


def _sheet_part(sheet: Sheet) -> str:
    if sheet.kind == "chartsheet":
        return f'{XML}<chartsheet xmlns="{MAIN_NS}" xmlns:r="{R_NS}"><sheetViews><sheetView workbookViewId="0"/>' \
               '</sheetViews></chartsheet>'
    root = KINDS[sheet.kind][3]
    ns = f'xmlns="{MAIN_NS}"' if ":" not in root else \
        f'xmlns="{MAIN_NS}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"'
    return (f'{XML}<{root} {ns} xmlns:r="{R_NS}">{sheet.before}<sheetData>{sheet.data}</sheetData>'
            f'{sheet.after}</{root}>')


def _rels(rels: Sequence[tuple[str, str]]) -> str:
    body = "".join(f'<Relationship Id="rId{i + 1}" Type="{kind}" Target="{target}"/>'
                   for i, (kind, target) in enumerate(rels))
    return f'{XML}<Relationships xmlns="{PKG_NS}">{body}</Relationships>'


def write_book(path: Path, sheets: Sequence[Sheet], styles: str | None = None, workbook_part: str = "xl/workbook.xml",
               extra: dict[str, str | bytes] | None = None, date1904: bool = False) -> Path:
    """An .xlsx (or .xlsm) of ``sheets``, every part written as Excel writes it."""
    base = posixpath.dirname(workbook_part)
    parts: dict[str, str | bytes] = {}
    overrides = [(workbook_part, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")]
    book_rels: list[tuple[str, str]] = []
    sheet_els = []
    counts: dict[str, int] = {}
    for n, sheet in enumerate(sheets, 1):
        folder, rel, ctype, _ = KINDS[sheet.kind]
        counts[sheet.kind] = counts.get(sheet.kind, 0) + 1
        member = posixpath.join(base, folder, f"sheet{counts[sheet.kind]}.xml")
        parts[member] = _sheet_part(sheet)
        rel_base = "http://schemas.microsoft.com/office/2006/relationships/" if rel == "xlMacrosheet" else R_NS + "/"
        book_rels.append((rel_base + rel, posixpath.relpath(member, base or ".")))
        overrides.append((member, "application/vnd." + ("openxmlformats-officedocument." if "ms-excel" not in ctype
                                                          else "") + ctype))
        state = f' state="{sheet.state}"' if sheet.state != "visible" else ""
        sheet_els.append(f'<sheet name={quoteattr(sheet.name)} sheetId="{n}"{state} r:id="rId{n}"/>')
        sheet_rels = []
        for i, (kind, xml) in enumerate(sheet.parts.items(), 1):
            target = f"{kind}{n}_{i}.xml"
            parts[posixpath.join(base, kind + "s", target)] = xml
            sheet_rels.append((f"{R_NS}/{kind}", f"../{kind}s/{target}"))
        if sheet_rels:
            d, f = posixpath.split(member)
            parts[posixpath.join(d, "_rels", f + ".rels")] = _rels(sheet_rels)
    if styles is not None:
        parts[posixpath.join(base, "styles.xml")] = styles
        book_rels.append((f"{R_NS}/styles", "styles.xml"))
        overrides.append((posixpath.join(base, "styles.xml"),
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"))
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts[workbook_part] = (f'{XML}<workbook xmlns="{MAIN_NS}" xmlns:r="{R_NS}">{pr}<sheets>{"".join(sheet_els)}'
                            "</sheets></workbook>")
    d, f = posixpath.split(workbook_part)
    parts[posixpath.join(d, "_rels", f + ".rels")] = _rels(book_rels)
    types = "".join(f'<Override PartName="/{name}" ContentType="{ctype}"/>' for name, ctype in overrides)
    content_types = (f'{XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     f'<Default Extension="xml" ContentType="application/xml"/>{types}</Types>')
    office = f"{R_NS}/officeDocument"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", _rels([(office, workbook_part)]))
        for name, data in {**parts, **(extra or {})}.items():
            zf.writestr(name, data)
    return path


def corrupt(path: Path, member: str, how: str = "flip") -> Path:
    """Damage ``member``'s compressed bytes in place: ``flip`` bytes in its middle (a bad CRC or a broken deflate
    stream), ``zero`` its last half, or ``cut`` its deflate stream in two (the zip says it is half as long)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    head = info.header_offset
    name_len = int.from_bytes(data[head + 26:head + 28], "little")
    extra_len = int.from_bytes(data[head + 28:head + 30], "little")
    start = head + 30 + name_len + extra_len
    size = info.compress_size
    if how == "flip":
        for i in range(start + size // 2, start + size // 2 + 4):
            data[i] ^= 0x55
    elif how == "zero":
        data[start + size // 2:start + size] = bytes(size - size // 2)
    else:  # the compressed size, in the local header and in the central directory, halved
        half = (size // 2).to_bytes(4, "little")
        data[head + 18:head + 22] = half
        central = data.find(b"PK\x01\x02")
        while central >= 0:
            n = int.from_bytes(data[central + 28:central + 30], "little")
            if data[central + 46:central + 46 + n] == member.encode():
                data[central + 20:central + 24] = half
                break
            central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path
