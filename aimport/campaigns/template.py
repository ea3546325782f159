"""The OutboundCampaign template: a Campaign sheet of settings and a Customers sheet."""

from __future__ import annotations

from typing import Any

from aimport.campaigns.importer import SETTINGS
from aimport.itemtypes.catalog import CUSTOMER

SETTING_HELP = {
    "Name": "campaign name (default: the file name without extension)",
    "CopySettingsFrom": "campaign whose settings are copied (default: --campaign-template, 'Template')",
    "Script": "name of an existing script (questions agents fill in)",
    "Queue": "name of an existing queue",
    "StartDate": "YYYY-MM-DD", "EndDate": "YYYY-MM-DD; the campaign expires after it",
    "NumberOfRedials": "redials before 'Max. Calls' (default 3)",
    "RedialInterval": "seconds between redials (default 600)",
    "TimeZone": "IANA time zone, e.g. Europe/Helsinki",
}


def add_campaign_sheets(wb: Any) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    ws = wb.create_sheet("Campaign")
    ws.append(["Setting", "Value", "Meaning"])
    for s in SETTINGS:
        ws.append([s, None, SETTING_HELP.get(s, "")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    cs = wb.create_sheet("Customers")
    for col, f in enumerate(CUSTOMER.fields, start=1):
        cell = cs.cell(row=1, column=col, value=f.name)
        cell.font = Font(bold=True, color="C00000" if f.mandatory else "000000")
        note = ("MANDATORY; " if f.mandatory else "optional; ") + (f.description or f.name)
        cell.comment = Comment(note + ". Any other column is kept as customer data and exported.", "aimport")
