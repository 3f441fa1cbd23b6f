"""Signal over noise, end to end: claims, severity, laws by article, flapping, confirm, templates.

Real local server, real snapshot files and SQLite, the clock moved by the test.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.config import load_config
from watcher.errors import ConfigError
from watcher.guides import gate as ci
from watcher.guides.freshness import CLAIMS, FRESH, NEEDS_REVIEW, GuideVerdict
from watcher.guides.review import sign_off
from watcher.project import Project
from watcher.report.digest import build_digest, load_history
from watcher.report.jsondoc import to_json
from watcher.report.render import Renderer
from watcher.results import CHANGED, REVERTED, UNCHANGED, RunResult, SourceResult

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PHONE_CLAIM = "Телефон горячей линии: 8 (800) 555-01-23"
GUIDE_CLAIMS = [
    PHONE_CLAIM,
    "временно проживающие иностранные граждане",
    "в течение 30 дней",
]

FUND = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ТФОМС</title></head>
<body><main><article>
<h1>Полис ОМС для иностранных граждан</h1>
<p>Полис получают временно проживающие иностранные граждане и беженцы.</p>
<p>{phone}</p>
<p>Полис оформляется в течение 30 дней со дня обращения.</p>
<p>Просмотров: {views}</p>
<p>Дата обновления: {updated}</p>
<p class="news">Новости фонда: {news}</p>
</article></main></body></html>"""

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
sources:
  - id: fund
    url: {url}/fund
    title: Fund page
  - id: law
    url: {url}/law
    title: Federal law 326-FZ
    structure: law
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources:
      - source: fund
        claims:
{claims}
      - law
"""

LAW = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>326-ФЗ</title></head>
<body><main>
<h1>Федеральный закон от 29.11.2010 N 326-ФЗ "Об обязательном медицинском страховании в
Российской Федерации" (ред. от {edition})</h1>
<p>В редакции Федеральных законов от 14.06.2011 N 136-ФЗ, {amended}</p>
<h2>Статья 10. Застрахованные лица</h2>
<p>Застрахованными лицами являются граждане Российской Федерации, постоянно или временно
проживающие в Российской Федерации иностранные граждане:</p>
<p>1) работающие по трудовому договору;</p>
<p>2) самостоятельно обеспечивающие себя работой;</p>
<h2>Статья 16. Права и обязанности застрахованных лиц</h2>
<p>1. Застрахованные лица имеют право на бесплатное оказание медицинской помощи.</p>
<p>2. Застрахованные лица обязаны уведомить страховую медицинскую организацию об изменении
места жительства в течение {term} со дня, когда эти изменения произошли.</p>
{extra}
</main></body></html>"""


def fund_page(
    phone: str = PHONE_CLAIM, views: int = 1, updated: str = "01.03.2026", news: str = "приём"
) -> Page:
    return Page(FUND.format(phone=phone, views=views, updated=updated, news=news))


def law_page(new: bool = False) -> Page:
    if not new:
        return Page(
            LAW.format(
                edition="25.12.2023",
                amended="от 25.12.2023 N 625-ФЗ",
                term="одного месяца",
                extra="",
            )
        )
    return Page(
        LAW.format(
            edition="28.12.2024",
            amended="от 25.12.2023 N 625-ФЗ, от 28.12.2024 N 547-ФЗ",
            term="десяти рабочих дней",
            extra="<h2>Статья 16.1. Полис</h2><p>1. Полис является документом.</p>",
        )
    )


class Desk:
    """A project on a local site, with a clock that only the test moves."""

    def __init__(self, tmp_path: Path, site: WebSite, config: str = CONFIG) -> None:
        self.site = site
        self.now = START
        site.routes["/fund"] = fund_page()
        site.routes["/law"] = law_page()
        claims = "\n".join(f"          - {json.dumps(c, ensure_ascii=False)}" for c in GUIDE_CLAIMS)
        text = config.format(url=site.url, claims=claims)
        self.project = Project.load(write_config(tmp_path, text))

    def check(self, *only: str) -> RunResult:
        self.now += timedelta(hours=1)
        sources = [s for s in self.project.config.sources if not only or s.id in only]
        return asyncio.run(run_check(self.project, sources, clock=lambda: self.now))

    def result(self, source: str, *only: str) -> SourceResult:
        return next(r for r in self.check(*only).results if r.source == source)

    def verdict(self, guide: str = "insurance") -> GuideVerdict:
        return next(v for v in self.project.verdicts(self.now) if v.guide == guide)

    def review(self, guide: str = "insurance") -> None:
        sign_off(self.project, guide, by="Anna", note="checked", now=self.now)


@pytest.fixture
def desk(tmp_path: Path, site: WebSite) -> Desk:
    return Desk(tmp_path, site)


# ------------------------------------------------------------------ claims


def test_claims_intact_on_a_noisy_change_then_major_when_the_phone_changes(desk: Desk) -> None:
    first = desk.result("fund", "fund")
    assert first.claims[0].summary == "all 3 claims intact"

    # counters and stamps are noise with no configuration; the news line is not
    desk.site.routes["/fund"] = fund_page(views=9876, updated="05.03.2026", news="выходные")
    noisy = desk.result("fund", "fund")
    assert noisy.outcome == CHANGED
    assert noisy.claims[0].guide == "insurance"
    assert noisy.claims[0].summary == "all 3 claims intact"
    verdict = desk.verdict()
    assert verdict.state == NEEDS_REVIEW  # any change to a cited source flags the guide
    assert verdict.claim_problems == ()
    assert verdict.severity == "minor"
    assert "all 3 claims intact" in verdict.reasons[0].text

    desk.site.routes["/fund"] = fund_page(phone="Телефон горячей линии: 8 (800) 555-99-00")
    changed = desk.result("fund", "fund")
    assert changed.severity == "major"
    assert any(f"claim modified: «{PHONE_CLAIM}»" in r for r in changed.reasons)
    assert changed.claims[0].summary.startswith("1 of 3 claims modified")
    verdict = desk.verdict()
    assert verdict.severity == "major"
    first_reason = verdict.reasons[0]
    assert (first_reason.kind, first_reason.severity) == (CLAIMS, "major")
    assert PHONE_CLAIM in first_reason.text
    assert "555-99-00" in first_reason.text


def test_a_claim_the_page_never_said_needs_review_without_any_change(
    tmp_path: Path, site: WebSite
) -> None:
    config = CONFIG.replace("{claims}", '          - "в течение 45 дней"\n{claims}')
    desk = Desk(tmp_path, site, config)
    desk.check()
    verdict = desk.verdict()
    assert verdict.state == NEEDS_REVIEW
    assert verdict.claim_problems[0].text.startswith("fund: 1 of 4 claims")
    assert "correct the claim" in verdict.claim_problems[0].action


def test_ci_lists_claim_problems_first_and_check_json_carries_severity(
    desk: Desk, site: WebSite
) -> None:
    desk.check()
    site.routes["/fund"] = fund_page(phone="Телефон горячей линии: 8 (800) 555-99-00")
    out = run_cli("check", "--json", "-s", "fund", cwd=desk.project.root)
    data = json.loads(out.stdout)
    fund = data["sources"][0]
    assert (fund["outcome"], fund["severity"]) == ("changed", "major")
    assert any("claim modified" in reason for reason in fund["reasons"])
    statuses = [r["status"] for r in fund["claims"][0]["results"]]
    assert statuses == ["modified", "intact", "intact"]
    gate = run_cli("ci", cwd=desk.project.root)
    assert gate.returncode == 1
    failure = gate.stdout.splitlines()[1]
    assert failure.startswith("     x fund: 1 of 3 claims modified")
    gate_json = json.loads(run_cli("ci", "--json", cwd=desk.project.root).stdout)
    assert gate_json["guides"][0]["failures"][0]["kind"] == "claims"
    assert gate_json["guides"][0]["severity"] == "major"


# ------------------------------------------------------------- legal texts


def test_law_edition_change_is_reported_by_article_with_the_new_edition(desk: Desk) -> None:
    desk.check()
    desk.site.routes["/law"] = law_page(new=True)
    law = desk.result("law", "law")
    assert law.outcome == CHANGED
    assert law.severity == "major"
    assert law.reasons[0] == "new edition of 28.12.2024"
    # The edition is named once, among the reasons; the law's own lines add the rest.
    assert law.law == (
        "Статья 16, часть 2 changed",
        "Статья 16.1 added",
        "amended by the law от 28.12.2024 N 547-ФЗ",
    )
    reason = next(r for r in desk.verdict().reasons if r.source == "law")
    assert "by article: Статья 16, часть 2 changed; Статья 16.1 added" in reason.text
    digest = build_digest(load_history(desk.project), START, desk.now, desk.now)
    item = next(i for i in digest.changes if i.source.id == "law")
    assert "Статья 16.1 added" in item.law
    assert "Статья 16.1 added" in Renderer().markdown(digest)


# ----------------------------------------------------------------- flapping


def test_a_b_a_is_a_reversion_not_a_new_change(desk: Desk) -> None:
    desk.check()
    desk.site.routes["/fund"] = fund_page(news="выходные")
    assert desk.result("fund", "fund").outcome == CHANGED
    desk.site.routes["/fund"] = fund_page()
    back = desk.result("fund", "fund")
    assert back.outcome == REVERTED
    assert back.flagged == ()
    assert desk.verdict().state == FRESH
    state = desk.project.store.load_state("fund")
    assert len(state.versions) == 3  # the history keeps every version


def test_reverting_away_from_the_reviewed_version_is_a_change(desk: Desk) -> None:
    desk.check()
    desk.site.routes["/fund"] = fund_page(news="выходные")
    desk.check("fund")
    desk.review()  # the editor verified B
    assert desk.verdict().state == FRESH
    desk.site.routes["/fund"] = fund_page()  # back to A, one of the last versions
    back = desk.result("fund", "fund")
    assert back.outcome == CHANGED
    assert back.flagged == ("insurance",)
    assert desk.verdict().state == NEEDS_REVIEW


def test_an_old_version_beyond_the_window_is_a_change(desk: Desk) -> None:
    desk.check()
    for news in ("один", "два", "три", "четыре"):
        desk.site.routes["/fund"] = fund_page(news=news)
        desk.check("fund")
    desk.site.routes["/fund"] = fund_page()  # A, five versions back
    assert desk.result("fund", "fund").outcome == CHANGED


# ------------------------------------------------------------------ confirm

CONFIRM = CONFIG.replace(
    "    title: Fund page\n", "    title: Fund page\n    confirm: 1\n    confirm_delay: 50ms\n"
)


def test_a_change_gone_on_the_confirming_fetch_is_not_recorded(
    tmp_path: Path, site: WebSite
) -> None:
    desk = Desk(tmp_path, site, CONFIRM)
    desk.check()
    site.routes["/fund"] = [fund_page(news="сбой кеша"), fund_page()]
    result = desk.result("fund", "fund")
    assert (result.outcome, result.unconfirmed) == (UNCHANGED, True)
    assert len(desk.project.store.load_state("fund").versions) == 1
    assert len(site.hits("/fund")) == 3  # baseline, the change, the confirming fetch


def test_a_stable_change_is_confirmed_and_recorded(tmp_path: Path, site: WebSite) -> None:
    desk = Desk(tmp_path, site, CONFIRM)
    desk.check()
    site.routes["/fund"] = fund_page(news="выходные")
    result = desk.result("fund", "fund")
    assert (result.outcome, result.unconfirmed) == (CHANGED, False)
    assert len(desk.project.store.load_state("fund").versions) == 2


# --------------------------------------------------------------- templates

TEMPLATE = """<html><body><main><div class="banner">{banner}</div>
<h1>{title}</h1><p>{body}</p></main></body></html>"""


def test_a_banner_changed_on_three_pages_of_one_site_is_one_template_item(
    tmp_path: Path, site: WebSite
) -> None:
    pages = {"a": "Полис ОМС", "b": "Страховые компании", "c": "Медицинская помощь"}
    pages["d"] = "Контакты"
    sources = "\n".join(f"  - {{id: {p}, url: '{site.url}/{p}', title: Page {p}}}" for p in pages)
    guides = (
        "guides:\n"
        "  - {id: one, title: One, url: 'https://g.example.org/1', owner: e@example.org,"
        " sources: [a, b]}\n"
        "  - {id: two, title: Two, url: 'https://g.example.org/2', owner: e@example.org,"
        " sources: [c, d]}\n"
    )
    project = Project.load(write_config(tmp_path, f"sources:\n{sources}\n{guides}"))

    def serve(banner: str, contact: str = "Москва, ул. Новая, 1") -> None:
        for path, title in pages.items():
            body = contact if path == "d" else "Текст страницы без изменений."
            site.routes[f"/{path}"] = Page(TEMPLATE.format(banner=banner, title=title, body=body))

    serve("Единый номер 122")
    asyncio.run(run_check(project, project.config.sources))
    serve("Голосование: оцените работу фонда!", contact="Москва, ул. Новая, 2")
    asyncio.run(run_check(project, project.config.sources))

    now = datetime.now(UTC)
    digest = build_digest(load_history(project), now - timedelta(days=1), now, now)
    assert len(digest.templates) == 1
    template = digest.templates[0]
    assert [s.id for s in template.sources] == ["a", "b", "c"]
    assert template.guides == ("one", "two")
    assert template.host == project.config.source("a").host
    left = [(i.guide, i.source.id) for section in digest.guides for i in section.changes]
    assert left == [("two", "d")]  # its own change (the address) stays with its guide
    assert digest.counts.templates == 1
    assert f"Site template changed: {template.host}" in Renderer().markdown(digest)
    assert "Site template changed" in Renderer().html(digest)
    assert len(digest.changes) == 4  # the feed still has one entry per change per guide
    assert to_json(digest)["templates"][0]["guides"] == ["one", "two"]


# ------------------------------------------------------------ min severity

MINOR = """\
defaults: {{timeout: 2s, retries: 0}}
sources:
  - {{id: page, url: '{url}/page', title: Page}}
guides:
  - {{id: g, title: G, url: 'https://g.example.org/g', owner: e@example.org, sources: [page]}}
"""


def test_min_severity_narrows_what_fails_never_what_is_flagged(
    tmp_path: Path, site: WebSite
) -> None:
    text = "Приём граждан ведётся в здании фонда на первом этаже, окно справок."
    site.routes["/page"] = Page(f"<html><body><main><p>{text}</p></main></body></html>")
    write_config(tmp_path, MINOR.format(url=site.url))
    assert run_cli("check", cwd=tmp_path).returncode == 0
    reworded = text.replace("окно справок", "окно информации")
    site.routes["/page"] = Page(f"<html><body><main><p>{reworded}</p></main></body></html>")
    data = json.loads(run_cli("check", "--json", cwd=tmp_path).stdout)
    assert data["sources"][0]["severity"] == "minor"
    assert data["guides_flagged"] == ["g"]

    assert run_cli("ci", cwd=tmp_path).returncode == 1
    lenient = run_cli("ci", "--min-severity", "major", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stdout
    assert "     ! page changed since" in lenient.stdout
    assert "changes below major only warn" in lenient.stdout
    assert run_cli("ci", "--min-severity", "minor", cwd=tmp_path).returncode == 1
    status = json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)
    assert status["guides"][0]["state"] == "needs review"
    assert status["guides"][0]["severity"] == "minor"

    out = tmp_path / "out"
    report = run_cli("report", "--min-severity", "major", "--out", str(out), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    digest = json.loads(next(out.glob("digest-*.json")).read_text(encoding="utf-8"))
    assert digest["guides"] == []
    assert digest["counts"]["below_severity"] == 1


def test_min_severity_never_hides_an_unassessed_change() -> None:
    reason = ci.Reason(NEEDS_REVIEW, "s", "s changed", "review")
    assert ci._severe(reason, "major")


# ------------------------------------------------------------------- config


def test_claims_minor_structure_and_confirm_are_read(tmp_path: Path) -> None:
    config = """\
    sources:
      - id: law
        url: https://example.org/law
        title: Law
        structure: law
        minor: ['^Новости']
        confirm: 2
        confirm_delay: 5s
    guides:
      - id: g
        title: G
        url: https://g.example.org/
        owner: e@example.org
        sources:
          - source: law
            claims: ["в течение 30 дней", "временно проживающие"]
    """
    loaded = load_config(write_config(tmp_path, config))
    source = loaded.source("law")
    assert (
        source.signal.structure,
        source.signal.confirm,
        source.signal.confirm_delay.seconds,
    ) == ("law", 2, 5)
    assert [p.pattern for p in source.signal.minor] == ["^Новости"]
    assert loaded.claims("g", "law") == ("в течение 30 дней", "временно проживающие")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{source: law, claim: [x]}", "sources.yaml:10: guides[0].sources[0].claim: unknown key"),
        ("{source: law, claims: ['...']}", "must quote some words"),
        ("{source: law, claims: [a, a]}", "listed twice"),
    ],
)
def test_bad_claims_name_the_line_and_key(tmp_path: Path, entry: str, message: str) -> None:
    config = f"""\
    sources:
      - id: law
        url: https://example.org/law
        title: Law
    guides:
      - id: g
        title: G
        url: https://g.example.org/
        owner: e@example.org
        sources: [{entry}]
    """
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, config))
    assert message in str(caught.value)
