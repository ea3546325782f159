"""Undo: the before-images an import leaves (:mod:`.capture`), what it changed (:mod:`.listing`) and its revert
(:mod:`.revert`, recorded by :mod:`.revertjob`)."""
