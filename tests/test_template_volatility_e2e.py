"""Site templates and volatile lines, end to end (guides/template.py, changes/volatility.py).

Pages written for the test on a real local server (one host), a real
project on disk, the CLI as an editor runs it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.project import Project
from watcher.results import CHANGED

TOPICS = {
    "polis": "Полис ОМС получают иностранные граждане, временно или постоянно проживающие в "
    "Российской Федерации, беженцы и трудящиеся государств ЕАЭС.",
    "docs": "Для получения полиса нужны паспорт, разрешение на временное проживание или вид на "
    "жительство, а также СНИЛС при наличии.",
    "help": "Экстренная медицинская помощь оказывается иностранным гражданам бесплатно и без "
    "полиса в любой медицинской организации.",
}


def page(topic: str, banner: str = "", extra: str = "") -> Page:
    notice = f'<p class="alert"><a href="/news/alert">{banner}</a></p>' if banner else ""
    return Page(
        '<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ТФОМС</title></head>'
        f"<body><main>{notice}<h1>Раздел {topic}</h1><p>{TOPICS[topic]}</p>{extra}</main>"
        "</body></html>"
    )


def config(url: str, topics: list[str], other_host: str | None = None) -> str:
    sources = "".join(f"  - {{id: {t}, url: '{url}/{t}', title: Page {t}}}\n" for t in topics)
    if other_host:
        sources += f"  - {{id: alone, url: '{other_host}/alone', title: Alone}}\n"
    guides = "".join(
        f"  - {{id: g-{sid}, title: G {sid}, url: 'https://guides.example.org/{sid}', "
        f"owner: 'Ed <ed@example.org>', sources: [{sid}]}}\n"
        for sid in [*topics, *(["alone"] if other_host else [])]
    )
    return f"defaults:\n  retries: 0\n  recheck_delay: 0s\nsources:\n{sources}guides:\n{guides}"


def ci_failing(tmp_path: Path) -> set[str]:
    done = run_cli("ci", "--json", cwd=tmp_path)
    data = json.loads(done.stdout)
    return {guide["id"] for guide in data["guides"] if guide["failed"]}


def test_a_banner_on_every_page_of_a_host_is_the_site_s_not_a_guide_flag(
    tmp_path: Path, site: WebSite
) -> None:
    topics = list(TOPICS)
    write_config(tmp_path, config(site.url, topics))
    for t in topics:
        site.routes[f"/{t}"] = page(t)
    assert run_cli("check", cwd=tmp_path).returncode == 0
    assert run_cli("review", "--all", "--by", "Ed", "--note", "read", cwd=tmp_path).returncode == 0
    for t in topics:  # a weather warning appears on every page of the site
        site.routes[f"/{t}"] = page(t, banner="Штормовое предупреждение")
    project = Project.load(tmp_path / "sources.yaml")
    try:
        run = asyncio.run(run_check(project, project.config.sources))
    finally:
        project.close()
    assert {r.outcome for r in run.results} == {CHANGED}  # recorded and shown...
    assert run.flagged_guides == ()  # ...but no guide flagged
    assert all("the site's template" in " ".join(r.reasons) for r in run.results)
    assert ci_failing(tmp_path) == set()
    digest = run_cli("report", "--format", "json", cwd=tmp_path)
    assert digest.returncode == 0, digest.stderr
    data = json.loads(next((tmp_path / "reports").glob("digest-*.json")).read_text())
    assert len(data["templates"]) == 1  # once per host, listing the pages
    assert len(data["templates"][0]["sources"]) == 3
    diff = run_cli("diff", "polis", cwd=tmp_path)
    assert "(the site's template, not counted)" in diff.stdout

    # the page's own change still flags its guide, template or not
    site.routes["/docs"] = page(
        "docs", banner="Штормовое предупреждение", extra="<p>Полис выдается за 10 дней.</p>"
    )
    assert run_cli("check", cwd=tmp_path).returncode == 0
    assert ci_failing(tmp_path) == {"g-docs"}


def test_a_host_with_one_source_has_no_template(tmp_path: Path, site: WebSite) -> None:
    other = WebSite().start()
    try:
        write_config(tmp_path, config(site.url, ["polis", "docs"], other_host=other.url))
        site.routes["/polis"], site.routes["/docs"] = page("polis"), page("docs")
        other.routes["/alone"] = page("help")
        assert run_cli("check", cwd=tmp_path).returncode == 0
        run_cli("review", "--all", "--by", "Ed", "--note", "read", cwd=tmp_path)
        other.routes["/alone"] = page("help", banner="Штормовое предупреждение")
        assert run_cli("check", cwd=tmp_path).returncode == 0
        assert ci_failing(tmp_path) == {"g-alone"}  # today's behaviour: any change flags
    finally:
        other.stop()


def test_a_line_that_changes_on_every_check_becomes_volatile(tmp_path: Path, site: WebSite) -> None:
    write_config(tmp_path, config(site.url, ["polis"]))

    def load(value: int) -> Page:
        return page("polis", extra=f"<p>Индекс загрузки колл-центра: {value}</p>")

    site.routes["/polis"] = load(40)
    assert run_cli("check", cwd=tmp_path).returncode == 0
    for value in (41, 42, 43):  # three small changes of one line: learnt as volatile
        site.routes["/polis"] = load(value)
        assert run_cli("check", cwd=tmp_path).returncode == 0
    state = json.loads((tmp_path / "snapshots" / "polis" / "state.json").read_text())
    assert state["volatile"] == ["Индекс загрузки колл-центра: #"]
    run_cli("review", "--all", "--by", "Ed", "--note", "read", cwd=tmp_path)
    site.routes["/polis"] = load(44)
    assert run_cli("check", cwd=tmp_path).returncode == 0
    assert ci_failing(tmp_path) == set()
    diff = run_cli("diff", "polis", cwd=tmp_path)
    assert "(volatile, ignored)" in diff.stdout


def test_a_phone_number_never_becomes_volatile(tmp_path: Path, site: WebSite) -> None:
    write_config(tmp_path, config(site.url, ["polis"]))
    for ending in ("23", "45", "67", "89"):
        site.routes["/polis"] = page("polis", extra=f"<p>Телефон: 8 (800) 555-01-{ending}</p>")
        assert run_cli("check", cwd=tmp_path).returncode == 0
    state = json.loads((tmp_path / "snapshots" / "polis" / "state.json").read_text())
    assert "volatile" not in state
    assert ci_failing(tmp_path) == {"g-polis"}
