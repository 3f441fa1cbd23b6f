"""The bundled demo site: a real HTTP server on 127.0.0.1, fetched with urllib."""

from __future__ import annotations

import difflib
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import yaml

from watcher.demo import AMENDED, ORIGINAL, PAGES, DemoSite, render_config

FUND = "oms-fund-foreigners.html"
LAW = "law-326fz.html"
UNCHANGED = [page for page in PAGES if page not in (FUND, LAW)]
STAMP = re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}")
COUNTER = re.compile(r"Посещений сегодня: \d+")
ARTICLE = re.compile(r'<article class="content">.*?</article>', re.DOTALL)


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite() as running:
        yield running


def fetch(url: str, method: str = "GET") -> tuple[bytes, Message]:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read(), response.headers


def page_text(site: DemoSite, page: str) -> str:
    body, headers = fetch(f"{site.base_url}/{page}")
    return body.decode(headers.get_content_charset() or "windows-1251")


def without_furniture(text: str) -> str:
    return STAMP.sub("NOW", COUNTER.sub("COUNTER", text))


def test_fund_page_is_windows_1251_declared_only_in_meta(site: DemoSite) -> None:
    body, headers = fetch(f"{site.base_url}/{FUND}")
    assert headers["Content-Type"] == "text/html"
    assert b'<meta charset="windows-1251">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("windows-1251")
    assert "Полис ОМС для иностранных граждан" in text
    assert "ДЕМО / DEMO: учебная страница, не официальный источник" in text


@pytest.mark.parametrize("page", UNCHANGED)
def test_other_pages_are_utf8_and_marked_demo(site: DemoSite, page: str) -> None:
    body, headers = fetch(f"{site.base_url}/{page}")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode("utf-8")
    assert "ДЕМО / DEMO" in text
    assert "DEMO CONTENT" in text
    assert "{{" not in text


def test_furniture_changes_on_every_request(site: DemoSite) -> None:
    first, second = page_text(site, PAGES[1]), page_text(site, PAGES[1])
    counts = [COUNTER.search(text) for text in (first, second)]
    assert counts[0] and counts[1]
    assert counts[0].group() != counts[1].group()
    assert "Сегодня: " in first
    assert "Дата обновления: " in first


def test_head_sends_headers_without_body(site: DemoSite) -> None:
    body, headers = fetch(f"{site.base_url}/{PAGES[1]}", method="HEAD")
    assert body == b""
    assert int(headers["Content-Length"]) > 0


def test_index_lists_pages_and_unknown_paths_are_404(site: DemoSite) -> None:
    index = page_text(site, "")
    assert all(page in index for page in PAGES)
    with pytest.raises(urllib.error.HTTPError) as caught:
        fetch(f"{site.base_url}/missing.html")
    assert caught.value.code == 404


def test_amendment_changes_only_the_fund_and_the_law(site: DemoSite) -> None:
    before = {page: without_furniture(page_text(site, page)) for page in PAGES}
    site.set_version(AMENDED)
    assert site.version == AMENDED
    after = {page: without_furniture(page_text(site, page)) for page in PAGES}
    for page in UNCHANGED:
        assert after[page] == before[page]
    assert "8 (800) 555-01-23" not in after[FUND]
    assert "8 (800) 555-01-45" in after[FUND]
    assert "в течение 10 рабочих дней" in after[FUND]
    assert "в течение не менее трех лет" in before[LAW]
    assert "в течение не менее пяти лет" in after[LAW]


def test_the_law_is_amended_like_a_real_law(site: DemoSite) -> None:
    """One number word replaced in one part of one article, and the amending law named."""
    before = without_furniture(page_text(site, LAW)).splitlines()
    site.set_version(AMENDED)
    after = without_furniture(page_text(site, LAW)).splitlines()
    diff = list(difflib.ndiff(before, after))
    removed = [line[2:].strip() for line in diff if line.startswith("- ")]
    added = [line[2:].strip() for line in diff if line.startswith("+ ")]
    assert removed == [
        next(line for line in removed if "472-ФЗ" in line),
        "в течение не менее трех лет.</p>",
    ]
    assert added[1:] == [
        "в течение не менее пяти лет.</p>",
        "<p>(в ред. Федерального закона от 01.12.2025 № 999-ФЗ — демонстрационная поправка)</p>",
    ]
    assert "от 01.12.2025 № 999-ФЗ — демонстрационная редакция" in added[0]
    assert "ДЕМО / DEMO" in "\n".join(after)


def test_amendment_is_phone_deadline_and_one_document(site: DemoSite) -> None:
    before = page_text(site, FUND).splitlines()
    site.set_version(AMENDED)
    after = page_text(site, FUND).splitlines()
    diff = difflib.ndiff(
        [without_furniture(x) for x in before], [without_furniture(x) for x in after]
    )
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert len(added) == 4
    assert sum("555-01-45" in line for line in added) == 2
    assert sum("10 рабочих дней" in line for line in added) == 1
    assert sum("регистрацию по месту жительства" in line for line in added) == 1


def test_control_endpoints_switch_version(site: DemoSite) -> None:
    body, headers = fetch(f"{site.base_url}/_demo/amend", method="POST")
    assert body == b"demo site version: amended\n"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert site.version == AMENDED
    assert "555-01-45" in page_text(site, FUND)
    assert fetch(f"{site.base_url}/_demo/version")[0] == b"demo site version: amended\n"
    fetch(f"{site.base_url}/_demo/original")
    assert site.version == ORIGINAL
    assert "555-01-23" in page_text(site, FUND)


def test_unknown_version_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown demo version"):
        DemoSite().set_version("draft")


def test_stop_releases_and_restart_works() -> None:
    site = DemoSite()
    first = site.start()
    site.stop()
    with pytest.raises(urllib.error.URLError):
        fetch(f"{first}/")
    second = site.start()
    assert fetch(f"{second}/")[0]
    site.stop()
    site.stop()


def test_render_config_fills_base_url() -> None:
    text = render_config("http://127.0.0.1:8123/")
    assert "{base_url}" not in text
    data = yaml.safe_load(text)
    urls = [source["url"] for source in data["sources"]]
    assert urls == [f"http://127.0.0.1:8123/{page}" for page in PAGES]


def test_amending_the_fund_and_the_law_flags_exactly_one_guide() -> None:
    data = yaml.safe_load(render_config("http://127.0.0.1:8123"))
    fund = next(s["id"] for s in data["sources"] if s["url"].endswith(FUND))
    law = next(s["id"] for s in data["sources"] if s["url"].endswith(LAW))
    for amended in (fund, law):
        flagged = [
            guide["id"]
            for guide in data["guides"]
            if amended in [e if isinstance(e, str) else e["source"] for e in guide["sources"]]
        ]
        assert flagged == ["demo-medical-insurance"]


def test_ignore_patterns_neutralise_the_updated_stamp(site: DemoSite) -> None:
    data = yaml.safe_load(render_config(site.base_url))
    for source in data["sources"]:
        patterns = [re.compile(p) for p in source["ignore"]]
        page = source["url"].rsplit("/", 1)[1]
        articles = []
        for _ in range(2):
            match = ARTICLE.search(page_text(site, page))
            assert match
            article = match.group()
            assert all(p.search(article) for p in patterns)
            for pattern in patterns:
                article = pattern.sub("", article)
            articles.append(article)
        assert not STAMP.search(articles[0])
        assert articles[0] == articles[1]


def test_rendered_config_loads(tmp_path: Path) -> None:
    from watcher.config import load_config  # imported here: the rest needs no config loader

    path = tmp_path / "sources.yaml"
    path.write_text(render_config("http://127.0.0.1:8123"), encoding="utf-8")
    config = load_config(path)
    assert [s.id for s in config.sources] == [
        "demo-oms-fund",
        "demo-insurer",
        "demo-law-326fz",
        "demo-emergency-112",
    ]
    assert [g.id for g in config.guides_citing("demo-oms-fund")] == ["demo-medical-insurance"]
    assert config.source("demo-oms-fund").text.select == ("article.content",)
    assert config.source("demo-law-326fz").signal.structure == "law"
    claims = config.claims("demo-medical-insurance", "demo-law-326fz")
    assert any("трех лет" in claim for claim in claims)


def test_the_demo_guides_are_published_pages_watcher_audit_reads(
    site: DemoSite, tmp_path: Path
) -> None:
    from tests.conftest import run_cli

    path = tmp_path / "sources.yaml"
    path.write_text(render_config(site.base_url), encoding="utf-8")
    assert run_cli("-c", str(path), "validate", cwd=tmp_path).stdout.endswith("3 guides)\n")
    done = run_cli("-c", str(path), "audit", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cites 3 official link(s): 3 watched, 0 not watched" in done.stdout
    assert "police-document-checks.html («Demo police: document checks»): gone: HTTP 404" in (
        done.stdout
    )
    assert "watcher audit: 3 guide(s) audited, 1 with findings, 0 could not be read" in done.stdout
