"""The call-result table, the redial limit, next numbers and script answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimport import store
from aimport.campaigns import model, results
from aimport.campaigns.model import CampaignError
from tests.campaign_helpers import campaign_file, imp, with_script


@pytest.fixture
def conn(tmp_path: Path):
    with_script(tmp_path)
    o = imp(tmp_path, campaign_file(tmp_path / "Spring.xlsx", 3, {"Script": "Survey", "Queue": "Outbound", "NumberOfRedials": 2}), "OutboundCampaign")
    assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""
    c = store.open_store(tmp_path / "system.sqlite")
    yield c
    c.close()


def test_handled_redial_and_max_calls(conn) -> None:
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


def test_next_number_then_handled_and_campaign_completes(conn) -> None:
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


def test_answers_validated_against_script(conn) -> None:
    with pytest.raises(CampaignError, match="mandatory question"):
        results.record(conn, "Spring", "C0", "Successful", answers={"Q2": "x"})
    with pytest.raises(CampaignError, match="not one of Yes, No"):
        results.record(conn, "Spring", "C0", "Successful", answers={"Q1": "Maybe"})
    with pytest.raises(CampaignError, match="unknown question 'Q9'"):
        results.record(conn, "Spring", "C0", "No answer", answers={"Q9": "x"})
    with pytest.raises(CampaignError, match="unknown call result"):
        results.record(conn, "Spring", "C0", "Exploded")
    assert conn.execute("SELECT SUM(number_of_calls) FROM customers").fetchone() == (0,)


def test_close_ends_early(conn) -> None:
    c = results.close(conn, "Spring")
    assert (c.status, c.completion_reason) == ("Handled", "closed")
    with pytest.raises(CampaignError, match="already Handled"):
        results.close(conn, "Spring")
