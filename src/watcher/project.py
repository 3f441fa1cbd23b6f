"""A project: one sources.yaml and everything that lives next to it.

All paths default to locations beside the configuration file, so
``watcher --config /elsewhere/sources.yaml check`` works from any folder:

- ``snapshots/``            committed state (source of truth)
- ``reports/``              digests
- ``.watcher/watcher.db``   the database journal (not committed)
- ``.watcher/lock``         the project lock
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.config import load_config
from watcher.config.model import Config
from watcher.errors import SourceError, StateError, StoreError
from watcher.guides.audit import GuideAudit, with_audits
from watcher.guides.freshness import GuideVerdict, all_verdicts
from watcher.state import GuideReviews, SourceState
from watcher.store import SnapshotStore, default_url, project_lock
from watcher.store.guide_pages import GuidePageStore
from watcher.store.layout import migrate
from watcher.store.lock import last_seal, reseal
from watcher.store.lock import seal as seal_run
from watcher.store.reviews import ReviewStore
from watcher.text import normalize

if TYPE_CHECKING:  # the journal (SQLAlchemy) is imported when a command first uses it
    from watcher.store import Journal

DB_ENV = "WATCHER_DB"


@dataclass
class Project:
    """The configuration plus its snapshot store and journal."""

    config: Config
    db_url: str
    store: SnapshotStore = field(init=False)
    reviews: ReviewStore = field(init=False)
    guide_pages: GuidePageStore = field(init=False)
    _journal: Journal | None = field(default=None, init=False, repr=False)
    migrated: list[str] = field(default_factory=list, init=False)
    """What the last :meth:`reconcile` moved to the current ``snapshots/`` layout, in words."""

    def __post_init__(self) -> None:
        self.store = SnapshotStore(
            self.config.root / "snapshots", hasher=normalize.content_hash, rerender=self._rerender
        )
        self.reviews = ReviewStore(self.store.root)
        self.guide_pages = GuidePageStore(self.store.root)

    @classmethod
    def load(cls, config_path: str | os.PathLike[str], db_url: str | None = None) -> Project:
        config = load_config(config_path)
        url = db_url or os.environ.get(DB_ENV) or default_url(config.root)
        return cls(config=config, db_url=url)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def journal(self) -> Journal:
        """The database journal, opened on first use."""
        if self._journal is None:
            from watcher.store.db import Journal

            self._journal = Journal(self.db_url)
        return self._journal

    @contextmanager
    def lock(self, command: str, wait: float = 0.0) -> Iterator[None]:
        """The run lock of a command that writes the journal: one writer at a time.

        The file lock keeps this machine's runs apart; a journal on a
        database server (PostgreSQL) is also locked in the database, so
        machines sharing it take turns too. ``wait`` covers both.
        """
        deadline = time.monotonic() + wait
        with project_lock(self.root, command, wait=wait):
            if self.db_url.startswith("sqlite"):
                yield  # a local file: the file lock covers it (and reindex may rebuild it)
                return
            left = max(0.0, deadline - time.monotonic())
            with self.journal.lock(command, wait=left):
                yield

    def reconcile(self) -> int:
        """Make derived data agree with the committed state; return sources fixed.

        Moves a project of the first ``snapshots/`` layout to the current one
        (once: see :mod:`watcher.store.layout`), removes temporary files of
        interrupted writes and repairs the journal's versions index after a
        crash. Writers call it under the project lock: a reader doing it
        could undo a concurrent writer's work.
        """
        self.migrated = migrate(self.store)
        if last_seal(self.root) == self.fingerprint():
            return 0  # the last run under the lock ended cleanly, and nothing moved since
        self.store.clean_temp_files()
        states = list(self.store.readable_states(s.id for s in self.config.sources))
        return self.journal.reconcile(states)

    def fingerprint(self) -> str:
        """What the committed state files and the journal look like, cheaply (stats only).

        A run that ended cleanly seals it in the lock file (:meth:`seal`);
        the next writer skips :meth:`reconcile` when it is unchanged: no
        write was interrupted since, and no ``state.json`` was edited, merged
        or checked out, nor another database named.
        """
        digest = hashlib.sha256(self.db_url.encode())
        if self.db_url.startswith("sqlite:///"):  # a file deleted or replaced is another one
            try:
                digest.update(f"{os.stat(self.db_url[10:]).st_ino};".encode())
            except OSError:
                digest.update(b"no database;")
        try:
            folders = sorted(os.scandir(self.store.root), key=lambda entry: entry.name)
        except OSError:
            folders = []
        for folder in folders:
            try:
                stat = os.stat(os.path.join(folder.path, "state.json"))
            except OSError:
                continue
            digest.update(f"{folder.name}:{stat.st_mtime_ns}:{stat.st_size};".encode())
        return digest.hexdigest()[:32]

    def seal(self) -> None:
        """After a run that ended cleanly: let the next one skip :meth:`reconcile`."""
        seal_run(self.root, self.fingerprint())

    def reseal(self) -> None:
        """After a sealed run's own later writes (its changes marked reported): seal them too.

        An interrupted run left no seal, and this leaves none either.
        """
        reseal(self.root, self.fingerprint())

    def reindex(self) -> list[str]:
        """Rebuild what is derived or lost, and say what was done.

        A damaged SQLite journal is moved aside and rebuilt; a lost
        ``state.json`` is rebuilt from the journal; every version file is
        verified (and rebuilt when it can be); the journal's versions follow
        ``snapshots/``.
        """
        from watcher.store.rebuild import lost_state, open_rebuilt, rebuild_state

        journal, aside = open_rebuilt(self.db_url)
        self.close()
        self._journal = journal
        done = []
        if aside is not None:
            done.append(f"the database was damaged: moved to {aside}, rebuilt from snapshots/")
        for source in self.config.sources:
            if lost_state(self.store, source.id):
                done.append(rebuild_state(self.store, journal, source.id, source.url))
        for source in self.config.sources:
            self._verify(source.id)
        fixed = self.reconcile()
        done += self.migrated + self.store.repairs
        done.append(f"{fixed} source(s) updated from snapshots/")
        return done

    def _verify(self, source_id: str) -> None:
        """Read every version of a source (reading verifies and repairs); errors wait."""
        try:
            state = self.store.load_state(source_id)
            for version in state.versions:
                self.store.read_version(source_id, version.hash)
        except StateError:
            pass  # reported by every command that reads it, with what to do

    def _rerender(self, source_id: str, content_hash: str) -> str | None:
        """A version's text rebuilt from its raw body, if that gives the very same text."""
        from watcher.text.render import Body, render  # the extractors: only for a repair

        source = next((s for s in self.config.sources if s.id == source_id), None)
        if source is None:
            return None
        try:
            version = self.store.load_state(source_id).version(content_hash)
            if version is None or version.raw is None:
                return None
            data = self.store.read_raw(source_id, version.raw)
            body = Body(data, version.content_type, version.charset, version.final_url)
            text = render(source.text, body).text
        except (StoreError, SourceError, RecursionError):
            return None
        return text if normalize.content_hash(text) == content_hash else None

    def states(self) -> dict[str, SourceState]:
        """Committed state of every configured source (empty if never checked)."""
        return {source.id: self.store.load_state(source.id) for source in self.config.sources}

    def all_reviews(self) -> dict[str, GuideReviews]:
        """Sign-off history of every configured guide."""
        return {guide.id: self.reviews.load(guide.id) for guide in self.config.guides}

    def verdicts(self, now: datetime) -> list[GuideVerdict]:
        """Every guide's freshness at ``now``, from the committed state alone.

        Changes and claims are assessed from the pinned and current texts;
        the findings of the last ``watcher audit`` are added as warnings.
        """
        verdicts = all_verdicts(self.config, self.states(), self.all_reviews(), now, self.store)
        return with_audits(self.config, verdicts, self.audits())

    def audits(self) -> dict[str, GuideAudit]:
        """The last ``watcher audit`` of each configured guide that has one."""
        found = {}
        for guide in self.config.guides:
            data = self.guide_pages.load(guide.id)
            if data is not None and data.get("url") == guide.url:
                found[guide.id] = GuideAudit.from_json(data)
        return found

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
