"""Readers' reports in the digest: waiting for triage, or holding their guide.

A new report is listed for its guide's owner to triage; an accepted one no
sign-off has settled is a reason of its guide's "needs review" item. The
text is a reader's, so hostile: the templates escape it (HTML) or quote it
as inline code (Markdown). The reader's contact is never read here.
"""

from __future__ import annotations

from dataclasses import replace

from watcher.errors import StoreError
from watcher.guides.reports import OPEN_STATUSES
from watcher.project import Project
from watcher.report.model import Attention, History, ReaderReportItem
from watcher.state import GuideReviews
from watcher.store import DeskStore


def held_reports(history: History) -> tuple[ReaderReportItem, ...]:
    """New reports, and accepted ones that still hold their guide."""
    held = {r.ref for reviews in history.reviews.values() for r in reviews.open_reports}
    return tuple(r for r in history.reports if r.status != "accepted" or r.ref in held)


def with_reports(item: Attention, reviews: GuideReviews | None) -> Attention:
    """Accepted reader reports are reasons too; waiting since the oldest, if nothing else."""
    reports = reviews.open_reports if reviews is not None else ()
    if not reports:
        return item
    texts = tuple(f"reader report {r.ref}: «{r.summary}»" for r in reports)
    since = item.since or min(r.accepted_at for r in reports)
    return replace(item, reasons=item.reasons + texts, since=since)


def reader_reports(project: Project) -> tuple[ReaderReportItem, ...]:
    """New and accepted reports about configured guides; none if the journal cannot be read."""
    titles = {g.id: g.title for g in project.config.guides}
    try:
        rows = DeskStore(project.journal).reports((*OPEN_STATUSES, "accepted"))
    except StoreError:
        return ()
    return tuple(
        ReaderReportItem(
            r.ref, r.guide, titles[r.guide], r.status, r.received_at, r.text, r.page, r.source
        )
        for r in rows
        if r.guide in titles
    )
