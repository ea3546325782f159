"""The jobs view over real HTTP against the real service: JSON content, filters, errors, escaping, live updates, tokens."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aimport.web.logpages import LOG_CAP_BYTES
from tests.helpers import drop, free_port, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>.txt"


def call(address: str, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(f"http://{address}{path}", method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def api(address: str, path: str, **headers: str) -> Any:
    status, _, body = call(address, path, headers=headers)
    assert status == 200, (path, status, body)
    return json.loads(body)


def raw(address: str, data: bytes) -> bytes:
    """Send ``data`` as it is on a fresh connection; the whole answer (the server closes the connection)."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def skills(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    return write_text(tmp_path / name, [["Name", "Description"], *rows])


def test_imports_filters_detail_and_errors(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    folder = service.layout.type_dir("Skills")
    drop(skills(tmp_path, "good.txt", [["Sales", "sells"], ["Support", "helps"]]), folder)
    service.wait_done("Skills", "good.txt")
    drop(skills(tmp_path, "some bad.txt", [["Ok", "fine"], ["", "no name"], ["x" * 300, "too long?"]]), folder)
    service.wait_done("Skills", "some bad.txt")
    drop(write_text(tmp_path / "wrong.txt", [["Nope"], ["a"]]), folder)
    service.wait_done("Skills", "wrong.txt")
    drop(skills(tmp_path, XSS, [["Xss", "<script>alert(2)</script>"]]), folder)
    service.wait_done("Skills", XSS)
    a = service.http

    status, headers, page = call(a, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"
    assert b"<script src=\"/static/app.js\"" in page and b"onerror" not in page  # the page holds no data
    assert call(a, "/imports/1")[0] == 200  # one import's page is the same page
    status, headers, script = call(a, "/static/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and b"textContent" in script
    assert b"innerHTML" not in script and b"http://" not in script.replace(b"http://www.w3.org/2000/svg", b"")  # no CDN

    rows = api(a, "/api/imports")["imports"]
    assert [r["file_name"] for r in rows] == [XSS, "wrong.txt", "some bad.txt", "good.txt"]  # newest first
    by_name = {r["file_name"]: r for r in rows}
    assert by_name["good.txt"]["status"] == "succeeded" and by_name["good.txt"]["created"] == 2
    assert by_name["wrong.txt"]["status"] == "failed" and by_name["wrong.txt"]["error_code"]
    partial = by_name["some bad.txt"]
    assert partial["status"] == "partial" and partial["rejected"] >= 1 and partial["duration_ms"] >= 0
    assert [r["file_name"] for r in api(a, "/api/imports?type=Skills&status=failed")["imports"]] == ["wrong.txt"]
    assert api(a, "/api/imports?type=Queues")["imports"] == []
    assert len(api(a, "/api/imports?limit=2")["imports"]) == 2

    detail = api(a, f"/api/imports/{partial['id']}")
    assert detail["row"]["file_name"] == "some bad.txt" and detail["log"]["source"] == "history"
    assert any(" REJECT " in line for line in detail["log"]["lines"])
    assert detail["rejected"], detail["log"]["lines"]
    first = detail["rejected"][0]
    assert first["sheet"] and first["row"] == 3 and first["reason"]  # the header is row 1, "Ok" row 2
    assert [e["kind"] for e in detail["events"]][:2] == ["claimed", "started"]
    xss = api(a, f"/api/imports/{by_name[XSS]['id']}")
    assert xss["row"]["file_name"] == XSS and any(XSS in line for line in xss["log"]["lines"])  # JSON carries text

    summary = api(a, "/api/summary")
    figures = summary["figures"]
    assert figures["failed_today"] == 1 and figures["partial_today"] == 1 and figures["finished_today"] == 4
    assert len(figures["hours"]) == 24 and sum(h["imports"] for h in figures["hours"]) == 4
    assert sum(h["rows"] for h in figures["hours"]) == sum(r["rows"] for r in rows)
    assert summary["queued"] == [] and summary["in_process"] == [] and summary["unit"] == "TEST_VUBJS"
    assert isinstance(api(a, "/api/campaigns")["campaigns"], list)

    for path, code in [("/api/imports?type=Nope", 400), ("/api/imports?status=done", 400), ("/api/imports?limit=0", 400),
                       ("/api/imports?limit=x", 400), ("/api/imports/999999", 404), ("/api/nope", 404), ("/nope", 404),
                       ("/static/../aimport/settings.py", 404), ("/static/index.html.bak", 404), ("/api/imports/1%ff", 400)]:
        status, headers, body = call(a, path)
        assert status == code, (path, status)
        assert headers["x-content-type-options"] == "nosniff" and "error" in json.loads(body)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, headers, _ = call(a, "/api/summary", method)
        assert status == 405 and headers["allow"] == "GET, HEAD"
    status, headers, body = call(a, "/api/summary", "HEAD")
    assert status == 200 and body == b""
    assert call(a, "/api/summary", headers={"Host": "attacker.example"})[0] == 403  # no DNS rebinding onto loopback
    for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET nope HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
                 b"GET /\xff HTTP/1.1\r\n\r\n", b"GET /\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):
        assert raw(a, junk).startswith(b"HTTP/1.1 400 "), junk[:30]
    # a request head above 16 KiB: refused without reading on (431: the head is too large), the connection closed
    assert raw(a, b"GET /" + b"a" * 20000).startswith(b"HTTP/1.1 431 ")
    assert api(a, "/healthz")["status"] == "ok"  # still serving after the junk


def test_log_is_read_only_inside_the_import_root_and_capped(service: ServiceProcess, tmp_path: Path) -> None:
    """An audit row pointing outside History/, a .log that is a link, a huge .log: nothing leaks, nothing hangs."""
    service.start()
    hist = service.layout.history_dir("Skills")
    secret = tmp_path / "secret.txt"
    secret.write_text("2026-01-01 00:00:00 INFO    SECRET\n")
    (hist / "linked.log").symlink_to(secret)
    line = b"2026-01-01 00:00:00 REJECT  sheet 'S' row 2: bad\n"
    (hist / "big.log").write_bytes(line * ((LOG_CAP_BYTES // len(line)) + 1000))  # a little more than the cap
    os.mkfifo(hist / "fifo.log")
    names = ["../../../../../../" + str(secret.with_suffix("")), "linked", "big", "fifo", "/etc/passwd"]
    conn = sqlite3.connect(service.audit_db)
    try:
        ids = []
        for name in names:
            cur = conn.execute("INSERT INTO imports (import_type, file_name, history_name, status, finished_at) "
                               "VALUES ('Skills', ?, ?, 'failed', '2026-01-01T00:00:00.000Z')", (name, name))
            ids.append(cur.lastrowid)
        conn.commit()
    finally:
        conn.close()
    logs = {name: api(service.http, f"/api/imports/{i}")["log"] for name, i in zip(names, ids)}
    for name in (names[0], "linked", "fifo", "/etc/passwd"):
        assert logs[name]["lines"] == [] and logs[name]["problem"], name
    big = logs["big"]
    shown = LOG_CAP_BYTES // len(line)  # the whole lines in the first LOG_CAP_BYTES
    assert big["truncated"] and big["size"] > LOG_CAP_BYTES and big["total"] == shown and len(big["lines"]) == 500
    detail = api(service.http, f"/api/imports/{ids[2]}?rejected_offset={shown - 5}&log_offset={shown - 2}")
    assert len(detail["rejected"]) == 5 and detail["rejected_total"] == shown  # the table is capped with the log
    assert detail["log"]["lines"] == [line.decode().rstrip("\n")] * 2


def test_queued_in_process_with_progress_then_done(service: ServiceProcess, tmp_path: Path) -> None:
    """One import at a time, each held 2 s before its commit: the others wait in the queue, the running one shows
    the rows read so far; then all are done and no progress file is left."""
    service.args += ["--max-concurrent", "1"]
    service.env["AIMPORT_PAUSE"] = "before_commit:2000"
    service.start()
    names = [f"q{i}.txt" for i in range(3)]
    for n in names:
        drop(skills(tmp_path, n, [[f"{n}-{j}", "d"] for j in range(25)]), service.layout.type_dir("Skills"))
    seen: dict[str, Any] = {}

    def both() -> bool:
        s = api(service.http, "/api/summary")
        if s["in_process"] and s["in_process"][0]["rows"] == 25 and s["in_process"][0]["phase"]:  # "reading q0"
            seen["running"] = s["in_process"][0]
        if s["queued"]:
            seen["queued"] = s["queued"]
            seen["oldest"] = s["figures"]["oldest_waiting"]
        return "running" in seen and "queued" in seen

    wait_for(both, 60, what="a queued file and a running import with its progress")
    assert seen["running"]["file"] in names and seen["running"]["type"] == "Skills"
    assert {q["file"] for q in seen["queued"]} <= set(names) and seen["queued"][0]["size"] > 0
    assert seen["oldest"]["file"] in names
    for n in names:
        service.wait_done("Skills", n, timeout=60)
    wait_for(lambda: (lambda s: not s["queued"] and not s["in_process"])(api(service.http, "/api/summary")), 20,
             what="the queue to empty")
    assert not list((service.state / "work").glob("progress-*"))


def read_events(sock: socket.socket, want: bytes, timeout: float = 30) -> bytes:
    sock.settimeout(timeout)
    got = b""
    while want not in got:
        chunk = sock.recv(4096)
        assert chunk, f"stream closed before {want!r}: {got!r}"
        got += chunk
    return got


def test_live_updates_end_with_their_clients(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    host, _, port = service.http.rpartition(":")
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(3)]
    try:
        for s in socks:
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = read_events(s, b"event: change")
            assert b"HTTP/1.1 200 " in head and b"text/event-stream" in head
        wait_for(lambda: api(service.http, "/api/summary")["event_streams"] == 3, 20, what="3 streams open")
        drop(skills(tmp_path, "live.txt", [["Live", "x"]]), service.layout.type_dir("Skills"))
        read_events(socks[0], b"event: change", 30)  # the drop is announced
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: api(service.http, "/api/summary")["event_streams"] == 0, 20, what="the streams to end")
    status, headers, _ = call(service.http, "/api/events", "HEAD")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    with socket.create_connection((host, int(port)), timeout=10) as open_stream:  # open while the service stops
        open_stream.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        read_events(open_stream, b"event: change")
        assert service.stop(timeout=40) == 0
        open_stream.settimeout(10)
        while open_stream.recv(4096):  # the service closed it
            pass


def outside_address() -> str:
    """This machine's non-loopback address, if it has one (else 127.0.0.1: the listen address still is 0.0.0.0)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            ip = str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    return ip if not ip.startswith("127.") else "127.0.0.1"


def test_token_required_off_loopback(service: ServiceProcess) -> None:
    port = free_port()
    service.args += ["--http", f"0.0.0.0:{port}"]
    service.env.update(AIMPORT_HTTP_TOKEN="s3cret-token", AIMPORT_METRICS_PUBLIC="false")
    service.start()
    a = f"{outside_address()}:{port}"
    assert call(a, "/healthz")[0] == 200 and call(a, "/readyz")[0] in (200, 503)
    status, headers, page = call(a, "/")
    assert status == 401 and b'id="token-form"' in page and headers["www-authenticate"].startswith("Bearer")
    for path in ("/api/summary", "/api/imports", "/api/imports/1", "/api/campaigns", "/api/events", "/metrics"):
        assert call(a, path)[0] == 401, path
        assert call(a, path, headers={"Authorization": "Bearer wrong"})[0] == 401, path
    assert call(a, "/static/app.js")[0] == 200  # the page's code holds no data: it can ask for the token
    good = {"Authorization": "Bearer s3cret-token"}
    assert call(a, "/", headers=good)[0] == 200
    assert api(a, "/api/summary", **good)["unit"] == "TEST_VUBJS"
    assert api(a, "/api/imports", Cookie="aimport_token=s3cret-token")["imports"] == []  # what the page sends
    status, _, text = call(a, "/metrics", headers=good)
    assert status == 200 and b"aimport_concurrency_limit" in text
    assert "s3cret-token" not in service.output()


def test_view_off_without_token_off_loopback(service: ServiceProcess) -> None:
    """The container binds 0.0.0.0 for its health checks: without a token the view is off (403), the checks work."""
    port = free_port()
    service.args += ["--http", f"0.0.0.0:{port}"]
    service.start()
    a = f"{outside_address()}:{port}"
    assert call(a, "/healthz")[0] == 200
    assert call(a, "/metrics")[0] == 200  # metrics_public defaults to true
    for path in ("/", "/api/summary", "/api/events"):
        status, _, body = call(a, path)
        assert status == 403 and b"http_token" in body, path
    wait_for(lambda: "the jobs view is off" in service.output(), 10, what="the log line")


def test_held_files_show_as_held(service: ServiceProcess, tmp_path: Path) -> None:
    """A large file held for the end of office hours (aimport.service.officehours.holds) is queued, marked held, with its reason."""
    service.args += ["--office-hours", "Mon-Sun 00:00-24:00", "--time-zone", "UTC", "--large-file-rows", "5"]
    service.start()
    drop(skills(tmp_path, "big <b>.txt", [[f"s{i}", "x"] for i in range(20)]), service.layout.type_dir("Skills"))

    def held() -> list[dict[str, Any]]:
        return [q for q in api(service.http, "/api/summary")["queued"] if q["held"]]

    [big] = wait_for(held, 30, what="the held file in /api/summary")
    assert (big["file"], big["type"], big["held_until"]) == ("big <b>.txt", "Skills", None)  # office hours never end
    assert "rows" in big["held_reason"] and big["size"] > 0
    figures = api(service.http, "/api/summary")["figures"]
    assert figures["oldest_waiting"] is None  # held is not waiting
    assert (figures.get("queued"), figures.get("held")) == (0, 1)


def test_held_files_are_not_waiting_files(service: ServiceProcess, tmp_path: Path) -> None:
    """Issue 26, item 14: a held file (large, in office hours) is counted apart from the queued ones, by the jobs
    view's figures and by `aimport status` as by /metrics, and is never the oldest waiting file, even when it is
    the oldest file in the drop folder."""
    service.args += ["--office-hours", "Mon-Sun 00:00-24:00", "--time-zone", "UTC", "--large-file-rows", "50",
                     "--max-concurrent", "1"]
    service.env["AIMPORT_PAUSE"] = "before_commit:6000"  # the first small import holds the only slot: the next waits
    service.start()
    folder = service.layout.type_dir("Skills")
    big = drop(skills(tmp_path, "big.txt", [[f"b{i}", "x"] for i in range(200)]), folder)
    an_hour_ago = time.time() - 3600
    os.utime(big, (an_hour_ago, an_hour_ago))  # the oldest file in the folder by far
    wait_for(lambda: [q for q in api(service.http, "/api/summary")["queued"] if q["held"]], 30, what="big.txt held")
    drop(skills(tmp_path, "first.txt", [["f", "x"]]), folder)
    wait_for(lambda: api(service.http, "/api/summary")["in_process"], 30, what="first.txt in process")
    drop(skills(tmp_path, "second.txt", [["s", "x"]]), folder)

    def waiting() -> dict[str, Any] | None:
        s = api(service.http, "/api/summary")
        return s if s["in_process"] and any(q["file"] == "second.txt" for q in s["queued"]) else None

    summary = wait_for(waiting, 30, what="second.txt queued behind first.txt")
    figures = summary["figures"]
    assert figures["oldest_waiting"]["file"] == "second.txt", figures["oldest_waiting"]
    assert (figures.get("queued"), figures.get("held")) == (1, 1)
    assert sorted((q["file"], q["held"]) for q in summary["queued"]) == [("big.txt", True), ("second.txt", False)]
    assert service.metric("aimport_held_files") == 1
    status = subprocess.run([sys.executable, "-m", "aimport", "status", "--json", "--state-dir", str(service.state)],
                            capture_output=True, text=True, timeout=60, check=True)
    [skills_folder] = [f for f in json.loads(status.stdout)["folders"] if f["type"] == "Skills"]
    assert (skills_folder["queued"], skills_folder["held"]) == (1, 1), skills_folder
    oldest = dt.datetime.fromisoformat(skills_folder["oldest_queued"]).timestamp()
    assert oldest > an_hour_ago + 1800, skills_folder  # second.txt's time, not the held file's
    text = subprocess.run([sys.executable, "-m", "aimport", "status", "--state-dir", str(service.state)],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    header, row = [line.split() for line in text.splitlines() if line.startswith(("type ", "Skills "))][:2]
    assert header[:5] == ["type", "queued", "oldest_queued", "held", "in_process"] and row[1] == "1" and row[3] == "1"


def test_campaigns_show_their_progress(service: ServiceProcess) -> None:
    service.start()
    example = Path(__file__).parent.parent / "fixtures" / "examples" / "Demo campaign.xlsx"
    dest = service.layout.type_dir("OutboundCampaign") / example.name
    dest.write_bytes(example.read_bytes())
    service.wait_done("OutboundCampaign", example.name, timeout=60)
    [campaign] = wait_for(lambda: api(service.http, "/api/campaigns")["campaigns"], 30, what="the campaign")
    assert campaign["name"] == "Demo campaign" and campaign["status"] in ("Passive", "Active")
    assert campaign["customers"] == 8 and campaign["handled"] == 0 and campaign["calls"] == 0
    assert campaign["exported"] is None
