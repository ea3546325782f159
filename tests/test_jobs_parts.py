"""The jobs view's pieces on their own: request parsing, the access rule, REJECT lines, safe .log reading."""

from __future__ import annotations

import os
from pathlib import Path

from aimport.importing.worklog import ImportLog
from aimport.settings import Settings
from aimport.web.auth import Access, is_loopback
from aimport.web.httpio import parse
from aimport.web.importlog import read_log, rejected_rows


def test_requests_are_parsed_or_refused() -> None:
    r = parse(b"GET /api/imports?type=Skills&status=&type=Queues HTTP/1.1\r\nHost: x\r\nCookie: a=1; aimport_token=t%20k\r\n\r\n")
    assert r is not None and r.method == "GET" and r.path == "/api/imports"
    assert r.query == {"type": "Skills", "status": ""} and r.headers["host"] == "x" and r.cookie("aimport_token") == "t k"
    assert parse(b"GET /a%20b HTTP/1.0\r\n\r\n").path == "/a b"  # type: ignore[union-attr]
    for junk in (b"", b"GET / HTTP/1.1\r\n", b"GET / HTTP/2\r\n\r\n", b"GET  / HTTP/1.1\r\n\r\n", b"GET http://x/ HTTP/1.1\r\n\r\n",
                 b"GET /%ff HTTP/1.1\r\n\r\n", b"GET /%00 HTTP/1.1\r\n\r\n", b"G3T / HTTP/1.1\r\n\r\n",
                 b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", "GET /\u00e9 HTTP/1.1\r\n\r\n".encode()):
        assert parse(junk) is None, junk


def test_who_may_read() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("example.org")
    local = parse(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
    rebound = parse(b"GET / HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n")
    bearer = parse(b"GET / HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer tok\r\n\r\n")
    assert local and rebound and bearer
    open_ = Access.of(Settings(), "127.0.0.1")
    assert open_.check(local) is None and open_.check(rebound).status == 403  # type: ignore[union-attr]
    off = Access.of(Settings(), "0.0.0.0")
    assert not off.view_on and off.check(local).status == 403 and off.metrics_open(local)  # type: ignore[union-attr]
    tokened = Access.of(Settings(http_token="tok", metrics_public=False), "0.0.0.0")
    assert tokened.check(bearer) is None and tokened.check(local).status == 401  # type: ignore[union-attr]
    assert not tokened.metrics_open(local) and tokened.metrics_open(bearer)
    assert "tok" not in repr(Settings(http_token="tok"))


def test_reject_lines_become_rows(tmp_path: Path) -> None:
    log = ImportLog(tmp_path / "w.log")
    log.info("importing x")
    log.rejected("Skills", 7, "Name", "Name is mandatory")
    log.rejected("it's \"odd\": yes", 8, None, "one of A, B is needed: none given")
    log.rejected("S", 9, "Col: with colon", "bad value")
    log.warning("REJECT in a warning is not a rejected row")
    log.close()
    rows = rejected_rows((tmp_path / "w.log").read_text().splitlines())
    assert [(r.sheet, r.row, r.column, r.reason) for r in rows] == [
        ("Skills", 7, "Name", "Name is mandatory"),
        ("it's \"odd\": yes", 8, "", "one of A, B is needed: none given"),
        ("S", 9, "Col", "with colon: bad value"),  # a column name with ": " is ambiguous: the first ": " ends it
    ]


def test_logs_are_read_only_from_their_folder(tmp_path: Path) -> None:
    folder = tmp_path / "History"
    folder.mkdir()
    (folder / "a.log").write_text("2026-01-01 00:00:00 INFO    hello\n")
    assert read_log(folder / "a.log", folder, "history").lines == ["2026-01-01 00:00:00 INFO    hello"]
    assert read_log(folder / ".." / "a.log", folder, "history").problem
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.log").write_text("secret\n")
    os.symlink(tmp_path / "elsewhere", tmp_path / "linked")
    assert read_log(tmp_path / "linked" / "b.log", tmp_path / "linked", "history").problem == "the folder is a link"
    assert read_log(folder / "missing.log", folder, "history").problem
