"""The command-line reference (docs/reference/cli.md): one section per command, from the argparse parsers.

Each section gives the command's description, a usage line, its options as a list with their help, and
examples: from the parser's epilog when it starts with ``examples:`` (``a; b; c``), else from ``EXAMPLES``
below. A flag that is a setting links to its section on the settings page.
"""

from __future__ import annotations

import argparse

from scripts.docsgen.settingspage import flag_usage, metavar, sentence, subparsers

__all__ = ["EXAMPLES", "cli_page"]

# Examples for commands whose parser has no ``examples:`` epilog, by command path ("campaign record").
EXAMPLES: dict[str, tuple[str, ...]] = {
    "run": ("aimport run --root /srv/import --logon-user admin",
            "aimport run --config /etc/aimport/aimport.toml",
            "aimport run --root /srv/import --logon-user admin --http 127.0.0.1:8080 --max-concurrent 3"),
    "import": ("aimport import Skills.xlsx --type Skills",
               "aimport import ~/Downloads/queues.txt --type Queues --quiet"),
    "check": ("aimport check Users.xlsx --type Configuration",
              "aimport check Skills.txt --type Skills --json"),
    "audit": ("aimport audit",
              "aimport audit --failed --since 2026-11-25",
              "aimport audit show 42",
              "aimport audit tail --follow",
              "aimport audit --type Skills --csv > skills.csv"),
    "status": ("aimport status", "aimport status --json"),
    "release": ("aimport release big-customer-list.xlsx",),
    "campaign list": ("aimport campaign list",),
    "campaign show": ('aimport campaign show "Demo campaign"',
                      'aimport campaign show "Demo campaign" --customers 100'),
    "campaign record": ('aimport campaign record "Demo campaign" C-0001 --result Successful --agent anna',),
    "campaign close": ('aimport campaign close "Demo campaign"',),
    "campaign export": ('aimport campaign export "Demo campaign" -o exports/',),
    "changes": ("aimport changes 42", "aimport changes 42 --limit 0 --csv > changes.csv"),
    "revert": ("aimport revert 42", "aimport revert 42 --force"),
    "retry": ("aimport audit --failed", "aimport retry 42"),
    "cancel": ("aimport status", "aimport cancel Skills/agents.xlsx"),
}


EXAMPLE_WIDTH = 42  # characters of a code line that fit a 390 px phone (43 at 8.2 px in 358 px) without scrolling


def wrapped(command: str) -> str:
    """``command`` on lines of at most EXAMPLE_WIDTH characters, continued with `` \\`` (never inside quotes)."""
    if "\n" in command or len(command) <= EXAMPLE_WIDTH:
        return command
    words: list[str] = []
    for piece in command.split(" "):  # keep a quoted argument with spaces in one word
        if words and (words[-1].count('"') % 2 or words[-1].count("'") % 2):
            words[-1] += " " + piece
        else:
            words.append(piece)
    units: list[str] = []  # an option with its value, a redirection with its target: one unit
    for word in words:
        redirect = word in (">", ">>", "|")
        if units and ((units[-1].startswith("-") and " " not in units[-1] and not word.startswith("-")
                      and not redirect) or units[-1] in (">", ">>", "|")):
            units[-1] += " " + word
        else:
            units.append(word)
    words = units
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) + 2 > EXAMPLE_WIDTH:
            lines.append(line + " \\")
            line = "    " + word
        else:
            line += " " + word
    return "\n".join([*lines, line])


def examples_of(path: str, p: argparse.ArgumentParser) -> tuple[str, ...]:
    epilog = (p.epilog or "").strip()
    if epilog.lower().startswith("examples:"):
        found = tuple(e.strip().rstrip(".") for e in epilog[len("examples:"):].split(";") if e.strip())
    else:
        found = EXAMPLES.get(path, ())
    return tuple(wrapped(e) for e in found)


def usage(p: argparse.ArgumentParser) -> str:
    """``aimport audit [list|show|tail] [ID] [OPTIONS]``: positionals, required options, then [OPTIONS]."""
    parts = [p.prog]
    optional = False
    command = False
    for a in p._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if isinstance(a, argparse._SubParsersAction):
            command = True
        elif not a.option_strings:
            word = metavar(a) if (a.metavar or a.choices) else a.dest.upper()
            parts.append(f"[{word}]" if a.nargs in ("?", "*") else word)
        elif a.required:
            parts.append(f"{a.option_strings[0]} {metavar(a)}")
        else:
            optional = True
    if command:  # options of the parent come before the command
        return " ".join(parts + (["[OPTIONS]"] if optional else []) + ["COMMAND"])
    return " ".join(parts + (["[OPTIONS]"] if optional else []))


def short_meaning(name: str) -> str:
    """The first clause of a setting's meaning (the settings page has the rest)."""
    from aimport.settingdocs import SETTING_DOCS

    meaning = SETTING_DOCS[name].meaning
    for stop in ("; ", ": "):
        head = meaning.split(stop)[0]
        if len(head) >= 20 and head.count("(") == head.count(")") and head.count("`") % 2 == 0:
            meaning = head
    return sentence(meaning)


def option_lines(p: argparse.ArgumentParser) -> list[str]:
    from aimport.settingdocs import SETTING_DOCS

    formatter = p._get_formatter()
    lines = []
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        text = formatter._expand_help(a) if a.help and a.help != argparse.SUPPRESS else ""
        if a.dest in SETTING_DOCS and a.option_strings:
            text = short_meaning(a.dest) if a.nargs != 0 or not text else sentence(text.split(" (AIMPORT_")[0])
            text += f" The [{a.dest}](settings.md#{a.dest}) setting."
        elif text:
            text = sentence(text)
        elif not a.option_strings:
            continue  # a positional without help: the usage line names it
        if a.choices and metavar(a) != "|".join(str(c) for c in a.choices) and not isinstance(a.choices, dict):
            text = (text + " " if text else "") + "One of " + ", ".join(f"`{c}`" for c in a.choices) + "."
        name = flag_usage(a) if a.option_strings else (metavar(a) if (a.metavar or a.choices) else a.dest.upper())
        if a.required and a.option_strings:
            text = "Required. " + text
        lines.append(f"- `{name}`" + (f": {text.strip()}" if text.strip() else ""))
    return lines


def section(path: str, p: argparse.ArgumentParser, level: str, summary: str) -> list[str]:
    anchor = path.replace(" ", "-")
    out = [f"{level} aimport {path} {{ #{anchor} .command }}", ""]
    about = p.description or summary
    if about:
        out += [sentence(about), ""]
    out += [f"**Usage:** `{usage(p)}`", ""]
    options = option_lines(p)
    if options:
        out += ["**Options:**", "", *options, ""]
    examples = examples_of(path, p)
    if examples:
        out += ["**Examples:**", "", "```sh", *examples, "```", ""]
    return out


def summaries(p: argparse.ArgumentParser) -> dict[str, str]:
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            return {c.dest: c.help or "" for c in a._choices_actions}
    return {}


def cli_page() -> str:
    from aimport.cli import build_parser

    top = build_parser()
    commands = subparsers(top)
    helps = summaries(top)
    out = ["# Command line", "",
           "`aimport COMMAND --help` prints the options of a command. Errors are one line on stderr with a "
           "non-zero exit code; `--debug` (before the command) shows the traceback.", "",
           "## aimport { #aimport .command }", "", sentence(top.description or ""), "",
           f"**Usage:** `{usage(top)}`", "", "**Commands:**", ""]
    out += [f"- [`{name}`](#{name}): {helps.get(name, '')}" for name in commands]
    out += ["", "**Options:**", "", *option_lines(top), ""]
    if top.epilog and not top.epilog.lower().startswith("examples:"):
        out += [top.epilog.strip(), ""]
    for name, p in commands.items():
        out += section(name, p, "##", helps.get(name, ""))
        sub_helps = summaries(p)
        for sub_name, sp in subparsers(p).items():
            out += section(f"{name} {sub_name}", sp, "###", sub_helps.get(sub_name, ""))
    return "\n".join(out).rstrip() + "\n"
