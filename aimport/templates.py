"""Import templates ("Examples and Templates"): headers, a description per column, value lists."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from aimport.itemtypes.catalog import CATALOG
from aimport.itemtypes.schema import Field, ItemType
from aimport.layout import IMPORT_TYPES

NOTE_PREFIX = "["  # a template note row: every cell is "[...]"; the importer skips it


def describe(f: Field) -> str:
    parts = ["MANDATORY" if f.mandatory else "optional"]
    if f.description:
        parts.append(f.description)
    if f.kind in ("enum", "list") and f.choices:
        parts.append("one of: " + ", ".join(f.choices) if f.kind == "enum" else "any of: " + ", ".join(f.choices))
    if f.kind == "bool":
        parts.append("Yes or No")
    if f.kind == "date":
        parts.append("date YYYY-MM-DD")
    if f.kind == "int" and f.min is not None and f.max is not None:
        parts.append(f"whole number {f.min}..{f.max}")
    elif f.kind == "int":
        parts.append("whole number")
    if f.name == "Id":
        parts = ["optional", "internal id of an existing object; leave empty to create (ids are not portable)"]
    return "; ".join(parts)


def template_fields(t: ItemType) -> list[Field]:
    return list(t.fields)


def types_for(name: str) -> tuple[str, list[ItemType]]:
    """(file stem, item types) for a folder name, item name, or Configuration."""
    low = name.lower()
    if low == "configuration":
        return "Configuration", CATALOG.config_types()
    if low in ("outboundcampaign", "campaign", "campaigns"):
        return "OutboundCampaign", []
    try:
        t = CATALOG.resolve_name(name)
    except KeyError:
        raise ValueError(f"unknown import type {name!r}; choose one of {', '.join(IMPORT_TYPES)} or Users") from None
    return (t.folder or t.sheet or t.key), [t]


def write_xlsx(name: str, out: Path) -> Path:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    stem, types = types_for(name)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if not types:
        from aimport.campaigns.template import add_campaign_sheets

        add_campaign_sheets(wb)
    for t in types:
        ws = wb.create_sheet(t.sheet or t.key)
        for col, f in enumerate(template_fields(t), start=1):
            cell = ws.cell(row=1, column=col, value=f.name)
            cell.font = Font(bold=True, color="C00000" if f.mandatory else "000000")
            cell.comment = Comment(describe(f), "aimport", width=320, height=120)
            letter = cell.column_letter
            ws.column_dimensions[letter].width = max(14, len(f.name) + 4)
            choices = f.choices if f.kind == "enum" else (("Yes", "No") if f.kind == "bool" else ())
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                dv.error = f"{f.name} must be one of {', '.join(choices)}"
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}10000")
        delete_col = len(template_fields(t)) + 1
        cell = ws.cell(row=1, column=delete_col, value="Delete")
        cell.font = Font(bold=True)
        cell.comment = Comment("optional; D deletes the object this row identifies", "aimport")
        ws.freeze_panes = "A2"
    tmp = out.with_name(f".{out.name}.tmp")
    wb.save(tmp)
    os.replace(tmp, out)
    return out


def write_txt(name: str, out: Path) -> Path:
    """UTF-8-with-BOM tab-delimited: the header row and a note row the importer skips."""
    stem, types = types_for(name)
    if len(types) != 1:
        raise ValueError("--format txt holds one item type; the Configuration and campaign templates are .xlsx")
    fields = template_fields(types[0])
    header = "\t".join([f.name for f in fields] + ["Delete"])
    notes = "\t".join([f"[{describe(f)}]" for f in fields] + ["[optional; D deletes]"])
    out.write_bytes(codecs.BOM_UTF8 + (header + "\r\n" + notes + "\r\n").encode("utf-8"))
    return out


def write_all(out_dir: Path) -> list[Path]:
    """The "Examples and Templates" folder: one .xlsx per import type, plus Users as .txt."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for folder in IMPORT_TYPES:
        written.append(write_xlsx(folder, out_dir / f"{folder}.xlsx"))
    for folder in IMPORT_TYPES:
        if folder not in ("Configuration", "OutboundCampaign"):
            written.append(write_txt(folder, out_dir / f"{folder}.txt"))
    return written
