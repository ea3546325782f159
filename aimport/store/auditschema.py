"""The audit trail's tables (``imports``, one row an import; ``events``) and the migration of a trail written by
an earlier aimport. The columns are documented in docs/reference/audit-schema.md (generated from SCHEMA)."""

from __future__ import annotations

import aiosqlite

__all__ = ["COLUMNS", "SCHEMA", "migrate"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    history_name TEXT,
    sha256 TEXT,
    size_bytes INTEGER,
    status TEXT NOT NULL CHECK (status IN ('queued','in_process','succeeded','partial','failed','cancelled')),
    error_code TEXT,
    rows INTEGER, created INTEGER, updated INTEGER, deleted INTEGER, rejected INTEGER,
    detected_at TEXT, started_at TEXT, finished_at TEXT,
    actor TEXT, instance TEXT,
    unchanged INTEGER, duration_ms INTEGER,
    reverted_by INTEGER,
    retry_of INTEGER
);
CREATE INDEX IF NOT EXISTS ix_imports_status ON imports (status);
CREATE INDEX IF NOT EXISTS ix_imports_started ON imports (started_at);
CREATE INDEX IF NOT EXISTS ix_imports_file ON imports (file_name);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    import_id INTEGER,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS ix_events_import ON events (import_id);
CREATE INDEX IF NOT EXISTS ix_events_at ON events (at);
"""
COLUMNS = (
    "id", "import_type", "file_name", "history_name", "sha256", "size_bytes", "status", "error_code",
    "rows", "created", "updated", "deleted", "rejected", "detected_at", "started_at", "finished_at",
    "actor", "instance", "unchanged", "duration_ms", "reverted_by", "retry_of",
)


async def migrate(db: aiosqlite.Connection) -> None:
    """Bring an audit trail written by an earlier aimport up to SCHEMA: the status ``cancelled`` (a CHECK, so the
    table is rebuilt, its rows and ids kept) and the columns added since (``reverted_by``, ``retry_of``)."""
    async def table_sql() -> str:
        async with db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'imports'") as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else ""

    async def columns(table: str) -> list[str]:
        async with db.execute(f"PRAGMA table_info({table})") as cur:
            return [str(r[1]) async for r in cur]

    if "'cancelled'" in await table_sql() and {"reverted_by", "retry_of"} <= set(await columns("imports")):
        return
    await db.execute("BEGIN IMMEDIATE")
    try:
        if "'cancelled'" not in await table_sql():  # (another process may have done it meanwhile)
            create = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS imports"):SCHEMA.index(");") + 2]
            await db.execute(create.replace("IF NOT EXISTS imports", "imports_new", 1))
            kept = [c for c in await columns("imports") if c in COLUMNS]
            async with db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'imports'") as cur:
                seq = await cur.fetchone()
            await db.execute(f"INSERT INTO imports_new ({', '.join(kept)}) SELECT {', '.join(kept)} FROM imports")
            await db.execute("DROP TABLE imports")
            await db.execute("ALTER TABLE imports_new RENAME TO imports")
            if seq is not None:  # ids of pruned rows are never given again
                await db.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'imports'", (seq[0],))
            for line in SCHEMA.splitlines():
                if line.startswith("CREATE INDEX IF NOT EXISTS ix_imports"):
                    await db.execute(line.rstrip(";"))
        for column in ("reverted_by", "retry_of"):
            if column not in await columns("imports"):
                await db.execute(f"ALTER TABLE imports ADD COLUMN {column} INTEGER")
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
