"""Storage: ``snapshots/`` (files, the source of truth) and the database journal."""

from watcher.store.db import Journal, Transaction, default_url
from watcher.store.files import SnapshotStore, atomic_write, read_json, write_json
from watcher.store.lock import project_lock

__all__ = [
    "Journal",
    "SnapshotStore",
    "Transaction",
    "atomic_write",
    "default_url",
    "project_lock",
    "read_json",
    "write_json",
]
