"""Shared set-up for campaign tests: a store with a script and a queue, and campaign files.

The store is the test's ``store`` fixture (tests/conftest.py): SQLite, or each backend in turn for a test marked
``both_stores``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import StoreUnderTest, write_openpyxl, write_text

SCRIPT_ROWS = [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"],
               ["Survey", "Q1", "Satisfied?", "Choice", "Yes;No", "Yes"], ["Survey", "Q2", "Comment", "Text", "", "No"]]


def with_script(store: StoreUnderTest) -> None:
    """Import the script ``Survey`` and the queue ``Outbound`` that a campaign file names."""
    assert store.imp(write_text(store.folder / "script.txt", SCRIPT_ROWS), "Scripts").status == "succeeded"
    assert store.imp(write_text(store.folder / "queue.txt", [["Name"], ["Outbound"]]), "Queues").status == "succeeded"


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
