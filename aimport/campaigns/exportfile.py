"""The campaign export: one row per customer, call outcome, and one column per script question."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aimport.campaigns import model
from aimport.campaigns.model import Question
from aimport.itemtypes.catalog import CUSTOMER
from aimport.itemtypes.schema import norm_header
from aimport.layout import EXPORT, MISSING, Layout
from aimport.store import calls
from aimport.store.db import Db
from aimport.workbooks.sheetwriter import SheetWriter

__all__ = ["BASE", "OUTCOME", "PHONE_COLUMNS", "export_folder_problem", "headers", "rows", "safe_name", "write_export"]

BASE = [f.name for f in CUSTOMER.fields]
OUTCOME = ["Result", "Call Result", "Call Classification", "Number of Calls", "Agent", "Date and Time"]
PHONE_COLUMNS = frozenset(i for i, f in enumerate(CUSTOMER.fields) if f.kind == "phone")  # Text cells, as stored
RESERVED = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


MAX_NAME_BYTES = 180  # + stamp, " (n)", ".xlsx" and the temp prefix/suffix stays under NAME_MAX (255 bytes)


def safe_name(name: str) -> str:
    """A campaign name usable as a file name inside Export/ (no separators, no ``..``, no reserved chars)."""
    cleaned = RESERVED.sub("_", name).strip().strip(".")
    cleaned = cleaned.replace("..", "_")
    encoded = cleaned.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        cleaned = encoded[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(" .")
    return cleaned or "campaign"


def export_folder_problem(folder: Path) -> str | None:
    """Why the service's ``ROOT/SERVER_UNIT/Automatic/Export`` must not be written now (a link, a file, a
    way out of the root); None for a usable one and for any folder that is not an Export/ of a layout."""
    if folder.name != EXPORT or folder.parent.name != "Automatic" or len(folder.parents) < 3:
        return None
    problem = Layout(folder.parents[2], "", "").folder_problem(folder)
    return problem if problem != MISSING else None


def headers(c: model.Campaign, questions: list[Question]) -> list[str]:
    """Customer columns, extra columns, outcome, one column per question; an extra column whose name
    clashes with an outcome or question column (a re-imported export) gets `` (customer data)`` appended."""
    fixed = BASE + OUTCOME + [q.id for q in questions]
    taken = {norm_header(h) for h in fixed}
    extra = [f"{x} (customer data)" if norm_header(x) in taken else x for x in c.extra_columns]
    return BASE + extra + OUTCOME + [q.id for q in questions]


def rows(db: Db, c: model.Campaign, questions: list[Question]) -> Iterator[list[Any]]:
    """One row per customer, in the order of :func:`headers`."""
    qids = [q.id for q in questions]
    for r in calls.export_rows(db, c.id):
        result = r.result or ("Not called" if not r.number_of_calls else "Open")
        yield (list(r.customer) + [r.data.get(k) for k in c.extra_columns]
               + [result, r.call_result, r.classification, r.number_of_calls, r.agent, r.called_at]
               + [r.answers.get(q) for q in qids])


def write_export(db: Db, c: model.Campaign, out: Path, before_rename: Callable[[], None] | None = None) -> int:
    """Write the export to a temp name and rename it to ``out``, durably (:func:`aimport.atomicfile.finish`: the
    temp file, ``before_rename``, the rename, the folder); returns customer rows written."""
    problem = export_folder_problem(out.parent)
    if problem:
        raise NotADirectoryError(f"the folder {out.parent} {problem}; the export waits until it is a real folder again")
    questions = model.script_questions(db, c.script)
    writer = SheetWriter(out)
    try:
        n = writer.sheet("Customers", headers(c, questions), rows(db, c, questions), PHONE_COLUMNS)
        summary = [["Campaign", c.name], ["Status", c.status], ["Completed", c.completed_at or ""],
                   ["Reason", c.completion_reason or ""], ["Script", c.script or ""], ["Queue", c.queue or ""]]
        writer.sheet("Campaign", ["Setting", "Value"], summary)
        writer.close(before_rename)
    except BaseException:
        writer.abort()
        raise
    return n
