"""Guide states over a scripted timeline, with the clock moved by the test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.webserver import Page, WebSite
from watcher.changes.diff import diff_texts
from watcher.check.run import run_check
from watcher.errors import UnknownIdError, UsageError
from watcher.guides.freshness import (
    BROKEN,
    FRESH,
    MOVED,
    NEEDS_REVIEW,
    OVERDUE,
    UNVERIFIED,
    GuideVerdict,
)
from watcher.guides.review import sign_off, sign_off_all
from watcher.project import Project

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
  fail_after: 3
  max_age: 7d
sources:
  - id: fund
    url: {url}/fund
    title: Fund
  - id: law
    url: {url}/law
    title: Law
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    review_every: 30d
    sources: [fund, law]
"""


def page(text: str) -> Page:
    return Page(f"<html><body><main><p>{text}</p></main></body></html>")


class Timeline:
    """A project whose clock only moves when the test says so."""

    def __init__(self, tmp_path: Path, site: WebSite) -> None:
        self.site = site
        self.now = START
        site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-23")
        site.routes["/law"] = page("Статья 10. Застрахованные лица")
        self.project = Project.load(write_config(tmp_path, CONFIG.format(url=site.url)))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def check(self, *only: str) -> None:
        sources = [s for s in self.project.config.sources if not only or s.id in only]
        asyncio.run(run_check(self.project, sources, clock=lambda: self.now))

    def verdict(self) -> GuideVerdict:
        return self.project.verdicts(self.now)[0]

    def review(self, **kwargs: object) -> None:
        sign_off(self.project, "insurance", by="Anna", note="checked", now=self.now, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def timeline(tmp_path: Path, site: WebSite) -> Timeline:
    return Timeline(tmp_path, site)


def states(verdict: GuideVerdict) -> set[str]:
    return {r.state for r in verdict.reasons}


def test_full_timeline(timeline: Timeline) -> None:
    t = timeline
    t.check()
    v = t.verdict()
    assert v.state == FRESH
    assert v.unreviewed
    assert all(s.pin_kind == "baseline" for s in v.sources)

    # change -> needs review, pinned to the baseline
    t.advance(days=1)
    t.site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-45")
    t.check()
    v = t.verdict()
    assert v.state == NEEDS_REVIEW
    assert "baseline, not yet reviewed" in v.reasons[0].text
    assert "--since-review insurance" in v.reasons[0].action

    # review -> fresh, pinned by the editor
    t.advance(hours=2)
    t.review()
    v = t.verdict()
    assert v.state == FRESH
    assert not v.unreviewed
    reviewed = {s.source: s.pinned for s in v.sources}

    # two more changes -> needs review; the editor's diff starts at the pin
    t.advance(days=1)
    t.site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-46")
    t.check()
    t.advance(days=1)
    t.site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-47")
    t.check()
    v = t.verdict()
    assert v.state == NEEDS_REVIEW
    changed = v.changed_sources[0]
    assert changed.pinned == reviewed["fund"]
    store = t.project.store
    diff = diff_texts(
        store.read_version("fund", changed.pinned or ""),
        store.read_version("fund", changed.current or ""),
    )
    removed = [line.text for h in diff.hunks for line in h.lines if line.tag == "-"]
    assert removed == ["Горячая линия: 8 (800) 555-01-45"]

    # revert to the reviewed content before anyone looked -> fresh again, no sign-off
    t.advance(days=1)
    t.site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-45")
    t.check()
    assert t.verdict().state == FRESH

    # a change dismissed as needing no edit -> fresh, kept apart in the history
    t.advance(days=1)
    t.site.routes["/law"] = page("Статья 10. Застрахованные лица (ред. от 01.02.2026)")
    t.check()
    assert t.verdict().state == NEEDS_REVIEW
    t.review(dismiss=True)
    v = t.verdict()
    assert v.state == FRESH
    law = next(s for s in v.sources if s.source == "law")
    assert law.pin_kind == "dismiss"
    entries = t.project.reviews.load("insurance").entries
    assert [e.kind for e in entries] == ["review", "dismiss"]
    assert set(entries[-1].sources) == {"law"}


def test_outage_breaks_only_after_fail_after(timeline: Timeline) -> None:
    t = timeline
    t.check()
    t.site.routes["/law"] = Page("down", status=503)
    for expected in (FRESH, FRESH, BROKEN):
        t.advance(hours=6)
        t.check("law")
        assert t.verdict().state == expected
    assert "3 checks in a row" in t.verdict().reasons[0].text
    t.site.routes["/law"] = page("Статья 10. Застрахованные лица")
    t.advance(hours=6)
    t.check("law")
    assert t.verdict().state == FRESH


def test_404_counts_like_any_failure(timeline: Timeline) -> None:
    t = timeline
    t.check()
    t.site.routes.pop("/law")
    for _ in range(3):
        t.advance(hours=1)
        t.check("law")
    v = t.verdict()
    assert v.state == BROKEN
    assert "gone: HTTP 404" in v.reasons[0].text


def test_permanent_redirect_is_a_warning_not_a_failure(timeline: Timeline) -> None:
    t = timeline
    t.check()
    t.site.routes["/law"] = Page("", status=301, headers={"Location": "/acts/326-fz"})
    t.site.routes["/acts/326-fz"] = page("Статья 10. Застрахованные лица")
    t.advance(hours=1)
    t.check()
    v = t.verdict()
    assert v.state == FRESH
    moved = [r for r in v.reasons if r.state == MOVED]
    assert moved
    assert moved[0].text.endswith("/acts/326-fz: update sources.yaml")


def test_trailing_slash_redirect_is_not_a_move(timeline: Timeline) -> None:
    t = timeline
    t.site.routes["/law"] = Page("", status=301, headers={"Location": "/law/"})
    t.site.routes["/law/"] = page("Статья 10. Застрахованные лица")
    t.check()
    assert MOVED not in states(t.verdict())


def test_overdue_and_unverified_follow_the_clock(timeline: Timeline) -> None:
    t = timeline
    t.check()
    t.review()
    t.advance(days=6)
    t.check()
    assert t.verdict().state == FRESH
    t.advance(days=8)
    assert t.verdict().state == UNVERIFIED
    t.check()
    assert t.verdict().state == FRESH
    t.advance(days=17)
    t.check()
    v = t.verdict()
    assert v.state == OVERDUE
    assert "more than 30 days" in v.reasons[0].text
    t.review()
    assert t.verdict().state == FRESH


def test_never_checked_is_unverified(timeline: Timeline) -> None:
    assert timeline.verdict().state == UNVERIFIED


def test_review_errors_are_clear(timeline: Timeline) -> None:
    t = timeline
    with pytest.raises(UsageError, match="no snapshot yet"):
        t.review()
    t.check()
    with pytest.raises(UnknownIdError, match="unknown guide"):
        sign_off(t.project, "nope", by="A", note="n", now=t.now)
    with pytest.raises(UsageError, match="--by is required"):
        sign_off(t.project, "insurance", by=" ", note="n", now=t.now)
    with pytest.raises(UsageError, match="no changed source to dismiss"):
        t.review(dismiss=True)
    with pytest.raises(UnknownIdError, match="unknown source"):
        t.review(sources=["nope"])


def test_review_all(timeline: Timeline) -> None:
    t = timeline
    t.check()
    results = sign_off_all(t.project, by="Anna", note="adopting watcher", now=t.now)
    assert [r.guide for r in results] == ["insurance"]
    assert not t.verdict().unreviewed
