"""The "what changed" items of a digest: one per changed source of a guide.

Each item holds the diff from the version the editor last verified (the
pin) to the current one, in blocks with word-level detail, its severity
and reasons, the guide's claims, the changed facts and (for laws) the
changes by article; changes dismissed during the period are items too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

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
from watcher.config.model import Guide, Source
from watcher.guides.freshness import (
    GuideVerdict,
    SourceVerdict,
)
from watcher.report.model import (
    CONTEXT_LINES,
    DISMISSED,
    MAX_DIFF_LINES,
    OPEN,
    ChangeItem,
    DiffBlock,
    DiffLine,
    GuideInfo,
    GuideSection,
    History,
    Piece,
    Signoff,
    SourceInfo,
    Span,
    day,
)
from watcher.results import Hunk, Line, WordOp
from watcher.state import DISMISS, GuideReviews, ReviewEntry, SourceState

# -- changes -------------------------------------------------------------------


def guide_section(
    history: History,
    guide: Guide,
    info: GuideInfo,
    verdict: GuideVerdict,
    since: datetime,
    until: datetime,
) -> GuideSection:
    items: list[ChangeItem] = []
    for sv in verdict.changed_sources:
        state = history.state(sv.source)
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
        return f"the first version seen, {day(verdict.pin_at)} (no editor has reviewed it yet)"
    how = "dismissed" if verdict.pin_kind == DISMISS else "reviewed"
    return f"the version {how} by {verdict.pin_by} on {day(verdict.pin_at)}"


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
            state = history.state(source_id)
            before = _pin_before(reviews.entries[:index], source_id, state)
            hashes = (state.resolve(before or ""), state.resolve(pinned))
            if before is None or hashes[0] == hashes[1]:
                continue
            signoff = Signoff.of(guide.id, entry)
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
        source.id,
        source.signal,
        old_hash,
        new_hash,
        claims,
        texts.__getitem__,
        template=history.templates.lines_for(source),
        volatile=state.volatile,
    )
    return ChangeItem(
        guide=guide_id,
        source=SourceInfo.of(source),
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
        template_only=assessment.template_only,
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
