"""The stores: the system store (configuration items, their ledger, campaigns and call results) on SQLite
(the embedded default) or a shared PostgreSQL server (``connect``, ``db``, ``sqlitedb``, ``postgresdb``,
``schema``, ``system``), and the service's audit trail, always a local SQLite file (``audit``,
``auditqueries``). Callers say what to store; the SQL stays in this package."""
