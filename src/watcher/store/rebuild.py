"""Rebuilding what was lost: a ``state.json`` from the journal, the journal itself.

``snapshots/`` is the source of truth and the journal its index, so each
can stand in for the other when one is damaged:

- a ``state.json`` deleted (often to "resolve" a merge conflict) while its
  version files remain is rebuilt from the journal's versions, fetches and
  changes, when the journal has them all and every version file is there;
  else it stays refused, with what to do;
- a damaged SQLite journal is moved aside and a new one built from
  ``snapshots/`` (the fetch history before that is in the moved file).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from watcher.errors import StoreError
from watcher.state import CheckOutcome, SourceState, Version
from watcher.store.db import FetchRow, Journal, sqlite_path
from watcher.store.files import LEGACY_RAW, SnapshotStore

_TYPES = {"html": "text/html", "pdf": "application/pdf", "json": "application/json"}
_TYPES["txt"] = "text/plain"


def open_rebuilt(url: str) -> tuple[Journal, Path | None]:
    """The journal at ``url``; a damaged SQLite file is moved aside first (its new path)."""
    path = sqlite_path(url)
    try:
        journal = Journal(url)
    except StoreError:
        if path is None or not path.exists():
            raise
    else:
        if path is None or journal.healthy():
            return journal, None
        journal.close()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.rename(Path(f"{aside}{suffix}"))
    return Journal(url), aside


def lost_state(store: SnapshotStore, source_id: str) -> bool:
    """True when ``state.json`` is gone while version files remain."""
    return not store.state_path(source_id).exists() and bool(store.stored_versions(source_id))


def rebuild_state(store: SnapshotStore, journal: Journal, source_id: str, url: str) -> str:
    """Rebuild a lost ``state.json`` from the journal; say what was done (or why not)."""
    rows = journal.versions(source_id)
    stored = {path.stem for path in store.stored_versions(source_id)}
    missing = [row.hash for row in rows if row.hash not in stored]
    if not rows or missing:
        why = "the journal has no versions of it" if not rows else f"{len(missing)} missing"
        return (
            f"{source_id}: state.json cannot be rebuilt ({why}): restore it from git"
            f" (`git checkout -- {store.state_path(source_id)}`)"
        )
    state = SourceState(source=source_id, url=url)
    state.versions = [_version(store, source_id, row.hash, row.seen) for row in rows]
    _history(state, journal.fetches(source_id, limit=1000))
    changes = journal.changes(source_id)
    state.last_change = changes[-1].at if changes else None
    store.save_state(state)
    return (
        f"{source_id}: state.json rebuilt from the journal ({len(rows)} versions;"
        " the next check re-reads the page in full)"
    )


def _version(store: SnapshotStore, source_id: str, content_hash: str, seen: datetime) -> Version:
    folder = store.source_dir(source_id)
    raws = sorted(p.relative_to(folder) for p in folder.glob(f"{content_hash}.*.zst"))
    raws += sorted(p.relative_to(folder) for p in folder.glob(f"{LEGACY_RAW}/{content_hash}.*.zst"))
    raw = raws[0].as_posix() if raws else None
    kind = raws[0].name.split(".")[1] if raws else ""
    return Version(hash=content_hash, seen=seen, raw=raw, content_type=_TYPES.get(kind, ""))


def _history(state: SourceState, fetches: list[FetchRow]) -> None:
    """The last check, the failures in a row and the last success, newest fetch first."""
    if not fetches:
        return
    last = fetches[0]
    state.last_check = CheckOutcome(
        at=last.at,
        outcome=last.outcome,  # type: ignore[arg-type]
        status=last.status,
        error=last.error,
        kind=last.error_kind,  # type: ignore[arg-type]
    )
    for row in fetches:
        if row.outcome != "failed":
            state.last_success = row.at
            break
        state.consecutive_failures += 1
        state.failing_since = row.at
