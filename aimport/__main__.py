"""``python -m aimport``: the command line.

Worker processes load the parent's main module as ``__mp_main__``; the import of the command line is
guarded as well, so that a worker does not carry the CLI and everything it loads (about 5 MB resident).
"""

if __name__ == "__main__":
    from aimport.cli import main

    raise SystemExit(main())
