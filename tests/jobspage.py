"""The jobs view in a real browser, shared by its browser tests: Debian's Chromium, headless, driven by Playwright
(never its own browser download), and the layout checks a page must pass at 1280 and at 390 px.

A test module takes the fixture by naming it: ``browser = jobspage.browser``. Skipped only where Chromium is
not installed and this is not CI (with ``CI`` set a missing browser fails): ``apt-get install -y chromium``
provides /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_for

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}  # a phone held upright
# What does not fit a page at its width: the page scrolls sideways, an element reaches past the window's edge
# (but inside a card's own scroll box: a wide table scrolls there; not at 1280 px), a box that hides its overflow
# hides text, or chart text is smaller than 9 px as shown. The page's CSP forbids string evaluation: this is a function.
LAYOUT_JS = """(tablesFit) => {
  const out = [], W = window.innerWidth;
  const root = document.documentElement;
  if (root.scrollWidth > W) out.push(`the page is ${root.scrollWidth} px wide in a ${W} px window`);
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '');
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('[hidden], dialog:not([open])') || e.closest('.scroll, pre') !== null && !e.matches('.scroll, pre')) continue;
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    if (r.right > W + 1 || r.left < -1) out.push(`${name(e)} reaches ${Math.round(r.left)}..${Math.round(r.right)} of ${W}`);
    const s = getComputedStyle(e);
    const hides = ['hidden', 'clip'].includes(s.overflowX) || s.textOverflow === 'ellipsis';
    if (hides && e.scrollWidth > e.clientWidth + 1) out.push(`${name(e)} hides ${e.scrollWidth - e.clientWidth} px of its text`);
  }
  for (const s of document.querySelectorAll('.scroll')) {
    if (tablesFit && s.offsetParent !== null && s.scrollWidth > s.clientWidth + 1) out.push(`${name(s.firstElementChild)} scrolls in its card`);
  }
  for (const t of document.querySelectorAll('#chart text')) {
    const h = t.getBoundingClientRect().height;
    if (h && h < 9) out.push(`chart text "${t.textContent}" is ${h.toFixed(1)} px high`);
  }
  return out;
}"""


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing on CI: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return path


@contextmanager
def playwright() -> Iterator[Any]:
    """Playwright's sync API, started; a test is skipped where playwright is not installed (never on CI)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -e .[test])")
    with sync_playwright() as p:
        yield p


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A fresh headless Chromium context (own profile folder); every page's dialogs and console errors recorded."""
    exe = chromium()
    with playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=exe, headless=True, args=CHROMIUM_ARGS, viewport=WIDE)
        context.set_default_timeout(30_000)
        context.dialogs, context.errors = [], []  # type: ignore[attr-defined]

        def watch(page: Any) -> None:
            page.on("dialog", lambda d: (context.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
            page.on("console", lambda m: context.errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
            page.on("pageerror", lambda e: context.errors.append(str(e)))  # type: ignore[attr-defined]

        context.on("page", watch)
        for page in context.pages:
            watch(page)
        try:
            yield context
        finally:
            context.close()


def page_of(context: Any) -> Any:
    return context.pages[0] if context.pages else context.new_page()


CHART_DRAWN_JS = """() => { const c = document.getElementById('chart');
  return !c || c.offsetParent === null || c.dataset.width === String(Math.floor(c.clientWidth)); }"""


def resize(page: Any, size: dict[str, int]) -> None:
    """Show the page at ``size`` (WIDE, NARROW) and wait until the chart is drawn for that width."""
    page.set_viewport_size(size)
    wait_for(lambda: page.evaluate(CHART_DRAWN_JS), 10, what=f"the chart drawn at {size['width']} px")


def layout_problems(page: Any) -> list[str]:
    """What does not fit the page at its current width (empty: everything fits); at 1280 px and more, a table
    that needs its card's scroll bar too."""
    return page.evaluate(LAYOUT_JS, page.viewport_size["width"] >= WIDE["width"])  # type: ignore[no-any-return]


def rows_of(page: Any, table: str) -> list[str]:
    """The ``data-file`` of each row of the overview's table ``table`` (queued, held, running, recent)."""
    return page.evaluate(f"() => Array.from(document.querySelectorAll('#{table} tbody tr')).map((r) => r.dataset.file)")  # type: ignore[no-any-return]


def wait_rows(page: Any, table: str, predicate: Any, what: str, timeout: float = 60) -> list[str]:
    """The rows of ``table`` (as :func:`rows_of`) once ``predicate`` holds for them (an empty list may be the aim)."""
    return wait_for(lambda: (lambda rows: (rows,) if predicate(rows) else None)(rows_of(page, table)), timeout, what=what)[0]  # type: ignore[no-any-return]
