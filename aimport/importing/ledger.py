"""The store's ledger of imports: the outcome is written in the same transaction as the data.

A file that changed since it was hashed rolls the transaction back (:func:`verify_unchanged`: its
identity, and right before COMMIT its bytes hashed again); a file-level failure is ledgered on its own,
so start-up recovery only re-archives it.
"""

from __future__ import annotations

import time

from aimport import faults
from aimport.importing import filestate
from aimport.importing.outcome import FileChanged, ImportOutcome, ImportRequest
from aimport.store import system as store
from aimport.store.db import Db, StoreError
from aimport.store.schema import open_store

__all__ = ["commit_outcome", "record_failure", "verify_unchanged"]


def verify_unchanged(req: ImportRequest, digest: str = "") -> None:
    """Raise :class:`FileChanged` unless the file is still exactly the one whose bytes were hashed and read.

    With ``digest`` the file is hashed again and must still hash to it: what is committed is then exactly
    the bytes that sha256 names, even after a rewrite in place that left the identity as it was.
    """
    state = filestate.check(req.path, req.expect, req.check_writers)
    if state.reason:
        raise FileChanged(state.reason)
    if digest and (state.now is None or filestate.sha256_matching(req.path, state.now) != digest):
        raise FileChanged("its bytes are not the ones that were hashed and read (it was rewritten in place)")


def commit_outcome(db: Db, req: ImportRequest, outcome: ImportOutcome) -> None:
    """Ledger the outcome in the same transaction as the data, then commit (a check rolls back).

    The file is checked first, inside the transaction (a file that changed since it was hashed rolls back; a check
    applies nothing: its identity is enough there); the ledger row and COMMIT then go to the store together (one
    round trip on PostgreSQL, while the write turn is held)."""
    if faults.delay("before_commit"):  # tests: a writer gets to change the file right before the check
        time.sleep(faults.delay("before_commit"))
    verify_unchanged(req, "" if req.dry_run else outcome.sha256)
    row = (req.import_key, outcome.sha256, req.import_type, req.path.name, outcome.status, outcome.error_code,
           outcome.ledger_stats())
    if not req.dry_run:
        store.ledger_put(db, *row, commit=True)
        faults.point("after_commit")
        return
    store.ledger_put(db, *row)
    if req.diff:  # what the import would change, read in its own transaction before it is rolled back
        from aimport.undo.listing import import_changes

        outcome.changes = import_changes(db, req.import_key)
    db.rollback()


def record_failure(req: ImportRequest, outcome: ImportOutcome) -> None:
    """Ledger a file-level failure, so recovery only re-archives it (best effort: the store may be the trouble)."""
    if req.dry_run:
        return
    try:
        with open_store(req.store_address) as db:
            db.begin_write()
            store.ledger_put(db, req.import_key, outcome.sha256, req.import_type, req.path.name,
                             outcome.status, outcome.error_code, {"totals": {}, "sheets": []})
            db.commit()
    except StoreError:
        pass
