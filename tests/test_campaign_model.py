"""The call-result table, the redial limit, next numbers and script answers."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aimport.campaigns import model, results
from aimport.campaigns.model import CampaignError
from aimport.store.db import Db
from tests.campaign_helpers import campaign_file, with_script
from tests.helpers import StoreUnderTest, at_once, write_text

pytestmark = pytest.mark.both_stores


@pytest.fixture
def conn(store: StoreUnderTest, tmp_path: Path) -> Iterator[Db]:
    with_script(store)
    o = store.imp(campaign_file(tmp_path / "Spring.xlsx", 3, {"Script": "Survey", "Queue": "Outbound", "NumberOfRedials": 2}), "OutboundCampaign")
    assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""
    with store.open() as db:
        yield db


def test_handled_redial_and_max_calls(conn: Db) -> None:
    r = results.record(conn, "Spring", "C0", "Successful", agent="ann", answers={"Q1": "yes", "q2": "nice"})
    assert (r.customer_result, r.number_of_calls) == ("Handled", 1)
    for n in (1, 2):
        r = results.record(conn, "Spring", "C1", "No answer")
        assert (r.customer_result, r.number_of_calls) == (None, n)
    r = results.record(conn, "Spring", "C1", "Busy")
    assert (r.customer_result, r.number_of_calls) == ("Max. Calls", 3)
    with pytest.raises(CampaignError, match="already finished"):
        results.record(conn, "Spring", "C1", "Busy")
    assert conn.execute("SELECT answer FROM answers WHERE question_id = 'Q1'").fetchall() == [("Yes",)]


def test_next_number_then_handled_and_campaign_completes(conn: Db) -> None:
    results.record(conn, "Spring", "C0", "Refusal")
    results.record(conn, "Spring", "C1", "Hang up")
    r = results.record(conn, "Spring", "C2", "Wrong number")
    assert r.customer_result is None
    assert conn.execute("SELECT next_phone FROM customers WHERE external_id = 'C2'").fetchone() == (2,)
    r = results.record(conn, "Spring", "C2", "Fax")
    assert (r.customer_result, r.campaign_status) == ("Handled", "Handled")
    assert model.require(conn, "Spring").completion_reason == "every customer handled"
    with pytest.raises(CampaignError, match="is Handled"):
        results.record(conn, "Spring", "C2", "Busy")


def test_answers_validated_against_script(conn: Db) -> None:
    with pytest.raises(CampaignError, match="mandatory question"):
        results.record(conn, "Spring", "C0", "Successful", answers={"Q2": "x"})
    with pytest.raises(CampaignError, match="not one of Yes, No"):
        results.record(conn, "Spring", "C0", "Successful", answers={"Q1": "Maybe"})
    with pytest.raises(CampaignError, match="unknown question 'Q9'"):
        results.record(conn, "Spring", "C0", "No answer", answers={"Q9": "x"})
    with pytest.raises(CampaignError, match="unknown call result"):
        results.record(conn, "Spring", "C0", "Exploded")
    assert conn.execute("SELECT SUM(number_of_calls) FROM customers").fetchone() == (0,)


def test_close_ends_early(conn: Db) -> None:
    c = results.close(conn, "Spring")
    assert (c.status, c.completion_reason) == ("Handled", "closed")
    with pytest.raises(CampaignError, match="already Handled"):
        results.close(conn, "Spring")


def test_redial_times_attempts_and_blocked_next_number(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    store.imp(campaign_file(tmp_path / "Calls.xlsx", 3, {"RedialInterval": 120}), "OutboundCampaign")
    conn = store.open()
    at = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)
    results.record(conn, "Calls", "C0", "No answer", at=at)
    results.record(conn, "Calls", "C1", "Instant redial", at=at)
    assert conn.execute("SELECT external_id, next_call_at FROM customers WHERE external_id IN ('C0', 'C1') ORDER BY id").fetchall() == [
        ("C0", "2030-05-01T12:02:00+00:00"), ("C1", "2030-05-01T12:00:00+00:00")]
    assert store.imp(write_text(tmp_path / "b.txt", [["Number"], ["09 5550002"]]), "BlockedNumbers").status == "succeeded"
    r = results.record(conn, "Calls", "C2", "Fax", agent="bo", classification="x")
    assert r.customer_result == "Handled"  # Phone2 is blocked and there is no Phone3
    r = results.record(conn, "Calls", "C1", "Modem")
    assert (r.customer_result, conn.execute("SELECT next_phone FROM customers WHERE external_id = 'C1'").fetchone()) == (None, (2,))
    attempts = conn.execute("SELECT cu.external_id, a.phone, a.call_result, a.agent FROM call_attempts a "
                            "JOIN customers cu ON cu.id = a.customer_id ORDER BY a.id").fetchall()
    assert attempts == [("C0", "+358401000000", "No answer", None), ("C1", "+358401000001", "Instant redial", None),
                        ("C2", "+358401000002", "Fax", "bo"), ("C1", "+358401000001", "Modem", None)]


def test_zero_redials_means_one_call(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(campaign_file(tmp_path / "Once.xlsx", 1, {"NumberOfRedials": 0}), "OutboundCampaign")
    conn = store.open()
    r = results.record(conn, "Once", "C0", "Answering machine")
    assert (r.customer_result, r.campaign_status) == ("Max. Calls", "Handled")


def test_calls_recorded_at_once_from_several_connections_count_every_call(store: StoreUnderTest, conn: Db, tmp_path: Path) -> None:
    """Agents record results for one campaign at the same moment (each its own connection): no call is lost, and
    the campaign completes once its last customer is handled (PostgreSQL: the campaign's row is held per call)."""
    store.imp(campaign_file(tmp_path / "Busy.xlsx", 6, {"NumberOfRedials": 9}), "OutboundCampaign")
    start = threading.Barrier(3)

    def agent(k: int) -> None:
        with store.open() as db:
            start.wait(30)
            for i in range(6):
                results.record(db, "Busy", f"C{i}", "No answer", agent=f"a{k}")
            start.wait(60)  # every agent's calls are in before anyone finishes a customer
            results.record(db, "Busy", f"C{k}", "Refusal")
            results.record(db, "Busy", f"C{k + 3}", "Refusal")

    at_once(agent, 3)
    busy = model.require(conn, "Busy")
    assert conn.execute("SELECT SUM(number_of_calls), COUNT(*) FROM customers WHERE campaign_id = ?", (busy.id,)).fetchone() == (24, 6)
    assert conn.execute("SELECT COUNT(*) FROM call_attempts a JOIN customers cu ON cu.id = a.customer_id "
                        "WHERE cu.campaign_id = ?", (busy.id,)).fetchone() == (24,)
    assert (busy.status, busy.completion_reason) == ("Handled", "every customer handled")
