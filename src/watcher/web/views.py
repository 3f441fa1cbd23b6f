"""What the desk's pages show, built from the digest's view model.

The queue is the digest's "what needs you" (:class:`~watcher.report.model.Attention`,
already ordered by state, claims, severity, then the longest waiting) with
the reports waiting for triage; a guide page is the digest narrowed to one
guide: its change items (the same diff view), its sources with their claims
and health, its sign-off history and its readers' reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.config.model import Guide
from watcher.guides.freshness import GuideVerdict, SourceVerdict, guide_verdict
from watcher.guides.reports import OPEN_STATUSES
from watcher.project import Project
from watcher.report.digest import build_digest, load_history
from watcher.report.model import (
    ATTENTION_ORDER,
    Attention,
    ChangeItem,
    Digest,
    GuideInfo,
    HealthItem,
    QuietItem,
    Signoff,
    SourceInfo,
)
from watcher.results import ClaimResult
from watcher.state import GuideReviews
from watcher.store import DeskStore
from watcher.store.desk import ReaderReport

PERIOD = timedelta(days=30)
"""How far back a page looks for sign-offs and dismissed changes."""


@dataclass(frozen=True)
class Queue:
    """The editors' queue: guides needing someone, by state, and reports to triage."""

    groups: tuple[tuple[str, tuple[Attention, ...]], ...]
    new_reports: tuple[ReaderReport, ...]
    waiting: dict[str, int]
    fresh: tuple[GuideInfo, ...]
    titles: dict[str, str]


@dataclass(frozen=True)
class SourceRow:
    """One cited source on a guide page."""

    info: SourceInfo
    verdict: SourceVerdict
    claims: tuple[ClaimResult, ...]
    quoted: tuple[str, ...]
    health: HealthItem | None


@dataclass(frozen=True)
class GuidePage:
    """Everything one guide's page shows."""

    guide: Guide
    info: GuideInfo
    verdict: GuideVerdict
    attention: Attention | None
    changes: tuple[ChangeItem, ...]
    sources: tuple[SourceRow, ...]
    signoffs: tuple[Signoff, ...]
    reports: tuple[ReaderReport, ...]


@dataclass(frozen=True)
class SourcesPage:
    """Source health, for maintainers."""

    health: tuple[HealthItem, ...]
    quiet: tuple[QuietItem, ...]
    sources: tuple[SourceInfo, ...]


def _digest(project: Project, now: datetime) -> Digest:
    return build_digest(load_history(project), now - PERIOD, now, now)


def queue(project: Project, now: datetime) -> Queue:
    digest = _digest(project, now)
    groups = tuple(
        (state, items)
        for state in ATTENTION_ORDER
        if (items := tuple(a for a in digest.attention if a.state == state))
    )
    new = tuple(DeskStore(project.journal).reports(OPEN_STATUSES))
    waiting: dict[str, int] = {}
    for report in new:
        waiting[report.guide] = waiting.get(report.guide, 0) + 1
    titles = {g.id: g.title for g in project.config.guides}
    return Queue(groups, new, waiting, digest.fresh_guides, titles)


def guide_page(project: Project, guide_id: str, now: datetime) -> GuidePage:
    guide = project.config.guide(guide_id)
    history = load_history(project)
    full = build_digest(history, now - PERIOD, now, now)
    digest = full.for_guides([guide.id])
    verdict = guide_verdict(
        guide,
        project.config,
        history.states,
        history.reviews.get(guide.id) or GuideReviews(guide.id),
        now,
        history.versions,
    )
    changes = tuple(item for section in digest.guides for item in section.changes) + tuple(
        item for template in digest.templates for item in template.items
    )
    health = {h.source.id: h for h in full.health}
    rows = tuple(
        SourceRow(
            SourceInfo.of(project.config.source(v.source)),
            v,
            v.assessment.claims if v.assessment else (),
            project.config.claims(guide.id, v.source),
            health.get(v.source),
        )
        for v in verdict.sources
    )
    reviews = history.reviews.get(guide.id) or GuideReviews(guide.id)
    signoffs = tuple(Signoff.of(guide.id, entry) for entry in reversed(reviews.entries))
    info = GuideInfo(guide.id, guide.title, guide.url, guide.owner, verdict.state)
    attention = next(iter(digest.attention), None)
    reports = tuple(reversed(DeskStore(project.journal).reports(guide=guide.id)))
    return GuidePage(guide, info, verdict, attention, changes, rows, signoffs, reports)


def sources_page(project: Project, now: datetime) -> SourcesPage:
    digest = _digest(project, now)
    every = tuple(SourceInfo.of(s) for s in project.config.sources)
    return SourcesPage(digest.health, digest.quiet, every)
