"""The documentation site in a real browser: the pages a person meets first and looks things up in, at 1280 px and
on a 390 px phone, neither scroll sideways nor break a word (a setting's name, a flag) in the middle.

The site is built once with ``mkdocs build --strict`` (as ``.ci/run`` does) into a temporary folder and served
from a local ``http.server`` thread; Debian's Chromium opens it headless through Playwright (``tests/jobspage.py``).
Only requests to that server are let through: no web fonts, so the test is the same offline and on CI.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.jobspage import CHROMIUM_ARGS, NARROW, WIDE, chromium, playwright

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parent.parent
PAGES = {"landing": "", "settings": "reference/settings/", "cli": "reference/cli/", "jobs view": "operations/jobs-view/"}
GENERATED = {"landing", "settings", "cli"}  # pages whose code blocks are written to fit a phone

# Every place in the article where a word (letters, digits, _) continues on the next line: a name broken in the
# middle. Text in <pre> is left out (a code block keeps its lines and scrolls inside itself, never the page).
BROKEN_WORDS_JS = """() => {
  const out = [];
  const article = document.querySelector('article.md-content__inner');
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: (n) =>
    n.parentElement.closest('pre, script, style, .headerlink') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const range = document.createRange();
  const word = /[\\p{L}\\p{N}_]/u;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    if (range.getClientRects().length < 2) continue;  // on one line
    let prev = null, prevTop = null;
    for (let i = 0; i < node.data.length; i++) {
      const ch = node.data[i];
      if (/\\s/.test(ch)) { prev = ch; continue; }
      range.setStart(node, i); range.setEnd(node, i + 1);
      const r = range.getClientRects()[0];
      if (!r) continue;
      if (prevTop !== null && r.top > prevTop + r.height / 2 && word.test(prev) && word.test(ch))
        out.push(`${node.parentElement.tagName.toLowerCase()} "${node.data.trim().slice(0, 60)}" breaks at ${i}`);
      prev = ch; prevTop = r.top;
    }
  }
  return out;
}"""
# Code blocks wider than their box (they would scroll inside themselves: part of the text hidden).
OVERFLOWING_CODE_JS = """() => Array.from(document.querySelectorAll('article pre > code'))
  .filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent.split('\\n')[0].slice(0, 60))"""
# Headings of a setting or a command that take more than one line.
WRAPPED_NAMES_JS = """() => Array.from(document.querySelectorAll('h2.setting, h2.command, h3.command')).filter((h) => {
  const range = document.createRange(); range.selectNodeContents(h.firstChild);
  return range.getClientRects().length > 1;
}).map((h) => h.textContent)"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on 127.0.0.1; yields its base URL."""
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.fail("mkdocs is not installed: scripts/test installs the docs extra (pip install -e .[docs])")
    out = tmp_path_factory.mktemp("docs") / "site"
    r = subprocess.run([str(mkdocs), "build", "--strict", "-q", "-d", str(out)], cwd=REPO, capture_output=True,
                       text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert r.returncode == 0, r.stdout + r.stderr

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    exe = chromium()
    with playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280px", "390px"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_its_width_and_breaks_no_word(site: str, chromium_browser: Any, name: str,
                                                viewport: dict[str, int]) -> None:
    page = chromium_browser.new_page(viewport=viewport)
    try:
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site) else route.abort())
        response = page.goto(site + PAGES[name], wait_until="load")
        assert response is not None and response.ok, PAGES[name]
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{name} scrolls sideways: {width[0]} px of content in a {width[1]} px window"
        assert page.evaluate(BROKEN_WORDS_JS) == []
        if name in GENERATED:
            assert page.evaluate(OVERFLOWING_CODE_JS) == []
        if name in ("settings", "cli"):
            names = page.locator("h2.setting, h2.command, h3.command")
            assert names.count() >= (30 if name == "settings" else 10)
            assert page.evaluate(WRAPPED_NAMES_JS) == []
            font = page.evaluate("() => getComputedStyle(document.querySelector('h2.setting, h2.command')).fontFamily")
            assert "Mono" in font or "monospace" in font, "docs/stylesheets/extra.css is not applied"
        if name == "landing":
            figure = page.locator("img.file-way")
            assert figure.count() == 1 and page.evaluate(
                "() => document.querySelector('img.file-way').naturalWidth") > 0, "the picture of a file's way"
            box = figure.bounding_box()
            assert box is not None and box["width"] >= min(300, viewport["width"] - 40), box  # readable on a phone
            assert page.evaluate("() => document.querySelector('img[src$=\"jobs-view.png\"]').naturalWidth") > 0
    finally:
        page.close()
