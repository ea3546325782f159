"""Shared set-up for campaign tests: a store with a script and a queue, and campaign files.

The store is the test's (``tests.helpers.store_of``): SQLite, or PostgreSQL for a test on both backends
(``pytestmark = pytest.mark.usefixtures("on_both_stores")``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.importing.run import run_import
from aimport.store.db import StoreAddress
from tests.helpers import store_of, write_openpyxl, write_text

SCRIPT_ROWS = [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"],
               ["Survey", "Q1", "Satisfied?", "Choice", "Yes;No", "Yes"], ["Survey", "Q2", "Comment", "Text", "", "No"]]


def imp(tmp_path: Path, path: Path, import_type: str, db: StoreAddress | None = None) -> ImportOutcome:
    """Import ``path`` into ``db`` (default: the test's store, :func:`tests.helpers.store_of`)."""
    n = len(list(tmp_path.glob("*.imp.log")))
    return run_import(ImportRequest(path=path, import_type=import_type, import_key=f"k{n}",
                                    store_address=db or store_of(tmp_path), work_dir=tmp_path / "w",
                                    actor="admin", log_path=tmp_path / f"{n}.imp.log"))


def with_script(tmp_path: Path, db: StoreAddress | None = None) -> None:
    assert imp(tmp_path, write_text(tmp_path / "script.txt", SCRIPT_ROWS), "Scripts", db).status == "succeeded"
    assert imp(tmp_path, write_text(tmp_path / "queue.txt", [["Name"], ["Outbound"]]), "Queues", db).status == "succeeded"


def campaign_file(path: Path, customers: int = 3, settings: dict[str, Any] | None = None, extra: bool = True) -> Path:
    header = ["External ID", "Phone 1", "Phone 2", "First Name", "Last Name"] + (["Contract"] if extra else [])
    rows: list[list[Any]] = [header]
    for i in range(customers):
        rows.append([f"C{i}", f"+35840{1000000 + i}", f"09 {5550000 + i}", f"First{i}", f"Last{i}"] + ([f"K-{i}"] if extra else []))
    sheets: dict[str, Any] = {}
    if settings is not None:
        sheets["Campaign"] = [["Setting", "Value"]] + [[k, v] for k, v in settings.items()]
    sheets["Customers"] = rows
    return write_openpyxl(path, sheets)
