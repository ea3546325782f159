"""The two SQLite databases: the system store (configuration items, ledger) and the audit trail."""
