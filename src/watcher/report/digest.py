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
   ``reports``: readers' reports waiting for triage, and accepted ones no
   sign-off has settled yet (their guides need review, with the report as
   a reason in ``attention``);
4. ``health``: failing, broken, moved and never-checked sources (for
   maintainers, apart from content); ``audit``: the published guides whose
   last ``watcher audit`` found links not watched, sources not cited, dead
   links or a page changed since its sign-off;
5. ``quiet``: sources checked with nothing to review;
6. ``counts``, for the footer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from watcher.changes.assessment import rank
from watcher.config.model import Config, Guide, Source
from watcher.errors import StoreError
from watcher.guides.audit import audit_reasons
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
from watcher.redact import redact_url
from watcher.report.changes import guide_section
from watcher.report.grouping import group_templates
from watcher.report.model import (
    ATTENTION_ORDER,
    DISMISSED,
    OPEN,
    Attempt,
    Attention,
    AuditItem,
    ChangeItem,
    Counts,
    Digest,
    GuideInfo,
    GuideSection,
    HealthItem,
    History,
    QuietItem,
    Signoff,
    SourceInfo,
    day,
)
from watcher.report.readers import held_reports, reader_reports, with_reports
from watcher.results import Severity
from watcher.state import GuideReviews, SourceState

# ---------------------------------------------------------------- building


def build_digest(
    history: History,
    since: datetime,
    until: datetime,
    generated: datetime,
    min_severity: Severity | None = None,
) -> Digest:
    """The digest of ``history`` for the period ``[since, until]``.

    ``min_severity`` leaves out the changes assessed below it (counted in
    ``counts.below_severity``); the guides they flag still need review.
    """
    config = history.config
    verdicts = {
        v.guide: v
        for v in all_verdicts(
            config, history.states, history.reviews, until, history.versions, history.templates
        )
    }
    infos = {g.id: _guide_info(g, verdicts[g.id]) for g in config.guides}
    every = [
        guide_section(history, guide, infos[guide.id], verdicts[guide.id], since, until)
        for guide in config.guides
    ]
    shown, below = _at_least(every, min_severity)
    shown, templates = group_templates(config, shown)
    sections = tuple(sorted((s for s in shown if s.changes), key=_section_order))
    signoffs = _signoffs(history.reviews, since, until)
    health = _health(history, since, until)
    quiet = _quiet(history, every, health)
    attention = _attention(config, history, verdicts, infos)
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
        audit=_audit(history, infos),
        reports=held_reports(history),
    )


def _audit(history: History, infos: Mapping[str, GuideInfo]) -> tuple[AuditItem, ...]:
    """The guides whose last ``watcher audit`` found something, in config order."""
    items = []
    for guide_id, audit in history.audits.items():
        reviews = history.reviews.get(guide_id)
        found = audit_reasons(history.config, audit, reviews.last_signoff if reviews else None)
        if found and guide_id in infos:
            texts = tuple(r.text for r in found)
            items.append(AuditItem(infos[guide_id], audit.at, texts, audit.page_changed))
    return tuple(items)


def _section_order(section: GuideSection) -> tuple[bool, int, str]:
    """Guides with a claim modified or missing first, then by their most severe change."""
    open_items = [i for i in section.changes if i.status == OPEN]
    worst = max((rank(i.severity) for i in open_items), default=-1)
    return not any(i.claim_problem for i in open_items), -worst, section.guide.id


def _at_least(
    sections: Sequence[GuideSection], minimum: Severity | None
) -> tuple[list[GuideSection], int]:
    """Sections without the changes assessed below ``minimum``, and how many were left out."""
    if minimum is None:
        return list(sections), 0
    kept = [replace(s, changes=tuple(i for i in s.changes if _shown(i, minimum))) for s in sections]
    hidden = sum(len(s.changes) for s in sections) - sum(len(s.changes) for s in kept)
    return kept, hidden


def _shown(item: ChangeItem, minimum: Severity) -> bool:
    return item.severity is None or item.claim_problem or rank(item.severity) >= rank(minimum)


def _guide_info(guide: Guide, verdict: GuideVerdict) -> GuideInfo:
    return GuideInfo(guide.id, guide.title, guide.url, guide.owner, verdict.state)


# -- attention ---------------------------------------------------------------


def _attention(
    config: Config,
    history: History,
    verdicts: Mapping[str, GuideVerdict],
    infos: Mapping[str, GuideInfo],
) -> tuple[Attention, ...]:
    items = [
        _attention_item(config, history.states, verdicts[g.id], infos[g.id])
        for g in config.guides
        if verdicts[g.id].state != FRESH
    ]
    items = [with_reports(item, history.reviews.get(item.guide.id)) for item in items]
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
    return verdict.needs_review or verdict.broken or verdict.unverified


def _reason_text(
    verdict: SourceVerdict,
    states: Mapping[str, SourceState],
    titles: Mapping[str, str],
    config: Config,
) -> str:
    title = titles.get(verdict.source, verdict.source)
    state = states.get(verdict.source) or SourceState(source=verdict.source)
    if verdict.broken:
        return f"{title}: cannot be fetched since {day(state.failing_since)}"
    if verdict.needs_review:
        severity = verdict.assessment.severity if verdict.assessment else None
        return f"{title}: changed {day(verdict.changed_since)}" + (
            f" ({severity})" if severity else ""
        )
    if state.last_success is None:
        return f"{title}: never checked successfully"
    return f"{title}: last checked successfully {day(state.last_success)}"


def _since(
    verdict: GuideVerdict, states: Mapping[str, SourceState], guide: Guide
) -> datetime | None:
    times: list[datetime | None]
    if verdict.state == BROKEN:
        times = [_state_of(states, v.source).failing_since for v in verdict.sources if v.broken]
    elif verdict.state == NEEDS_REVIEW:
        times = [v.changed_since for v in verdict.review_sources]
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


# -- sign-offs, health, quiet, counts ------------------------------------------


def _signoffs(
    reviews: Mapping[str, GuideReviews], since: datetime, until: datetime
) -> tuple[Signoff, ...]:
    found = [
        Signoff.of(guide_id, entry)
        for guide_id, history in reviews.items()
        for entry in history.entries
        if since <= entry.at <= until
    ]
    return tuple(sorted(found, key=lambda s: (s.at, s.guide, s.kind)))


def _health(history: History, since: datetime, until: datetime) -> tuple[HealthItem, ...]:
    items = []
    for source in sorted(history.config.sources, key=lambda s: s.id):
        state = history.state(source.id)
        problem = _problem(source, state)
        if problem is None:
            continue
        check = state.last_check
        attempts = tuple(a for a in history.attempts.get(source.id, ()) if since <= a.at <= until)
        items.append(
            HealthItem(
                source=SourceInfo.of(source),
                problem=problem,
                failures=state.consecutive_failures,
                fail_after=source.cadence.fail_after,
                failing_since=state.failing_since,
                last_error=check.error if check and state.consecutive_failures else None,
                last_success=state.last_success,
                moved_to=redact_url(state.moved_to) if state.moved_to else None,
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
        state = history.state(source.id)
        if source.id in busy or state.last_success is None:
            continue
        last_change = state.versions[-1].seen if len(state.versions) > 1 else None
        guides = tuple(sorted(g.id for g in history.config.guides_citing(source.id)))
        items.append(QuietItem(SourceInfo.of(source), state.last_success, last_change, guides))
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
    states, reviews, audits = project.states(), project.all_reviews(), project.audits()
    reports = reader_reports(project) if journal and _journal_exists(project.db_url) else ()
    return History(project.config, states, reviews, project.store, attempts, audits, reports)


FETCH_DETAIL = 20
"""Fetch attempts read per source from the journal."""


def _journal_exists(url: str) -> bool:
    prefix = "sqlite:///"
    return not url.startswith(prefix) or Path(url.removeprefix(prefix)).is_file()
