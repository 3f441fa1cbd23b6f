"""One source through the stages of a check, as one object.

:meth:`SourceCheck.run` reads as the stages in order: re-base the stored
versions if the rules changed, fetch, render (body -> text), confirm a
change when the source asks for it, record, assess, flag. A failure at any
stage is recorded for this source alone (:class:`~watcher.errors.SourceError`
never leaves :meth:`~SourceCheck.run`): it never aborts the run, never
replaces the stored snapshot and never counts as a change.

Noise that survives normalizing is kept out of the editor's way here:

- **flapping**: a return to a recent version is stored as ``reverted``
  (see :mod:`watcher.check.record`);
- **confirm**: a source with ``confirm: N`` is fetched N more times,
  ``confirm_delay`` apart, before a change is stored; a change that does
  not hold is not recorded (``unconfirmed``).
"""

from __future__ import annotations

import asyncio
import traceback
from dataclasses import dataclass, field, replace

from watcher.check import signal
from watcher.check.rebase import rebase
from watcher.check.record import Record, unrecorded
from watcher.check.settle import Settle, Settled
from watcher.config.model import Source
from watcher.errors import HTTPStatusError, InternalError, QualityError, SourceError, StateError
from watcher.fetch.client import Fetcher, Validators
from watcher.project import Project
from watcher.results import CHANGED, Clock, Fetched, SourceResult
from watcher.state import SourceState
from watcher.text import normalize
from watcher.text.render import Rendered, explain_status
from watcher.text.workers import Renderers


@dataclass
class SourceCheck:
    """Checks one source: fetch, render, confirm, record, assess, flag."""

    project: Project
    source: Source
    fetcher: Fetcher
    renderers: Renderers
    clock: Clock
    defer: bool = False
    """Leave a change unassessed: the run assesses it once its host's pages are all in."""
    state: SourceState = field(init=False)

    def __post_init__(self) -> None:
        self.state = self.project.store.load_state(self.source.id)

    async def run(self) -> SourceResult:
        """Every stage in order; never raises a :class:`SourceError`.

        Damaged committed state of this source fails it alone, recording
        nothing; any other exception while fetching or rendering (a bug met
        on this page) is recorded as its ``internal`` failure.
        """
        try:
            return await self._stages()
        except StateError as exc:
            return unrecorded(self.source, exc, self.clock())

    async def _stages(self) -> SourceResult:
        record = Record(self.project, self.source, self.state, self.rebase())
        try:
            fetched = await self.fetch()
            settled = await self.settle(fetched)
        except SourceError as exc:
            return record.failure(exc, self.clock())
        except StateError:
            raise
        except Exception as exc:  # not the page's fault: a bug, recorded as this source's
            return record.failure(internal_error(exc), self.clock())
        rendered, unconfirmed = settled.rendered, settled.unconfirmed
        if rendered is not None and not await self.confirmed(rendered):
            unconfirmed, rendered = True, None
        if unconfirmed:
            # Forget the validators too: a 304 must not stand for a text never stored.
            fetched, rendered = replace(fetched, etag=None, last_modified=None), None
        result = record.success(fetched, rendered, self.clock(), unconfirmed=unconfirmed)
        if self.defer and result.outcome == CHANGED:
            return result
        result = self.assess(result, rendered)
        return self.flag(result)

    def rebase(self) -> bool:
        """Re-render the stored versions if the text rules changed; True if hashes moved."""
        return rebase(self.project.store, self.source, self.state, self.clock())

    async def fetch(self) -> Fetched:
        """The response, conditional on what we hold; an error page that says why is named."""
        try:
            return await self.fetcher.fetch(self.source.url, self.source.fetch, self._validators())
        except HTTPStatusError as exc:
            raise explain_status(self.source.text, self.source.url, exc) from None

    async def render(self, fetched: Fetched) -> Rendered | None:
        """Snapshot text through both quality gates; None for a 304."""
        if fetched.not_modified:
            return None
        return await self._render_body(fetched)

    async def _render_body(self, fetched: Fetched) -> Rendered:
        """Render through the workers: the body's deadline is the source's ``timeout``."""
        deadline = self.source.fetch.timeout.total_seconds()
        return await self.renderers.render(
            self.source.text, fetched, self._current_size(), deadline=deadline
        )

    async def settle(self, fetched: Fetched) -> Settled:
        """The text to record: a partial page looked at again, a shrink counted until it holds."""
        settle = Settle(self.source, self.state, self.project.store, self._refetch, self.clock)
        try:
            rendered = await self.render(fetched)
        except QualityError as error:
            if error.kind != "shrunk":
                raise
            return await settle.shrunk(error)
        self.state.shrink = None
        if rendered is None:
            return Settled(None)
        return await settle.partial(rendered)

    async def _refetch(self) -> Rendered:
        """The page fetched and rendered again, unconditionally (no validators)."""
        again = await self.fetcher.fetch(self.source.url, self.source.fetch)
        return await self._render_body(again)

    async def confirmed(self, rendered: Rendered) -> bool:
        """With ``confirm: N``, a change must hold for N more fetches, ``confirm_delay`` apart."""
        candidate = normalize.content_hash(rendered.text)
        rules = self.source.signal
        if not rules.confirm or self.state.current in (None, candidate):
            return True
        for _ in range(rules.confirm):
            await asyncio.sleep(rules.confirm_delay.total_seconds())
            try:
                again = await self._refetch()
            except SourceError:
                return False  # not confirmed; the next check looks again
            if normalize.content_hash(again.text) != candidate:
                return False
        return True

    def assess(self, result: SourceResult, rendered: Rendered | None) -> SourceResult:
        """Severity, reasons and law units of a change; the citing guides' claims."""
        text = rendered.text if rendered is not None else None
        return signal.assessed(self.project, self.source, self.state, result, text)

    def flag(self, result: SourceResult) -> SourceResult:
        """The citing guides whose pinned version differs from the current one."""
        return signal.flagged(self.project, self.source, self.state, result)

    def _current_size(self) -> int | None:
        if self.state.current is None:
            return None
        return len(self.project.store.read_version(self.state.source, self.state.current))

    def _validators(self) -> Validators | None:
        """Conditional headers, only when we hold a version to fall back on."""
        current = self.state.versions[-1] if self.state.versions else None
        if current is None or current.raw is None:
            return None
        return Validators(etag=self.state.etag, last_modified=self.state.last_modified)


def internal_error(exc: Exception) -> InternalError:
    """A bug met while checking one source, as that source's failure (with the traceback)."""
    error = InternalError(
        f"internal error: {type(exc).__name__}: {exc}",
        hint="a bug in watcher, not in the page: please report it with the crash log",
    )
    error.detail = "".join(traceback.format_exception(exc))
    return error
