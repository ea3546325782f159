"""``python -m aimport``: the command line.

Worker processes load the parent's main module as ``__mp_main__``; the import of the command line is
guarded as well, so that a worker does not carry the CLI and everything it loads (about 5 MB resident).

Run with a Python that lacks aimport's dependencies (the system's ``python3`` in the repository root finds the
``aimport`` folder, but not the packages installed into ``.venv``), it says in one line what to run instead.
"""

from __future__ import annotations

import sys

__all__ = ["missing_dependency"]


def missing_dependency(exc: ModuleNotFoundError) -> str:
    """The one-line error for a dependency this Python does not have."""
    return (f"aimport: {sys.executable} does not have aimport's dependency {exc.name!r}: run .venv/bin/aimport "
            "or .venv/bin/python -m aimport (scripts/run creates .venv), or install it into this Python: pip install -e .")


if __name__ == "__main__":
    try:
        from aimport.cli import main

        code = main()
    except ModuleNotFoundError as exc:
        if (exc.name or "aimport").partition(".")[0] == "aimport":
            raise  # a module of aimport itself: a broken install, the traceback tells
        print(missing_dependency(exc), file=sys.stderr)
        code = 1
    raise SystemExit(code)
