"""The layout of ``snapshots/``, and the move from the first one.

Layout 1 kept each source's versions in ``versions/``, its raw bodies in
``raw/`` and a copy of the current text in ``current.txt``: three folders
and four files for every new source. Layout 2 keeps them all in the
source's own folder, without the copy (see :mod:`watcher.store.files`).
``snapshots/`` is committed by its users, so a project of layout 1 is read
as it is, and moved once by the first writer that reconciles it
(``watcher check``, ``watcher run``, ``watcher reindex``), under the lock.

The move is safe to kill at any point and to run again, and every reader
works at every point of it: a file is renamed (it is in one place or the
other, whole), raw paths in ``state.json`` are rewritten only once the
bodies are in place (a reader of the old path finds the body by name),
and ``current.txt`` goes last, once the current version has been read and
verified against its hash (a damaged version is rebuilt from it first).
The ``README.md`` of the new layout is written when every source has moved:
it marks the project as moved, so later runs only read that one file.
"""

from __future__ import annotations

import os
from pathlib import Path

from watcher.errors import StateError, StoreError
from watcher.store.files import (
    LEGACY_CURRENT,
    LEGACY_RAW,
    LEGACY_VERSIONS,
    SNAPSHOTS_README,
    SnapshotStore,
    atomic_write,
    write_error,
)


def migrate(store: SnapshotStore) -> list[str]:
    """Move every source of layout 1 to layout 2; say what was moved (nothing: [])."""
    readme = store.root / "README.md"
    if _read(readme) == SNAPSHOTS_README or not store.root.is_dir():
        return []
    ids = store.source_ids()
    moved = [sid for sid in ids if _legacy(store.source_dir(sid)) and _move(store, sid)]
    if not any(_legacy(store.source_dir(sid)) for sid in ids):
        atomic_write(readme, SNAPSHOTS_README.encode())
    if not moved:
        return []
    return [
        f"snapshots/ moved to one folder per source ({len(moved)} source(s)): versions/ and"
        " raw/ emptied into it, current.txt copies removed (`watcher diff` shows the text)"
    ]


def _legacy(folder: Path) -> bool:
    return any((folder / name).exists() for name in (LEGACY_VERSIONS, LEGACY_RAW, LEGACY_CURRENT))


def _move(store: SnapshotStore, source_id: str) -> bool:
    """Move one source; False when its state is damaged (left as it is, for its check)."""
    folder = store.source_dir(source_id)
    try:
        state = store.load_state(source_id)
    except StateError:
        return False
    for name in (LEGACY_VERSIONS, LEGACY_RAW):
        _empty_into(folder / name, folder)
    changed = False
    for version in state.versions:
        if version.raw is not None and version.raw.startswith(f"{LEGACY_RAW}/"):
            version.raw = version.raw.removeprefix(f"{LEGACY_RAW}/")
            changed = True
    if changed:
        store.save_state(state)
    if state.current is not None:
        try:  # verified (and rebuilt from current.txt if damaged) before the copy goes
            store.read_version(source_id, state.current)
        except (StateError, StoreError):
            return True  # current.txt stays: the one copy of a text that cannot be rebuilt
    (folder / LEGACY_CURRENT).unlink(missing_ok=True)
    return True


def _empty_into(legacy: Path, folder: Path) -> None:
    """Rename every file of ``legacy`` into ``folder``, then remove ``legacy``."""
    if not legacy.is_dir():
        return
    for path in legacy.iterdir():
        target = folder / path.name
        try:
            # A write interrupted under layout 1, or a content-addressed file already there.
            if path.name.endswith(".tmp") or target.exists():
                path.unlink()
            else:
                os.replace(path, target)
        except OSError as exc:
            raise write_error(target, exc) from exc
    try:
        legacy.rmdir()
    except OSError as exc:
        raise write_error(legacy, exc) from exc


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
