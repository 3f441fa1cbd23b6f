"""The snapshot directory: the committed state and the source of truth.

Layout, one folder per source id::

    snapshots/
      README.md                 what this folder is (written once)
      <source-id>/
        current.txt             the current normalized text
        state.json              validators, last check, failures, versions
        versions/<hash>.txt     every version's text, addressed by content hash
        raw/<hash>.<ext>.zst    the raw response body that produced it

Every file is written to a temporary file in the same folder and moved
into place with ``os.replace``, so a crash leaves the old file or the new
one, never half of either. Content-addressed files are written before
``state.json``, which is the commit point of a check; ``current.txt`` is
derived from it and repaired on read if a crash came in between.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zstandard

from watcher.errors import StoreError
from watcher.state import SourceState

SNAPSHOTS_README = """\
# snapshots/

Committed state of watcher, the source of truth for every command.
One folder per source id:

- `current.txt`: the current normalized text of the source;
- `state.json`: HTTP validators, the last check and its outcome,
  consecutive failures, and every version the source has had;
- `versions/<hash>.txt`: each version's text, addressed by content hash;
- `raw/<hash>.<ext>.zst`: the raw response body (zstd) that produced it:
  the evidence of what an editor verified.

`_reviews/<guide>.json` holds the editors' sign-offs (`watcher review`),
`_reports/<guide>.json` the reader reports accepted (no personal data), and
`_guides/<guide>/` each published guide page as `watcher audit` last read it.

Files are written atomically by `watcher check`; do not edit them by hand.
"""

_EXTENSIONS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/json": "json",
    "text/plain": "txt",
}


_MADE_DIRS: set[Path] = set()


def atomic_write(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, whole.

    The data goes to a temporary file in the same folder, which is then
    renamed over ``path``: a crash or kill at any point leaves the old file
    or the new one. ``durable`` also flushes the data to disk before the
    rename (for commit points); without it, journalling filesystems such as
    ext4 still order a replace-by-rename after its data.
    """
    folder = path.parent
    if folder not in _MADE_DIRS:
        folder.mkdir(parents=True, exist_ok=True)
        _MADE_DIRS.add(folder)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        _write_file(tmp, data, durable)
    except FileNotFoundError:  # the folder went away (a rename): make it again
        folder.mkdir(parents=True, exist_ok=True)
        _write_file(tmp, data, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    """A committed JSON document; None if the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc


def write_json(path: Path, data: Any, *, durable: bool = False) -> None:
    """Write a JSON document atomically, laid out for ``git diff`` (sorted, indented)."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    atomic_write(path, (text + "\n").encode("utf-8"), durable=durable)


def _write_file(path: Path, data: bytes, durable: bool) -> None:
    try:
        with open(path, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class SnapshotStore:
    """Reads and writes ``snapshots/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._readme_checked = False

    def source_dir(self, source_id: str) -> Path:
        return self.root / source_id

    def source_ids(self) -> list[str]:
        """Ids of every source with a state file, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.parent.name for p in self.root.glob("*/state.json"))

    # state -------------------------------------------------------------

    def load_state(self, source_id: str) -> SourceState:
        """The source's committed state (empty if never checked)."""
        data = read_json(self.source_dir(source_id) / "state.json")
        return SourceState(source=source_id) if data is None else SourceState.from_json(data)

    def save_state(self, state: SourceState, *, current_changed: bool = True) -> None:
        """Commit ``state``, then bring ``current.txt`` in line with it."""
        self._ensure_readme()
        write_json(self.source_dir(state.source) / "state.json", state.to_json())
        if current_changed:
            self._sync_current(state)

    def _sync_current(self, state: SourceState) -> None:
        current = state.current
        path = self.source_dir(state.source) / "current.txt"
        if current is None:
            path.unlink(missing_ok=True)
            return
        wanted = self.read_version(state.source, current).encode("utf-8")
        try:
            if path.read_bytes() == wanted:
                return
        except FileNotFoundError:
            pass
        atomic_write(path, wanted)

    def repair(self, state: SourceState) -> None:
        """Fix ``current.txt`` if a crash left it behind ``state.json``."""
        if state.current is not None:
            self._sync_current(state)

    def _ensure_readme(self) -> None:
        if self._readme_checked:
            return
        readme = self.root / "README.md"
        if not readme.exists():
            atomic_write(readme, SNAPSHOTS_README.encode())
        self._readme_checked = True

    # versions ----------------------------------------------------------

    def version_path(self, source_id: str, content_hash: str) -> Path:
        return self.source_dir(source_id) / "versions" / f"{content_hash}.txt"

    def write_version(self, source_id: str, content_hash: str, text: str) -> None:
        path = self.version_path(source_id, content_hash)
        if not path.exists():
            atomic_write(path, text.encode("utf-8"))

    def read_version(self, source_id: str, content_hash: str) -> str:
        path = self.version_path(source_id, content_hash)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StoreError(
                f"version {content_hash} of {source_id} is missing ({path})",
                hint="run `watcher reindex` or restore snapshots/ from git",
            ) from exc

    # raw bodies --------------------------------------------------------

    def write_raw(self, source_id: str, content_hash: str, body: bytes, content_type: str) -> str:
        """Store a raw body compressed; return its path relative to the source dir."""
        ext = _EXTENSIONS.get(content_type, "bin")
        relative = f"raw/{content_hash}.{ext}.zst"
        path = self.source_dir(source_id) / relative
        if not path.exists():
            atomic_write(path, zstandard.ZstdCompressor(level=3).compress(body))
        return relative

    def read_raw(self, source_id: str, relative: str) -> bytes:
        path = self.source_dir(source_id) / relative
        try:
            return bytes(zstandard.ZstdDecompressor().decompress(path.read_bytes()))
        except (OSError, zstandard.ZstdError) as exc:
            raise StoreError(f"cannot read raw body {path}: {exc}") from exc

    # maintenance -------------------------------------------------------

    def rename(self, old: str, new: str) -> None:
        """Move a source's whole history to a new id."""
        src, dst = self.source_dir(old), self.source_dir(new)
        if not src.is_dir():
            raise StoreError(f"no snapshots for source {old!r} in {self.root}")
        if dst.exists():
            raise StoreError(f"snapshots for {new!r} already exist in {dst}")
        state = self.load_state(old)
        state.source = new
        shutil.move(str(src), str(dst))
        self.save_state(state)

    def temp_files(self) -> Iterator[Path]:
        """Leftover temporary files of interrupted writes."""
        return self.root.glob("**/.*.tmp")

    def clean_temp_files(self) -> int:
        count = 0
        for path in list(self.temp_files()):
            path.unlink(missing_ok=True)
            count += 1
        return count
