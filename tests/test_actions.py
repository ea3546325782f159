"""The operator's actions (issue 28, item 2) against the real service, over real HTTP and from the command line:
release a held file, retry a failed import, cancel a queued or held file; who may act, and from where."""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from aimport.web.actions import MAX_BODY
from tests.helpers import drop, free_port, query, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
HOLD = ["--office-hours", "Mon-Sun 00:00-24:00", "--time-zone", "UTC", "--large-file-rows", "5"]


def post(address: str, action: str, body: Any, headers: dict[str, str] | None = None,
         data: bytes | None = None) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(f"http://{address}/api/actions/{action}", method="POST",
                                 data=data if data is not None else json.dumps(body).encode(),
                                 headers=JSON if headers is None else headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def aimport(service: ServiceProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aimport", *args, "--state-dir", str(service.state)],
                          capture_output=True, text=True, timeout=120)


def skills(tmp_path: Path, name: str, rows: int) -> Path:
    return write_text(tmp_path / name, [["Name", "Description"], *[[f"{name}-{i}", "x"] for i in range(rows)]])


def held(service: ServiceProcess, name: str) -> bool:
    with urllib.request.urlopen(f"http://{service.http}/api/summary", timeout=10) as r:
        return any(q["file"] == name and q["held"] for q in json.loads(r.read())["queued"])


def events(service: ServiceProcess, kind: str) -> list[dict[str, Any]]:
    return [{"import_id": i, **json.loads(d)} for i, d in
            query(service.audit_db, "SELECT import_id, detail FROM events WHERE kind = ? ORDER BY id", (kind,))]


def result_of(path: Path) -> dict[str, str]:
    text = path.with_name(path.name + ".result").read_text(encoding="utf-8")
    return dict(line.split(": ", 1) for line in text.splitlines())


def test_cancel_and_release_held_files_over_http(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += HOLD
    service.start()
    folder = service.layout.type_dir("Skills")
    for name in ("keep.txt", "drop.txt"):
        drop(skills(tmp_path, name, 20), folder)
    wait_for(lambda: held(service, "keep.txt") and held(service, "drop.txt"), 30, what="both files held")
    a = service.http

    status, body = post(a, "cancel", {"type": "Skills", "file": "drop.txt"})
    assert (status, body["ok"]) == (200, True) and "cancelled Skills/drop.txt" in body["message"], body
    assert not (folder / "drop.txt").exists()
    [hist] = [p for p in service.layout.history_dir("Skills").iterdir() if p.name.endswith("_drop.txt")]
    result = result_of(hist)
    assert (result["status"], result["rows"], result["requested_by"]) == ("cancelled", "0", "loopback"), result
    log = hist.with_name(hist.name + ".log").read_text()
    assert "cancelled drop.txt" in log and "requested by loopback" in log and "nothing was applied" in log
    assert not hist.with_name(hist.name + ".err").exists()
    [(row_id, status_, history_name)] = query(service.audit_db, "SELECT id, status, history_name FROM imports "
                                                                "WHERE file_name = 'drop.txt'")
    assert (status_, history_name, str(row_id)) == ("cancelled", hist.name, result["import_id"])
    [cancelled] = events(service, "cancelled")
    assert (cancelled["import_id"], cancelled["requested_by"]) == (row_id, "loopback")
    assert not [e for e in events(service, "claimed") if e["file"] == "drop.txt"]  # never claimed: nothing applied
    with urllib.request.urlopen(f"http://{a}/api/imports?status=cancelled", timeout=10) as r:
        assert [i["file_name"] for i in json.loads(r.read())["imports"]] == ["drop.txt"]

    status, body = post(a, "cancel", {"type": "Skills", "file": "drop.txt"})  # gone now
    assert status == 404 and "drop.txt" in body["error"], body

    status, body = post(a, "release", {"type": "Skills", "file": "keep.txt"})
    assert status == 200 and "released Skills/keep.txt" in body["message"], body
    [data] = [p for p in service.wait_done("Skills", "keep.txt", timeout=60) if p.suffix == ".txt"]
    assert result_of(data)["status"] == "succeeded"
    released = wait_for(lambda: [e for e in events(service, "hold_released") if e["file"] == "keep.txt"], 10,
                        what="the hold_released event")
    assert released[0]["requested_by"] == "loopback"
    status, body = post(a, "release", {"type": "Skills", "file": "keep.txt"})
    assert status == 404 and "no held file" in body["error"], body
    assert "Traceback" not in service.output() and " ERROR " not in service.output()


def test_retry_a_failed_import_over_http_and_from_the_command_line(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    folder = service.layout.type_dir("Skills")
    drop(write_text(tmp_path / "bad.txt", [["Nope"], ["a"]]), folder)
    service.wait_done("Skills", "bad.txt")
    drop(skills(tmp_path, "good.txt", 2), folder)
    service.wait_done("Skills", "good.txt")
    ids = dict(query(service.audit_db, "SELECT file_name, id FROM imports"))
    a = service.http

    status, body = post(a, "retry", {"import_id": ids["bad.txt"]})
    assert status == 200 and f"import {ids['bad.txt']} is retried" in body["message"], body
    service.wait_done("Skills", "bad.txt", count=2, timeout=60)
    rows = wait_for(lambda: query(service.audit_db, "SELECT status, retry_of FROM imports WHERE file_name = 'bad.txt' "
                                                    "AND finished_at IS NOT NULL ORDER BY id"), 10, what="rows")
    assert rows == [("failed", None), ("failed", ids["bad.txt"])], rows
    [asked] = events(service, "retry_requested")
    assert (asked["import_id"], asked["requested_by"], asked["file"]) == (ids["bad.txt"], "loopback", "bad.txt")

    for body_, code, words in [({"import_id": ids["good.txt"]}, 409, "only a failed or partial"),
                               ({"import_id": 999999}, 404, "no import 999999"),
                               ({"import_id": "x"}, 400, "import_id"), ({}, 400, "import_id")]:
        status, answer = post(a, "retry", body_)
        assert status == code and words in answer["error"], (body_, status, answer)

    second = max(i for (i,) in query(service.audit_db, "SELECT id FROM imports WHERE file_name = 'bad.txt'"))
    done = aimport(service, "retry", str(second))  # the command line: requested by the user running it
    assert done.returncode == 0 and f"import {second} is retried" in done.stdout, done.stderr
    service.wait_done("Skills", "bad.txt", count=3, timeout=60)
    assert events(service, "retry_requested")[-1]["requested_by"] == getpass.getuser()
    def retried() -> list[Any]:
        out = aimport(service, "audit", "--json", "--file", "bad.txt").stdout
        rows = json.loads(out) if out.lstrip().startswith("[") else [json.loads(line) for line in out.splitlines()]
        return [r["retry_of"] for r in rows if r["status"] == "failed"]

    assert wait_for(lambda: (lambda r: r if len(r) == 3 else None)(retried()), 10, what="`aimport audit`") == [
        None, ids["bad.txt"], second]
    refused = aimport(service, "retry", str(ids["good.txt"]))
    assert refused.returncode == 1 and "only a failed or partial import is retried" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


def test_cancel_from_the_command_line_and_never_while_importing(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += [*HOLD[:4], "--large-file-rows", "50", "--max-concurrent", "1"]
    service.env["AIMPORT_PAUSE"] = "before_commit:3000"
    service.start()
    folder = service.layout.type_dir("Skills")
    big = drop(skills(tmp_path, "big.txt", 100), folder)
    wait_for(lambda: held(service, "big.txt"), 30, what="big.txt held")
    done = aimport(service, "cancel", str(big))
    assert done.returncode == 0 and "cancelled Skills/big.txt" in done.stdout, done.stderr
    assert events(service, "cancelled")[-1]["requested_by"] == getpass.getuser()

    drop(skills(tmp_path, "busy.txt", 2), folder)  # imported (held 3 s before its commit): not cancelled
    wait_for(lambda: (service.layout.in_process_dir("Skills") / "busy.txt").exists(), 30, what="busy.txt claimed")
    status, body = post(service.http, "cancel", {"type": "Skills", "file": "busy.txt"})
    assert status == 409 and "already importing" in body["error"], body
    refused = aimport(service, "cancel", "Skills/busy.txt")
    assert refused.returncode == 1 and "already importing" in refused.stderr, refused.stderr
    [data] = [p for p in service.wait_done("Skills", "busy.txt", timeout=60) if p.suffix == ".txt"]
    assert result_of(data)["status"] == "succeeded"
    for wrong in ("Nope/x.txt", "Skills/.hidden", "/etc/passwd"):
        out = aimport(service, "cancel", wrong)
        assert out.returncode == 1 and "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr


def test_a_cancel_and_the_services_claim_never_both_win(service: ServiceProcess, tmp_path: Path) -> None:
    """Files dropped while they are cancelled at once: each ends exactly once, imported or cancelled, as answered."""
    service.args += ["--settle-ms", "0"]  # claimed as soon as seen: the claim and the cancel meet
    service.start()
    folder = service.layout.type_dir("Skills")
    names = [f"race{i}.txt" for i in range(16)]
    sources = [skills(tmp_path, n, 1) for n in names]
    answers: dict[str, int] = {}

    def cancel(i: int, name: str) -> None:
        time.sleep(0.12 * i)  # spread over the claim: some cancels come first, some after
        answers[name] = post(service.http, "cancel", {"type": "Skills", "file": name})[0]

    threads = [threading.Thread(target=cancel, args=(i, n)) for i, n in enumerate(names)]
    for src in sources:
        drop(src, folder)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("cancel answers:", sorted(Counter(answers.values()).items()))
    assert set(answers.values()) <= {200, 404, 409}, answers  # 404: imported and archived before the cancel
    for name in names:
        [data] = wait_archived(service.layout, "Skills", name, timeout=60)
        status = result_of(data)["status"]
        assert status == ("cancelled" if answers[name] == 200 else "succeeded"), (name, answers[name], status)
        assert len(query(service.audit_db, "SELECT id FROM imports WHERE file_name = ?", (name,))) == 1, name
    assert "Traceback" not in service.output() and " ERROR " not in service.output()


def test_actions_refuse_other_sites_other_methods_and_big_bodies(service: ServiceProcess) -> None:
    service.start()
    a, ok = service.http, {"type": "Skills", "file": "none.txt"}
    assert post(a, "cancel", ok)[0] == 404  # allowed: a script on the host (no Origin)
    assert post(a, "cancel", ok, {**JSON, "Origin": f"http://{a}"})[0] == 404  # allowed: the page itself
    for headers, code in [({**JSON, "Origin": "http://evil.example"}, 403), ({**JSON, "Origin": "null"}, 403),
                          ({**JSON, "Sec-Fetch-Site": "cross-site"}, 403),
                          ({"Content-Type": "text/plain"}, 415),  # what a form of another site can send
                          ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
                          ({**JSON, "Host": "attacker.example"}, 403)]:  # DNS rebinding onto loopback
        status, body = post(a, "cancel", ok, headers)
        assert status == code and body["error"], (headers, status, body)
    status, body = post(a, "cancel", None, data=b"{" + b" " * MAX_BODY + b"}")
    assert status == 413, (status, body)
    for data in (b"not json", b"[1]", b'{"type": 1, "file": "x"}', b'{"type": "Nope", "file": "x.txt"}',
                 b'{"type": "Skills", "file": "../x.txt"}', b'{"type": "Skills", "file": ".hidden"}'):
        status, body = post(a, "cancel", None, data=data)
        assert status == 400 and body["error"], (data, status, body)
    assert post(a, "nope", ok)[0] == 404
    host, _, port = a.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=60) as slow:  # a body that never arrives in full
        slow.sendall(b"POST /api/actions/cancel HTTP/1.1\r\nHost: " + a.encode() + b"\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 100\r\n\r\n{\"type\"")
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := slow.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    for method in ("GET", "PUT", "DELETE"):
        req = urllib.request.Request(f"http://{a}/api/actions/cancel", method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(req, timeout=10)
        assert caught.value.code == 405 and caught.value.headers["Allow"] == "POST"
    assert "Traceback" not in service.output() and " ERROR " not in service.output()


def test_off_loopback_an_action_needs_the_token(service: ServiceProcess) -> None:
    port = free_port()
    service.args += ["--http", f"0.0.0.0:{port}"]
    service.env["AIMPORT_HTTP_TOKEN"] = "s3cret-token"
    service.start()
    a, ok = f"127.0.0.1:{port}", {"type": "Skills", "file": "none.txt"}
    assert post(a, "cancel", ok)[0] == 401
    assert post(a, "cancel", ok, {**JSON, "Authorization": "Bearer wrong"})[0] == 401
    assert post(a, "cancel", ok, {**JSON, "Authorization": "Bearer s3cret-token"})[0] == 404  # in, nothing to cancel
    page = {**JSON, "Cookie": "aimport_token=s3cret-token", "Origin": f"http://{a}"}
    assert post(a, "cancel", ok, page)[0] == 404
    assert post(a, "cancel", ok, {**page, "Origin": "http://evil.example"})[0] == 403
    assert "s3cret-token" not in service.output()


def test_an_older_audit_trail_takes_cancelled_rows_and_retry_of(tmp_path: Path) -> None:
    """An audit.sqlite written before ``cancelled`` and ``retry_of``: opened, it is brought up to date in place,
    its rows and ids kept (a pruned id is never given again)."""
    import sqlite3

    import anyio

    from aimport.store.audit import Audit
    from aimport.store.auditschema import SCHEMA

    path = tmp_path / "audit.sqlite"
    old = (SCHEMA.replace(",'cancelled'", "").replace(",\n    reverted_by INTEGER,\n    retry_of INTEGER", ""))
    assert "retry_of" not in old and "'cancelled'" not in old
    with sqlite3.connect(path) as conn:
        conn.executescript(old)
        for i in (1, 2, 3):
            conn.execute("INSERT INTO imports (id, import_type, file_name, status) VALUES (?, 'Skills', ?, 'failed')",
                         (i, f"f{i}.txt"))
        conn.execute("DELETE FROM imports WHERE id = 3")  # pruned: id 3 stays used

    async def use() -> tuple[int, int]:
        async with Audit(path) as audit:
            cancelled = await audit.record_cancelled("Skills", "c.txt", 10, "20260101_000000_c.txt", "admin")
            retried = await audit.start_import("Skills", "f1.txt", 10, "2026-01-01T00:00:00.000Z", "admin", retry_of=1)
        async with Audit(path):  # a second open finds it current
            pass
        return cancelled, retried

    cancelled, retried = anyio.run(use)
    assert (cancelled, retried) == (4, 5)
    rows = query(path, "SELECT id, file_name, status, retry_of FROM imports ORDER BY id")
    assert rows == [(1, "f1.txt", "failed", None), (2, "f2.txt", "failed", None), (4, "c.txt", "cancelled", None),
                    (5, "f1.txt", "in_process", 1)]
    assert {r[1] for r in query(path, "PRAGMA index_list(imports)")} >= {"ix_imports_status", "ix_imports_file"}
