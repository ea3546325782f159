"""Control characters in file names (issue 26, item 2): a name is shown escaped, by one rule, in every file and view
that shows it (.log, .result, .err, the service log, `aimport audit` and `status`, the jobs view), so a name cannot
forge a line: the report was a file named ``x\\n2026-12-06 17:48:14 REJECT  sheet 'FORGED' row 999 ...`` whose
succeeded import got a fake rejected row in its .log and in the jobs view."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, drop, write_text
from tests.serviceprocess import ServiceProcess

FORGED_LINE = "2026-12-06 17:48:14 REJECT  sheet 'FORGED' row 999 column Name: forged"
# (the name on disk, how every view shows it): each kind of character that must not reach a line as it is
NAMES = [
    (f"x\n{FORGED_LINE}.txt", f"x\\n{FORGED_LINE}.txt"),
    (f"cr\r{FORGED_LINE}.txt", f"cr\\r{FORGED_LINE}.txt"),
    ("tab\tname.txt", "tab\\tname.txt"),
    ("esc\x1b[31mred\x1b[0m.txt", "esc\\x1b[31mred\\x1b[0m.txt"),
    ("c0 \x01\x07\x08\x0b\x0c\x1c\x1e\x1f\x7f.txt", "c0 \\x01\\x07\\x08\\x0b\\x0c\\x1c\\x1e\\x1f\\x7f.txt"),
    ("c1 \x85\x9b31m\x80\x9f.txt", "c1 \\x85\\x9b31m\\x80\\x9f.txt"),
    (f"ls\u2028{FORGED_LINE}.txt", f"ls\\u2028{FORGED_LINE}.txt"),
    ("ps\u2029bidi \u202etxt.exe\u202c.txt", "ps\\u2029bidi \\u202etxt.exe\\u202c.txt"),
]
FAILING = ("bad\x1b]0;title\x07\n.txt", "bad\\x1b]0;title\\x07\\n.txt")  # wrong header: a failed import with a .err
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR|REJECT) +\S.*")


def raw_controls(text: str) -> list[str]:
    """Characters in ``text`` (a line break aside) that no view may show as they are: controls, line and paragraph
    separators, bidirectional controls."""
    return [f"U+{ord(c):04X}" for c in text if c != "\n" and (unicodedata.category(c) in ("Cc", "Zl", "Zp")
                                                                  or unicodedata.bidirectional(c) in
                                                                  ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI",
                                                                   "FSI", "PDI"))]


def texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def api(address: str, path: str) -> Any:
    with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as r:
        return json.loads(r.read())


def shown_by(cli: Cli, svc: ServiceProcess, *args: str) -> str:
    """What ``aimport ARGS`` prints about the service's state directory."""
    r = cli(*args, "--state-dir", svc.state)
    assert r.returncode == 0, r.stderr
    return r.stdout


def side_files(svc: ServiceProcess, name: str) -> dict[str, str]:
    [data] = [p for p in svc.wait_done("Skills", name) if not p.name.endswith((".log", ".result", ".err"))]
    out = {}
    for ext in (".log", ".result", ".err"):
        side = data.with_name(data.name + ext)
        if side.exists():
            out[ext] = side.read_text(encoding="utf-8")
    return out


@pytest.mark.e2e
def test_every_kind_of_control_character_in_a_name_is_escaped_everywhere(service: ServiceProcess, cli: Cli,
                                                                         tmp_path: Path) -> None:
    service.start()
    folder = service.layout.type_dir("Skills")
    src = tmp_path / "src"
    src.mkdir()
    for i, (name, _) in enumerate(NAMES):
        drop(write_text(src / name, [["Name", "Description"], [f"Skill {i}", "fine"]]), folder)
    drop(write_text(src / FAILING[0], [["Nope"], ["x"]]), folder)
    plain = write_text(src / "plain.txt", [["Name", "Description"], ["Plain", "fine"]])
    drop(plain, folder)
    reference = side_files(service, "plain.txt")
    for name, shown in [*NAMES, FAILING]:
        files = side_files(service, name)  # archived and its audit row finished: now the view lists it
        imports = {r["id"]: r for r in api(service.http, "/api/imports?limit=100")["imports"]}
        failed = name == FAILING[0]
        log_lines = files[".log"].splitlines()
        assert all(LOG_LINE.fullmatch(line) for line in log_lines), log_lines  # no line is forged or broken
        assert [line for line in log_lines if line[20:26] == "REJECT"] == [], log_lines  # a rejected row's level
        assert any(shown in line for line in log_lines) and raw_controls(files[".log"]) == []
        if not failed:
            assert len(log_lines) == len(reference[".log"].splitlines())
        result = files[".result"].splitlines()
        assert f"file: {shown}" in result, result  # (a backslash in the name itself would be doubled there)
        assert [line for line in result if line.startswith("status:")] == ["status: failed" if failed else "status: succeeded"]
        assert failed or len(result) == len(reference[".result"].splitlines())  # (its sheet is named after the file)
        assert raw_controls(files[".result"]) == []
        assert (files.get(".err") or "") == ("NO_HEADER\n" if failed else ""), files.get(".err")
        [row] = [r for r in imports.values() if r["file_name"] == shown]  # the jobs view shows the escaped name
        detail = api(service.http, f"/api/imports/{row['id']}")
        assert detail["rejected"] == [] and detail["rejected_total"] == 0  # no fake rejected row
        assert all(LOG_LINE.fullmatch(line) for line in detail["log"]["lines"]) and \
            not [line for line in detail["log"]["lines"] if line[20:26] == "REJECT"]
        assert raw_controls("".join(texts(detail))) == [] and detail["row"]["file_name"] == shown
        assert shown in [e["detail"].get("file") for e in detail["events"]]
    assert raw_controls("".join(texts(api(service.http, "/api/imports?limit=100")))) == []
    assert raw_controls("".join(texts(api(service.http, "/api/summary")))) == []
    views = {"service log": service.output(), "audit": shown_by(cli, service, "audit", "--limit", "100"),
             "audit tail": shown_by(cli, service, "audit", "tail", "--limit", "1000"),
             "audit show": shown_by(cli, service, "audit", "show", str(max(imports))), "status": shown_by(cli, service, "status"),
             "audit csv": shown_by(cli, service, "audit", "--csv", "--limit", "100"),
             "audit json": shown_by(cli, service, "audit", "--json", "--limit", "100"), "status json": shown_by(cli, service, "status", "--json")}
    exact = {r["file_name"] for r in json.loads(views["audit json"])}  # JSON keeps the exact name, as \u escapes
    assert {name for name, _ in [*NAMES, FAILING]} <= exact
    for view, text in views.items():
        assert raw_controls(text) == [], view
        assert not [line for line in text.splitlines() if line.startswith(FORGED_LINE[:40])], view
    for _, shown in NAMES[:1] + NAMES[-2:]:
        assert shown in views["service log"] and shown in views["audit"] and shown in views["status"]


def test_the_service_log_escapes_in_both_formats(capsys: pytest.CaptureFixture[str]) -> None:
    from aimport import servicelog

    for fmt in ("text", "json"):
        log = servicelog.setup(fmt)
        for name, _ in [*NAMES, FAILING]:
            log.info(f"importing {name}", extra={"file": name})
        out = capsys.readouterr().out
        assert raw_controls(out) == [] and len(out.splitlines()) == len(NAMES) + 1, fmt
        if fmt == "json":
            assert [json.loads(line)["file"] for line in out.splitlines()] == [s for _, s in [*NAMES, FAILING]]
    logging.getLogger(servicelog.LOGGER).handlers.clear()


def test_the_one_rule_escapes_every_kind_and_is_idempotent() -> None:
    from aimport.names import display_name

    kinds = [*map(chr, range(0x00, 0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u2028", "\u2029", "\u061c",
             "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
    for c in kinds:
        shown = display_name(f"a{c}b.txt")
        assert raw_controls(shown) == [] and shown.isprintable() and display_name(shown) == shown, repr(c)
        assert shown.startswith("a\\") and shown.endswith("b.txt"), shown
    assert display_name("plain é ü 日本.txt") == "plain é ü 日本.txt"  # printable text stays as it is
    assert display_name(b"caf\xe9.txt".decode("utf-8", "surrogateescape")) == "caf\\xe9.txt"  # not UTF-8
