"""Recording one check: snapshot files and journal rows, in one transaction.

A failure is counted and the stored snapshot stays as it was. A success
stores a new version when the text is new, with the diff from the
previous one in the journal; a text equal to one of the
:data:`REVERSION_WINDOW` versions before the current one is stored as a
*reversion* (flapping), not a change, unless it leaves the version a
citing guide is pinned to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.changes.diff import diff_texts
from watcher.changes.volatility import learn
from watcher.check.signal import pinned_versions
from watcher.config.model import Source
from watcher.errors import DamagedStateError, SourceError, StateError
from watcher.project import Project
from watcher.results import (
    BASELINE,
    CHANGED,
    FAILED,
    REVERTED,
    UNCHANGED,
    Diff,
    Fetched,
    Outcome,
    SourceResult,
)
from watcher.state import CheckOutcome, SourceState, Version
from watcher.store import Transaction
from watcher.text import normalize
from watcher.text.render import Rendered

REVERSION_WINDOW = 3
"""Versions before the current one that a reversion may return to (flapping)."""


@dataclass
class Record:
    """Writes what one check of ``source`` found into its state, files and journal."""

    project: Project
    source: Source
    state: SourceState
    rebased: bool

    def failure(self, exc: SourceError, at: datetime) -> SourceResult:
        """Count the failure; the stored snapshot stays as it was."""
        state, message = self.state, str(exc)
        state.url = self.source.url
        state.last_check = CheckOutcome(
            at=at, outcome=FAILED, status=exc.status, error=message, kind=exc.kind
        )
        state.consecutive_failures += 1
        state.failing_since = state.failing_since or at
        with self.project.journal.transaction(deferred=not self.rebased) as tx:
            tx.add_fetch(
                source=self.source.id,
                at=at,
                outcome=FAILED,
                url=exc.url or self.source.url,
                final_url=None,
                status=exc.status,
                duration_ms=None,
                bytes=None,
                error_kind=exc.kind,
                error=message,
                content_hash=None,
            )
            self._save(tx, changed=False)
        return SourceResult(
            source=self.source.id,
            outcome=FAILED,
            at=at,
            old_hash=state.current,
            status=exc.status,
            error_kind=exc.kind,
            error=message,
            consecutive_failures=state.consecutive_failures,
            newly_failing=state.consecutive_failures == self.source.cadence.fail_after,
            rebased=self.rebased,
            traceback=getattr(exc, "detail", None) or None,
        )

    def success(
        self, fetched: Fetched, rendered: Rendered | None, at: datetime, *, unconfirmed: bool
    ) -> SourceResult:
        """Store a new version when the text is new, with its diff in the journal."""
        old_hash = self.state.current
        recovered = self.state.consecutive_failures >= self.source.cadence.fail_after
        new_hash = old_hash if rendered is None else normalize.content_hash(rendered.text)
        outcome = self._outcome(old_hash, new_hash)
        diff = None
        with self.project.journal.transaction(deferred=not self.rebased) as tx:
            if outcome != UNCHANGED and rendered is not None and new_hash is not None:
                self._store_version(fetched, rendered, new_hash, at, outcome == REVERTED)
                diff = self._diff(tx, old_hash, new_hash, rendered.text, at)
                if outcome == CHANGED and diff is not None:
                    learn(self.state.churn, self.state.volatile, diff, at)
            self._mark_success(fetched, at, outcome)
            self._journal_fetch(tx, fetched, at, outcome, new_hash)
            self._save(tx, changed=outcome != UNCHANGED)
        return SourceResult(
            source=self.source.id,
            outcome=outcome,
            at=at,
            old_hash=old_hash,
            new_hash=new_hash,
            diff=diff,
            status=fetched.status,
            final_url=fetched.final_url,
            not_modified=fetched.not_modified,
            duration_ms=fetched.duration_ms,
            recovered=recovered,
            rebased=self.rebased,
            unconfirmed=unconfirmed,
        )

    def _outcome(self, old_hash: str | None, new_hash: str | None) -> Outcome:
        if old_hash is None:
            return BASELINE
        if new_hash == old_hash:
            return UNCHANGED
        return REVERTED if self._reverts(old_hash, new_hash) else CHANGED

    def _reverts(self, old_hash: str, new_hash: str | None) -> bool:
        """Flapping: back to a recent version, and not away from a version a guide is pinned to."""
        recent = {v.hash for v in self.state.versions[-1 - REVERSION_WINDOW : -1]}
        pinned = pinned_versions(self.project, self.source, self.state).values()
        return new_hash in recent and old_hash not in pinned

    def _store_version(
        self, fetched: Fetched, rendered: Rendered, new_hash: str, at: datetime, reverted: bool
    ) -> None:
        store = self.project.store
        store.write_version(self.source.id, new_hash, rendered.text)
        raw = store.write_raw(self.source.id, new_hash, fetched.body, fetched.content_type)
        self.state.versions.append(
            Version(
                hash=new_hash,
                seen=at,
                raw=raw,
                content_type=fetched.content_type,
                charset=fetched.charset,
                final_url=fetched.final_url,
                metadata=dict(rendered.metadata),
                reverted=reverted,
            )
        )

    def _diff(
        self, tx: Transaction, old_hash: str | None, new_hash: str, text: str, at: datetime
    ) -> Diff | None:
        if old_hash is None:
            return None
        diff = diff_texts(self.project.store.read_version(self.source.id, old_hash), text)
        tx.add_change(
            source=self.source.id,
            at=at,
            old_hash=old_hash,
            new_hash=new_hash,
            lines_added=diff.stats.lines_added,
            lines_removed=diff.stats.lines_removed,
            changed_ratio=diff.stats.changed_ratio,
        )
        return diff

    def _mark_success(self, fetched: Fetched, at: datetime, outcome: Outcome) -> None:
        state = self.state
        state.url = self.source.url
        state.final_url = fetched.final_url
        state.last_check = CheckOutcome(at=at, outcome=outcome, status=fetched.status)
        state.last_success = at
        state.moved_to = fetched.moved_to
        state.consecutive_failures = 0
        state.failing_since = None
        if outcome == CHANGED:
            state.last_change = at
            if state.current is not None:  # the version just stored: reported by the caller
                state.unreported.append(state.current)
        if fetched.etag or not fetched.not_modified:
            state.etag = fetched.etag
        if fetched.last_modified or not fetched.not_modified:
            state.last_modified = fetched.last_modified

    def _journal_fetch(
        self,
        tx: Transaction,
        fetched: Fetched,
        at: datetime,
        outcome: Outcome,
        new_hash: str | None,
    ) -> None:
        tx.add_fetch(
            source=self.source.id,
            at=at,
            outcome=outcome,
            url=self.source.url,
            final_url=fetched.final_url,
            status=fetched.status,
            duration_ms=fetched.duration_ms,
            bytes=len(fetched.body),
            error_kind=None,
            error=None,
            content_hash=new_hash,
        )

    def _save(self, tx: Transaction, *, changed: bool) -> None:
        """The journal's versions follow the state; then state.json is written."""
        if self.rebased:
            tx.sync_versions(self.state)
        elif changed:
            tx.add_version(self.state, len(self.state.versions) - 1)
        self.project.store.save_state(self.state)


def unrecorded(source: Source, exc: StateError, at: datetime) -> SourceResult:
    """A source whose committed state is damaged: failed this run, its files untouched."""
    error = DamagedStateError(str(exc), url=source.url)
    return SourceResult(
        source=source.id, outcome=FAILED, at=at, error_kind=error.kind, error=error.message
    )
