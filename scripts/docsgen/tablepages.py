"""The reference pages that are tables: error codes (``aimport.errors``), the audit schema (the SQL in
``aimport.store.audit``) and the item types (``aimport.itemtypes.catalog``)."""

from __future__ import annotations

import sqlite3

__all__ = ["audit_page", "errors_page", "item_types_page"]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def errors_page() -> str:
    from aimport.errors import ERROR_CODES

    lines = ["# Error codes", "", "The `.err` file of a `partial` or `failed` import holds exactly one of these "
             "codes; the `.log` next to it says what to do. *Retried* codes are trouble with the service's own "
             "disk or store, not with the file: the service keeps the file in `InProcess/` and imports it again "
             "(an `import_deferred` audit event) instead of failing it.", "",
             "| code | status | retried | meaning |", "|---|---|---|---|"]
    for e in ERROR_CODES:
        lines.append(f"| `{e.code}` | {e.status} | {'yes' if e.transient else 'no'} | {_cell(e.meaning)} |")
    return "\n".join(lines) + "\n"


def audit_page() -> str:
    from aimport.store.auditschema import SCHEMA

    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    lines = ["# Audit schema", "", "`STATE/audit.sqlite` (WAL mode: `sqlite3` can read it while the service runs). "
             "These tables and columns are a public contract; timestamps are ISO-8601 UTC with milliseconds. "
             "What the columns and event kinds mean: [the audit trail](../operations/audit.md).", ""]
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
    for t in tables:
        lines += [f"## `{t}`", "", "| column | type | not null | primary key |", "|---|---|---|---|"]
        for _cid, name, kind, notnull, _default, pk in conn.execute(f"PRAGMA table_info({t})"):
            lines.append(f"| `{name}` | {kind} | {'yes' if notnull else ''} | {'yes' if pk else ''} |")
        lines.append("")
    conn.close()
    lines += ["## The SQL", "", "```sql", SCHEMA.strip(), "```"]
    return "\n".join(lines) + "\n"


def item_types_page() -> str:
    from aimport.itemtypes.catalog import ALL_TYPES

    lines = ["# Item types and columns", "", "Every import type is one declaration in "
             "`aimport/itemtypes/catalog.py`, applied by one generic engine. Headers match case-insensitively "
             "and ignore spaces, `_` and `-`. Rows are identified by the first identification that the row fills.",
             ""]
    for t in ALL_TYPES:
        where = []
        if t.folder:
            where.append(f"folder `{t.folder}/`")
        if t.config_order is not None and t.sheet:
            where.append(f"Configuration sheet `{t.sheet}`")
        ident = ", then ".join(" + ".join(f"`{n}`" for n in group) for group in t.identification)
        lines += [f"## {t.label}", "", f"Imported through {' and '.join(where)}; store table `{t.table}`; "
                  f"identified by {ident}."]
        if t.mandatory_any:
            lines[-1] += " At least one of " + ", ".join(f"`{n}`" for n in t.mandatory_any) + " must be filled."
        lines += ["", "| column | kind | mandatory | values | description |", "|---|---|---|---|---|"]
        for f in t.fields:
            values = []
            if f.choices:
                values.append(", ".join(f.choices))
            if f.min is not None or f.max is not None:
                values.append(f"{f.min if f.min is not None else ''}..{f.max if f.max is not None else ''}")
            if f.max_length:
                values.append(f"at most {f.max_length} characters")
            if f.ref:
                values.append(f"refers to {f.ref}")
            lines.append(f"| `{f.name}` | {f.kind} | {'yes' if f.mandatory else ''} | {_cell('; '.join(values))} "
                         f"| {_cell(f.description)} |")
        lines.append("")
    return "\n".join(lines)
