"""End to end: real local server, real SQLite file, real snapshot files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import current_text, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.guides.freshness import FRESH, NEEDS_REVIEW
from watcher.project import Project
from watcher.results import BASELINE, CHANGED, FAILED, REVERTED, UNCHANGED, RunResult, utcnow

PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ТФОМС</title></head>
<body><header><nav><a href="/">Главная</a> <a href="/news">Новости</a></nav></header>
<main><article class="content">
<h1>Полис ОМС для иностранных граждан</h1>
<p>Телефон горячей линии: {phone}</p>
<p>Срок оформления: в течение {days} рабочих дней.</p>
<p class="views">Просмотров: {views}</p>
</article></main>
<footer>Посещений сегодня: {views}. Сегодня: {today}</footer></body></html>"""

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
  per_host: 2
sources:
  - id: fund
    url: {url}/fund
    title: Fund page
    select: article.content
    ignore: ['Просмотров:\\s*\\d+']
  - id: insurer
    url: {url}/insurer
    title: Insurer page
  - id: law
    url: {url}/law
    title: Law page
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources: [fund, law]
  - id: help
    title: Medical help
    url: https://guides.example.org/help
    owner: editor@example.org
    sources: [insurer]
"""


def fund_page(
    phone: str = "8 (800) 555-01-23", days: int = 5, views: int = 1, today: str = "01.01"
) -> str:
    return PAGE.format(phone=phone, days=days, views=views, today=today)


def simple(text: str) -> str:
    return f"<html><body><main><p>{text}</p></main></body></html>"


@pytest.fixture
def project(tmp_path: Path, site: WebSite) -> Project:
    site.routes.update(
        {
            "/fund": Page(fund_page()),
            "/insurer": Page(simple("Контакт-центр страховой компании")),
            "/law": Page(simple("Статья 10. Застрахованные лица"), etag='"v1"'),
        }
    )
    return Project.load(write_config(tmp_path, CONFIG.format(url=site.url)))


def check(project: Project, *only: str) -> RunResult:
    sources = [s for s in project.config.sources if not only or s.id in only]
    return asyncio.run(run_check(project, sources))


def outcomes(run: RunResult) -> dict[str, str]:
    return {r.source: r.outcome for r in run.results}


def test_first_run_stores_baselines_and_flags_nothing(project: Project) -> None:
    run = check(project)
    assert outcomes(run) == {"fund": BASELINE, "insurer": BASELINE, "law": BASELINE}
    assert run.flagged_guides == ()
    current = current_text(project.root, "fund")
    assert "Телефон горячей линии: 8 (800) 555-01-23" in current
    assert "Просмотров" not in current
    assert {v.state for v in project.verdicts(utcnow())} == {FRESH}


def test_content_change_flags_exactly_the_citing_guides(project: Project, site: WebSite) -> None:
    check(project)
    site.routes["/fund"] = Page(fund_page(phone="8 (800) 555-01-45", views=99, today="02.01"))
    run = check(project)
    assert outcomes(run)["fund"] == CHANGED
    assert outcomes(run)["insurer"] == UNCHANGED
    assert run.flagged_guides == ("insurance",)
    fund = next(r for r in run.results if r.source == "fund")
    assert fund.diff is not None
    removed = [line for h in fund.diff.hunks for line in h.lines if line.tag == "-"]
    added = [line for h in fund.diff.hunks for line in h.lines if line.tag == "+"]
    assert [line.text for line in removed] == ["Телефон горячей линии: 8 (800) 555-01-23"]
    assert [line.text for line in added] == ["Телефон горячей линии: 8 (800) 555-01-45"]
    verdicts = {v.guide: v for v in project.verdicts(utcnow())}
    assert verdicts["insurance"].state == NEEDS_REVIEW
    assert "fund changed" in verdicts["insurance"].reasons[0].text
    assert verdicts["help"].state == FRESH


def test_noise_only_change_flags_nothing(project: Project, site: WebSite) -> None:
    check(project)
    site.routes["/fund"] = Page(fund_page(views=12345, today="31.12"))
    site.routes["/insurer"] = Page(simple("Контакт-центр   страховой\u00a0компании"))
    run = check(project)
    assert set(outcomes(run).values()) == {UNCHANGED}
    assert run.flagged_guides == ()


def test_304_is_unchanged_and_sends_validators(project: Project, site: WebSite) -> None:
    check(project)
    site.requests.clear()
    run = check(project, "law")
    law = run.results[0]
    assert law.outcome == UNCHANGED
    assert law.not_modified
    pages = [headers for path, headers in site.requests if path == "/law"]
    sent = {name.lower(): value for name, value in pages[0].items()}
    assert sent.get("if-none-match") == '"v1"'


@pytest.mark.parametrize(
    ("page", "kind"),
    [
        (Page("oops", status=500), "http"),
        (Page(simple("медленно"), delay=3.0), "timeout"),
        (Page(simple("Раздел перенесён")), "selector"),
        (Page(""), "empty"),
        (Page("gone", status=404), "http"),
    ],
    ids=["500", "timeout", "select-stops-matching", "empty-body", "404"],
)
def test_failures_are_not_changes(project: Project, site: WebSite, page: Page, kind: str) -> None:
    check(project)
    folder = project.root / "snapshots" / "fund"
    before = current_text(project.root, "fund")
    site.routes["/fund"] = page
    run = check(project, "fund")
    result = run.results[0]
    assert result.outcome == FAILED
    assert result.error_kind == kind
    assert result.error
    assert run.flagged_guides == ()
    assert current_text(project.root, "fund") == before
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    assert state["consecutive_failures"] == 1
    assert state["last_check"]["outcome"] == "failed"
    assert len(state["versions"]) == 1
    verdicts = {v.guide: v.state for v in project.verdicts(utcnow())}
    assert verdicts["insurance"] == FRESH


def test_recovery_after_failures_keeps_the_baseline(project: Project, site: WebSite) -> None:
    check(project)
    site.routes["/fund"] = Page("down", status=503)
    check(project, "fund")
    site.routes["/fund"] = Page(fund_page(views=7))
    run = check(project, "fund")
    assert run.results[0].outcome == UNCHANGED
    assert project.store.load_state("fund").consecutive_failures == 0


def test_reverting_to_the_pinned_content_clears_the_flag(project: Project, site: WebSite) -> None:
    check(project)
    site.routes["/fund"] = Page(fund_page(days=10))
    check(project, "fund")
    site.routes["/fund"] = Page(fund_page(days=5, views=3))
    run = check(project, "fund")
    assert run.results[0].outcome == REVERTED  # back to a recent version: flapping
    assert run.flagged_guides == ()
    verdicts = {v.guide: v.state for v in project.verdicts(utcnow())}
    assert verdicts["insurance"] == FRESH


def test_per_host_limit_is_respected(tmp_path: Path, site: WebSite) -> None:
    for n in range(6):
        site.routes[f"/p{n}"] = Page(simple(f"страница {n}"), delay=0.3)
    sources = "\n".join(f"  - {{id: p{n}, url: '{site.url}/p{n}', title: P{n}}}" for n in range(6))
    config = f"defaults:\n  per_host: 2\n  concurrency: 10\nsources:\n{sources}\n"
    project = Project.load(write_config(tmp_path, config))
    run = check(project)
    assert set(outcomes(run).values()) == {BASELINE}
    assert site.max_in_flight == 2


def test_rule_change_rebases_silently(tmp_path: Path, project: Project, site: WebSite) -> None:
    check(project)
    config_path = project.config.path
    text = config_path.read_text(encoding="utf-8").replace(
        "title: Insurer page", "title: Insurer page\n    ignore: ['страховой']"
    )
    config_path.write_text(text, encoding="utf-8")
    rebased = Project.load(config_path)
    run = check(rebased, "insurer")
    result = run.results[0]
    assert result.outcome == UNCHANGED
    assert result.rebased
    assert run.flagged_guides == ()
    assert "страховой" not in current_text(tmp_path, "insurer")


def test_windows_1251_declared_only_in_meta(tmp_path: Path, site: WebSite) -> None:
    html = (
        '<html><head><meta charset="windows-1251"></head>'
        "<body><p>Полис ОМС иностранным гражданам</p></body></html>"
    )
    site.routes["/cp"] = Page(html.encode("cp1251"), content_type="text/html")
    config = f"sources:\n  - {{id: cp, url: '{site.url}/cp', title: CP}}\n"
    project = Project.load(write_config(tmp_path, config))
    check(project)
    text = current_text(tmp_path, "cp")
    assert text == "Полис ОМС иностранным гражданам"


def test_journal_records_every_attempt(project: Project, site: WebSite) -> None:
    check(project)
    site.routes["/insurer"] = Page("boom", status=500)
    check(project)
    rows = project.journal.fetches("insurer")
    assert [r.outcome for r in rows] == [FAILED, BASELINE]
    assert rows[0].status == 500
    assert [v.hash for v in project.journal.versions("fund")] == [
        v.hash for v in project.store.load_state("fund").versions
    ]
