"""Call results: the call-result table, redials ("Max. Calls"), next numbers, script answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aimport.campaigns import model
from aimport.campaigns.model import ACTIVE, HANDLED, PASSIVE, CampaignError, Question
from aimport.itemtypes.dates import parse_date
from aimport.itemtypes.invalid import Invalid
from aimport.store import calls, customers
from aimport.store import campaigns as stored
from aimport.store.db import Db, with_retries

__all__ = ["ALL_RESULTS", "HANDLED_RESULTS", "MAX_CALLS", "NEXT_NUMBER_RESULTS", "REDIAL_RESULTS", "Recorded",
           "canonical_result", "check_answers", "check_cell", "close", "record"]

HANDLED_RESULTS = ("Successful", "Refusal", "Hang up", "Wrong person", "Auto-attendant", "Agent rejected")
REDIAL_RESULTS = ("Busy", "No answer", "Answering machine", "Redial", "Instant redial")
NEXT_NUMBER_RESULTS = ("Fax", "Modem", "Unknown", "Wrong number", "Bad address")
ALL_RESULTS = HANDLED_RESULTS + REDIAL_RESULTS + NEXT_NUMBER_RESULTS
MAX_CALLS = "Max. Calls"
CELL_LIMIT = 32767  # characters in one spreadsheet cell (Excel's limit; the export writes .xlsx)


@dataclass
class Recorded:
    campaign: str
    external_id: str
    customer_result: str | None  # None: still to be called
    number_of_calls: int
    campaign_status: str


def canonical_result(text: str) -> str:
    for r in ALL_RESULTS:
        if r.lower() == text.strip().lower():
            return r
    raise CampaignError(f"unknown call result {text!r}; use one of: {', '.join(ALL_RESULTS)}")


def check_cell(what: str, text: str | None) -> None:
    """Refuse text the export could not hold in one cell (never cut it at export)."""
    if text is not None and len(text) > CELL_LIMIT:
        raise CampaignError(f"{what} is {len(text):,} characters long; an exported cell holds at most "
                            f"{CELL_LIMIT:,}")


def check_answers(questions: list[Question], answers: dict[str, str], successful: bool,
                  date_order: str = "auto") -> dict[str, str]:
    """Validate answers against the script; returns them keyed by question id (dates as YYYY-MM-DD)."""
    by_id = {q.id.lower(): q for q in questions}
    out: dict[str, str] = {}
    for key, value in answers.items():
        check_cell(f"the answer to {key}", value)
        q = by_id.get(key.strip().lower())
        if q is None:
            known = ", ".join(q.id for q in questions) or "none (the campaign has no script)"
            raise CampaignError(f"unknown question {key!r}; the script's questions are: {known}")
        value = value.strip()
        if q.type == "Choice" and value and value.lower() not in [o.lower() for o in q.options]:
            raise CampaignError(f"answer {value!r} to {q.id} is not one of {', '.join(q.options)}")
        if q.type == "Number" and value:
            try:
                float(value)
            except ValueError:
                raise CampaignError(f"answer {value!r} to {q.id} is not a number") from None
        if q.type == "Date" and value:
            try:
                value = parse_date(value, date_order)  # the importer's date rule, stored as YYYY-MM-DD
            except Invalid as exc:
                raise CampaignError(f"answer to {q.id}: {exc}") from None
        if q.type == "Choice" and value:
            value = next(o for o in q.options if o.lower() == value.lower())
        out[q.id] = value
    if successful:
        missing = [q.id for q in questions if q.mandatory and not out.get(q.id)]
        if missing:
            raise CampaignError(f"mandatory question(s) {', '.join(missing)} need an answer for a successful call")
    return out


def record(db: Db, campaign: str, external_id: str, result: str, *,
           classification: str | None = None, agent: str | None = None, answers: dict[str, str] | None = None,
           at: dt.datetime | None = None, date_order: str = "auto") -> Recorded:
    """Record one call attempt in its own transaction and apply the call-result table.

    The campaign's row is held for the transaction (PostgreSQL), so the calls of one campaign, its close
    and its completion take turns; a transaction the database gives up is run again.
    """
    call_result = canonical_result(result)
    check_cell("--agent", agent)
    check_cell("--classification", classification)
    at = at or dt.datetime.now(dt.UTC)
    return with_retries(db, lambda: _record(db, campaign, external_id, call_result, classification, agent,
                                            answers or {}, at, date_order))


def _record(db: Db, campaign: str, external_id: str, call_result: str, classification: str | None,
            agent: str | None, answers: dict[str, str], at: dt.datetime, date_order: str) -> Recorded:
    db.begin_write()
    try:
        c = model.require(db, campaign, lock=True)
        if c.status == PASSIVE:
            raise CampaignError(f"campaign {campaign!r} is Passive (it starts on {c.start_date or '?'}): "
                                "no calls are recorded yet")
        if c.status != ACTIVE:
            raise CampaignError(f"campaign {campaign!r} is {c.status}: no more calls are recorded")
        if model.ended(c):
            raise CampaignError(f"campaign {campaign!r} ended on {c.end_date}: no more calls are recorded")
        customer = calls.customer_for_call(db, c.id, external_id)
        if customer is None:
            raise CampaignError(f"campaign {campaign!r} has no customer with External ID {external_id!r}")
        if customer.result is not None:
            raise CampaignError(f"customer {external_id!r} is already finished ({customer.result})")
        checked = check_answers(model.script_questions(db, c.script), answers, call_result == "Successful", date_order)
        number_of_calls = customer.number_of_calls + 1
        next_phone, phones = customer.next_phone, customer.phones
        phone = phones[next_phone - 1] if 0 < next_phone <= 3 else None
        new_result: str | None = None
        next_call_at: str | None = None
        if call_result in HANDLED_RESULTS:
            new_result = "Handled"
        elif call_result in REDIAL_RESULTS:
            if number_of_calls >= 1 + c.number_of_redials:
                new_result = MAX_CALLS
            else:
                delay = 0 if call_result == "Instant redial" else c.redial_interval_s
                next_call_at = (at + dt.timedelta(seconds=delay)).isoformat(timespec="seconds")
        else:
            today = dt.date.today()
            later = [i for i in range(next_phone + 1, 4)
                     if phones[i - 1] and not customers.is_blocked(db, str(phones[i - 1]), today)]
            if later:
                next_phone = later[0]
            else:
                new_result = "Handled"
        calls.record_call(db, calls.RecordedCall(
            customer.id, at.isoformat(timespec="seconds"), phone, call_result, classification, agent, new_result,
            number_of_calls, next_phone, next_call_at, checked))
        status = c.status
        if not customers.anyone_left(db, c.id):
            stored.set_status(db, c.id, HANDLED, "every customer handled")
            status = HANDLED
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return Recorded(campaign, external_id, new_result, number_of_calls, status)


def close(db: Db, campaign: str) -> model.Campaign:
    """End a campaign early: it becomes Handled (reason: closed) and is exported like any other."""

    def run() -> None:
        db.begin_write()
        try:
            c = model.require(db, campaign, lock=True)
            if c.status in model.COMPLETE:
                raise CampaignError(f"campaign {campaign!r} is already {c.status}")
            stored.set_status(db, c.id, HANDLED, "closed")
            db.commit()
        except BaseException:
            db.rollback()
            raise

    with_retries(db, run)
    return model.require(db, campaign)
