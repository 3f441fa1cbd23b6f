"""Transient renders and real shrinks, end to end (check/settle.py, text/signatures.py).

A real local server serves a fund page written for the test; it can serve
a sequence of versions, one per request. Each scenario is what the real
web does: a page that comes back once without a block, a page that loads
itself with JavaScript once, a page that really lost most of its text.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.project import Project
from watcher.results import CHANGED, FAILED, UNCHANGED, SourceResult

SECTIONS = [
    ("Кто может получить полис", "Полис ОМС получают иностранные граждане, временно или постоянно "
     "проживающие в Российской Федерации, беженцы и трудящиеся государств ЕАЭС."),
    ("Документы", "Паспорт, разрешение на временное проживание или вид на жительство, СНИЛС при "
     "наличии, для трудящихся ЕАЭС трудовой договор с работодателем."),
    ("Сроки", "Полис в форме выписки из единого регистра застрахованных лиц выдается в течение "
     "пяти рабочих дней со дня подачи заявления в страховую медицинскую организацию."),
    ("Горячая линия", "Телефон горячей линии фонда 8 (800) 555-01-23, звонок по России "
     "бесплатный, режим работы с 9:00 до 18:00 по рабочим дням."),
]  # fmt: skip


def fund(sections: list[tuple[str, str]] = SECTIONS) -> str:
    body = "".join(f"<h2>{title}</h2><p>{text}</p>" for title, text in sections)
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ТФОМС</title></head>'
        f"<body><main><h1>Полис ОМС для иностранных граждан</h1>{body}</main></body></html>"
    )


CONFIG = """\
defaults:
  timeout: 5s
  retries: 0
  recheck_delay: 0s
sources:
  - id: fund
    url: {url}/fund
    title: Fund page
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources: [fund]
"""


def check(tmp_path: Path) -> SourceResult:
    project = Project.load(tmp_path / "sources.yaml")
    try:
        return asyncio.run(run_check(project, project.config.sources)).results[0]
    finally:
        project.close()


def versions(tmp_path: Path) -> int:
    project = Project.load(tmp_path / "sources.yaml")
    try:
        return len(project.store.load_state("fund").versions)
    finally:
        project.close()


def start(tmp_path: Path, site: WebSite) -> None:
    write_config(tmp_path, CONFIG.format(url=site.url))
    site.routes["/fund"] = Page(fund())
    assert check(tmp_path).outcome == "baseline"


def test_a_page_missing_a_block_once_is_looked_at_again_and_is_not_a_change(
    tmp_path: Path, site: WebSite
) -> None:
    start(tmp_path, site)
    site.routes["/fund"] = [Page(fund(SECTIONS[:2])), Page(fund())]  # partial, then whole
    result = check(tmp_path)
    assert result.outcome == UNCHANGED
    assert result.unconfirmed  # "a change was seen but did not hold"
    assert result.flagged == ()
    assert versions(tmp_path) == 1


def test_a_block_really_removed_is_recorded_after_the_second_look(
    tmp_path: Path, site: WebSite
) -> None:
    start(tmp_path, site)
    site.routes["/fund"] = Page(fund(SECTIONS[:3]))  # the hotline section is gone for good
    result = check(tmp_path)
    assert result.outcome == CHANGED
    assert result.flagged == ("insurance",)
    assert versions(tmp_path) == 2


def test_a_loading_shell_is_a_failure_never_a_change(tmp_path: Path, site: WebSite) -> None:
    start(tmp_path, site)
    shell = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ТФОМС</title>'
        '<script src="/app.js"></script></head><body><div class="loader">Загрузка...</div>'
        "</body></html>"
    )
    site.routes["/fund"] = Page(shell)
    failed = check(tmp_path)
    assert failed.outcome == FAILED
    assert failed.error_kind == "js-shell"
    site.routes["/fund"] = Page(fund())
    assert check(tmp_path).outcome == UNCHANGED
    assert versions(tmp_path) == 1


def test_a_real_shrink_holds_and_becomes_a_major_change_in_words(
    tmp_path: Path, site: WebSite
) -> None:
    start(tmp_path, site)
    stub = [("Страница в разработке", "Информация будет размещена позднее.")]
    site.routes["/fund"] = Page(fund(stub))
    first = check(tmp_path)
    assert first.outcome == FAILED and first.error_kind == "shrunk"
    assert "recorded as a change if 1 more fetch agree" in (first.error or "")
    assert versions(tmp_path) == 1
    second = check(tmp_path)
    assert second.outcome == CHANGED
    assert second.severity == "major"
    assert second.reasons[0].startswith("the page lost ") and "% of its text" in second.reasons[0]
    assert second.flagged == ("insurance",)


def test_a_shrink_that_does_not_hold_is_forgotten(tmp_path: Path, site: WebSite) -> None:
    start(tmp_path, site)
    stub = [("Страница в разработке", "Информация будет размещена позднее.")]
    site.routes["/fund"] = [Page(fund(stub)), Page(fund())]  # one bad answer, then whole
    result = check(tmp_path)
    assert result.outcome == UNCHANGED
    project = Project.load(tmp_path / "sources.yaml")
    try:
        assert project.store.load_state("fund").shrink is None
    finally:
        project.close()
