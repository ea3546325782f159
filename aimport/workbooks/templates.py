"""Import templates ("Examples and Templates"): headers, a description per column, value lists.

An ``.xlsx`` template describes each column in a comment on its header cell (so the filled-in
template imports as it is); a ``.txt`` template cannot hold comments and carries a note row
under the header instead, whose cells are ``[MANDATORY; ...]`` / ``[optional; ...]``: the
importer skips such a row.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from aimport.atomicfile import replacing, write_bytes_atomic
from aimport.itemtypes.catalog import CATALOG
from aimport.itemtypes.schema import DELETE, Field, ItemType
from aimport.layout import IMPORT_TYPES

DELETE_NOTE = "optional; D deletes the object this row identifies (by Id or the identification columns)"


def describe(f: Field, t: ItemType | None = None) -> str:
    """The column guide: MANDATORY or optional first, then what the column holds."""
    if f.name == "Id":
        return "optional; internal id of an existing object: leave empty to create (ids are not portable)"
    if f is DELETE:
        return DELETE_NOTE
    if f.mandatory:
        parts = ["MANDATORY"]
    elif t is not None and f.name in t.mandatory_any:
        parts = [f"MANDATORY (at least one of {', '.join(t.mandatory_any)})"]
    else:
        parts = ["optional"]
    if f.description:
        parts.append(f.description)
    if f.kind == "enum":
        parts.append("one of: " + ", ".join(f.choices))
    elif f.kind == "list" and not f.description:
        parts.append("any of (';'-separated): " + ", ".join(f.choices))
    elif f.kind == "bool" and not f.description:
        parts.append("Yes or No")
    elif f.kind in ("date", "dates"):
        parts.append("YYYY-MM-DD or a real Excel date" if f.kind == "date" else "each YYYY-MM-DD")
    elif f.kind == "phone":
        parts.append("phone number, best typed as text (a leading 0 or + is kept)")
    elif f.kind == "int":
        parts.append(f"whole number {f.min}..{f.max}" if f.min is not None and f.max is not None else "whole number")
    if f.max_length:
        parts.append(f"at most {f.max_length} characters")
    if t is not None and any(f.name in ident for ident in t.identification if ident != ("Id",)):
        parts.append("identifies the " + t.label)
    return "; ".join(parts)


def choices(f: Field) -> tuple[str, ...]:
    """The fixed value set offered as a drop-down list, if any."""
    if f.kind == "enum":
        return f.choices
    if f.kind == "bool":
        return ("Yes", "No")
    return ()


def types_for(name: str) -> tuple[str, list[ItemType]]:
    """(file stem, item types) for a folder name, item name, Users, or Configuration."""
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

    _, types = types_for(name)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if not types:
        from aimport.campaigns.template import add_campaign_sheets

        add_campaign_sheets(wb)
    for t in types:
        ws = wb.create_sheet(t.sheet or t.key)
        for col, f in enumerate([*t.fields, DELETE], start=1):
            cell = ws.cell(row=1, column=col, value=f.name)
            cell.font = Font(bold=True, color="C00000" if f.mandatory or f.name in t.mandatory_any else "000000")
            cell.comment = Comment(describe(f, t), "aimport", width=320, height=140)
            letter = cell.column_letter
            ws.column_dimensions[letter].width = max(14, len(f.name) + 4)
            if choices(f):
                dv = DataValidation(type="list", formula1='"' + ",".join(choices(f)) + '"', allow_blank=True)
                dv.error = f"{f.name} must be one of {', '.join(choices(f))}"
                dv.errorTitle = f"{f.name}"
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}10000")
        delete_col = ws.cell(row=1, column=len(t.fields) + 1).column_letter
        dv = DataValidation(type="list", formula1='"D"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"{delete_col}2:{delete_col}10000")
        ws.freeze_panes = "A2"
    with replacing(out) as tmp:
        wb.save(tmp)
    return out


def write_txt(name: str, out: Path) -> Path:
    """UTF-8-with-BOM tab-delimited: the header row and a note row the importer skips."""
    _, types = types_for(name)
    if len(types) != 1:
        raise ValueError("--format txt holds one item type; the Configuration and OutboundCampaign templates are .xlsx")
    t = types[0]
    if t.folder is None:
        raise ValueError(f"{t.sheet} import only through the Configuration workbook, an .xlsx: use --format xlsx")
    fields = [*t.fields, DELETE]
    header = "\t".join(f.name for f in fields)
    notes = "\t".join(f"[{describe(f, t)}]" for f in fields)
    write_bytes_atomic(out, codecs.BOM_UTF8 + (header + "\r\n" + notes + "\r\n").encode("utf-8"))
    return out


def write_all(out_dir: Path) -> list[Path]:
    """The templates of the "Examples and Templates" folder: one .xlsx per drop folder (and Users) and a .txt
    per item folder (the filled examples are ``aimport.workbooks.examples.write_examples``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_xlsx(folder, out_dir / f"{folder}.xlsx") for folder in IMPORT_TYPES]
    written.append(write_xlsx("Users", out_dir / "Users (Configuration).xlsx"))
    for folder in IMPORT_TYPES:
        if folder not in ("Configuration", "OutboundCampaign"):
            written.append(write_txt(folder, out_dir / f"{folder}.txt"))
    return written
