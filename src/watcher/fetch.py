"""Fetch stage: the only module that imports httpx.

One :class:`Fetcher` per run holds one shared ``httpx.AsyncClient`` and the
politeness limits: an overall cap on requests in flight and a per-host cap,
so one slow host never starves the others. Redirects are followed by hand
so every hop is counted, loops are caught and the chain is recorded. The
body is streamed and cut off at the source's ``max_size`` (counted after
decompression). Every httpx exception is translated into the
:mod:`watcher.errors` tree here, with the problem said in words.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from .errors import (
    FetchError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    TimeoutError_,
    TooLargeError,
)
from .models import Fetched, Source

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})
GONE_STATUSES = frozenset({404, 410})


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


class Fetcher:
    """Fetches sources over one shared client, within politeness limits.

    Use as an async context manager. ``transport`` lets tests plug in
    ``httpx.MockTransport``; production uses httpx's default transport.
    """

    def __init__(
        self,
        *,
        concurrency: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._overall = asyncio.Semaphore(concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.AsyncClient(
            transport=transport,
            limits=limits,
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    def _host_slot(self, source: Source) -> asyncio.Semaphore:
        slot = self._per_host.get(source.host)
        if slot is None:
            slot = self._per_host[source.host] = asyncio.Semaphore(source.per_host)
        return slot

    async def fetch(self, source: Source, validators: Validators | None = None) -> Fetched:
        """Fetch ``source``; raise a :class:`FetchError` subclass on failure."""
        async with self._host_slot(source), self._overall:
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
        url = source.url
        chain: list[str] = []
        permanent = False
        headers = _request_headers(source, validators)
        while True:
            request = self._client.build_request("GET", url, headers=headers)
            response = await _send(self._client, request, source)
            try:
                location = _redirect_target(response, url)
                if location is None:
                    body = await _read_capped(response, source)
                    fetched = _fetched(source, response, body, chain, fetched_at, started)
                    return _with_move(fetched, permanent)
            finally:
                await response.aclose()
            permanent = permanent or response.status_code in PERMANENT_STATUSES
            chain.append(url)
            url = _next_hop(source, chain, location)


def _request_headers(source: Source, validators: Validators | None) -> dict[str, str]:
    headers = {"User-Agent": source.user_agent, "Accept": "text/html,*/*;q=0.8"}
    headers.update(source.headers)
    if validators is not None:
        headers.update(validators.headers())
    return headers


async def _send(
    client: httpx.AsyncClient, request: httpx.Request, source: Source
) -> httpx.Response:
    try:
        return await client.send(request, stream=True)
    except httpx.TimeoutException as exc:
        raise TimeoutError_(f"timed out ({type(exc).__name__})", url=str(request.url)) from exc
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


async def _read_capped(response: httpx.Response, source: Source) -> bytes:
    _check_status(response)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > source.max_size:
        raise _too_large(source, int(declared))
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > source.max_size:
                raise _too_large(source, size)
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise TimeoutError_("timed out while reading the body", url=str(response.url)) from exc
    except httpx.HTTPError as exc:
        raise _network_error(exc, str(response.url)) from exc
    return b"".join(chunks)


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    reason = response.reason_phrase or ""
    if status in GONE_STATUSES:
        message = f"gone: HTTP {status} {reason}".rstrip()
        hint = "the page was removed or moved; find its new address"
    else:
        message = f"HTTP {status} {reason}".rstrip()
        hint = None
    raise HTTPStatusError(message, url=str(response.url), status=status, hint=hint)


def _too_large(source: Source, size: int) -> TooLargeError:
    return TooLargeError(
        f"response larger than max_size ({size} > {source.max_size} bytes)",
        url=source.url,
        hint="raise `max_size` for this source if the page is really this big",
    )


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


def _network_error(exc: httpx.HTTPError, url: str) -> FetchError:
    """Say in words what went wrong on the wire."""
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
    if "refused" in lowered:
        return NetworkError("connection refused", url=url)
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"the server broke the protocol: {text}", url=url)
    if isinstance(exc, httpx.ReadError):
        return NetworkError(f"connection reset while reading: {text}", url=url)
    return NetworkError(f"network error: {text}", url=url)


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
    return str(message)


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():g}s"
