"""SIMULATION ONLY: a demo dialer that records random call results for Active campaigns.

It lets the README's run command show the whole loop without a contact
center. It ignores the redial interval so that a demo completes in minutes.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import anyio

from aimport import servicelog
from aimport.campaigns import model, results
from aimport.campaigns.model import ACTIVE, CampaignError
from aimport.store import system as store

WEIGHTS = {"Successful": 45, "No answer": 20, "Busy": 10, "Refusal": 10, "Answering machine": 5, "Wrong number": 10}
AGENTS = ("demo-agent-1", "demo-agent-2", "demo-agent-3")


def simulated_answers(rng: random.Random, questions: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for q in questions:
        if q["type"] == "Choice" and q["options"]:
            out[q["id"]] = rng.choice(q["options"])
        elif q["type"] == "Number":
            out[q["id"]] = str(rng.randint(1, 10))
        elif q["type"] == "Date":
            out[q["id"]] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        else:
            out[q["id"]] = rng.choice(["fine", "call back later", "interested", "no comment"])
    return out


def one_call(system_db: Path, rng: random.Random) -> str | None:
    """Record one simulated call; returns a description, or None when nothing is open."""
    conn = store.open_store(system_db)
    try:
        model.ensure_schema(conn)
        row = conn.execute(
            "SELECT c.name, cu.external_id, c.script FROM customers cu JOIN campaigns c ON c.id = cu.campaign_id "
            "WHERE c.status = ? AND cu.result IS NULL ORDER BY cu.number_of_calls, RANDOM() LIMIT 1", (ACTIVE,)).fetchone()
        if row is None:
            return None
        name, ext, script = row
        result = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        answers = simulated_answers(rng, model.script_questions(conn, script)) if result == "Successful" else {}
        try:
            results.record(conn, name, ext, result, classification="simulated", agent=rng.choice(AGENTS), answers=answers)
        except (CampaignError, sqlite3.OperationalError):
            return None
        return f"{name}/{ext}: {result}"
    finally:
        conn.close()


async def run_dialer(system_db: Path, calls_per_s: float) -> None:
    """Record a simulated call about every ``1 / calls_per_s`` seconds until cancelled."""
    log = servicelog.get()
    rate = max(0.1, float(calls_per_s))
    log.warning(f"SIMULATION: the demo dialer records random call results ({rate:g}/s) for Active campaigns; "
                "do not use --demo-dialer with a real contact center")
    rng = random.Random()
    while True:
        try:
            await anyio.to_thread.run_sync(one_call, system_db, rng)
        except Exception as exc:  # noqa: BLE001 - a simulation hiccup must never stop the service
            log.warning(f"SIMULATION: demo dialer call skipped: {type(exc).__name__}: {exc}")
            await anyio.sleep(1.0)
        await anyio.sleep(1.0 / rate)
