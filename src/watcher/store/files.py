"""The snapshot directory: the committed state and the source of truth.

Layout, one folder per source id (layout 2)::

    snapshots/
      README.md                 what this folder is (its layout)
      <source-id>/
        state.json              validators, last check, failures, versions
        <hash>.txt              every version's text, addressed by content hash
        <hash>.<ext>.zst        the raw response body that produced it

A new source costs one folder and three files. Projects written by the
first layout (``versions/`` and ``raw/`` folders and a ``current.txt``
copy of the current text) are still read as they are, and moved to this
layout by :mod:`watcher.store.layout` the next time a writer reconciles.

Every file is written to a temporary file in the same folder and moved
into place with ``os.replace``, so a crash leaves the old file or the new
one, never half of either. Content-addressed files are written before
``state.json``, which is the commit point of a check.

What is read is checked, since people edit and merge these files: JSON
with git's conflict markers, of the wrong shape or not UTF-8 is a
:class:`~watcher.errors.StateError` naming the file and what to do; a
version file is verified against its hash (the hash function is given by
the project), and a damaged or missing one is rebuilt from its raw body
(or a first-layout ``current.txt``) when they give that very text, and listed in
:attr:`SnapshotStore.repairs`; never from an unverified file. A
``state.json`` that is gone while ``versions/`` holds files is refused, not
taken for a source never checked.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import zstandard

from watcher.errors import StateError, StoreError
from watcher.shapes import ShapeError
from watcher.state import SourceState

Hasher = Callable[[str], str]
"""A text -> its content hash (the project's, from the normalize stage)."""
Rerender = Callable[[str, str], "str | None"]
"""(source id, hash) -> the version's text rebuilt from its raw body, or None."""

SNAPSHOTS_README = """\
# snapshots/

Committed state of watcher, the source of truth for every command.
One folder per source id (layout 2):

- `state.json`: HTTP validators, the last check and its outcome,
  consecutive failures, and every version the source has had (the last
  one is the current text);
- `<hash>.txt`: each version's text, addressed by content hash;
- `<hash>.<ext>.zst`: the raw response body (zstd) that produced it:
  the evidence of what an editor verified.

`watcher diff SOURCE` shows the latest change, `watcher history SOURCE`
every version.

`_reviews/<guide>.json` holds the editors' sign-offs (`watcher review`),
`_reports/<guide>.json` the reader reports accepted (no personal data), and
`_guides/<guide>/` each published guide page as `watcher audit` last read it.

Files are written atomically by `watcher check`; do not edit them by hand.
"""

LEGACY_VERSIONS, LEGACY_RAW, LEGACY_CURRENT = "versions", "raw", "current.txt"
"""The first layout's folders and copy of the current text (read, never written)."""

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
    except OSError as exc:
        raise write_error(path, exc) from exc


_WRITE_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run again (no file was half-written)",
    errno.EDQUOT: "the disk quota is exhausted: free some space and run again",
    errno.EROFS: "the folder is on a read-only file system: mount it writable or move the project",
    errno.EACCES: "this user may not write there: check the folder's owner and permissions",
    errno.EPERM: "this user may not write there: check the folder's owner and permissions",
}


def write_error(path: Path, exc: OSError) -> StoreError:
    """A write that failed, naming the file and the cause in words."""
    cause = exc.strerror or str(exc)
    return StoreError(f"cannot write {path}: {cause}", hint=_WRITE_HINTS.get(exc.errno or 0))


_CONFLICT = re.compile(r"^(?:<{7}|={7}|>{7})(?: |$)", re.MULTILINE)
_RESTORE = "restore it from git (`git checkout -- {path}`), or from a backup"


def read_json(path: Path) -> Any:
    """A committed JSON document; None if the file does not exist.

    A file with git's conflict markers, not UTF-8 or not JSON is a
    :class:`StateError` saying so and what to do.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise StateError(
            f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x})",
            path=str(path),
            hint=_RESTORE.format(path=path),
        ) from None
    if _CONFLICT.search(text):
        raise StateError(
            f"merge conflict in {path}",
            path=str(path),
            hint=f"keep one side (`git checkout --ours -- {path}`, or --theirs) or edit the"
            " <<<<<<< ======= >>>>>>> lines out, then `git add` it",
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        raise StateError(
            f"{path} is not valid JSON: {exc}", path=str(path), hint=_RESTORE.format(path=path)
        ) from None


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def shape_error(path: Path, exc: ShapeError) -> StateError:
    """A committed document of the wrong shape, named by file and key."""
    return StateError(f"{path}: {exc}", path=str(path), hint=_RESTORE.format(path=path))


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
    """Reads and writes ``snapshots/``.

    ``hasher`` verifies version files on read (none: they are trusted);
    ``rerender`` rebuilds a version from its raw body.
    """

    def __init__(
        self, root: Path, *, hasher: Hasher | None = None, rerender: Rerender | None = None
    ) -> None:
        self.root = root
        self.hasher = hasher
        self.rerender = rerender
        self.repairs: list[str] = []
        """What was repaired since this store was opened, in words."""
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
        """The source's committed state (empty if never checked).

        A damaged ``state.json``, or one that is gone while ``versions/``
        holds files, is a :class:`StateError`: never a silent fresh start.
        """
        path = self.state_path(source_id)
        data = read_json(path)
        if data is None:
            self._refuse_lost_state(source_id)
            return SourceState(source=source_id)
        try:
            state = SourceState.from_json(data)
        except ShapeError as exc:
            raise shape_error(path, exc) from None
        if state.source != source_id:
            raise StateError(
                f"{path} is the state of source {state.source!r}, not {source_id!r}",
                path=str(path),
                hint="a folder copied or renamed by hand: use `watcher rename-source`",
            )
        return state

    def readable_states(self, source_ids: Iterable[str]) -> Iterator[SourceState]:
        """The states of these sources that load: a damaged one is left as it is, for its
        own check to report (:meth:`load_state` raises there)."""
        for source_id in source_ids:
            try:
                yield self.load_state(source_id)
            except StateError:
                continue

    def state_path(self, source_id: str) -> Path:
        return self.source_dir(source_id) / "state.json"

    def stored_versions(self, source_id: str) -> list[Path]:
        """The version files of a source, whatever its state says (either layout)."""
        folder = self.source_dir(source_id)
        return sorted([*folder.glob("*.txt"), *(folder / LEGACY_VERSIONS).glob("*.txt")])

    def _refuse_lost_state(self, source_id: str) -> None:
        versions = self.stored_versions(source_id)
        if not versions:
            return
        path = self.state_path(source_id)
        raise StateError(
            f"{path} is missing, but {len(versions)} version(s) of {source_id} are stored",
            path=str(path),
            hint=f"restore it from git (`git checkout -- {path}`), or run `watcher reindex`"
            " to rebuild it from the database journal",
        )

    def save_state(self, state: SourceState) -> None:
        """Commit ``state``: the commit point of a check of its source."""
        self._ensure_readme()
        write_json(self.source_dir(state.source) / "state.json", state.to_json())

    def _ensure_readme(self) -> None:
        if self._readme_checked:
            return
        readme = self.root / "README.md"
        if not readme.exists():
            atomic_write(readme, SNAPSHOTS_README.encode())
        self._readme_checked = True

    # versions ----------------------------------------------------------

    def version_path(self, source_id: str, content_hash: str) -> Path:
        return self.source_dir(source_id) / f"{content_hash}.txt"

    def legacy_version_path(self, source_id: str, content_hash: str) -> Path:
        """Where the first layout kept a version (read until the project is migrated)."""
        return self.source_dir(source_id) / LEGACY_VERSIONS / f"{content_hash}.txt"

    def write_version(self, source_id: str, content_hash: str, text: str) -> None:
        path = self.version_path(source_id, content_hash)
        if not path.exists():
            atomic_write(path, text.encode("utf-8"))

    def read_version(self, source_id: str, content_hash: str) -> str:
        """A version's text, verified against its hash; rebuilt if damaged or missing."""
        path = self.version_path(source_id, content_hash)
        try:
            data: bytes | None = path.read_bytes()
        except FileNotFoundError:
            path = self.legacy_version_path(source_id, content_hash)
            data = _read_or_none(path)
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
        text, problem = self._verified(data, content_hash)
        if text is not None:
            return text
        return self._rebuild_version(source_id, content_hash, problem)

    def _verified(self, data: bytes | None, content_hash: str) -> tuple[str | None, str]:
        """The text if ``data`` is the version's, else None and what is wrong with it."""
        if data is None:
            return None, "missing"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None, "not UTF-8"
        if self.hasher is not None and self.hasher(text) != content_hash:
            return None, "damaged (its text does not match its hash)"
        return text, ""

    def _rebuild_version(self, source_id: str, content_hash: str, problem: str) -> str:
        """Rewrite a damaged or missing version from a source that gives that very text."""
        path = self.version_path(source_id, content_hash)
        text, origin = None, ""
        if self.hasher is not None:
            current = self.source_dir(source_id) / LEGACY_CURRENT
            text, origin = self._verified(_read_or_none(current), content_hash)[0], LEGACY_CURRENT
            if text is None and self.rerender is not None:
                text, origin = self.rerender(source_id, content_hash), "its raw body"
            if text is not None and self.hasher(text) != content_hash:
                text = None
        if text is None:
            raise StateError(
                f"version {content_hash} of {source_id} is {problem} ({path})"
                " and cannot be rebuilt",
                path=str(path),
                hint=f"restore it from git (`git checkout -- {path}`)",
            )
        atomic_write(path, text.encode("utf-8"))
        self.repairs.append(f"{path} was {problem}: rebuilt from {origin}")
        return text

    # raw bodies --------------------------------------------------------

    def write_raw(self, source_id: str, content_hash: str, body: bytes, content_type: str) -> str:
        """Store a raw body compressed; return its path relative to the source dir."""
        ext = _EXTENSIONS.get(content_type, "bin")
        relative = f"{content_hash}.{ext}.zst"
        path = self.source_dir(source_id) / relative
        if not path.exists():
            atomic_write(path, zstandard.ZstdCompressor(level=3).compress(body))
        return relative

    def read_raw(self, source_id: str, relative: str) -> bytes:
        """A raw body by the path its version gives (a first-layout ``raw/`` path too)."""
        path = self.source_dir(source_id) / relative
        if not path.exists():  # moved by the migration since this state was read
            moved = self.source_dir(source_id) / Path(relative).name
            path = moved if moved.exists() else path
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
