"""Fetch stage: the only module that imports httpx.

One :class:`Fetcher` per run holds the HTTP clients (one per distinct TLS
and proxy setting, built once: a TLS context costs ~60 ms) and the
politeness limits: an overall cap on requests in flight, a per-host cap,
and a least delay between two requests to one host (the larger of the
configured ``delay`` and robots.txt's Crawl-delay), so one slow host never
delays the others.

A fetch follows redirects by hand, so every hop is counted, loops are
caught, the chain is recorded and no redirect from a public address can
lead to a private one (an SSRF guard) unless the source allows it. The
body is streamed and decompressed here, capped at ``max_size`` after
decompression. Transient failures (connect errors, timeouts, 408, 429,
5xx) are retried with exponential backoff and jitter, honouring
``Retry-After`` up to ``max_retry_after``; DNS failures and other 4xx are
not retried. Every httpx exception is translated into the
:mod:`watcher.errors` tree here, with the problem said in words.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from types import MappingProxyType, TracebackType
from urllib.parse import urljoin, urlsplit

import certifi
import httpx
from httpx_aiohttp import AiohttpTransport

from watcher.errors import (
    FetchError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    RobotsError,
    TimeoutError_,
    TooLargeError,
)
from watcher.fetch.robots import RobotsCache, RobotsPolicy, policy_for_response, robots_url
from watcher.models import Source
from watcher.results import Fetched

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})
GONE_STATUSES = frozenset({404, 410})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
ROBOTS_MAX_SIZE = 512 * 1024

Resolver = Callable[[str], Awaitable[list[str]]]


@dataclass(frozen=True)
class Validators:
    """What the previous fetch said about the version we hold."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


async def system_resolver(host: str) -> list[str]:
    """The addresses a host name resolves to (via the system resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class _Host:
    """Politeness state of one host: a slot count and the pace of requests."""

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.delay = 0.0
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def pace(self) -> None:
        """Wait until ``delay`` has passed since the previous request started."""
        async with self.lock:
            wait = self.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_start = time.monotonic() + self.delay


class Fetcher:
    """Fetches sources over shared clients, within politeness limits.

    Use as an async context manager. ``transport`` lets tests plug in
    ``httpx.MockTransport``; ``resolver`` lets tests decide what a host
    name resolves to for the private-address guard.
    """

    def __init__(
        self,
        *,
        concurrency: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._overall = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _Host] = {}
        self._clients: dict[tuple[str | None, str | None, bool], httpx.AsyncClient] = {}
        self._transport = transport
        self._concurrency = concurrency
        self._resolver = resolver
        self._private: dict[str, bool] = {}
        self._robots = RobotsCache()
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for client in self._clients.values():
            await client.aclose()

    # -- clients and hosts ---------------------------------------------------

    def _client(self, source: Source) -> httpx.AsyncClient:
        key = (source.proxy, source.ca_bundle, source.verify)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(source)
        return client

    def _new_client(self, source: Source) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=self._concurrency, max_keepalive_connections=self._concurrency
        )
        verify = _tls_context(source)
        transport = self._transport
        if transport is None and source.proxy is None:
            transport = AiohttpTransport(verify=verify, limits=limits, trust_env=False)
        return httpx.AsyncClient(
            transport=transport,
            limits=limits,
            follow_redirects=False,
            trust_env=False,
            verify=verify,
            proxy=source.proxy if transport is None else None,
        )

    def _host(self, source: Source) -> _Host:
        host = self._hosts.get(source.host)
        if host is None:
            host = self._hosts[source.host] = _Host(source.per_host)
            host.delay = source.delay.total_seconds()
        return host

    # -- one fetch -----------------------------------------------------------

    async def fetch(self, source: Source, validators: Validators | None = None) -> Fetched:
        """Fetch ``source``; raise a :class:`FetchError` subclass on failure."""
        if source.robots == "obey":
            await self._obey_robots(source)
        attempt = 0
        while True:
            try:
                return await self._attempt(source, validators)
            except FetchError as exc:
                wait = _retry_wait(source, exc, attempt)
                if wait is None:
                    raise
            attempt += 1
            await asyncio.sleep(wait)

    async def _attempt(self, source: Source, validators: Validators | None) -> Fetched:
        host = self._host(source)
        async with host.slots, self._overall:
            await host.pace()
            started = time.monotonic()
            fetched_at = datetime.now(UTC)
            try:
                async with asyncio.timeout(source.timeout.total_seconds()):
                    return await self._follow(source, validators, fetched_at, started)
            except TimeoutError as exc:
                raise TimeoutError_(
                    f"no complete answer within {_seconds(source.timeout)}",
                    url=source.url,
                    hint="the site is slow or unreachable; raise `timeout` if it is just slow",
                ) from exc

    async def _follow(
        self,
        source: Source,
        validators: Validators | None,
        fetched_at: datetime,
        started: float,
    ) -> Fetched:
        client = self._client(source)
        url = source.url
        chain: list[str] = []
        permanent = False
        headers = _request_headers(source, validators)
        while True:
            response = await _send(client, client.build_request("GET", url, headers=headers))
            try:
                location = _redirect_target(response, url)
                if location is None:
                    body = await read_capped(response, source.max_size)
                    fetched = _fetched(source, response, body, chain, fetched_at, started)
                    return _with_move(fetched, permanent)
            finally:
                await response.aclose()
            permanent = permanent or response.status_code in PERMANENT_STATUSES
            chain.append(url)
            url = _next_hop(source, chain, location)
            await self._guard_private(source, url)

    # -- the private-address guard ---------------------------------------------

    async def _guard_private(self, source: Source, target: str) -> None:
        """Refuse a redirect from a public source to a private address."""
        if source.allow_private or await self._is_private(urlsplit(source.url).hostname or ""):
            return
        host = urlsplit(target).hostname or ""
        if await self._is_private(host):
            raise RedirectError(
                f"redirect to a private address refused: {target}",
                url=source.url,
                hint="set `allow_private: true` for this source if it is really intended",
            )

    async def _is_private(self, host: str) -> bool:
        if host not in self._private:
            self._private[host] = await self._resolves_private(host)
        return self._private[host]

    async def _resolves_private(self, host: str) -> bool:
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolver(host)
            except OSError:
                return False
        return any(_private_address(address) for address in addresses)

    # -- robots.txt ------------------------------------------------------------

    async def _obey_robots(self, source: Source) -> None:
        policy = await self._robots_policy(source)
        if not policy.allowed(source.url, source.user_agent):
            raise RobotsError(
                policy.refusal(source.url),
                url=source.url,
                hint="set `robots: ignore` only for pages the publisher is entitled to check",
            )
        delay = policy.crawl_delay(source.user_agent)
        host = self._host(source)
        if delay is not None and delay > host.delay:
            host.delay = delay

    async def _robots_policy(self, source: Source) -> RobotsPolicy:
        """The host's robots.txt policy, fetched once per run and host."""
        address = robots_url(source.url)
        lock = self._robots_locks.setdefault(address, asyncio.Lock())
        async with lock:
            now = datetime.now(UTC)
            policy = self._robots.get(address, now=now)
            if policy is None:
                policy = self._robots.put(
                    address, await self._fetch_robots(source, address), now=now
                )
        return policy

    async def _fetch_robots(self, source: Source, address: str) -> RobotsPolicy:
        """robots.txt per RFC 9309; a network failure is the source's failure."""
        robots_source = replace(
            source, url=address, max_size=ROBOTS_MAX_SIZE, robots="ignore", retries=0
        )
        try:
            fetched = await self._attempt(robots_source, None)
        except HTTPStatusError as exc:
            return policy_for_response(exc.status)
        return policy_for_response(fetched.status, fetched.body)


# ---------------------------------------------------------------------------
# helpers


def _tls_context(source: Source) -> ssl.SSLContext | bool:
    """The default trust store, plus the source's CA bundle; or no verification."""
    if not source.verify:
        return False
    context = ssl.create_default_context(cafile=certifi.where())
    if source.ca_bundle:
        context.load_verify_locations(cafile=source.ca_bundle)
    return context


def _request_headers(source: Source, validators: Validators | None) -> dict[str, str]:
    headers = {
        "User-Agent": source.user_agent,
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate",
    }
    if source.email:
        headers["From"] = source.email
    headers.update(source.headers)
    if validators is not None:
        headers.update(validators.headers())
    return headers


async def _send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    try:
        return await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise _network_error(exc, str(request.url)) from exc


def _redirect_target(response: httpx.Response, url: str) -> str | None:
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location: str = response.headers.get("location", "")
    return urljoin(url, location) if location else None


def _next_hop(source: Source, chain: list[str], location: str) -> str:
    if location in chain:
        raise RedirectError(f"redirect loop: {' -> '.join([*chain, location])}", url=source.url)
    if len(chain) > source.max_redirects:
        raise RedirectError(f"more than {source.max_redirects} redirects", url=source.url)
    if not location.startswith(("http://", "https://")):
        raise RedirectError(f"redirect to a non-HTTP address: {location}", url=source.url)
    return location


def _private_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast


# -- the body ------------------------------------------------------------------


ERROR_BODY_SIZE = 256 * 1024


async def read_capped(response: httpx.Response, max_size: int) -> bytes:
    """Check the status, then read the body, decompressing with a hard cap.

    An error status raises :class:`HTTPStatusError` carrying the start of
    the body, so the quality gate can tell a challenge page served with
    403/429/503 from a plain outage.
    """
    if response.status_code >= 400:
        error = _status_error(response)
        error.body = await _error_body(response)
        raise error
    return await _read_body(response, max_size)


async def _read_body(response: httpx.Response, limit: int) -> bytes:
    """The body, decompressed as it streams, never more than ``limit`` bytes."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
        raise _too_large(str(response.url), int(declared), limit)
    decoder = _Decoder(encoding, limit, str(response.url))
    try:
        async for chunk in response.aiter_raw():
            decoder.feed(chunk)
    except httpx.HTTPError as exc:
        raise _network_error(exc, str(response.url)) from exc
    return decoder.finish()


class _Decoder:
    """Content-Encoding decoder that never produces more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.size = 0
        self.parts: list[bytes] = []
        self.inflater = _inflater(encoding, url)

    def feed(self, data: bytes) -> None:
        if self.inflater is None:
            self._keep(data)
            return
        while data:
            out = self.inflater.decompress(data, self.limit - self.size + 1)
            self._keep(out)
            data = self.inflater.unconsumed_tail

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise _too_large(self.url, self.size, self.limit)
        self.parts.append(data)

    def finish(self) -> bytes:
        if self.inflater is not None:
            self._keep(self.inflater.flush())
        return b"".join(self.parts)


def _inflater(encoding: str, url: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise NetworkError(f"unsupported Content-Encoding {encoding!r} (we asked for gzip)", url=url)


async def _error_body(response: httpx.Response) -> bytes:
    """The start of an error page, for the quality gate; nothing if unreadable."""
    try:
        return await _read_body(response, ERROR_BODY_SIZE)
    except FetchError:
        return b""


def _status_error(response: httpx.Response) -> HTTPStatusError:
    status = response.status_code
    reason = response.reason_phrase or ""
    hint = None
    if status in GONE_STATUSES:
        message = f"gone: HTTP {status} {reason}".rstrip()
        hint = "the page was removed or moved; find its new address"
    else:
        message = f"HTTP {status} {reason}".rstrip()
    error = HTTPStatusError(message, url=str(response.url), status=status, hint=hint)
    error.headers = MappingProxyType({k.lower(): v for k, v in response.headers.items()})
    if status in RETRY_STATUSES:
        error.retry_after = _retry_after(response.headers.get("retry-after"))
        _transient(error)
    return error


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _too_large(url: str, size: int, limit: int) -> TooLargeError:
    return TooLargeError(
        f"response larger than max_size ({size} > {limit} bytes, after decompression)",
        url=url,
        hint="raise `max_size` for this source if the page is really this big",
    )


# -- retries -----------------------------------------------------------------------


def _transient(error: FetchError) -> FetchError:
    error.transient = True
    return error


def _retry_wait(source: Source, error: FetchError, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None if the failure is final."""
    if not getattr(error, "transient", False) or attempt >= source.retries:
        return None
    asked = getattr(error, "retry_after", None)
    cap = source.max_retry_after.total_seconds()
    if asked is not None:
        if asked > cap:
            error.message += (
                f" (the server asks to retry after {asked:g}s, more than max_retry_after)"
            )
            return None
        return float(asked)
    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return min(cap, random.uniform(backoff / 2, backoff))


# -- the result --------------------------------------------------------------------


def _fetched(
    source: Source,
    response: httpx.Response,
    body: bytes,
    chain: list[str],
    fetched_at: datetime,
    started: float,
) -> Fetched:
    content_type = response.headers.get("content-type", "")
    return Fetched(
        url=source.url,
        final_url=str(response.url),
        status=response.status_code,
        fetched_at=fetched_at,
        duration_ms=int((time.monotonic() - started) * 1000),
        body=body,
        content_type=content_type.split(";")[0].strip().lower(),
        charset=_charset(content_type),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        not_modified=response.status_code == 304,
        redirects=tuple(chain),
        headers=MappingProxyType({k.lower(): v for k, v in response.headers.items()}),
    )


def _with_move(fetched: Fetched, permanent: bool) -> Fetched:
    """Mark a permanent redirect to another page (not http->https, www. or a slash)."""
    if not permanent or same_page(fetched.url, fetched.final_url):
        return fetched
    return replace(fetched, moved_to=fetched.final_url)


def same_page(a: str, b: str) -> bool:
    """True if two URLs differ only by scheme, a ``www.`` prefix or a trailing slash."""
    return _page_key(a) == _page_key(b)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return host + port, parts.path.rstrip("/") or "/", parts.query


def _charset(content_type: str) -> str | None:
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if isinstance(charset, str) and charset.strip():
        return charset.strip().lower()
    return None


# -- errors in words ---------------------------------------------------------------


def _network_error(exc: httpx.HTTPError, url: str) -> FetchError:
    """Say in words what went wrong on the wire; mark what is worth a retry.

    The cause decides, not the exception's type: a TLS, DNS or refusal
    problem is named as such whichever httpx class the transport raised.
    """
    cert = _find_cause(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        return NetworkError(
            f"TLS certificate not trusted: {_cert_problem(cert)}",
            url=url,
            hint="if the site uses the Russian national root CA, configure `ca_bundle`",
        )
    if _find_cause(exc, ssl.SSLError) is not None:
        return NetworkError(f"TLS handshake failed: {exc}", url=url)
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if any(marker in lowered for marker in _DNS_MARKERS):
        host = urlsplit(url).hostname or url
        return NetworkError(
            f"DNS lookup failed for {host}",
            url=url,
            hint="check the host name, or the machine's network and resolver",
        )
    if "refused" in lowered or _find_cause(exc, ConnectionRefusedError):
        return _transient(NetworkError("connection refused", url=url))
    if _find_cause(exc, socket.gaierror):
        host = urlsplit(url).hostname or url
        return NetworkError(f"DNS lookup failed for {host}", url=url, hint="check the host name")
    if isinstance(exc, httpx.TimeoutException) or _find_cause(exc, TimeoutError):
        # Checked after DNS and refusals: the aiohttp transport reports those as
        # connect timeouts, and they are neither slow nor worth the same retry.
        return _transient(TimeoutError_(f"timed out ({type(exc).__name__})", url=url))
    if isinstance(exc, httpx.RemoteProtocolError):
        return _transient(NetworkError(f"the server broke the protocol: {text}", url=url))
    if isinstance(exc, httpx.ReadError):
        return _transient(NetworkError(f"connection reset while reading: {text}", url=url))
    return _transient(NetworkError(f"network error: {text}", url=url))


_DNS_MARKERS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "getaddrinfo failed",
    "no address associated",
    "name resolution",
)


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _cert_problem(error: BaseException) -> str:
    message = getattr(error, "verify_message", None) or str(error)
    if "unable to get local issuer" in message or "self-signed certificate in" in message:
        return "unknown issuer"
    if "expired" in message:
        return "certificate expired"
    if "hostname mismatch" in message or "doesn't match" in message:
        return "certificate does not match the host name"
    return str(message)


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():g}s"


# ---------------------------------------------------------------------------
# notifications: one JSON POST per alert (``notify: webhooks:``)


def post_json(
    url: str,
    payload: object,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> int:
    """POST ``payload`` as JSON to ``url`` and return the status; FetchError unless 2xx.

    No retries and no redirects: a webhook that fails is retried by the
    caller at its next batch, and a redirected webhook is misconfigured.
    """
    try:
        response = httpx.post(
            url, json=payload, headers=headers, timeout=timeout, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise _network_error(exc, url) from exc
    if not 200 <= response.status_code < 300:
        raise HTTPStatusError(
            f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
            url=url,
            status=response.status_code,
        )
    return response.status_code
