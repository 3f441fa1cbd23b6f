"""One editor digest as plain data: what needs whom, what changed, what is healthy.

:func:`build_digest` reads the project's committed state (source states
with their versions' ``seen`` times, the editors' sign-offs, version texts)
and, when given, the database journal for fetch detail, and returns a
frozen :class:`Digest` for the period ``[since, until]``. Nothing here
looks at the clock: the same files, period and generation time give the
same digest, so the same output bytes.

Sections, in the order every format shows them:

1. ``attention``: guides needing someone, grouped by state (needs review,
   broken, unverified, overdue), the longest-waiting first, each with owner,
   since when and the one thing to do;
2. ``guides``: per guide, one :class:`ChangeItem` per changed source, with
   the diff from the version the editor last verified (the pin) to the
   current one, its severity and reasons, the guide's claims and (for laws)
   the changes by article, and changes dismissed during the period; claims
   modified or missing first, then the most severe. ``templates``: the same
   change on :data:`TEMPLATE_MIN_SOURCES` or more sources of one host (a
   banner, a footer) is one "site template changed" item instead of N;
3. ``signoffs``: reviews and dismissals recorded during the period;
4. ``health``: failing, broken, moved and never-checked sources (for
   maintainers, apart from content);
5. ``quiet``: sources checked with nothing to review;
6. ``counts``, for the footer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from watcher.changes.assessment import assess_versions, rank
from watcher.changes.diff import diff_texts
from watcher.changes.facts import (
    FACT_KINDS,
    NAMED_KINDS,
    ChangedFact,
    Fact,
    changed_facts,
    mark_ops,
)
from watcher.config.model import Config, Guide, Source
from watcher.errors import StoreError
from watcher.guides.freshness import (
    BROKEN,
    FRESH,
    NEEDS_REVIEW,
    OVERDUE,
    SEVERITY,
    UNVERIFIED,
    GuideVerdict,
    SourceVerdict,
    all_verdicts,
)
from watcher.project import Project
from watcher.results import ClaimResult, DiffStats, Hunk, Line, WordOp
from watcher.state import DISMISS, GuideReviews, ReviewEntry, SourceState

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
    severity: str | None = None
    reasons: tuple[str, ...] = ()
    claims: tuple[ClaimResult, ...] = ()
    law: tuple[str, ...] = ()

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
    severity: str | None = None
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
    min_severity: str | None = None

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
        """The digest narrowed to some guides (an owner's mail); no source health."""
        wanted = set(guide_ids)
        return replace(
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
            health=(),
            quiet=tuple(q for q in self.quiet if wanted.intersection(q.guides)),
        )

    def health_only(self) -> Digest:
        """The digest for maintainers: source health and coverage only."""
        return replace(self, attention=(), fresh_guides=(), guides=(), templates=(), signoffs=())


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class History:
    """The committed inputs of a digest, as read from the project."""

    config: Config
    states: Mapping[str, SourceState]
    reviews: Mapping[str, GuideReviews]
    versions: VersionReader
    attempts: Mapping[str, Sequence[Attempt]] = field(default_factory=dict)


def build_digest(
    history: History,
    since: datetime,
    until: datetime,
    generated: datetime,
    min_severity: str | None = None,
) -> Digest:
    """The digest of ``history`` for the period ``[since, until]``.

    ``min_severity`` leaves out the changes assessed below it (counted in
    ``counts.below_severity``); the guides they flag still need review.
    """
    config = history.config
    verdicts = {
        v.guide: v
        for v in all_verdicts(config, history.states, history.reviews, until, history.versions)
    }
    infos = {g.id: _guide_info(g, verdicts[g.id]) for g in config.guides}
    every = [
        _guide_section(history, guide, infos[guide.id], verdicts[guide.id], since, until)
        for guide in config.guides
    ]
    shown, below = _at_least(every, min_severity)
    shown, templates = _group_templates(config, shown)
    sections = tuple(sorted((s for s in shown if s.changes), key=_section_order))
    signoffs = _signoffs(history.reviews, since, until)
    health = _health(history, since, until)
    quiet = _quiet(history, every, health)
    attention = _attention(config, history.states, verdicts, infos)
    fresh = tuple(sorted((i for i in infos.values() if i.state == FRESH), key=lambda i: i.id))
    counts = _counts(verdicts.values(), config, sections, signoffs, health, quiet)
    counts = replace(
        counts,
        open_changes=counts.open_changes + len(templates),
        new_changes=counts.new_changes + sum(t.change.new_in_period for t in templates),
        below_severity=below,
        templates=len(templates),
    )
    return Digest(
        generated,
        since,
        until,
        attention,
        fresh,
        sections,
        signoffs,
        health,
        quiet,
        counts,
        templates=templates,
        min_severity=min_severity,
    )


def _section_order(section: GuideSection) -> tuple[bool, int, str]:
    """Guides with a claim modified or missing first, then by their most severe change."""
    open_items = [i for i in section.changes if i.status == OPEN]
    worst = max((rank(i.severity) for i in open_items), default=-1)
    return not any(i.claim_problem for i in open_items), -worst, section.guide.id


def _at_least(
    sections: Sequence[GuideSection], minimum: str | None
) -> tuple[list[GuideSection], int]:
    """Sections without the changes assessed below ``minimum``, and how many were left out."""
    if minimum is None:
        return list(sections), 0
    kept = [replace(s, changes=tuple(i for i in s.changes if _shown(i, minimum))) for s in sections]
    hidden = sum(len(s.changes) for s in sections) - sum(len(s.changes) for s in kept)
    return kept, hidden


def _shown(item: ChangeItem, minimum: str) -> bool:
    return item.severity is None or item.claim_problem or rank(item.severity) >= rank(minimum)


def _group_templates(
    config: Config, sections: Sequence[GuideSection]
) -> tuple[list[GuideSection], tuple[TemplateItem, ...]]:
    """Take out the identical open changes of many sources of one host as template items.

    A change that breaks a claim is never grouped away: it stays with its guide.
    """
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[ChangeItem]] = defaultdict(list)
    for section in sections:
        for item in section.changes:
            if item.status == OPEN and not item.claim_problem:
                groups[(config.source(item.source.id).host, item.signature)].append(item)
    templates = tuple(
        TemplateItem(host, tuple(sorted(items, key=lambda i: (i.source.id, i.guide))))
        for (host, _), items in groups.items()
        if len({i.source.id for i in items}) >= TEMPLATE_MIN_SOURCES
    )
    taken = {(i.guide, i.entry_id) for t in templates for i in t.items}
    kept = [
        replace(s, changes=tuple(i for i in s.changes if (i.guide, i.entry_id) not in taken))
        for s in sections
    ]
    ordered = sorted(templates, key=lambda t: (-rank(t.change.severity), t.host))
    return kept, tuple(ordered)


def _guide_info(guide: Guide, verdict: GuideVerdict) -> GuideInfo:
    return GuideInfo(guide.id, guide.title, guide.url, guide.owner, verdict.state)


def _source_info(source: Source) -> SourceInfo:
    return SourceInfo(source.id, source.title, source.url)


def _state(history: History, source_id: str) -> SourceState:
    return history.states.get(source_id) or SourceState(source=source_id)


# -- attention ---------------------------------------------------------------


def _attention(
    config: Config,
    states: Mapping[str, SourceState],
    verdicts: Mapping[str, GuideVerdict],
    infos: Mapping[str, GuideInfo],
) -> tuple[Attention, ...]:
    items = [
        _attention_item(config, states, verdicts[g.id], infos[g.id])
        for g in config.guides
        if verdicts[g.id].state != FRESH
    ]
    return tuple(sorted(items, key=_urgency))


def _urgency(item: Attention) -> tuple[int, bool, int, float, str]:
    """Group order, claims first, the most severe, then the longest-waiting (unknown first)."""
    order = ATTENTION_ORDER.index(item.state) if item.state in ATTENTION_ORDER else len(SEVERITY)
    since = item.since.timestamp() if item.since else float("-inf")
    return order, not item.claim_problem, -rank(item.severity), since, item.guide.id


def _attention_item(
    config: Config,
    states: Mapping[str, SourceState],
    verdict: GuideVerdict,
    info: GuideInfo,
) -> Attention:
    guide = config.guide(verdict.guide)
    titles = {s.id: s.title for s in config.sources}
    claims = tuple(
        f"{titles.get(r.source or '', r.source)}: {r.text}" for r in verdict.claim_problems
    )
    reasons = claims + tuple(
        _reason_text(v, states, titles, config) for v in verdict.sources if _flagged(v)
    )
    if verdict.state == OVERDUE:
        reasons += (f"last signed off more than {guide.review_every.days} days ago",)
    since = _since(verdict, states, guide)
    action, command = _action(verdict, guide)
    return Attention(
        info,
        verdict.state,
        since,
        action,
        command,
        reasons,
        verdict.severity,
        bool(verdict.claim_problems),
    )


def _flagged(verdict: SourceVerdict) -> bool:
    return verdict.changed or verdict.broken or verdict.unverified


def _reason_text(
    verdict: SourceVerdict,
    states: Mapping[str, SourceState],
    titles: Mapping[str, str],
    config: Config,
) -> str:
    title = titles.get(verdict.source, verdict.source)
    state = states.get(verdict.source) or SourceState(source=verdict.source)
    if verdict.broken:
        return f"{title}: cannot be fetched since {_day(state.failing_since)}"
    if verdict.changed:
        severity = verdict.assessment.severity if verdict.assessment else None
        return f"{title}: changed {_day(verdict.changed_since)}" + (
            f" ({severity})" if severity else ""
        )
    if state.last_success is None:
        return f"{title}: never checked successfully"
    return f"{title}: last checked successfully {_day(state.last_success)}"


def _since(
    verdict: GuideVerdict, states: Mapping[str, SourceState], guide: Guide
) -> datetime | None:
    times: list[datetime | None]
    if verdict.state == BROKEN:
        times = [_state_of(states, v.source).failing_since for v in verdict.sources if v.broken]
    elif verdict.state == NEEDS_REVIEW:
        times = [v.changed_since for v in verdict.changed_sources]
    elif verdict.state == UNVERIFIED:
        times = [_state_of(states, v.source).last_success for v in verdict.sources if v.unverified]
    else:
        signoff = verdict.last_signoff or min(
            (v.pin_at for v in verdict.sources if v.pin_at), default=None
        )
        times = [signoff + guide.review_every if signoff else None]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _state_of(states: Mapping[str, SourceState], source_id: str) -> SourceState:
    return states.get(source_id) or SourceState(source=source_id)


def _action(verdict: GuideVerdict, guide: Guide) -> tuple[str, str | None]:
    review = f'watcher review {guide.id} --by NAME --note "what you checked"'
    if verdict.state == NEEDS_REVIEW:
        return "Read the changes below, update the guide where needed, then sign it off.", review
    if verdict.state == BROKEN:
        failing = next(v.source for v in verdict.sources if v.broken)
        return (
            "A source cannot be fetched: nothing to edit yet; a maintainer fixes the source "
            "(see Source health).",
            f"watcher check -s {failing}",
        )
    if verdict.state == UNVERIFIED:
        stale = next(v.source for v in verdict.sources if v.unverified)
        return "A source has not been checked recently: ask a maintainer to check it.", (
            f"watcher check -s {stale}"
        )
    return "Re-read the guide against its sources, then sign it off.", review


# -- changes -------------------------------------------------------------------


def _guide_section(
    history: History,
    guide: Guide,
    info: GuideInfo,
    verdict: GuideVerdict,
    since: datetime,
    until: datetime,
) -> GuideSection:
    items: list[ChangeItem] = []
    for sv in verdict.changed_sources:
        state = _state(history, sv.source)
        items.append(
            _change_item(
                history,
                guide.id,
                history.config.source(sv.source),
                state,
                (sv.pinned or "", sv.current or ""),
                _pin_words(sv),
                since,
                None,
            )
        )
    items.extend(_dismissed_items(history, guide, since, until))
    items.sort(
        key=lambda i: (
            i.status != OPEN,
            not i.claim_problem,
            -rank(i.severity),
            i.source.id,
            i.detected or since,
            i.new_hash,
        )
    )
    return GuideSection(info, tuple(items))


def _pin_words(verdict: SourceVerdict) -> str:
    if verdict.baseline_pin:
        return f"the first version seen, {_day(verdict.pin_at)} (no editor has reviewed it yet)"
    how = "dismissed" if verdict.pin_kind == DISMISS else "reviewed"
    return f"the version {how} by {verdict.pin_by} on {_day(verdict.pin_at)}"


def _dismissed_items(
    history: History, guide: Guide, since: datetime, until: datetime
) -> list[ChangeItem]:
    reviews = history.reviews.get(guide.id) or GuideReviews(guide.id)
    items: list[ChangeItem] = []
    for index, entry in enumerate(reviews.entries):
        if entry.kind != DISMISS or not since <= entry.at <= until:
            continue
        for source_id, pinned in sorted(entry.sources.items()):
            if source_id not in guide.source_ids:
                continue
            state = _state(history, source_id)
            before = _pin_before(reviews.entries[:index], source_id, state)
            hashes = (state.resolve(before or ""), state.resolve(pinned))
            if before is None or hashes[0] == hashes[1]:
                continue
            signoff = _signoff(guide.id, entry)
            words = "the version before the dismissed change"
            item = _change_item(
                history,
                guide.id,
                history.config.source(source_id),
                state,
                hashes,
                words,
                since,
                signoff,
            )
            items.append(item)
    return items


def _pin_before(entries: Sequence[ReviewEntry], source_id: str, state: SourceState) -> str | None:
    for entry in reversed(entries):
        if source_id in entry.sources:
            return entry.sources[source_id]
    return state.baseline


def _change_item(
    history: History,
    guide_id: str,
    source: Source,
    state: SourceState,
    hashes: tuple[str, str],
    pinned: str,
    since: datetime,
    dismissal: Signoff | None,
) -> ChangeItem:
    old_hash, new_hash = hashes
    old = history.versions.read_version(source.id, old_hash)
    new = history.versions.read_version(source.id, new_hash)
    diff = diff_texts(old, new, context=CONTEXT_LINES)
    blocks, skipped_after, omitted = _blocks(diff.hunks, len(old.split("\n")) if old else 0)
    detected = _detected(state, old_hash, new_hash)
    claims = history.config.claims(guide_id, source.id)
    texts = {old_hash: old, new_hash: new}
    assessment = assess_versions(
        source.id, source.signal, old_hash, new_hash, claims, texts.__getitem__
    )
    return ChangeItem(
        guide=guide_id,
        source=_source_info(source),
        status=DISMISSED if dismissal else OPEN,
        old_hash=old_hash,
        new_hash=new_hash,
        pinned=pinned,
        detected=detected,
        new_in_period=detected is not None and detected >= since,
        versions_since_pin=_versions_between(state, old_hash, new_hash),
        stats=diff.stats,
        facts=_facts(diff.hunks),
        blocks=blocks,
        skipped_after=skipped_after,
        omitted_lines=omitted,
        dismissal=dismissal,
        severity=assessment.severity,
        reasons=assessment.reasons,
        claims=assessment.claims,
        law=assessment.law,
    )


def _positions(state: SourceState, content_hash: str) -> list[int]:
    return [i for i, v in enumerate(state.versions) if v.hash == content_hash]


def _detected(state: SourceState, old_hash: str, new_hash: str) -> datetime | None:
    """When the first version after the old one was seen."""
    old_at = _positions(state, old_hash)
    new_at = _positions(state, new_hash)
    if not new_at:
        return None
    start = old_at[-1] + 1 if old_at and old_at[-1] < new_at[-1] else new_at[-1]
    return state.versions[start].seen


def _versions_between(state: SourceState, old_hash: str, new_hash: str) -> int:
    """Versions stored after the old one, up to and including the new one."""
    old_at, new_at = _positions(state, old_hash), _positions(state, new_hash)
    if not old_at or not new_at or new_at[-1] <= old_at[-1]:
        return 1
    return new_at[-1] - old_at[-1]


def _blocks(hunks: Sequence[Hunk], old_lines: int) -> tuple[tuple[DiffBlock, ...], int, int]:
    blocks: list[DiffBlock] = []
    position = 0
    budget = MAX_DIFF_LINES
    omitted = 0
    for hunk in hunks:
        start = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        lines = tuple(_diff_line(line) for line in hunk.lines)
        kept, budget = lines[:budget], max(0, budget - len(lines))
        omitted += len(lines) - len(kept)
        if kept:
            blocks.append(DiffBlock(start - position, hunk.old_start, hunk.new_start, kept))
        position = start + hunk.old_count
    return tuple(blocks), max(0, old_lines - position), omitted


def _line_words(line: Line) -> tuple[WordOp, ...]:
    if line.words:
        return line.words
    op = {"-": "delete", "+": "insert"}.get(line.tag, "equal")
    return (WordOp(op, line.text),)


def _diff_line(line: Line) -> DiffLine:
    """Spans of a line: changed facts grouped, so they can be marked as one."""
    if line.tag == " ":
        return DiffLine(line.tag, (Span(None, (Piece("equal", line.text),)),))
    change = "delete" if line.tag == "-" else "insert"
    spans: list[Span] = []
    last: Fact | None = None
    kinds = NAMED_KINDS if not line.words else FACT_KINDS
    for piece in mark_ops(_line_words(line), change, kinds):
        if spans and piece.fact is not None and piece.fact == last:
            spans[-1] = Span(spans[-1].fact, (*spans[-1].pieces, Piece(piece.op, piece.text)))
        else:
            spans.append(
                Span(piece.fact.kind if piece.fact else None, (Piece(piece.op, piece.text),))
            )
        last = piece.fact
    return DiffLine(line.tag, tuple(spans))


def _facts(hunks: Sequence[Hunk]) -> tuple[ChangedFact, ...]:
    found: list[ChangedFact] = []
    for hunk in hunks:
        removed = [line for line in hunk.lines if line.tag == "-"]
        added = [line for line in hunk.lines if line.tag == "+"]
        paired_old = [line for line in removed if line.words]
        paired_new = [line for line in added if line.words]
        for old, new in zip(paired_old, paired_new, strict=False):
            found.extend(changed_facts(old.words, new.words))
        for line in removed:
            if not line.words:
                found.extend(changed_facts(_line_words(line), (), NAMED_KINDS))
        for line in added:
            if not line.words:
                found.extend(changed_facts((), _line_words(line), NAMED_KINDS))
    unique: dict[tuple[str, str, str], ChangedFact] = {}
    for fact in found:
        unique.setdefault((fact.kind, _same_fact(fact.old), _same_fact(fact.new)), fact)
    return tuple(unique.values())


def _same_fact(text: str | None) -> str:
    """Spellings of one fact compare equal: ``8 (800) 555-01-23`` == ``+78005550123``."""
    if text is None:
        return ""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits[0] in "78":
        return "7" + digits[1:]
    return " ".join(text.split()).lower()


# -- sign-offs, health, quiet, counts ------------------------------------------


def _signoff(guide_id: str, entry: ReviewEntry) -> Signoff:
    return Signoff(
        guide_id, entry.kind, entry.by, entry.note, entry.at, tuple(sorted(entry.sources))
    )


def _signoffs(
    reviews: Mapping[str, GuideReviews], since: datetime, until: datetime
) -> tuple[Signoff, ...]:
    found = [
        _signoff(guide_id, entry)
        for guide_id, history in reviews.items()
        for entry in history.entries
        if since <= entry.at <= until
    ]
    return tuple(sorted(found, key=lambda s: (s.at, s.guide, s.kind)))


def _health(history: History, since: datetime, until: datetime) -> tuple[HealthItem, ...]:
    items = []
    for source in sorted(history.config.sources, key=lambda s: s.id):
        state = _state(history, source.id)
        problem = _problem(source, state)
        if problem is None:
            continue
        check = state.last_check
        attempts = tuple(a for a in history.attempts.get(source.id, ()) if since <= a.at <= until)
        items.append(
            HealthItem(
                source=_source_info(source),
                problem=problem,
                failures=state.consecutive_failures,
                fail_after=source.cadence.fail_after,
                failing_since=state.failing_since,
                last_error=check.error if check and state.consecutive_failures else None,
                last_success=state.last_success,
                moved_to=state.moved_to,
                guides=tuple(sorted(g.id for g in history.config.guides_citing(source.id))),
                attempts=attempts,
            )
        )
    order = ("broken", "failing", "never checked", "moved")
    return tuple(sorted(items, key=lambda i: (order.index(i.problem), i.source.id)))


def _problem(source: Source, state: SourceState) -> str | None:
    if state.consecutive_failures >= source.cadence.fail_after:
        return "broken"
    if state.consecutive_failures:
        return "failing"
    if not state.versions:
        return "never checked"
    if state.moved_to:
        return "moved"
    return None


def _quiet(
    history: History, sections: Sequence[GuideSection], health: Sequence[HealthItem]
) -> tuple[QuietItem, ...]:
    busy = {c.source.id for s in sections for c in s.changes} | {h.source.id for h in health}
    items = []
    for source in sorted(history.config.sources, key=lambda s: s.id):
        state = _state(history, source.id)
        if source.id in busy or state.last_success is None:
            continue
        last_change = state.versions[-1].seen if len(state.versions) > 1 else None
        guides = tuple(sorted(g.id for g in history.config.guides_citing(source.id)))
        items.append(QuietItem(_source_info(source), state.last_success, last_change, guides))
    return tuple(items)


def _counts(
    verdicts: Iterable[GuideVerdict],
    config: Config,
    sections: Sequence[GuideSection],
    signoffs: Sequence[Signoff],
    health: Sequence[HealthItem],
    quiet: Sequence[QuietItem],
) -> Counts:
    states = [v.state for v in verdicts]
    changes = [c for s in sections for c in s.changes]
    return Counts(
        guides=tuple((state, states.count(state)) for state in SEVERITY),
        sources=len(config.sources),
        open_changes=sum(c.status == OPEN for c in changes),
        new_changes=sum(c.status == OPEN and c.new_in_period for c in changes),
        dismissed=sum(c.status == DISMISSED for c in changes),
        signoffs=len(signoffs),
        failing=sum(h.problem in ("broken", "failing") for h in health),
        moved=sum(h.moved_to is not None for h in health),
        quiet=len(quiet),
    )


def _day(moment: datetime | None) -> str:
    return f"{moment:%d %b %Y}".lstrip("0") if moment else "never"


# -- reading a project -----------------------------------------------------------


def load_history(project: Project, *, journal: bool = True) -> History:
    """The committed state of ``project``, plus fetch detail from its journal if present."""
    attempts: dict[str, tuple[Attempt, ...]] = {}
    if journal and _journal_exists(project.db_url):
        try:
            attempts = {
                s.id: tuple(
                    Attempt(row.at, row.outcome, row.status, row.error)
                    for row in project.journal.fetches(s.id, limit=FETCH_DETAIL)
                )
                for s in project.config.sources
            }
        except StoreError:
            attempts = {}  # fetch detail is optional: the digest stands on snapshots/
    return History(project.config, project.states(), project.all_reviews(), project.store, attempts)


FETCH_DETAIL = 20
"""Fetch attempts read per source from the journal."""


def _journal_exists(url: str) -> bool:
    prefix = "sqlite:///"
    return not url.startswith(prefix) or Path(url.removeprefix(prefix)).is_file()
