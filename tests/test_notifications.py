"""Notifications (notify_url): the real service as a subprocess posting to a real HTTP receiver run by the test.

The receiver is a small threaded ``http.server`` in the test process that records every request; a test can make
it slow (it answers after a delay longer than notify_timeout_s) or start it only later (the port is closed at
first). The payload shapes and the outbox's queue are also checked directly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from aimport.service.notify import events, payloads, webhook
from aimport.service.notify.outbox import Outbox, first_reason
from aimport.service.officehours.heldlist import HeldFile
from aimport.service.officehours.holds import HoldQueue, LargeFiles
from aimport.service.officehours.schedule import OfficeHours
from aimport.settings import Settings, SettingsError
from tests.campaign_helpers import SCRIPT_ROWS, campaign_file
from tests.helpers import drop, free_port, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

SECRET_PATH, SECRET_QUERY = "T000SECRETPATH/B111/xyzzy", "sig=SECRETQUERY42"


# --- the receiver -----------------------------------------------------------------------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST; ``delay_s`` makes it answer late."""

    port: int = field(default_factory=free_port)
    delay_s: float = 0.0
    status: int = 200
    got: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{SECRET_PATH}?{SECRET_QUERY}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay_s:  # slow: it answers after the client gave up (not recorded)
                    time.sleep(receiver.delay_s)
                    return
                receiver.got.append(Received(self.path, dict(self.headers), json.loads(data)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def events(self, kind: str) -> list[Received]:
        return [r for r in self.got if _event_of(r.body) == kind]

    def wait(self, kind: str, timeout: float = 30.0) -> Received:
        found: Received = wait_for(lambda: next(iter(self.events(kind)), None), timeout, what=f"a {kind} notification")
        return found


def _event_of(body: Any) -> str:
    """The event a body tells, whatever its format (json: "event"; slack and teams: the title's words)."""
    if "event" in body:
        return str(body["event"])
    text = body.get("text") or body.get("summary") or ""
    for words, kind in (("failed", "import_failed"), ("partial", "import_partial"), ("started", "service_started"),
                        ("stopped", "service_stopped")):
        if words in text:
            return kind
    return ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _notified(svc: ServiceProcess, outcome: str) -> float:
    """aimport_notifications_total{outcome=...} from /metrics (0 while it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://{svc.http}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f'aimport_notifications_total{{outcome="{outcome}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _bad_files(folder: Path) -> None:
    write_text(folder / "nocolumn.txt", [["Description"], ["x"]])  # failed: MISSING_COLUMN


def _partial_file(folder: Path) -> None:
    write_text(folder / "unknown-id.txt", [["Id", "Name"], [424242, "Ghost"], ["", "Real"]])  # partial: 1 rejected


def _secret_free(*texts: str) -> None:
    for text in texts:
        assert "SECRETPATH" not in text and "SECRETQUERY" not in text and "xyzzy" not in text


# --- the real service ---------------------------------------------------------------------------------------------
def test_json_failed_partial_start_and_stop_reach_the_receiver(service: ServiceProcess, receiver: Receiver,
                                                                tmp_path: Path) -> None:
    receiver.start()
    service.env["AIMPORT_NOTIFY_URL"] = receiver.url  # the environment: kept out of the process list
    service.start()
    started = receiver.wait("service_started")
    assert started.path == f"/{SECRET_PATH}?{SECRET_QUERY}"
    assert started.headers["Content-Type"].startswith("application/json")
    assert started.body["unit"] == "TEST_VUBJS" and started.body["link"] == f"http://{service.http}/"
    staging = tmp_path / "in"
    staging.mkdir()
    _bad_files(staging)
    drop(staging / "nocolumn.txt", service.layout.type_dir("Skills"))
    body = receiver.wait("import_failed").body
    [hist] = wait_archived(service.layout, "Skills", "nocolumn.txt")
    assert set(body) == {"schema", "event", "time", "unit", "title", "message", "import_id", "type", "file", "status",
                         "error_code", "rejected", "campaign", "held_since", "link"}
    assert (body["type"], body["file"], body["status"], body["error_code"]) == \
        ("Skills", "nocolumn.txt", "failed", "MISSING_COLUMN")
    assert body["unit"] == "TEST_VUBJS" and body["schema"] == 1
    assert body["link"] == f"http://{service.http}/imports/{body['import_id']}"
    assert "Skills import of nocolumn.txt failed" in body["title"]
    assert body["message"] and body["message"] in hist.with_name(hist.name + ".log").read_text()  # the reason
    assert dt.datetime.fromisoformat(body["time"]).tzinfo is not None
    _partial_file(staging)
    drop(staging / "unknown-id.txt", service.layout.type_dir("Skills"))
    partial = receiver.wait("import_partial").body
    assert (partial["status"], partial["error_code"], partial["rejected"]) == ("partial", "ROWS_REJECTED", 1)
    assert "424242" in partial["message"] or "Id" in partial["message"]  # its first REJECT line
    assert service.stop() == 0
    stopped = receiver.wait("service_stopped", timeout=5)
    assert stopped.body["title"] == "aimport stopped"
    assert [_event_of(r.body) for r in receiver.got] == \
        ["service_started", "import_failed", "import_partial", "service_stopped"]  # in the order they happened
    status = subprocess.run([sys.executable, "-m", "aimport", "status", "--state-dir", str(service.state)],
                            capture_output=True, text=True, timeout=60, env={**os.environ, **service.env})
    assert status.returncode == 0, status.stderr
    _secret_free(service.output(), (service.state / "service.json").read_text(), status.stdout, status.stderr)
    assert f"notifications (json) go to http://127.0.0.1:{receiver.port}/…" in service.output()


@pytest.mark.parametrize("fmt", ["slack", "teams"])
def test_a_failed_import_reaches_slack_and_teams_in_their_shape(service: ServiceProcess, receiver: Receiver,
                                                                tmp_path: Path, fmt: str) -> None:
    receiver.start()
    service.args += ["--notify-url", receiver.url, "--notify-format", fmt]
    service.start()
    staging = tmp_path / "in"
    staging.mkdir()
    _bad_files(staging)
    drop(staging / "nocolumn.txt", service.layout.type_dir("Skills"))
    body = receiver.wait("import_failed").body
    if fmt == "slack":
        assert body["text"] == "aimport TEST_VUBJS: Skills import of nocolumn.txt failed (MISSING_COLUMN)"
        section, context = body["blocks"]
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
        assert section["text"]["text"].startswith(":x: *Skills import of nocolumn.txt failed (MISSING_COLUMN)*\n")
        assert "|open in the jobs view>" in context["elements"][0]["text"]
    else:
        assert body["type"] == "message"
        [attachment] = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.2"
        assert card["body"][0]["text"] == "Skills import of nocolumn.txt failed (MISSING_COLUMN)"
        facts = {f["title"]: f["value"] for f in card["body"][-1]["facts"]}
        assert (facts["Unit"], facts["File"], facts["Error code"]) == ("TEST_VUBJS", "nocolumn.txt", "MISSING_COLUMN")
        assert card["actions"][0]["type"] == "Action.OpenUrl" and "/imports/" in card["actions"][0]["url"]
    _secret_free(service.output())


def test_a_receiver_that_is_down_at_first_gets_it_after_retries(service: ServiceProcess, receiver: Receiver,
                                                               tmp_path: Path) -> None:
    service.env["AIMPORT_NOTIFY_URL"] = receiver.url  # nothing listens on the port yet
    service.start()
    staging = tmp_path / "in"
    staging.mkdir()
    _bad_files(staging)
    drop(staging / "nocolumn.txt", service.layout.type_dir("Skills"))
    [hist] = wait_archived(service.layout, "Skills", "nocolumn.txt")  # imported while the receiver is down
    assert hist.with_name(hist.name + ".result").exists() and receiver.got == []
    wait_for(lambda: _notified(service, "retried") >= 1, what="a retried notification")
    assert _notified(service, "sent") == 0
    receiver.start()
    body = receiver.wait("import_failed", timeout=60).body  # the backoff's next try (at most 60 s away)
    assert body["file"] == "nocolumn.txt"
    assert receiver.events("service_started")  # the queue kept what happened before, in order
    wait_for(lambda: _notified(service, "sent") >= 2, what="two sent notifications")
    output = service.output()
    _secret_free(output)
    assert f"not sent to http://127.0.0.1:{receiver.port}/… yet" in output
    assert f"notifications reach http://127.0.0.1:{receiver.port}/… again" in output


def test_a_slow_receiver_delays_no_import_and_its_retries_are_counted(service: ServiceProcess, receiver: Receiver,
                                                                      tmp_path: Path) -> None:
    receiver.delay_s = 3.0  # longer than notify_timeout_s: every request times out
    receiver.start()
    service.env["AIMPORT_NOTIFY_URL"] = receiver.url
    service.args += ["--notify-timeout-s", "0.3"]
    service.start()
    staging = tmp_path / "in"
    staging.mkdir()
    _bad_files(staging)
    _partial_file(staging)
    drop(staging / "nocolumn.txt", service.layout.type_dir("Skills"))
    drop(staging / "unknown-id.txt", service.layout.type_dir("Skills"))
    wait_archived(service.layout, "Skills", "nocolumn.txt")
    wait_archived(service.layout, "Skills", "unknown-id.txt")
    assert receiver.got == [] and _notified(service, "sent") == 0  # both imported while nothing got through
    wait_for(lambda: _notified(service, "retried") >= 2, what="retried notifications")
    receiver.delay_s = 0.0
    receiver.wait("import_partial", timeout=60)
    assert [_event_of(r.body) for r in receiver.got][:3] == ["service_started", "import_failed", "import_partial"]
    assert "no answer within 0.3s" in service.output()
    receiver.delay_s = 3.0  # slow again at stop: the service_stopped notification gets its grace, no more
    assert service.stop() == 0
    assert "notification service_stopped (aimport stopped) not sent to http://127.0.0.1:" in service.output()
    _secret_free(service.output())


def test_an_exported_campaign_is_told(service: ServiceProcess, receiver: Receiver, tmp_path: Path) -> None:
    receiver.start()
    service.env["AIMPORT_NOTIFY_URL"] = receiver.url
    service.args += ["--supervise-s", "0.2"]
    service.start()
    drop(write_text(tmp_path / "script.txt", SCRIPT_ROWS), service.layout.type_dir("Scripts"))
    wait_archived(service.layout, "Scripts", "script.txt")
    drop(campaign_file(tmp_path / "Spring.xlsx", 1, {"Script": "Survey"}), service.layout.type_dir("OutboundCampaign"))
    wait_archived(service.layout, "OutboundCampaign", "Spring.xlsx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    closed = subprocess.run([sys.executable, "-m", "aimport", "campaign", "close", "Spring", "--state-dir",
                             str(service.state)], capture_output=True, text=True, env=env, timeout=60)
    assert closed.returncode == 0, closed.stderr
    body = receiver.wait("campaign_exported").body
    [export] = [p for p in service.layout.export_dir.iterdir() if p.suffix == ".xlsx" and not p.name.startswith(".")]
    assert (body["campaign"], body["file"], body["type"]) == ("Spring", export.name, "OutboundCampaign")
    assert body["title"] == "Campaign Spring exported" and "1 customer row(s)" in body["message"]


@pytest.mark.parametrize("url", ["ftp://files.example.com/T000SECRETPATH", "not a url xyzzy", "https:///xyzzy",
                                 "http://[bad/xyzzy"])
def test_an_invalid_notify_url_stops_the_start_with_a_clear_message(service: ServiceProcess, url: str) -> None:
    command = service.command()
    other = subprocess.run([*command, "--max-concurrent", "0"], capture_output=True, text=True, timeout=60)
    bad = subprocess.run(command, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "AIMPORT_NOTIFY_URL": url})
    assert bad.returncode == other.returncode != 0
    assert "notify_url" in bad.stderr and any(why in bad.stderr for why in (
        "must be an http:// or https:// URL", "is not a valid URL", "has no host name")), bad.stderr
    assert "Traceback" not in bad.stderr
    _secret_free(bad.stdout, bad.stderr)
    if url.startswith("ftp"):
        assert "not ftp://…" in bad.stderr


# --- the parts ------------------------------------------------------------------------------------------------------
def test_a_url_is_shown_without_its_secret_and_only_http_is_taken() -> None:
    assert webhook.shown("https://hooks.slack.com/services/T0/B1/xyzzy") == "https://hooks.slack.com/…"
    assert webhook.shown("http://user:pw@[::1]:8080/a?b=c") == "http://[::1]:8080/…"
    assert webhook.check(" https://example.com/hook ") == "https://example.com/hook"
    for bad in ("ftp://example.com/x", "file:///etc/passwd", "example.com/hook", "", "https://", "http://a b/c",
                "http://host:notaport/x"):
        with pytest.raises(webhook.WebhookUrlError):
            webhook.check(bad)
    with pytest.raises(SettingsError, match="not ftp://…"):
        Settings(root=Path("/r"), logon_user="a", notify_url="ftp://x/xyzzy").validate_for_run()
    assert "xyzzy" not in repr(Settings(notify_url="https://h/xyzzy"))
    with pytest.raises(SettingsError, match="json, slack or teams"):
        from aimport.settings import from_sources

        from_sources({"notify_format": "html"}, env={})


def _failed(link: str | None = "http://h:1/imports/7") -> events.Notification:
    note = events.import_ended(7, "Skills", "a <b> & c.txt", "failed", "MISSING_COLUMN", 0, 0)
    assert note is not None
    from dataclasses import replace

    return replace(note, unit="S_U", link=link, time=dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC))


def test_the_json_shape() -> None:
    body = json.loads(payloads.body(_failed(), "json"))
    assert body == {"schema": 1, "event": "import_failed", "time": "2027-01-02T03:04:05.000+00:00", "unit": "S_U",
                    "title": "Skills import of a <b> & c.txt failed (MISSING_COLUMN)", "message": "Nothing was applied.",
                    "import_id": 7, "type": "Skills", "file": "a <b> & c.txt", "status": "failed",
                    "error_code": "MISSING_COLUMN", "rejected": 0, "campaign": None, "held_since": None,
                    "link": "http://h:1/imports/7"}
    assert events.import_ended(1, "Skills", "a.txt", "succeeded", None, 0, 3) is None


def test_the_slack_shape_escapes_what_slack_reads_as_markup() -> None:
    body = json.loads(payloads.body(_failed(), "slack"))
    assert body["text"] == "aimport S_U: Skills import of a <b> & c.txt failed (MISSING_COLUMN)"
    assert body["blocks"][0]["text"]["text"] == \
        ":x: *Skills import of a &lt;b&gt; &amp; c.txt failed (MISSING_COLUMN)*\nNothing was applied."
    assert body["blocks"][1]["elements"][0]["text"] == "unit S_U · import 7 · <http://h:1/imports/7|open in the jobs view>"
    long = json.loads(payloads.body(events.Notification("import_failed", "t", "x" * 5000), "slack"))
    assert len(long["blocks"][0]["text"]["text"]) <= 3000


def test_the_teams_shape() -> None:
    body = json.loads(payloads.body(_failed(None), "teams"))
    card = body["attachments"][0]["content"]
    assert card["body"][0] == {"type": "TextBlock", "text": "Skills import of a <b> & c.txt failed (MISSING_COLUMN)",
                               "weight": "Bolder", "size": "Medium", "wrap": True, "color": "Attention"}
    assert "actions" not in card  # no --http: no button
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts == {"Unit": "S_U", "Type": "Skills", "File": "a <b> & c.txt", "Status": "failed",
                     "Error code": "MISSING_COLUMN", "Rejected rows": "0", "Import": "7",
                     "Time": "2027-01-02T03:04:05+00:00"}


def test_held_exported_and_lifecycle_notifications() -> None:
    at = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    held = events.file_held("big.xlsx", "Directory", at, 60, "about 250000 rows (large_file_rows 100000)",
                            "2027-01-04T18:00+00:00")
    body = payloads.as_json(held)
    assert (body["event"], body["file"], body["type"], body["held_since"]) == \
        ("file_held", "big.xlsx", "Directory", "2027-01-04T09:00:00+00:00")
    assert "250000 rows" in body["message"] and "2027-01-04T18:00" in body["message"]
    exported = payloads.as_json(events.campaign_exported({"campaign": "Spring", "file": "x.xlsx", "rows": 12}))
    assert (exported["event"], exported["campaign"], exported["file"]) == ("campaign_exported", "Spring", "x.xlsx")
    assert "12 customer row(s)" in exported["message"]
    assert payloads.as_json(events.service_stopped())["event"] == "service_stopped"
    assert payloads.jobs_base("8080") == "http://127.0.0.1:8080"
    assert payloads.jobs_base("[::1]:80") == "http://[::1]:80" and payloads.jobs_base(None) is None


def test_the_reason_is_the_first_error_or_reject_line() -> None:
    log = ("2027-01-01 10:00:00 INFO    importing a.txt as Skills\n"
           "2027-01-01 10:00:00 REJECT  sheet 'a' row 2: unknown Id 1\n"
           "2027-01-01 10:00:00 ERROR   MISSING_COLUMN: no Name column\n")
    assert first_reason(log, "failed") == "MISSING_COLUMN: no Name column"
    assert first_reason(log, "partial") == "sheet 'a' row 2: unknown Id 1"
    assert first_reason("", "failed") == ""


def test_a_full_queue_drops_the_oldest_and_counts_it() -> None:
    counted: list[str] = []
    box = Outbox("http://127.0.0.1:9/x", capacity=2, counted=counted.append, unit="S_U", jobs="http://h:1")
    for i in range(3):
        box.post(events.Notification("import_failed", f"n{i}", import_id=i))
    assert counted == ["dropped"] and box.waiting() == 2
    assert [n.title for n in box._queue] == ["n1", "n2"]
    assert box._queue[0].unit == "S_U" and box._queue[0].link == "http://h:1/imports/1"

    anyio.run(box.finish, 0.01)  # never sent (no sender task): counted dropped at stop, later posts too
    box.post(events.service_stopped())
    assert counted == ["dropped"] * 4 and box.waiting() == 0


def test_a_held_file_is_told_once_when_it_has_waited_long_enough(tmp_path: Path) -> None:
    @dataclass
    class Clock:
        at: dt.datetime

        def now(self) -> dt.datetime:
            return self.at

        async def sleep_until(self, when: dt.datetime) -> None:
            pass

    start = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    clock = Clock(start)
    queue = HoldQueue(OfficeHours.parse(""), clock, LargeFiles(rows=10), tmp_path)
    f = HeldFile(tmp_path / "big.txt", "Directory", 100, 50, start, None, "about 50 rows (large_file_rows 10)")
    queue.hold(f)
    assert queue.overdue(60) == []
    clock.at = start + dt.timedelta(minutes=60)
    assert queue.overdue(0) == []  # 0: never
    assert queue.overdue(60) == [f]
    assert queue.overdue(60) == []  # once per hold


def test_a_4xx_answer_is_final_and_a_5xx_is_tried_again(receiver: Receiver) -> None:
    receiver.start()
    counted: list[str] = []
    box = Outbox(receiver.url, "json", "S_U", None, 5.0, counted.append)

    async def until(outcome: str, n: int = 1) -> None:
        with anyio.fail_after(30):
            while counted.count(outcome) < n:
                await anyio.sleep(0.02)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(box.run)
            receiver.status = 404  # a wrong or revoked URL: asking again does not help
            box.post(events.Notification("import_failed", "first"))
            await until("failed")
            receiver.status = 503  # the receiver is in trouble: tried again with the backoff
            box.post(events.Notification("import_failed", "second"))
            await until("retried")
            receiver.status = 200
            await until("sent")
            box.post(events.service_stopped())
            await box.finish(5)
            tg.cancel_scope.cancel()

    anyio.run(main)
    assert counted == ["failed", "retried", "sent", "sent"]
    assert [r.body["title"] for r in receiver.got] == ["first", "second", "second", "aimport stopped"]


@dataclass
class Told:
    """A notifier that keeps what it is told (aimport.service.notify.events.Notifier)."""

    notes: list[events.Notification] = field(default_factory=list)

    def post(self, note: events.Notification) -> None:
        self.notes.append(note)


async def test_the_scheduler_tells_a_file_held_too_long_once(tmp_path: Path) -> None:
    """The real scheduler and hold queue on a clock the test moves (tests/test_office_hours.py)."""
    from tests.test_office_hours import WED_17, SetClock, office, office_settings, until

    s = office_settings(tmp_path, large_file_rows=10, notify_held_after_min=30)
    async with office(s, SetClock(WED_17)) as o:
        told = Told()
        o.scheduler.ctx.notifier = told
        holds = o.scheduler.holds
        assert holds is not None
        looked = [0]
        overdue = holds.overdue

        def counted_overdue(minutes: int) -> list[HeldFile]:
            looked[0] += 1
            return overdue(minutes)

        holds.overdue = counted_overdue  # type: ignore[method-assign]

        async def looks(n: int) -> None:  # the hold loop looks n more times (woken: no 2 s wait)
            start = looked[0]
            with anyio.fail_after(30):
                while looked[0] < start + n:
                    holds.wake()
                    await anyio.sleep(0.02)

        o.drop("Skills", "big.txt", 50)
        await until(lambda: o.scheduler.held_files(), "the hold")
        await looks(2)
        assert told.notes == []  # held, but not for 30 minutes yet
        o.clock.set(WED_17 + dt.timedelta(minutes=31))  # still office hours (until 18:00)
        await looks(1)
        await looks(2)
        [note] = told.notes  # once per hold
        assert (note.event, note.file, note.type, note.held_since) == ("file_held", "big.txt", "Skills", WED_17)
        assert "about 50 rows (large_file_rows 10)" in note.message and "18:00" in note.message
