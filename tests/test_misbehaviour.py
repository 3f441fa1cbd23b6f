"""The real web misbehaves: one endpoint per misbehaviour, each a documented outcome.

Every case starts from a good baseline, then the page misbehaves. The
check must report the documented failure (source health), flag nothing,
and leave the last good snapshot exactly as it was.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from tests.conftest import write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.config import Source, make_source
from watcher.errors import RedirectError
from watcher.fetch.client import Fetcher
from watcher.project import Project
from watcher.results import CHANGED, FAILED, UNCHANGED, RunResult, SourceResult

DATA = Path(__file__).parent / "data"
GOOD = (
    "<html><head><title>Полис ОМС для иностранных граждан</title></head><body><main>"
    "<h1>Полис ОМС для иностранных граждан</h1>"
    + "".join(f"<p>Пункт {n}: документы для оформления полиса ОМС.</p>" for n in range(40))
    + "</main></body></html>"
)


def config(url: str, extra: str = "") -> str:
    return (
        "defaults:\n  timeout: 2s\n  retries: 0\n"
        f"sources:\n  - id: page\n    url: {url}/page\n    title: Page\n{extra}"
    )


class Case:
    """A project with one source whose page has a good baseline."""

    def __init__(self, root: Path, site: WebSite, extra: str = "") -> None:
        self.site = site
        site.routes["/page"] = Page(GOOD)
        self.project = Project.load(write_config(root, config(site.url, extra)))
        assert self.check().outcome == "baseline"
        self.snapshot = (root / "snapshots" / "page" / "current.txt").read_bytes()

    def check(self) -> SourceResult:
        run: RunResult = asyncio.run(run_check(self.project, self.project.config.sources))
        return run.results[0]

    def assert_failed_and_intact(self, kind: str) -> SourceResult:
        result = self.check()
        assert result.outcome == FAILED, result
        assert result.error_kind == kind, result.error
        assert result.flagged == ()
        state = self.project.store.load_state("page")
        assert len(state.versions) == 1
        current = self.project.store.source_dir("page") / "current.txt"
        assert current.read_bytes() == self.snapshot
        return result


@pytest.fixture
def case(tmp_path: Path, site: WebSite) -> Case:
    return Case(tmp_path, site)


def test_slow_body_times_out(case: Case) -> None:
    case.site.routes["/page"] = Page(GOOD, drip=0.2)
    result = case.assert_failed_and_intact("timeout")
    error = result.error or ""
    assert "no complete answer within 2s: the source's `timeout` ran out" in error
    assert "while reading the body" in error
    assert "raise its `timeout` (now 2s)" in error


def test_slow_answer_times_out_naming_what_it_waited_for(case: Case) -> None:
    case.site.routes["/page"] = Page(GOOD, delay=3)
    result = case.assert_failed_and_intact("timeout")
    assert "ran out while connecting or waiting for the answer" in (result.error or "")


def test_a_source_timeout_above_5s_is_the_only_limit(tmp_path: Path, site: WebSite) -> None:
    """httpx's own 5-second default must not cap a longer configured `timeout`."""
    case = Case(tmp_path, site, extra="    timeout: 30s\n")
    site.routes["/page"] = Page(GOOD, delay=5.5)
    assert case.check().outcome == UNCHANGED


def test_429_honours_retry_after(tmp_path: Path, site: WebSite) -> None:
    case = Case(tmp_path, site, extra="    retries: 2\n")
    site.routes["/page"] = [Page("busy", status=429, headers={"Retry-After": "1"}), Page(GOOD)]
    site.times.clear()
    result = case.check()
    assert result.outcome == UNCHANGED
    first, second = site.hits("/page")
    assert second - first >= 0.95


def test_retry_after_beyond_the_cap_is_not_waited_for(tmp_path: Path, site: WebSite) -> None:
    case = Case(tmp_path, site, extra="    retries: 2\n")
    site.routes["/page"] = Page("busy", status=429, headers={"Retry-After": "3600"})
    result = case.assert_failed_and_intact("http")
    assert "retry after 3600s" in (result.error or "")
    assert len(site.hits("/page")) == 2  # the baseline and this single attempt


def test_503_then_200_is_retried(tmp_path: Path, site: WebSite) -> None:
    case = Case(tmp_path, site, extra="    retries: 2\n")
    site.routes["/page"] = [Page("down", status=503), Page(GOOD)]
    assert case.check().outcome == UNCHANGED


def test_404_is_not_retried(tmp_path: Path, site: WebSite) -> None:
    case = Case(tmp_path, site, extra="    retries: 2\n")
    site.routes.pop("/page")
    result = case.assert_failed_and_intact("http")
    assert (result.error or "").startswith("gone: HTTP 404")
    assert len(site.hits("/page")) == 2


def test_redirect_loop(case: Case) -> None:
    case.site.routes["/page"] = Page(status=302, headers={"Location": "/other"})
    case.site.routes["/other"] = Page(status=302, headers={"Location": "/page"})
    result = case.assert_failed_and_intact("redirect")
    assert "redirect loop" in (result.error or "")


def test_gzip_bomb_is_capped(tmp_path: Path, site: WebSite) -> None:
    case = Case(tmp_path, site, extra="    max_size: 1MB\n")
    bomb = b"<html><body><p>" + b"0" * (64 * 1024 * 1024) + b"</p></body></html>"
    site.routes["/page"] = Page(bomb, gzip=True)
    assert len(site.routes["/page"].payload()) < 200_000  # type: ignore[union-attr]
    result = case.assert_failed_and_intact("too-large")
    assert "after decompression" in (result.error or "")


def test_oversized_body(tmp_path: Path, site: WebSite) -> None:
    case = Case(tmp_path, site, extra="    max_size: 100KB\n")
    site.routes["/page"] = Page(GOOD * 200)
    case.assert_failed_and_intact("too-large")


def test_gzip_page_is_read(case: Case) -> None:
    case.site.routes["/page"] = Page(GOOD, gzip=True)
    assert case.check().outcome == UNCHANGED


def test_truncated_body(case: Case) -> None:
    case.site.routes["/page"] = Page(GOOD, truncate=500)
    case.assert_failed_and_intact("network")


@pytest.mark.parametrize(
    ("fixture", "status", "headers"),
    [
        ("cloudflare_challenge.html", 403, {"cf-mitigated": "challenge", "Server": "cloudflare"}),
        ("qrator.html", 401, {}),
        ("proverka_brauzera.html", 200, {}),
        ("yandex_smartcaptcha.html", 200, {}),
    ],
)
def test_challenge_pages_are_blocked(
    case: Case, fixture: str, status: int, headers: dict[str, str]
) -> None:
    body = (DATA / "quality" / fixture).read_bytes()
    case.site.routes["/page"] = Page(body, status=status, headers=headers)
    case.assert_failed_and_intact("blocked")


def test_soft_404(case: Case) -> None:
    case.site.routes["/page"] = Page((DATA / "quality" / "soft404_ru.html").read_bytes())
    case.assert_failed_and_intact("soft-404")


def test_maintenance_page(case: Case) -> None:
    case.site.routes["/page"] = Page((DATA / "quality" / "maintenance_ru.html").read_bytes())
    case.assert_failed_and_intact("maintenance")


def test_home_page_redirect(case: Case) -> None:
    case.site.routes["/page"] = Page(status=302, headers={"Location": "/"})
    case.site.routes["/"] = Page((DATA / "quality" / "home.html").read_bytes())
    case.assert_failed_and_intact("home-redirect")


def test_empty_200(case: Case) -> None:
    case.site.routes["/page"] = Page("")
    case.assert_failed_and_intact("empty")


def test_far_smaller_page_is_an_error(case: Case) -> None:
    case.site.routes["/page"] = Page(
        "<html><body><main><p>Раздел обновляется.</p></main></body></html>"
    )
    result = case.assert_failed_and_intact("shrunk")
    assert "shrank to" in (result.error or "")


def test_robots_disallow(case: Case) -> None:
    case.site.routes["/robots.txt"] = Page(
        "User-agent: watcher\nDisallow: /page\n", content_type="text/plain"
    )
    result = case.assert_failed_and_intact("robots")
    assert "robots.txt disallows" in (result.error or "")
    assert case.site.hits("/page")[1:] == []


def test_robots_ignore_is_per_source(tmp_path: Path, site: WebSite) -> None:
    site.routes["/robots.txt"] = Page("User-agent: *\nDisallow: /\n", content_type="text/plain")
    case = Case(tmp_path, site, extra="    robots: ignore\n")
    assert case.check().outcome == UNCHANGED


def test_crawl_delay_spaces_requests(tmp_path: Path, site: WebSite) -> None:
    site.routes["/robots.txt"] = Page("User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    for name in ("a", "b", "c"):
        site.routes[f"/{name}"] = Page(f"<html><body><p>Страница {name}</p></body></html>")
    sources = "".join(f"  - {{id: {n}, url: '{site.url}/{n}', title: {n}}}\n" for n in "abc")
    project = Project.load(write_config(tmp_path, f"defaults:\n  per_host: 2\nsources:\n{sources}"))
    asyncio.run(run_check(project, project.config.sources))
    starts = sorted(at for path, at in site.times if path in ("/a", "/b", "/c"))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.95


# -- TLS -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_site(test_ca: trustme.CA) -> Iterator[WebSite]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1").configure_cert(server_context)
    site = WebSite(tls=server_context).start()
    try:
        yield site
    finally:
        site.stop()


def test_tls_unknown_issuer_says_what_to_do(tmp_path: Path, tls_site: WebSite) -> None:
    tls_site.routes["/page"] = Page(GOOD)
    project = Project.load(write_config(tmp_path, config(tls_site.url)))
    result = asyncio.run(run_check(project, project.config.sources)).results[0]
    assert result.outcome == FAILED
    assert result.error_kind == "network"
    assert "TLS certificate not trusted: unknown issuer" in (result.error or "")
    assert "ca_bundle" in (result.error or "")


def test_tls_with_ca_bundle(tmp_path: Path, tls_site: WebSite, test_ca: trustme.CA) -> None:
    tls_site.routes["/page"] = Page(GOOD)
    test_ca.cert_pem.write_to_path(str(tmp_path / "russian-trusted-ca.pem"))
    extra = "    ca_bundle: russian-trusted-ca.pem\n"
    project = Project.load(write_config(tmp_path, config(tls_site.url, extra)))
    result = asyncio.run(run_check(project, project.config.sources)).results[0]
    assert result.outcome == "baseline", result.error


# -- PDF -----------------------------------------------------------------------


def test_pdf_repagination_is_not_a_change(tmp_path: Path, site: WebSite) -> None:
    pdf_a = (DATA / "pdf" / "law_a.pdf").read_bytes()
    pdf_b = (DATA / "pdf" / "law_b.pdf").read_bytes()
    site.routes["/law.pdf"] = Page(pdf_a, content_type="application/pdf")
    cfg = "defaults:\n  retries: 0\nsources:\n"
    cfg += f"  - {{id: law, url: '{site.url}/law.pdf', title: Law}}\n"
    project = Project.load(write_config(tmp_path, cfg))
    first = asyncio.run(run_check(project, project.config.sources)).results[0]
    assert first.outcome == "baseline", first.error
    state = project.store.load_state("law")
    assert state.versions[0].metadata
    site.routes["/law.pdf"] = Page(pdf_b, content_type="application/pdf")
    second = asyncio.run(run_check(project, project.config.sources)).results[0]
    assert second.outcome == UNCHANGED
    assert second.outcome != CHANGED


# -- the private-address guard (unit level: every test server is on 127.0.0.1) ---


def _redirecting_transport() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "public.example":
            return httpx.Response(302, headers={"Location": "http://intranet.example/admin"})
        return httpx.Response(200, stream=httpx.ByteStream(b"<p>secret</p>"))

    return httpx.MockTransport(handler)


async def _resolve(host: str) -> list[str]:
    return {"public.example": ["93.184.216.34"], "intranet.example": ["10.0.0.7"]}[host]


def _fetch(source: Source) -> object:
    async def go() -> object:
        async with Fetcher(transport=_redirecting_transport(), resolver=_resolve) as fetcher:
            return await fetcher.fetch(source.url, source.fetch)

    return asyncio.run(go())


def test_public_source_cannot_redirect_to_a_private_address() -> None:
    source = make_source(id="p", url="http://public.example/page", title="P", robots="ignore")
    with pytest.raises(
        RedirectError, match=re.escape("private address refused: http://intranet.example/admin")
    ):
        _fetch(source)


def test_allow_private_lets_the_redirect_through() -> None:
    source = make_source(
        id="p", url="http://public.example/page", title="P", robots="ignore", allow_private=True
    )
    fetched = _fetch(source)
    assert getattr(fetched, "final_url", "") == "http://intranet.example/admin"


def test_refused_connection_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    project = Project.load(write_config(tmp_path, config(f"http://127.0.0.1:{port}")))
    result = asyncio.run(run_check(project, project.config.sources)).results[0]
    assert result.outcome == FAILED
    assert result.error_kind == "network"
    assert result.error == "connection refused"
