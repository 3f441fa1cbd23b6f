"""Storage: ``snapshots/`` (files, the source of truth) and the database journal.

The journal (SQLAlchemy) is imported on first use of one of its names, so a
command that reads only ``snapshots/`` never loads it; opening a journal
registers every table (the desk's too) on its metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher.store.files import SnapshotStore, atomic_write, read_json, write_json
from watcher.store.lock import project_lock

if TYPE_CHECKING:
    from watcher.store.db import Journal, Transaction
    from watcher.store.desk import DeskStore

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

_DATABASE = {"Journal": "db", "Transaction": "db", "DeskStore": "desk"}


def default_url(root: Path) -> str:
    """The SQLite file used when no URL is given: ``.watcher/watcher.db``."""
    return f"sqlite:///{root / '.watcher' / 'watcher.db'}"


def __getattr__(name: str) -> Any:
    """The journal's names, imported when first asked for (SQLAlchemy is slow to import)."""
    module = _DATABASE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from watcher.store import db, desk

    return getattr(db if module == "db" else desk, name)
