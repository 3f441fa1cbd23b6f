"""Settling a suspicious text before it is recorded: partial pages and shrinks.

A page sometimes comes back once without one of its blocks (a partial
render, a timeout behind the site's own front end) and is whole again a
moment later. Recording that as a change, then its return as another,
would flag guides for nothing. So, before a text is recorded:

- **partial page**: a text that lost a block of the current version and
  gained nothing (shorter than :data:`PARTIAL_SHARE` of it, its lines all
  from it) is fetched once more after ``recheck_delay``, within the run and
  the host's politeness limits. Whole again: nothing changed ("a change was
  seen but did not hold"). The same again: the change is recorded.
- **shrink**: a text far smaller than the current version (the ``shrunk``
  quality gate, below ``min_size_ratio``) is a failure, never a change, until
  it holds: fetched once more at once, and counted across checks in the
  committed state. After ``confirm_shrink`` later fetches returned the same
  text, it is recorded as the (major) change it is: the page really lost
  most of its text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from watcher.config.model import Source
from watcher.errors import QualityError, SourceError
from watcher.state import Shrink, SourceState
from watcher.store import SnapshotStore
from watcher.text import normalize
from watcher.text.render import Rendered

PARTIAL_SHARE = 0.8
"""A text shorter than this share of the current one, and all from it, may be a partial page."""
KNOWN_LINES = 0.95
"""...when at least this share of its lines are lines of the current version."""

Refetch = Callable[[], Awaitable[Rendered]]


@dataclass(frozen=True)
class Settled:
    """The text to record (None: keep the current one) and whether a change did not hold."""

    rendered: Rendered | None
    unconfirmed: bool = False


@dataclass
class Settle:
    """Decides what one fetched text means before it is recorded."""

    source: Source
    state: SourceState
    store: SnapshotStore
    refetch: Refetch
    now: Callable[[], datetime]

    async def partial(self, rendered: Rendered) -> Settled:
        """A text missing a block of the current one is fetched again before it counts."""
        current = self._current()
        if current is None or not _partial(rendered.text, current):
            return Settled(rendered)
        await asyncio.sleep(self.source.signal.recheck_delay.total_seconds())
        try:
            again = await self.refetch()
        except SourceError:
            return Settled(rendered)  # could not look again: the text stands as fetched
        if again.text == current:
            return Settled(None, unconfirmed=True)  # whole again: a partial render
        return Settled(again)

    async def shrunk(self, error: QualityError) -> Settled:
        """A shrink is a failure until it holds; then it is the change it is."""
        text = error.shrunk_text
        if text is None:
            raise error
        content_hash = normalize.content_hash(text)
        seen = self._count(content_hash)
        if seen <= self.source.signal.confirm_shrink:
            await asyncio.sleep(self.source.signal.recheck_delay.total_seconds())
            try:
                again = await self.refetch()
            except QualityError as second:
                if second.kind == "shrunk" and second.shrunk_text == text:
                    seen = self._count(content_hash)
            except SourceError:
                pass
            else:
                self.state.shrink = None
                return Settled(again)  # the page came back whole: the shrink did not hold
        if seen > self.source.signal.confirm_shrink:
            self.state.shrink = None
            return Settled(Rendered(text))
        left = self.source.signal.confirm_shrink + 1 - seen
        error.message += (
            f"; the same text was seen {seen} time{'s' if seen > 1 else ''}, "
            f"and is recorded as a change if {left} more fetch{'es' if left > 1 else ''} agree"
        )
        raise error

    def _count(self, content_hash: str) -> int:
        """Count one more sighting of a shrunken text (a new one starts over)."""
        shrink = self.state.shrink
        if shrink is None or shrink.hash != content_hash:
            shrink = Shrink(content_hash, 0, self.now())
        shrink.count += 1
        self.state.shrink = shrink
        return shrink.count

    def _current(self) -> str | None:
        current = self.state.current
        return self.store.read_version(self.state.source, current) if current else None


def _partial(new: str, current: str) -> bool:
    """True when ``new`` lost part of ``current`` and gained (almost) nothing."""
    if len(new) >= PARTIAL_SHARE * len(current):
        return False
    known = set(current.split("\n"))
    lines = new.split("\n")
    return sum(line in known for line in lines) >= KNOWN_LINES * len(lines)
