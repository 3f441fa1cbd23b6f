"""Storage: ``snapshots/`` (files, the source of truth) and the database journal.

Importing the package registers every table (the desk's too) on the journal's metadata.
"""

from watcher.store.db import Journal, Transaction, default_url
from watcher.store.desk import DeskStore
from watcher.store.files import SnapshotStore, atomic_write, read_json, write_json
from watcher.store.lock import project_lock

__all__ = [
    "DeskStore",
    "Journal",
    "SnapshotStore",
    "Transaction",
    "atomic_write",
    "default_url",
    "project_lock",
    "read_json",
    "write_json",
]
