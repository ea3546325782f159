"""The jobs view's pieces on their own: request parsing, the access rule, REJECT lines, safe .log reading."""

from __future__ import annotations

import os
from pathlib import Path

from aimport.importing.worklog import ImportLog
from aimport.settings import Settings
from aimport.web.auth import Access, is_loopback
from aimport.web.logpages import read_log, rejected_rows
from aimport.web.request import Request, request_of


def scope(target: bytes, *headers: tuple[bytes, bytes], method: str = "GET") -> dict[str, object]:
    """An ASGI scope as Hypercorn builds it from ``target`` (the request line and headers are h11's to check)."""
    path, _, query = target.partition(b"?")
    return {"type": "http", "http_version": "1.1", "method": method, "raw_path": path, "path": "",
            "query_string": query, "headers": list(headers), "client": ("127.0.0.1", 5000)}


def parse(head: bytes) -> Request | None:
    line, *rest = head.split(b"\r\n")
    target = line.split(b" ")[1]
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (h.partition(b":") for h in rest if h)]
    return request_of(scope(target, *headers))


def test_requests_are_parsed_or_refused() -> None:
    r = parse(b"GET /api/imports?type=Skills&status=&type=Queues HTTP/1.1\r\nHost: x\r\nCookie: a=1; aimport_token=t%20k\r\n\r\n")
    assert r is not None and r.method == "GET" and r.path == "/api/imports" and r.repeated == {"type"}
    assert r.query == {"type": "Skills", "status": ""} and r.headers["host"] == "x" and r.cookie("aimport_token") == "t k"
    assert parse(b"GET /a%20b HTTP/1.0\r\n\r\n").path == "/a b"  # type: ignore[union-attr]
    for junk in (b"GET http://x/ HTTP/1.1", b"GET /%ff HTTP/1.1", b"GET /%00 HTTP/1.1", b"GET /?q=%ff HTTP/1.1",
                 "GET /\u00e9 HTTP/1.1".encode(), b"GET /?" + b"&".join(b"p%d=1" % i for i in range(40)) + b" HTTP/1.1"):
        assert parse(junk) is None, junk


def test_who_may_read() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("example.org")
    local = parse(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
    rebound = parse(b"GET / HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n")
    bearer = parse(b"GET / HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer tok\r\n\r\n")
    assert local and rebound and bearer
    open_ = Access.of(Settings(), "127.0.0.1")
    assert open_.check(local) is None and open_.check(rebound).status_code == 403  # type: ignore[union-attr]
    off = Access.of(Settings(), "0.0.0.0")
    assert not off.view_on and off.check(local).status_code == 403 and off.metrics_open(local)  # type: ignore[union-attr]
    tokened = Access.of(Settings(http_token="tok", metrics_public=False), "0.0.0.0")
    assert tokened.check(bearer) is None and tokened.check(local).status_code == 401  # type: ignore[union-attr]
    assert not tokened.metrics_open(local) and tokened.metrics_open(bearer)
    assert "tok" not in repr(Settings(http_token="tok"))


def test_who_may_act() -> None:
    """Actions: the view's rule, from the page's own origin only, with a JSON body; who asked is recorded."""
    def post(*headers: bytes) -> Request:
        r = parse(b"POST /api/actions/retry HTTP/1.1\r\n" + b"\r\n".join(headers) + b"\r\n\r\n")
        assert r is not None
        return r

    json_ = b"Content-Type: application/json"
    local = Access.of(Settings(), "127.0.0.1")
    assert local.may_act(post(b"Host: 127.0.0.1:8080", json_)) is None  # a script on the host (no Origin)
    assert local.may_act(post(b"Host: 127.0.0.1:8080", json_, b"Origin: http://127.0.0.1:8080")) is None  # the page
    assert local.who(post(b"Host: 127.0.0.1:8080")) == "loopback"
    for bad, code in [((b"Host: 127.0.0.1:8080", json_, b"Origin: http://evil.example"), 403),
                      ((b"Host: 127.0.0.1:8080", json_, b"Origin: null"), 403),
                      ((b"Host: 127.0.0.1:8080", json_, b"Origin: http://127.0.0.1:9999"), 403),
                      ((b"Host: 127.0.0.1:8080", json_, b"Sec-Fetch-Site: cross-site"), 403),
                      ((b"Host: 127.0.0.1:8080", b"Content-Type: text/plain"), 415),
                      ((b"Host: 127.0.0.1:8080",), 415),
                      ((b"Host: evil.example", json_), 403)]:
        assert local.may_act(post(*bad)).status_code == code, bad  # type: ignore[union-attr]
    tokened = Access.of(Settings(http_token="tok"), "0.0.0.0")
    assert tokened.may_act(post(b"Host: 10.0.0.1:8080", json_)).status_code == 401  # type: ignore[union-attr]
    cookie = post(b"Host: 10.0.0.1:8080", json_, b"Origin: http://10.0.0.1:8080", b"Cookie: aimport_token=tok")
    assert tokened.may_act(cookie) is None and tokened.who(cookie) == "token"


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


def test_an_import_in_process_is_estimated_to_finish_at_its_rate_so_far() -> None:
    """Issue 28, item 5: reading then storing, about twice the rows; the finish at the rate of rows so far."""
    import datetime as dt

    from aimport.web.runningimports import estimate_finish

    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    # 1,000 of 4,000 rows read in a minute: 7,000 of 8,000 rows of work left, 7 more minutes
    assert estimate_finish(start, "reading Skills", 1000, 4000, start + minute) == start + 8 * minute
    # all 4,000 read and 2,000 stored in 6 minutes: 2,000 of work left at 1,000 a minute
    assert estimate_finish(start, "storing Skills", 2000, 4000, start + 6 * minute) == start + 8 * minute
    assert estimate_finish(start, "storing Skills", 5000, 4000, start + 6 * minute) == start + 6 * minute  # done: now
    for phase, rows, total in (("reading Skills", 0, 4000), ("reading Skills", 10, None), ("checking", 10, 40)):
        assert estimate_finish(start, phase, rows, total, start + minute) is None  # nothing to go on


def test_the_reason_an_import_failed_is_its_first_error_line(tmp_path: Path) -> None:
    from aimport.web.logpages import load_log

    log = ImportLog(tmp_path / "w.log")
    log.info("importing x")
    log.warning("sheet 'Notes' is not a configuration sheet and was skipped")
    log.error("the header row has no identification column")
    log.error("a second error")
    log.close()
    index = load_log(tmp_path / "w.log", tmp_path)
    assert not isinstance(index, str) and index.first_error() == "the header row has no identification column"
    (tmp_path / "ok.log").write_text("2026-01-01 00:00:00 INFO    ERROR in a line of INFO is not an error\n")
    ok = load_log(tmp_path / "ok.log", tmp_path)
    assert not isinstance(ok, str) and ok.first_error() == ""
