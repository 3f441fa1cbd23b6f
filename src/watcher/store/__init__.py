"""Storage: ``snapshots/`` (files, the source of truth) and the database journal."""

from .db import Journal, Transaction, default_url
from .files import SnapshotStore, atomic_write, read_json, write_json
from .lock import project_lock
from .state import CheckOutcome, Rebase, SourceState, Version

__all__ = [
    "CheckOutcome",
    "Journal",
    "Rebase",
    "SnapshotStore",
    "SourceState",
    "Transaction",
    "Version",
    "atomic_write",
    "default_url",
    "project_lock",
    "read_json",
    "write_json",
]
