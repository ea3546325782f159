"""The end of one file's import, in the order the service guarantees: the ``.result`` is written, the claim
record removed (once), the outcome recorded in the audit row, and only then is the slot given back; the
``finished`` event follows. The same order holds when archiving fails at first and is retried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from aimport import faults
from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.importing.run import run_import
from aimport.service.importjob import claim_and_import
from aimport.service.jobcontext import JobContext
from aimport.service.slot import Slot
from aimport.service.storesetup import prepare_store
from aimport.settings import Settings
from aimport.store.audit import Audit, now_iso
from tests.helpers import write_text


class RecordingSlot(Slot):
    def __init__(self, limiter: anyio.CapacityLimiter, order: list[str]) -> None:
        super().__init__(limiter)
        self.order = order

    def release(self) -> None:
        if self._held:
            self.order.append("slot given back")
        super().release()


def _import_one(tmp_path: Path) -> list[str]:
    settings = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin")
    lay = settings.layout
    lay.ensure()
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    prepare_store(settings)
    f = write_text(lay.type_dir("Skills") / "s.txt", [["Name"], ["Sales"]])
    history = lay.history_dir("Skills")
    order: list[str] = []

    async def runner(req: ImportRequest) -> ImportOutcome:
        return await anyio.to_thread.run_sync(run_import, req, None)

    async def go() -> None:
        async with Audit(settings.audit_db) as audit:
            ctx = JobContext(settings, lay, audit, "u", anyio.CapacityLimiter(1), runner=runner)
            finish_import, event, try_event = audit.finish_import, audit.event, audit.try_event
            forget = ctx.claims.forget

            async def recording_finish(*args: Any, **kwargs: Any) -> None:
                assert list(history.glob("*.result"))
                await finish_import(*args, **kwargs)
                order.append("outcome recorded")

            async def recording_event(kind: str, *args: Any, **kwargs: Any) -> None:
                await event(kind, *args, **kwargs)
                if kind in ("finished", "failed"):
                    order.append(f"{kind} event")

            async def recording_try_event(kind: str, *args: Any, **kwargs: Any) -> None:
                await try_event(kind, *args, **kwargs)
                order.append(f"{kind} event")

            def recording_forget(ident: Any) -> None:
                order.append(".result written" if list(history.glob("*.result")) else "no .result yet")
                order.append("claim forgotten")
                forget(ident)

            audit.finish_import = recording_finish  # type: ignore[method-assign]
            audit.event = recording_event  # type: ignore[method-assign]
            audit.try_event = recording_try_event  # type: ignore[method-assign]
            ctx.claims.forget = recording_forget  # type: ignore[method-assign]
            async with RecordingSlot(ctx.limiter, order) as slot:
                await claim_and_import(ctx, f, "Skills", now_iso(), slot)
                assert ctx.limiter.borrowed_tokens == 0  # given back before the import's task ended
                assert not ctx.in_flight

    anyio.run(go)
    assert not list((settings.state_dir / "claims").glob("*.claim"))
    return order


def test_archive_then_record_then_slot_then_finished_event(tmp_path: Path) -> None:
    assert _import_one(tmp_path) == [".result written", "claim forgotten", "outcome recorded", "slot given back",
                                     "finished event"]


def test_the_order_holds_when_archiving_fails_and_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMPORT_FAULT_OSERROR", "side_files:1")
    monkeypatch.setattr(faults, "_passes", {})
    assert _import_one(tmp_path) == ["archive_failed event", ".result written", "claim forgotten", "outcome recorded",
                                     "slot given back", "finished event"]
