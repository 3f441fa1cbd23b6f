"""The digest's view model: one editor digest as plain, frozen data.

Built by :func:`watcher.report.digest.build_digest`; read by every format
(:mod:`watcher.report.render`, :mod:`watcher.report.jsondoc`). Nothing here
reads files or looks at the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Protocol

from watcher.changes.facts import (
    ChangedFact,
)
from watcher.config.model import Config, Source
from watcher.guides.audit import GuideAudit
from watcher.guides.freshness import (
    BROKEN,
    NEEDS_REVIEW,
    OVERDUE,
    UNVERIFIED,
)
from watcher.guides.template import SiteTemplates
from watcher.redact import redact_url
from watcher.results import ClaimResult, DiffStats, Severity
from watcher.state import GuideReviews, ReviewEntry, SourceState

DIGEST_SCHEMA = "watcher.digest/1"
ATTENTION_ORDER = (NEEDS_REVIEW, BROKEN, UNVERIFIED, OVERDUE)
"""The order of the "needs you" groups: the editor's own work first."""
CONTEXT_LINES = 2
MAX_DIFF_LINES = 200
"""Diff lines kept per change; the rest is counted in ``omitted_lines``."""
TEMPLATE_MIN_SOURCES = 3
"""Sources of one host with the same change that make it a "site template changed" item."""

OPEN = "open"
DISMISSED = "dismissed"


class VersionReader(Protocol):
    """Reads version texts: ``(source id, hash) -> text`` (the snapshot store)."""

    def read_version(self, source_id: str, content_hash: str) -> str: ...


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class GuideInfo:
    """A guide as the digest names it."""

    id: str
    title: str
    url: str
    owner: str
    state: str


@dataclass(frozen=True)
class SourceInfo:
    """A source as the digest names it; ``url`` is the configured one."""

    id: str
    title: str
    url: str

    @classmethod
    def of(cls, source: Source) -> SourceInfo:
        return cls(source.id, source.title, redact_url(source.url))


@dataclass(frozen=True)
class Piece:
    """Part of a diff line: ``equal``, ``delete`` or ``insert`` text."""

    op: str
    text: str


@dataclass(frozen=True)
class Span:
    """Consecutive pieces of a line, inside one changed fact (``fact`` kind) or not."""

    fact: str | None
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class DiffLine:
    """One line: ``' '`` unchanged, ``'-'`` removed, ``'+'`` added."""

    tag: str
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for s in self.spans for p in s.pieces)

    @property
    def whole(self) -> bool:
        """The whole line was removed or added (no counterpart to compare words with)."""
        return self.tag != " " and all(p.op != "equal" for s in self.spans for p in s.pieces)


@dataclass(frozen=True)
class DiffBlock:
    """A hunk, with the unchanged lines skipped before it."""

    skipped_before: int
    old_start: int
    new_start: int
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class Signoff:
    """A review or dismissal recorded by an editor."""

    guide: str
    kind: str
    by: str
    note: str
    at: datetime
    sources: tuple[str, ...]

    @classmethod
    def of(cls, guide_id: str, entry: ReviewEntry) -> Signoff:
        """One entry of a guide's sign-off history."""
        return cls(
            guide_id, entry.kind, entry.by, entry.note, entry.at, tuple(sorted(entry.sources))
        )


@dataclass(frozen=True)
class ChangeItem:
    """One changed source of one guide, from the pinned version to the new one."""

    guide: str
    source: SourceInfo
    status: str
    old_hash: str
    new_hash: str
    pinned: str
    detected: datetime | None
    new_in_period: bool
    versions_since_pin: int
    stats: DiffStats
    facts: tuple[ChangedFact, ...]
    blocks: tuple[DiffBlock, ...]
    skipped_after: int
    omitted_lines: int
    dismissal: Signoff | None = None
    severity: Severity | None = None
    reasons: tuple[str, ...] = ()
    claims: tuple[ClaimResult, ...] = ()
    law: tuple[str, ...] = ()
    template_only: bool = False
    """Only the site's template changed (shown once per host, flagging no guide)."""

    @property
    def claim_problem(self) -> bool:
        """A claim of the guide is modified or missing in this change."""
        return any(not claim.ok for claim in self.claims)

    @property
    def signature(self) -> tuple[tuple[str, str], ...]:
        """The changed lines alone: equal for the same edit on different pages."""
        lines = [(line.tag, line.text) for b in self.blocks for line in b.lines if line.tag != " "]
        return (*lines, ("omitted", str(self.omitted_lines)))

    @property
    def entry_id(self) -> str:
        """Stable across runs: the same change of the same guide keeps its id."""
        return f"{self.guide}/{self.source.id}/{self.old_hash}..{self.new_hash}"

    @property
    def command(self) -> str:
        return f"watcher diff {self.source.id} --from {self.old_hash} --to {self.new_hash}"


@dataclass(frozen=True)
class TemplateItem:
    """One change made identically on many sources of one host: the site's template.

    ``items`` are the per-guide changes grouped here; the diff is shown once.
    """

    host: str
    items: tuple[ChangeItem, ...]

    @property
    def change(self) -> ChangeItem:
        return self.items[0]

    @property
    def sources(self) -> tuple[SourceInfo, ...]:
        return tuple(dict.fromkeys(item.source for item in self.items))

    @property
    def guides(self) -> tuple[str, ...]:
        return tuple(sorted({item.guide for item in self.items}))


@dataclass(frozen=True)
class Attention:
    """A guide that needs someone, and the one thing to do."""

    guide: GuideInfo
    state: str
    since: datetime | None
    action: str
    command: str | None
    reasons: tuple[str, ...]
    severity: Severity | None = None
    claim_problem: bool = False


@dataclass(frozen=True)
class GuideSection:
    """The changes of one guide."""

    guide: GuideInfo
    changes: tuple[ChangeItem, ...]


@dataclass(frozen=True)
class Attempt:
    """One fetch attempt from the journal (optional detail)."""

    at: datetime
    outcome: str
    status: int | None
    error: str | None


@dataclass(frozen=True)
class HealthItem:
    """A source with a fetching problem or a moved address."""

    source: SourceInfo
    problem: str
    failures: int
    fail_after: int
    failing_since: datetime | None
    last_error: str | None
    last_success: datetime | None
    moved_to: str | None
    guides: tuple[str, ...]
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class QuietItem:
    """A source checked with nothing to review."""

    source: SourceInfo
    last_success: datetime | None
    last_change: datetime | None
    guides: tuple[str, ...]


@dataclass(frozen=True)
class ReaderReportItem:
    """A reader's report as the digest shows it: hostile text, escaped wherever shown.

    ``status`` is ``new`` (waiting for triage) or ``accepted`` (the guide needs
    review until signed off). Never the reader's contact.
    """

    ref: str
    guide: str
    guide_title: str
    status: str
    received: datetime
    text: str
    page: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Counts:
    """Footer numbers."""

    guides: tuple[tuple[str, int], ...]
    sources: int
    open_changes: int
    new_changes: int
    dismissed: int
    signoffs: int
    failing: int
    moved: int
    quiet: int
    below_severity: int = 0
    templates: int = 0


@dataclass(frozen=True)
class AuditItem:
    """A published guide whose last ``watcher audit`` found something, in words."""

    guide: GuideInfo
    checked: datetime
    findings: tuple[str, ...]
    page_changed: datetime | None = None


@dataclass(frozen=True)
class Digest:
    """Everything one digest shows, in display order."""

    generated: datetime
    since: datetime
    until: datetime
    attention: tuple[Attention, ...]
    fresh_guides: tuple[GuideInfo, ...]
    guides: tuple[GuideSection, ...]
    signoffs: tuple[Signoff, ...]
    health: tuple[HealthItem, ...]
    quiet: tuple[QuietItem, ...]
    counts: Counts
    schema: str = field(default=DIGEST_SCHEMA)
    templates: tuple[TemplateItem, ...] = ()
    min_severity: Severity | None = None
    audit: tuple[AuditItem, ...] = ()
    reports: tuple[ReaderReportItem, ...] = ()

    @property
    def needs_attention(self) -> bool:
        """Anything to act on: a guide needing someone, or a source problem."""
        return bool(self.attention or self.health)

    @property
    def changes(self) -> tuple[ChangeItem, ...]:
        """Every change item, those grouped as site template changes included."""
        grouped = tuple(item for template in self.templates for item in template.items)
        return tuple(item for section in self.guides for item in section.changes) + grouped

    def for_guides(self, guide_ids: Iterable[str]) -> Digest:
        """The digest narrowed to some guides (an owner's mail); no source health.

        Its counts are those guides' own: a failing source no guide of theirs
        cites is not in their summary.
        """
        wanted = set(guide_ids)
        part = replace(
            self,
            attention=tuple(a for a in self.attention if a.guide.id in wanted),
            fresh_guides=tuple(g for g in self.fresh_guides if g.id in wanted),
            guides=tuple(s for s in self.guides if s.guide.id in wanted),
            templates=tuple(
                replace(t, items=items)
                for t in self.templates
                if (items := tuple(i for i in t.items if i.guide in wanted))
            ),
            signoffs=tuple(s for s in self.signoffs if s.guide in wanted),
            audit=tuple(a for a in self.audit if a.guide.id in wanted),
            reports=tuple(r for r in self.reports if r.guide in wanted),
            health=(),
            quiet=tuple(q for q in self.quiet if wanted.intersection(q.guides)),
        )
        return replace(part, counts=part._counts_of(wanted, self.health))

    def _counts_of(self, wanted: set[str], health: Sequence[HealthItem]) -> Counts:
        """The footer and summary numbers of this (narrowed) digest's guides."""
        changes = [c for section in self.guides for c in section.changes]
        states = [a.state for a in self.attention] + ["fresh"] * len(self.fresh_guides)
        theirs = [h for h in health if wanted.intersection(h.guides)]
        new_templates = sum(t.change.new_in_period for t in self.templates)
        return replace(
            self.counts,
            guides=tuple((state, states.count(state)) for state, _ in self.counts.guides),
            open_changes=sum(c.status == OPEN for c in changes) + len(self.templates),
            new_changes=sum(c.status == OPEN and c.new_in_period for c in changes) + new_templates,
            dismissed=sum(c.status == DISMISSED for c in changes),
            signoffs=len(self.signoffs),
            failing=sum(h.problem in ("broken", "failing") for h in theirs),
            moved=sum(h.moved_to is not None for h in theirs),
            quiet=len(self.quiet),
            templates=len(self.templates),
        )

    def health_only(self) -> Digest:
        """The digest for maintainers: source health and coverage only."""
        return replace(
            self, attention=(), fresh_guides=(), guides=(), templates=(), signoffs=(), reports=()
        )


@dataclass(frozen=True)
class History:
    """The committed inputs of a digest, as read from the project."""

    config: Config
    states: Mapping[str, SourceState]
    reviews: Mapping[str, GuideReviews]
    versions: VersionReader
    attempts: Mapping[str, Sequence[Attempt]] = field(default_factory=dict)
    audits: Mapping[str, GuideAudit] = field(default_factory=dict)
    reports: Sequence[ReaderReportItem] = ()
    """Readers' reports from the journal: new ones and accepted ones (optional detail)."""

    @cached_property
    def templates(self) -> SiteTemplates:
        """The site template lines of every source, learnt from these states and versions."""
        return SiteTemplates(self.config, self.states, self.versions)

    def state(self, source_id: str) -> SourceState:
        """The committed state of a source (empty if it was never checked)."""
        return self.states.get(source_id) or SourceState(source=source_id)


def day(moment: datetime | None) -> str:
    """``5 Mar 2026``, or ``never``: how every format writes a date."""
    return f"{moment:%d %b %Y}".lstrip("0") if moment else "never"
