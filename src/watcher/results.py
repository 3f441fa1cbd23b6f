"""What the stages hand to each other: records with no behaviour and no I/O.

The ground floor of the package, next to :mod:`watcher.errors` and
:mod:`watcher.state`: every stage and every display may import it, and it
imports nothing of watcher's but the error tree. In the order a source
travels:

- :class:`Fetched`: a successful HTTP exchange (fetch -> text);
- :class:`Diff` and its hunks, lines and word pieces (diff -> assess);
- :class:`ClaimResult`, :class:`GuideClaims`: what became of a guide's quotes;
- :class:`SourceResult`, :class:`RunResult`: one check of one source, one run;

and the closed sets of values they carry (:class:`Outcome`,
:class:`Severity`, :class:`ClaimStatus`), plus the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from watcher.errors import ErrorKind

EMPTY_HEADERS: Mapping[str, str] = MappingProxyType({})

# ---------------------------------------------------------------- the clock

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, in UTC, to the second (every stored time has this precision)."""
    return datetime.now(UTC).replace(microsecond=0)


# ------------------------------------------------------------- value sets


class Outcome(StrEnum):
    """What one check of one source found."""

    BASELINE = "baseline"
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    REVERTED = "reverted"
    FAILED = "failed"


BASELINE = Outcome.BASELINE
UNCHANGED = Outcome.UNCHANGED
CHANGED = Outcome.CHANGED
REVERTED = Outcome.REVERTED
FAILED = Outcome.FAILED


class Severity(StrEnum):
    """How much a change matters to a guide, least first."""

    COSMETIC = "cosmetic"
    MINOR = "minor"
    MAJOR = "major"


SEVERITIES: tuple[Severity, ...] = tuple(Severity)
"""Severities, least first (``--min-severity`` compares by this order)."""


class ClaimStatus(StrEnum):
    """What became of one claim, best first."""

    INTACT = "intact"
    MOVED = "moved"
    MODIFIED = "modified"
    MISSING = "missing"


# ------------------------------------------------------------------ fetch


@dataclass(frozen=True)
class Fetched:
    """A successful HTTP exchange (2xx, or 304 when ``not_modified``)."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    duration_ms: int
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    redirects: tuple[str, ...] = ()
    moved_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY_HEADERS)


# ------------------------------------------------------------------- diff


@dataclass(frozen=True)
class WordOp:
    """One piece of a changed line: ``equal``, ``delete`` or ``insert``."""

    op: str
    text: str


@dataclass(frozen=True)
class Line:
    """One line of a hunk: ``' '`` context, ``'-'`` removed, ``'+'`` added.

    ``words`` is set for a removed/added line paired with its counterpart,
    giving the word-level detail of what changed inside it.
    """

    tag: str
    text: str
    words: tuple[WordOp, ...] = ()


@dataclass(frozen=True)
class Hunk:
    """A run of changed lines with a few lines of context."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class DiffStats:
    lines_added: int = 0
    lines_removed: int = 0
    words_added: int = 0
    words_removed: int = 0
    changed_ratio: float = 0.0


@dataclass(frozen=True)
class Diff:
    """The difference between two normalized texts."""

    hunks: tuple[Hunk, ...]
    stats: DiffStats = field(default_factory=DiffStats)

    @property
    def empty(self) -> bool:
        return not self.hunks


# ----------------------------------------------------------------- claims


@dataclass(frozen=True)
class ClaimResult:
    """What became of one claim; lines are 1-based lines of the snapshot texts."""

    claim: str
    status: ClaimStatus
    old_line: int | None = None
    new_line: int | None = None
    found: str | None = None
    words: tuple[WordOp, ...] = ()
    score: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the claim still reads as the guide quotes it."""
        return self.status in (ClaimStatus.INTACT, ClaimStatus.MOVED)


@dataclass(frozen=True)
class GuideClaims:
    """The claims one guide quotes from a source, checked against its pinned version."""

    guide: str
    summary: str
    results: tuple[ClaimResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


# ----------------------------------------------------------------- checks


@dataclass(frozen=True)
class SourceResult:
    """What one check of one source found."""

    source: str
    outcome: Outcome
    at: datetime
    old_hash: str | None = None
    new_hash: str | None = None
    diff: Diff | None = None
    status: int | None = None
    final_url: str | None = None
    not_modified: bool = False
    duration_ms: int | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    consecutive_failures: int = 0
    newly_failing: bool = False
    recovered: bool = False
    rebased: bool = False
    flagged: tuple[str, ...] = ()
    severity: Severity | None = None
    reasons: tuple[str, ...] = ()
    law: tuple[str, ...] = ()
    claims: tuple[GuideClaims, ...] = ()
    unconfirmed: bool = False
    traceback: str | None = None
    """For an ``internal`` failure (a bug met on this source): where it happened."""


@dataclass(frozen=True)
class StoredChange:
    """A change an earlier check stored but never reported (it was interrupted)."""

    source: str
    old_hash: str | None
    new_hash: str
    at: datetime


@dataclass(frozen=True)
class RunResult:
    """The outcome of one ``watcher check``."""

    started: datetime
    finished: datetime
    results: tuple[SourceResult, ...] = field(default_factory=tuple)
    rendered_in_workers: int = 0
    """Bodies turned into text by worker processes (see :mod:`watcher.text.workers`)."""
    earlier: tuple[StoredChange, ...] = ()
    """Changes earlier checks stored but never reported; this run reports them."""
    interrupted: bool = False
    """The run was stopped (Ctrl-C): ``results`` holds the sources checked before."""
    repairs: tuple[str, ...] = ()
    """Damaged or missing files of ``snapshots/`` rebuilt during the run, in words."""
    migrated: tuple[str, ...] = ()
    """What the run moved to the current ``snapshots/`` layout (once per project), in words."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def flagged_guides(self) -> tuple[str, ...]:
        return tuple(sorted({g for r in self.results for g in r.flagged}))

    @property
    def all_failed(self) -> bool:
        return bool(self.results) and all(r.outcome == FAILED for r in self.results)

    @property
    def internal_errors(self) -> tuple[SourceResult, ...]:
        """Sources that met a bug of watcher's own: the command exits 70 after the run."""
        return tuple(r for r in self.results if r.error_kind == "internal")

    @property
    def noteworthy(self) -> bool:
        """Worth a word even under ``--quiet``: a change or a new failure."""
        changed = any(r.outcome == CHANGED or r.newly_failing for r in self.results)
        return changed or bool(self.earlier)
