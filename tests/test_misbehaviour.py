"""The real web misbehaves: one endpoint per misbehaviour, each a documented outcome.

Every case starts from a good baseline, then the page misbehaves. The
check must report the documented failure (source health), flag nothing,
and leave the last good snapshot exactly as it was.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import re
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import trustme

from tests.conftest import current_text, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.config import Source, make_source
from watcher.errors import RedirectError
from watcher.fetch.client import Fetcher
from watcher.fetch.redirects import AddressBook, PinnedResolver, PrivateGuard
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
        self.snapshot = current_text(root, "page")

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
        assert current_text(self.project.root, "page") == self.snapshot
        return result


@pytest.fixture
def case(tmp_path: Path, site: WebSite) -> Case:
    return Case(tmp_path, site)


class RawServer:
    """A socket on 127.0.0.1 answering every request with fixed bytes, for faults that
    no HTTP library produces: a garbage status line, a header without a colon, a body
    longer than announced... ``answer`` None closes without answering; ``reset``
    closes with a TCP reset."""

    def __init__(self, answer: bytes | None, *, reset: bool = False) -> None:
        self.answer = answer
        self.reset = reset
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request and (chunk := conn.recv(65536)):
                request += chunk
            if self.reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.answer is not None:
                conn.sendall(self.answer)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


def http(head: str, body: bytes = b"") -> bytes:
    """A response from its status line and headers (one per line) and its body."""
    return head.strip().replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body


def two_sources(root: Path, bad_url: str, site: WebSite) -> Project:
    """A project with a misbehaving source and a healthy one."""
    site.routes["/healthy"] = Page(GOOD)
    text = (
        "defaults:\n  timeout: 3s\n  retries: 0\n  robots: ignore\nsources:\n"
        f"  - {{id: bad, url: '{bad_url}/page', title: Bad}}\n"
        f"  - {{id: healthy, url: '{site.url}/healthy', title: Healthy}}\n"
    )
    return Project.load(write_config(root, text))


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


# -- hostile pages: each costs its own source, never the run ------------------------

HOSTILE = {
    "scripts": "<html><body>" + "<script" * 6_000 + "</body></html>",
    "angles": "<html><body><p>" + "<" * 48 * 1024 + "</p></body></html>",
    "titles": "<html><head>" + "<title>" * 6_000 + "</head><body>text</body></html>",
    "comments": "<html><body>" + "<!--" * 8_000 + "</body></html>",
    "inputs": "<html><body>" + "<input " * 6_000 + "</body></html>",
}


def test_hostile_markup_costs_a_healthy_source_nothing(tmp_path: Path, site: WebSite) -> None:
    """Markup that made the gate's and the decoder's regular expressions quadratic
    (seconds per page, on the loop that fetches) is read in linear time: the healthy
    source, still receiving its body while the hostile ones render, gets all of it
    within its ``timeout``."""
    site.routes["/healthy"] = Page(GOOD, drip=0.02)
    for name, body in HOSTILE.items():
        site.routes[f"/{name}"] = Page(body)
    site.routes["/cp1251"] = Page(b"\xcf" + b"<" * 128 * 1024, content_type="text/html")
    names = ["healthy", *HOSTILE, "cp1251"]
    sources = "".join(f"  - {{id: {n}, url: '{site.url}/{n}', title: {n}}}\n" for n in names)
    text = f"defaults:\n  timeout: 10s\n  retries: 0\n  workers: 0\nsources:\n{sources}"
    project = Project.load(write_config(tmp_path, text))
    run = asyncio.run(run_check(project, project.config.sources))
    outcomes = {r.source: (r.outcome, r.error_kind) for r in run.results}
    assert outcomes["healthy"] == ("baseline", None), outcomes
    assert all(kind != "timeout" for _, kind in outcomes.values()), outcomes


def _slow_rule_config(url: str) -> str:
    # An ignore regex whose cost is polynomial in a line's length: no static check
    # refuses it, so the render deadline is what bounds it.
    return (
        "defaults:\n  timeout: 2s\n  retries: 0\n  workers: 1\nsources:\n"
        f"  - id: page\n    url: {url}/page\n    title: Page\n"
        "    ignore: 'a*a*a*a*a*a*a*a*a*!'\n"
        f"  - {{id: healthy, url: '{url}/healthy', title: Healthy}}\n"
    )


def test_a_render_past_its_deadline_fails_its_source_alone(tmp_path: Path, site: WebSite) -> None:
    site.routes["/page"] = Page(GOOD)
    site.routes["/healthy"] = [Page(GOOD), Page(GOOD, delay=1.0)]
    project = Project.load(write_config(tmp_path, _slow_rule_config(site.url)))
    first = asyncio.run(run_check(project, project.config.sources))
    assert [r.outcome for r in first.results] == ["baseline", "baseline"]
    hostile = "<html><body><main>" + "<p>" + "a" * 3000 + "</p>" * 1 + "</main></body></html>"
    site.routes["/page"] = Page(hostile)
    run = asyncio.run(run_check(project, project.config.sources))
    page, healthy = run.results
    assert (page.outcome, page.error_kind) == (FAILED, "timeout"), page.error
    assert "rendering the page took longer than 2s" in (page.error or "")
    assert healthy.outcome == UNCHANGED, healthy.error
    assert len(project.store.load_state("page").versions) == 1


# -- malformed responses: the source's failure, never the run's -------------------------

MALFORMED = {
    "garbage status line": b"GARBAGE\r\n\r\n",
    "HTTP/0.9 answer": b"<html><body>no status line</body></html>",
    "header without a colon": http("HTTP/1.1 200 OK\nContent-Length: 5\nNoColonHere", b"hello"),
    "1 MB header": http(
        "HTTP/1.1 200 OK\nX-Big: " + "a" * 1_000_000 + "\nContent-Length: 2", b"hi"
    ),
    "20 000 headers": http(
        "HTTP/1.1 200 OK\n" + "".join(f"X-H{i}: v\n" for i in range(20_000)) + "Content-Length: 2",
        b"hi",
    ),
    "bad chunk size": http(
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked", b"zz\r\nhello\r\n0\r\n\r\n"
    ),
    "negative Content-Length": http("HTTP/1.1 200 OK\nContent-Length: -5", b"hello"),
    "duplicate Content-Length": http(
        "HTTP/1.1 200 OK\nContent-Length: 5\nContent-Length: 6", b"hello!"
    ),
    "Transfer-Encoding with Content-Length": http(
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 5", b"5\r\nhello\r\n0\r\n\r\n"
    ),
    "body longer than announced": http(
        "HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 5", GOOD.encode()
    ),
    "invalid gzip data": http(
        "HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: 10", b"0123456789"
    ),
    "100 KB Location": http(
        "HTTP/1.1 302 Found\nLocation: /" + "a" * 100_000 + "\nContent-Length: 0"
    ),
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_response_fails_its_source_alone(
    tmp_path: Path, site: WebSite, answer: bytes
) -> None:
    server = RawServer(answer)
    try:
        project = two_sources(tmp_path, server.url, site)
        run = asyncio.run(run_check(project, project.config.sources))
    finally:
        server.close()
    bad, healthy = run.results
    assert (bad.outcome, bad.error_kind) == (FAILED, "network"), bad.error
    assert "malformed response" in (bad.error or "") or "invalid gzip" in (bad.error or "")
    assert len(bad.error or "") < 300
    assert healthy.outcome == "baseline"
    assert project.store.load_state("bad").last_check is not None  # recorded, once


@pytest.mark.parametrize(
    ("server", "words"),
    [
        (lambda: RawServer(None), "closed the connection without answering"),
        (lambda: RawServer(b"", reset=True), "connection reset"),
    ],
    ids=["close before answering", "reset"],
)
def test_a_lost_connection_is_not_a_timeout(
    tmp_path: Path, site: WebSite, server: object, words: str
) -> None:
    raw: RawServer = server()  # type: ignore[operator]
    try:
        project = two_sources(tmp_path, raw.url, site)
        bad, healthy = asyncio.run(run_check(project, project.config.sources)).results
    finally:
        raw.close()
    assert (bad.outcome, bad.error_kind) == (FAILED, "network"), bad.error
    assert words in (bad.error or "")
    assert healthy.outcome == "baseline"


def test_plain_http_to_a_tls_port_is_not_a_timeout(tmp_path: Path, tls_site: WebSite) -> None:
    tls_site.routes["/page"] = Page(GOOD)
    plain = tls_site.url.replace("https://", "http://")
    project = Project.load(write_config(tmp_path, config(plain)))
    result = asyncio.run(run_check(project, project.config.sources)).results[0]
    assert (result.outcome, result.error_kind) == (FAILED, "network"), result.error
    assert "https://" in (result.error or "")


def _compressed(encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(GOOD.encode(), mtime=0)
    packer = zlib.compressobj(
        wbits=-zlib.MAX_WBITS if encoding == "raw deflate" else zlib.MAX_WBITS
    )
    return packer.compress(GOOD.encode()) + packer.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
def test_a_compressed_body_cut_short_is_not_a_change(case: Case, encoding: str) -> None:
    """Three quarters of the stream, with a Content-Length that matches what is sent:
    the page decodes to its first paragraphs, which must never be stored."""
    data = _compressed(encoding)
    header = {"Content-Encoding": encoding.split()[-1]}
    case.site.routes["/page"] = Page(data, headers=header)
    assert case.check().outcome == UNCHANGED  # the whole stream reads as the page
    case.site.routes["/page"] = Page(data[: len(data) * 3 // 4], headers=header)
    result = case.assert_failed_and_intact("network")
    assert "truncated compressed body" in (result.error or "")


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_an_encoding_not_asked_for_is_never_a_snapshot(case: Case, encoding: str) -> None:
    case.site.routes["/page"] = Page(
        b"\x28\xb5\x2f\xfd" + b"x" * 100, headers={"Content-Encoding": encoding}
    )
    result = case.assert_failed_and_intact("network")
    assert "unsupported Content-Encoding" in (result.error or "")
    assert "gzip, deflate" in case.site.requests[-1][1].get("accept-encoding", "")


def test_json_nested_too_deep_fails_its_source_alone(tmp_path: Path, site: WebSite) -> None:
    site.routes["/deep.json"] = Page("[" * 200_000 + "]" * 200_000, content_type="application/json")
    project = two_sources(tmp_path, site.url, site)
    text = project.config.path.read_text(encoding="utf-8").replace("/page", "/deep.json")
    project = Project.load(write_config(tmp_path, text))
    bad, healthy = asyncio.run(run_check(project, project.config.sources)).results
    assert (bad.outcome, bad.error_kind) == (FAILED, "extract"), bad.error
    assert "nested too deeply" in (bad.error or "")
    assert healthy.outcome == "baseline"


def test_an_expired_certificate_has_no_word_of_the_russian_ca(
    tmp_path: Path, test_ca: trustme.CA
) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    past = datetime.now(UTC) - timedelta(days=2)
    test_ca.issue_cert("127.0.0.1", not_after=past).configure_cert(server_context)
    expired = WebSite(tls=server_context).start()
    try:
        expired.routes["/page"] = Page(GOOD)
        test_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        extra = "    ca_bundle: ca.pem\n"
        project = Project.load(write_config(tmp_path, config(expired.url, extra)))
        result = asyncio.run(run_check(project, project.config.sources)).results[0]
    finally:
        expired.stop()
    assert (result.outcome, result.error_kind) == (FAILED, "network"), result.error
    assert "certificate expired" in (result.error or "")
    assert "Russian" not in (result.error or "") and "ca_bundle" not in (result.error or "")


def test_a_bug_met_on_one_source_is_its_failure_and_the_others_are_stored(
    tmp_path: Path,
) -> None:
    """An exception no stage expects (here raised beneath the client) is recorded as
    that source's ``internal`` failure with its traceback; the run goes on."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "buggy.example":
            raise RuntimeError("boom")
        body = httpx.ByteStream(GOOD.encode())
        return httpx.Response(200, headers={"Content-Type": "text/html"}, stream=body)

    text = (
        "defaults:\n  retries: 0\n  robots: ignore\nsources:\n"
        "  - {id: buggy, url: 'http://buggy.example/page', title: Buggy}\n"
        "  - {id: fine, url: 'http://fine.example/page', title: Fine}\n"
    )
    project = Project.load(write_config(tmp_path, text))
    run = asyncio.run(
        run_check(project, project.config.sources, transport=httpx.MockTransport(handler))
    )
    buggy, fine = run.results
    assert (buggy.outcome, buggy.error_kind) == (FAILED, "internal")
    assert "RuntimeError: boom" in (buggy.error or "")
    assert "RuntimeError: boom" in (buggy.traceback or "")
    assert fine.outcome == "baseline", fine.traceback
    assert run.internal_errors == (buggy,)
    assert project.store.load_state("buggy").consecutive_failures == 1
    assert fine.outcome == "baseline"
    assert project.store.load_state("fine").current == fine.new_hash


# -- the private-address guard fails closed, and connects where it checked ---------------


def _redirect_to(target: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "public.example":
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, stream=httpx.ByteStream(b"<p>the proxy's answer</p>"))

    return httpx.MockTransport(handler)


async def _only_public_example(host: str) -> list[str]:
    if host == "public.example":
        return ["93.184.216.34"]
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://metadata.google.internal/computeMetadata/v1/", "a private address"),
        ("http://localhost./admin", "a private address"),
        ("http://printer.local/", "a private address"),
        ("http://nowhere.example/", "a name that does not resolve here"),
        ("http://[::ffff:10.0.0.7]/", "a private address"),
        ("http://0.0.0.0:8080/", "a private address"),
    ],
)
def test_the_guard_refuses_what_it_cannot_prove_public(target: str, why: str) -> None:
    """Through a proxy these names are the proxy's to resolve; watcher cannot resolve
    them here, so nothing proves them public: refused, not followed."""
    source = make_source(id="p", url="http://public.example/page", title="P", robots="ignore")

    async def go() -> object:
        transport = _redirect_to(target)
        async with Fetcher(transport=transport, resolver=_only_public_example) as fetcher:
            return await fetcher.fetch(source.url, source.fetch)

    with pytest.raises(RedirectError, match=re.escape(f"redirect to {why} refused: {target}")):
        asyncio.run(go())


def test_a_name_is_resolved_once_and_connections_go_where_the_guard_looked() -> None:
    """DNS rebinding: the first answer is public, every later one private. The guard
    and the connection share the first answer."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])

    async def rebinding(host: str) -> list[str]:
        return next(answers)

    async def go() -> tuple[object, list[str]]:
        book = AddressBook(rebinding)
        guard = PrivateGuard(book)
        await guard.check("http://93.184.216.35/", "http://rebind.example/", allow_private=False)
        pinned = await PinnedResolver(book).resolve("rebind.example", 80)
        return pinned, [r["host"] for r in pinned]

    _, hosts = asyncio.run(go())
    assert hosts == ["93.184.216.34"]


def test_direct_connections_use_the_run_s_addresses(site: WebSite) -> None:
    site.routes["/page"] = Page(GOOD)
    port = site.url.rsplit(":", 1)[1]
    url = f"http://watcher-test.invalid:{port}/page"  # .invalid never resolves for real
    source = make_source(id="p", url=url, title="P", robots="ignore", retries=0)

    async def local(host: str) -> list[str]:
        assert host == "watcher-test.invalid"
        return ["127.0.0.1"]

    async def go() -> object:
        async with Fetcher(resolver=local) as fetcher:
            return await fetcher.fetch(source.url, source.fetch)

    fetched = asyncio.run(go())
    assert getattr(fetched, "status", None) == 200
    assert site.requests[-1][1]["host"] == f"watcher-test.invalid:{port}"


def test_a_503_with_a_far_future_retry_after_is_not_maintenance(case: Case) -> None:
    case.site.routes["/page"] = Page("down", status=503, headers={"Retry-After": "31536000"})
    result = case.assert_failed_and_intact("http")
    assert "HTTP 503" in (result.error or "")


def test_a_5mb_single_line_page_fails_as_too_large_alone(tmp_path: Path, site: WebSite) -> None:
    """Every later stage (diff, facts, significance) spent seconds on one line of
    5 MB, on the loop that fetches the other sources."""
    site.routes["/page"] = Page("слово " * 900_000, content_type="text/plain")
    project = two_sources(tmp_path, site.url, site)
    bad, healthy = asyncio.run(run_check(project, project.config.sources)).results
    assert (bad.outcome, bad.error_kind) == (FAILED, "too-large"), bad.error
    assert "a line of 5399999 characters" in (bad.error or "")
    assert healthy.outcome == "baseline"


def test_a_deeply_nested_page_never_stalls_a_healthy_source(tmp_path: Path, site: WebSite) -> None:
    """100 000 nested <div>s took 30 s to extract, on the loop that fetches: rendered
    under its deadline in a worker, it costs the healthy source nothing."""
    site.routes["/page"] = Page("<html><body>" + "<div>" * 100_000 + "текст</body></html>")
    site.routes["/healthy"] = Page(GOOD, drip=0.02)
    text = (
        "defaults:\n  timeout: 4s\n  retries: 0\n  robots: ignore\n  workers: 1\nsources:\n"
        f"  - {{id: nested, url: '{site.url}/page', title: Nested}}\n"
        f"  - {{id: healthy, url: '{site.url}/healthy', title: Healthy}}\n"
    )
    project = Project.load(write_config(tmp_path, text))
    nested, healthy = asyncio.run(run_check(project, project.config.sources)).results
    assert healthy.outcome == "baseline", healthy.error
    assert nested.error_kind in (None, "timeout", "extract"), nested.error
