"""The HTTP client of a run: the only module that sends requests for sources.

One :class:`Fetcher` per run holds the HTTP clients (one per distinct TLS
and proxy setting, built once: a TLS context costs ~60 ms) and the
politeness limits: an overall cap on requests in flight, a per-host cap,
and a least delay between two requests to one host (the larger of the
configured ``delay`` and robots.txt's Crawl-delay), so one slow host never
delays the others.

A fetch follows redirects by hand (:mod:`watcher.fetch.redirects`), reads
the body capped and decompressed (:mod:`watcher.fetch.body`), retries what
is transient (:mod:`watcher.fetch.retry`) and says every failure in words
(:mod:`watcher.fetch.failures`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType, TracebackType

import aiohttp
import certifi
import httpx
from httpx_aiohttp import AiohttpTransport

from watcher.errors import FetchError, HTTPStatusError, RobotsError
from watcher.fetch.body import charset, read_capped
from watcher.fetch.failures import WIRE_ERRORS, missing_ca_bundle, network_error, timed_out
from watcher.fetch.policy import FetchPolicy, host_of, same_page
from watcher.fetch.redirects import (
    PERMANENT_STATUSES,
    AddressBook,
    PinnedResolver,
    PrivateGuard,
    Resolver,
    next_hop,
    redirect_target,
    system_resolver,
)
from watcher.fetch.retry import retry_wait
from watcher.fetch.robots import RobotsCache, RobotsPolicy, policy_for_response, robots_url
from watcher.results import Fetched

ROBOTS_MAX_SIZE = 512 * 1024
ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"

Transport = httpx.AsyncBaseTransport
"""What tests may plug in beneath the client (``httpx.MockTransport``)."""


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


class _Stage:
    """Where a fetch is, so that a timeout can say what it was waiting for."""

    def __init__(self) -> None:
        self.doing = "while connecting or waiting for the answer"

    def waiting(self, redirects: int) -> None:
        after = f" after {redirects} redirect{'s' if redirects > 1 else ''}" if redirects else ""
        self.doing = f"while connecting or waiting for the answer{after}"


class Fetcher:
    """Fetches pages over shared clients, within politeness limits.

    Use as an async context manager. ``transport`` lets tests plug in
    ``httpx.MockTransport``; ``resolver`` lets tests decide what a host
    name resolves to for the private-address guard.
    """

    def __init__(
        self,
        *,
        concurrency: int = 16,
        transport: Transport | None = None,
        resolver: Resolver = system_resolver,
        on_request: Callable[[str], None] | None = None,
    ) -> None:
        self._overall = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _Host] = {}
        self._clients: dict[tuple[str | None, str | None, bool], httpx.AsyncClient] = {}
        self._transport = transport
        self._concurrency = concurrency
        self._addresses = AddressBook(resolver)
        self._guard = PrivateGuard(self._addresses)
        self._robots = RobotsCache()
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._on_request = on_request  # told each URL as its request starts (progress)

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

    def _client(self, policy: FetchPolicy) -> httpx.AsyncClient:
        key = (policy.proxy, policy.ca_bundle, policy.verify)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(policy)
        return client

    def _new_client(self, policy: FetchPolicy) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=self._concurrency, max_keepalive_connections=self._concurrency
        )
        verify = _tls_context(policy)
        transport = self._transport
        if transport is None and policy.proxy is None:
            transport = AiohttpTransport(
                verify=verify,
                limits=limits,
                trust_env=False,
                client=lambda: _pinned_session(self._addresses, verify, limits),
            )
        # timeout=None: the source's `timeout` (asyncio.timeout in _attempt) is the
        # only limit on a fetch; httpx's 5-second default would cap it beneath.
        return httpx.AsyncClient(
            transport=transport,
            limits=limits,
            timeout=None,
            follow_redirects=False,
            trust_env=False,
            verify=verify,
            proxy=policy.proxy if transport is None else None,
        )

    def _host(self, url: str, policy: FetchPolicy) -> _Host:
        name = host_of(url)
        host = self._hosts.get(name)
        if host is None:
            host = self._hosts[name] = _Host(policy.per_host)
            host.delay = policy.delay.total_seconds()
        return host

    # -- one fetch -----------------------------------------------------------

    async def fetch(
        self, url: str, policy: FetchPolicy, validators: Validators | None = None
    ) -> Fetched:
        """Fetch ``url``; raise a :class:`FetchError` subclass on failure."""
        if policy.ca_bundle and not Path(policy.ca_bundle).is_file():
            raise missing_ca_bundle(url, policy.ca_bundle)
        if policy.robots == "obey":
            await self._obey_robots(url, policy)
        attempt = 0
        while True:
            try:
                return await self._attempt(url, policy, validators)
            except FetchError as exc:
                wait = retry_wait(policy, exc, attempt)
                if wait is None:
                    raise
            attempt += 1
            await asyncio.sleep(wait)

    async def _attempt(
        self, url: str, policy: FetchPolicy, validators: Validators | None
    ) -> Fetched:
        host = self._host(url, policy)
        async with host.slots, self._overall:
            await host.pace()
            if self._on_request is not None:
                self._on_request(url)
            started = time.monotonic()
            fetched_at = datetime.now(UTC)
            stage = _Stage()
            try:
                async with asyncio.timeout(policy.timeout.total_seconds()):
                    return await self._follow(url, policy, validators, fetched_at, started, stage)
            except TimeoutError as exc:
                raise timed_out(url, policy.timeout, stage.doing) from exc

    async def _follow(
        self,
        origin: str,
        policy: FetchPolicy,
        validators: Validators | None,
        fetched_at: datetime,
        started: float,
        stage: _Stage,
    ) -> Fetched:
        client = self._client(policy)
        url = origin
        chain: list[str] = []
        permanent = False
        headers = _request_headers(policy, validators)
        while True:
            stage.waiting(len(chain))
            request = client.build_request("GET", url, headers=headers)
            response = await _send(client, request)
            try:
                location = redirect_target(response, url)
                if location is None:
                    stage.doing = "while reading the body"
                    body = await read_capped(response, policy.max_size)
                    fetched = _fetched(origin, response, body, chain, fetched_at, started)
                    return _with_move(fetched, permanent)
            finally:
                await response.aclose()
            permanent = permanent or response.status_code in PERMANENT_STATUSES
            chain.append(url)
            url = next_hop(origin, chain, location, policy.max_redirects)
            await self._guard.check(origin, url, allow_private=policy.allow_private)

    # -- robots.txt ------------------------------------------------------------

    async def _obey_robots(self, url: str, policy: FetchPolicy) -> None:
        robots = await self._robots_policy(url, policy)
        if not robots.allowed(url, policy.user_agent):
            raise RobotsError(
                robots.refusal(url),
                url=url,
                hint="set `robots: ignore` only for pages the publisher is entitled to check",
            )
        delay = robots.crawl_delay(policy.user_agent)
        host = self._host(url, policy)
        if delay is not None and delay > host.delay:
            host.delay = delay

    async def _robots_policy(self, url: str, policy: FetchPolicy) -> RobotsPolicy:
        """The host's robots.txt policy, fetched once per run and host."""
        address = robots_url(url)
        lock = self._robots_locks.setdefault(address, asyncio.Lock())
        async with lock:
            now = datetime.now(UTC)
            robots = self._robots.get(address, now=now)
            if robots is None:
                robots = self._robots.put(
                    address, await self._fetch_robots(address, policy), now=now
                )
        return robots

    async def _fetch_robots(self, address: str, policy: FetchPolicy) -> RobotsPolicy:
        """robots.txt per RFC 9309; a network failure is the source's failure."""
        robots_policy = replace(policy, max_size=ROBOTS_MAX_SIZE, robots="ignore", retries=0)
        try:
            fetched = await self._attempt(address, robots_policy, None)
        except HTTPStatusError as exc:
            return policy_for_response(exc.status)
        return policy_for_response(fetched.status, fetched.body)


def _pinned_session(
    book: AddressBook, verify: ssl.SSLContext | bool, limits: httpx.Limits
) -> aiohttp.ClientSession:
    """The aiohttp session of direct connections: to the addresses the guard checked."""
    connector = aiohttp.TCPConnector(
        resolver=PinnedResolver(book),
        use_dns_cache=False,
        ssl=verify if isinstance(verify, ssl.SSLContext) else False,
        limit=limits.max_connections or 0,
        keepalive_timeout=limits.keepalive_expiry,
    )
    return aiohttp.ClientSession(connector=connector)


def _tls_context(policy: FetchPolicy) -> ssl.SSLContext | bool:
    """The default trust store, plus the source's CA bundle; or no verification."""
    if not policy.verify:
        return False
    context = ssl.create_default_context(cafile=certifi.where())
    if policy.ca_bundle:
        context.load_verify_locations(cafile=policy.ca_bundle)
    return context


def _request_headers(policy: FetchPolicy, validators: Validators | None) -> dict[str, str]:
    headers = {
        "User-Agent": policy.user_agent,
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip, deflate",
    }
    if policy.email:
        headers["From"] = policy.email
    headers.update(policy.headers)
    if validators is not None:
        headers.update(validators.headers())
    return headers


async def _send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    try:
        return await client.send(request, stream=True)
    except WIRE_ERRORS as exc:  # a malformed answer too, whatever the transport raised
        raise network_error(exc, str(request.url)) from exc


def _fetched(
    url: str,
    response: httpx.Response,
    body: bytes,
    chain: list[str],
    fetched_at: datetime,
    started: float,
) -> Fetched:
    content_type = response.headers.get("content-type", "")
    return Fetched(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        fetched_at=fetched_at,
        duration_ms=int((time.monotonic() - started) * 1000),
        body=body,
        content_type=content_type.split(";")[0].strip().lower(),
        charset=charset(content_type),
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
