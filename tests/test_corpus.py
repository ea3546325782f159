"""Issue 25: 72 real workbooks from public spreadsheet test corpora (fixtures/corpus/, see its LICENSES.md),
each dropped into four type folders of the real service: every one ends with a clear status and code, never
INTERNAL_ERROR / WORKER_CRASHED, a hang, a traceback or a stopped service.

None of the files was written for aimport, so most fail (NO_HEADER, MISSING_COLUMN, NO_ROWS, ...); that is
the expected outcome, as is succeeded/partial where a header happens to fit. The files are the published
bytes: their sha256 is checked against fixtures/corpus/MANIFEST.tsv.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from aimport.errors import BY_CODE
from tests.helpers import drop, result_of, wait_for
from tests.serviceprocess import ServiceProcess

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
TYPES = ("Skills", "Directory", "Configuration", "OutboundCampaign")
NOT_CLEAR = {"INTERNAL_ERROR", "WORKER_CRASHED"}
DEADLINE_S = 180.0  # all 288 imports: about 5 s on 2 cores today; a hang shows as the list of unfinished files


def manifest() -> list[dict[str, str]]:
    with open(CORPUS / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def copy_name(import_type: str, file: str) -> str:
    """A name of its own per folder; in OutboundCampaign the stem names the campaign, so it is unique there too."""
    return f"{import_type}-{file}"


def test_corpus_files_are_the_published_bytes() -> None:
    rows = manifest()
    assert len(rows) == 72
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix in (".xlsx", ".xlsm")}
    assert on_disk == {r["file"] for r in rows}, "fixtures/corpus/ and its MANIFEST.tsv disagree"
    changed = [r["file"] for r in rows if hashlib.sha256((CORPUS / r["file"]).read_bytes()).hexdigest() != r["sha256"]]
    assert changed == [], f"not the published bytes (sha256 differs from MANIFEST.tsv): {changed}"
    licenses = (CORPUS / "LICENSES.md").read_text(encoding="utf-8")
    assert all(r["license"] in licenses for r in rows)


def _finished(service: ServiceProcess) -> dict[tuple[str, str], Path]:
    """(type, dropped name) -> History data file, for every import whose .result is written."""
    out = {}
    for t in TYPES:
        hist = service.layout.history_dir(t)
        for p in hist.iterdir() if hist.is_dir() else ():
            if p.name.endswith(".result"):
                data = p.with_name(p.name.removesuffix(".result"))
                out[(t, data.name[len("yyyyMMdd_HHmmss_"):])] = data
    return out


def _error_line(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    line = next((line for line in lines if " ERROR " in line), "")
    return line.split(" ", 2)[2] if line.count(" ") >= 2 else line  # without the time stamp


@pytest.mark.e2e
def test_every_corpus_file_ends_clearly_in_every_type(service: ServiceProcess, tmp_path: Path) -> None:
    """288 imports through the real service, at most 2 at once (the default), settle 200 ms."""
    files = [r["file"] for r in manifest()]
    expected = {(t, copy_name(t, f)): f for t in TYPES for f in files}
    stage = tmp_path / "stage"
    stage.mkdir()
    for (_, name), f in expected.items():
        shutil.copyfile(CORPUS / f, stage / name)
    service.args += ["--max-concurrent", "2"]
    service.start()
    started = time.monotonic()
    for t, name in expected:
        drop(stage / name, service.layout.type_dir(t))

    def all_done() -> bool:
        assert service.proc is not None
        if service.proc.poll() is not None:
            raise AssertionError(f"service exited {service.proc.returncode} mid-corpus:\n{service.output()[-3000:]}")
        return len(_finished(service).keys() & expected.keys()) == len(expected)

    try:
        wait_for(all_done, DEADLINE_S, interval=0.5, what="all 288 corpus imports")
    except AssertionError as exc:
        pending = sorted(expected.keys() - _finished(service).keys())
        raise AssertionError(f"{exc}; {len(pending)} never finished (no .result in History/):\n"
                             + "\n".join(f"  {t:17} {name}" for t, name in pending)) from None
    took = time.monotonic() - started

    done = _finished(service)
    bad = []
    outcomes: dict[str, int] = {}
    for t, name in sorted(expected):
        hist = done[(t, name)]
        status = result_of(hist).get("status", "")
        err = hist.with_name(hist.name + ".err")
        code = err.read_text(encoding="utf-8").strip() if err.exists() else ""
        log = hist.with_name(hist.name + ".log")
        traceback = log.exists() and "Traceback" in log.read_text(encoding="utf-8", errors="replace")
        outcomes[f"{t} {status}/{code or '-'}"] = outcomes.get(f"{t} {status}/{code or '-'}", 0) + 1
        clear = (status in ("succeeded", "partial") or (status == "failed" and code in BY_CODE)) and code not in NOT_CLEAR
        if not clear or traceback:
            bad.append((expected[(t, name)], t, f"{status}/{code or '-'}" + (" +Traceback" if traceback else ""),
                        _error_line(log)))
    print(f"\n{len(expected)} corpus imports in {took:.0f} s:", *(f"{n:4} {k}" for k, n in sorted(outcomes.items())),
          sep="\n")  # the outcome counts (pytest -s shows them)
    rows = [("file", "type", "status/code", ".log ERROR line"), *bad]
    table = "\n".join(f"  {f:58} {t:17} {sc:28} {line}" for f, t, sc, line in rows)
    assert bad == [], f"{len(bad)} of {len(expected)} imports did not end clearly ({took:.0f} s):\n{table}"

    assert service.proc is not None and service.proc.poll() is None, "the service stopped"
    with urllib.request.urlopen(f"http://{service.http}/healthz", timeout=5) as r:
        assert r.status == 200
    assert "Traceback" not in service.output(), service.output()[-5000:]
