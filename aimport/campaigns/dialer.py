"""SIMULATION ONLY: a demo dialer that records random call results for Active campaigns.

It lets the README's run command show the whole loop without a contact
center. It ignores the redial interval so that a demo completes in minutes.
"""

from __future__ import annotations

import logging
import random

import anyio

from aimport.campaigns import model, results
from aimport.campaigns.model import CampaignError, Question
from aimport.store import customers
from aimport.store.db import StoreAddress, StoreUnavailable
from aimport.store.schema import open_store

logger = logging.getLogger(__name__)

__all__ = ["one_call", "run_dialer", "simulated_answers"]

WEIGHTS = {"Successful": 45, "No answer": 20, "Busy": 10, "Refusal": 10, "Answering machine": 5, "Wrong number": 10}
AGENTS = ("demo-agent-1", "demo-agent-2", "demo-agent-3")


def simulated_answers(rng: random.Random, questions: list[Question]) -> dict[str, str]:
    out = {}
    for q in questions:
        if q.type == "Choice" and q.options:
            out[q.id] = rng.choice(q.options)
        elif q.type == "Number":
            out[q.id] = str(rng.randint(1, 10))
        elif q.type == "Date":
            out[q.id] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        else:
            out[q.id] = rng.choice(["fine", "call back later", "interested", "no comment"])
    return out


def one_call(store_address: StoreAddress, rng: random.Random) -> str | None:
    """Record one simulated call; returns a description, or None when nothing is open."""
    with open_store(store_address) as db:
        pick = customers.demo_call(db)
        if pick is None:
            return None
        result = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        answers = simulated_answers(rng, model.script_questions(db, pick.script)) if result == "Successful" else {}
        try:
            results.record(db, pick.campaign, pick.external_id, result, classification="simulated",
                           agent=rng.choice(AGENTS), answers=answers)
        except (CampaignError, StoreUnavailable):  # completed meanwhile, or the store is busy: the next call
            return None
        return f"{pick.campaign}/{pick.external_id}: {result}"


async def run_dialer(store_address: StoreAddress, calls_per_s: float) -> None:
    """Record a simulated call about every ``1 / calls_per_s`` seconds until cancelled."""
    rate = max(0.1, float(calls_per_s))
    logger.warning(f"SIMULATION: the demo dialer records random call results ({rate:g}/s) for Active campaigns; "
                "do not use --demo-dialer with a real contact center")
    rng = random.Random()
    while True:
        try:
            await anyio.to_thread.run_sync(one_call, store_address, rng)
        except Exception as exc:  # noqa: BLE001 - a simulation hiccup must never stop the service
            logger.warning(f"SIMULATION: demo dialer call skipped: {type(exc).__name__}: {exc}")
            await anyio.sleep(1.0)
        await anyio.sleep(1.0 / rate)
