"""The example files in fixtures/examples import cleanly (they are what the README suggests dropping)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aimport.importing.outcome import ImportRequest
from aimport.importing.run import run_import

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "examples"


@pytest.mark.parametrize("name,import_type,created", [
    ("skills.txt", "Skills", 3), ("presence-unicode.txt", "Presence", 2),
    ("calendars.xlsx", "Calendar", 1), ("blocked-numbers.xlsx", "BlockedNumbers", 2),
    ("Demo campaign.xlsx", "OutboundCampaign", 8),
])
def test_example_imports(tmp_path: Path, name: str, import_type: str, created: int) -> None:
    src = shutil.copy(EXAMPLES / name, tmp_path / name)
    o = run_import(ImportRequest(path=Path(src), import_type=import_type, import_key="k", store_address=tmp_path / "s.sqlite",
                                 work_dir=tmp_path / "w", actor="admin"))
    assert (o.status, o.totals.created) == ("succeeded", created), o.log_text
