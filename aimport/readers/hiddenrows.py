"""Hidden data rows (by a filter, by hand, in a collapsed outline) under the ``hidden_rows`` setting.

``import`` (the default) keeps them, as every spreadsheet program's text export does; ``skip`` leaves them
out; ``reject`` makes each one a rejected row. Either way they are counted and named in one WARNING.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from aimport.readers.base import Block, Row

__all__ = ["POLICIES", "REASON", "HiddenRows", "row_ranges"]

POLICIES = ("import", "skip", "reject")
REASON = "the row is hidden in the sheet (setting hidden_rows: reject)"


def row_ranges(rows: Iterable[int], most: int = 20) -> str:
    """``5, 7-8`` for rows 5, 7 and 8 (the first ``most`` ranges, then ``...``)."""
    out: list[str] = []
    start = prev = None
    for n in sorted(rows):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out[:most]) + (", ..." if len(out) > most else "")


class HiddenRows:
    """Follows the data rows of one sheet: which of them are hidden, and leaves them out unless imported."""

    def __init__(self, hidden: frozenset[int], policy: str = "import") -> None:
        self.hidden = hidden
        self.policy = policy if policy in POLICIES else "import"
        self.seen: list[int] = []  # hidden data rows met, in order

    def blocks(self, blocks: Iterable[Block]) -> Iterator[Block]:
        """The blocks, hidden rows noted (and left out with ``skip`` or ``reject``)."""
        hidden = self.hidden
        for nos, rows in blocks:
            if hidden and not hidden.isdisjoint(nos):
                here = [i for i, n in enumerate(nos) if n in hidden]
                self.seen += [nos[i] for i in here]
                if self.policy != "import":
                    drop = set(here)
                    keep = [i for i in range(len(rows)) if i not in drop]
                    nos, rows = [nos[i] for i in keep], [rows[i] for i in keep]
                    if not rows:
                        continue
            yield nos, rows

    def pairs(self, pairs: Iterable[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
        """The same over ``(row number, row)`` pairs."""
        for row_no, row in pairs:
            if row_no in self.hidden:
                self.seen.append(row_no)
                if self.policy != "import":
                    continue
            yield row_no, row

    def message(self, sheet: str) -> str | None:
        """The WARNING naming the hidden data rows and what was done with them (None: none met)."""
        if not self.seen:
            return None
        n = len(self.seen)
        rows = f"{n} row{'s' if n > 1 else ''} {'are' if n > 1 else 'is'} hidden (row{'s' if n > 1 else ''} " \
               f"{row_ranges(self.seen)})"
        done = {"import": "they were imported", "skip": "they were skipped",
                "reject": "they were rejected"}[self.policy] if n > 1 else {
            "import": "it was imported", "skip": "it was skipped", "reject": "it was rejected"}[self.policy]
        return f"sheet {sheet!r}: {rows}; {done} (setting hidden_rows: import, skip or reject)"
