"""The settings reference (docs/reference/settings.md): one section per setting, from ``aimport.settings``.

Each section gives what the setting does, when to change it (``SettingDoc.when``; a generic line when a new
setting has none yet), its default, its flag (from the ``run`` parser), environment variable and TOML key.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["NO_ADVICE", "flag_usage", "settings_page", "subparsers"]

CHOICES_WIDTH = 24  # longer choices (a|b|c|...) would not fit a phone's line: a word, and "One of" in the text
NO_ADVICE = "the default suits most installations; change it only for the reason the description gives"
INTRO = ("Flags override `AIMPORT_*` environment variables, which override an optional TOML file (`--config FILE` or "
         "`AIMPORT_CONFIG`; keys are the names below, at the top level or under `[aimport]`). The commands that "
         "read a service's state (`status`, `audit`, `campaign`, `export`, `import`, `check`) take root, server "
         "and unit last from what `aimport run` recorded in `STATE/service.json`.")


def subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def metavar(action: argparse.Action) -> str:
    """What follows an option on the command line: its choices, or a short upper-case word."""
    if action.metavar:
        return str(action.metavar)
    if action.choices and len(choices := "|".join(str(c) for c in action.choices)) <= CHOICES_WIDTH:
        return choices
    if action.type in (int, float):
        return "N"
    word = (action.dest or "value").rsplit("_", 1)[-1].upper()
    return "FILE" if action.type is Path and word == "CONFIG" else word


def flag_usage(action: argparse.Action) -> str:
    """``-o, --output FILE`` for an option, ``--poll`` for a switch (as the parser declares them)."""
    names = list(action.option_strings)
    if action.nargs == 0:
        return ", ".join(names)
    return ", ".join(names) + " " + metavar(action)


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value in (None, ""):
        return "none"
    return str(value)


def settings_page() -> str:
    from aimport.cli import build_parser
    from aimport.settingdocs import SETTING_DOCS
    from aimport.settings import Settings, setting_names

    run = subparsers(build_parser())["run"]
    flags: dict[str, list[argparse.Action]] = {}
    for action in run._actions:
        if action.dest and action.option_strings and action.dest != "help":
            flags.setdefault(action.dest, []).append(action)
    names = setting_names()
    missing = [n for n in names if n not in SETTING_DOCS]
    if missing:
        raise SystemExit(f"aimport.settingdocs.SETTING_DOCS has no meaning for: {', '.join(missing)}")
    defaults = Settings()
    out = ["# Settings", "", INTRO, "",
           "On this page: " + " · ".join(f"[{n}](#{n})" for n in names) + ".", ""]
    for name in names:
        doc = SETTING_DOCS[name]
        # a described default ("host name", "0 (off)") as text, a value as code
        default = doc.default if doc.default is not None else f"`{shown(getattr(defaults, name, None))}`"
        when = getattr(doc, "when", "") or NO_ADVICE
        flag = " or ".join(f"`{flag_usage(a)}`" for a in flags.get(name, [])) or "none: environment or TOML file only"
        out += [f"## {name} {{ #{name} .setting }}", "", sentence(doc.meaning), "",
                f"- **When to change it:** {sentence(when)}",
                f"- **Default:** {default}",
                f"- **Flag:** {flag}",
                f"- **Environment variable:** `AIMPORT_{name.upper()}`",
                f"- **TOML key:** `{name}`", ""]
    return "\n".join(out)
