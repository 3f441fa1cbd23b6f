"""Failures in words: where httpx's and the transport's exceptions enter the error tree.

Every exception raised on the wire is translated here, and only here, into
the :mod:`watcher.errors` tree, with the problem said in words and a hint
of what to do; whether it is worth a retry is marked on the error
(:func:`transient`).
"""

from __future__ import annotations

import errno
import socket
import ssl
from datetime import timedelta
from types import MappingProxyType
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp
import httpx

from watcher.errors import (
    CABundleError,
    FetchError,
    HTTPStatusError,
    NetworkError,
    TimeoutError_,
    TooLargeError,
)
from watcher.fetch.policy import CA_BUNDLE_HINT

WIRE_ERRORS: tuple[type[BaseException], ...] = (
    httpx.HTTPError,
    aiohttp.ClientError,  # what the aiohttp transport lets through unmapped (a malformed response)
    OSError,
    ValueError,
    EOFError,
)
"""Everything sending a request or reading a body may raise because of what the server did."""

_E = TypeVar("_E", bound=FetchError)

GONE_STATUSES = frozenset({404, 410})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

_DNS_MARKERS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "getaddrinfo failed",
    "no address associated",
    "name resolution",
)


def transient(error: _E) -> _E:
    """Mark ``error`` as worth a retry."""
    error.transient = True
    return error


def status_error(response: httpx.Response, retry_after: float | None) -> HTTPStatusError:
    """An error status as an :class:`HTTPStatusError`; 408/429/5xx are transient."""
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
        error.retry_after = retry_after
        transient(error)
    return error


def missing_ca_bundle(url: str, path: str) -> CABundleError:
    """A source whose ``ca_bundle`` file is not there: said before any request is sent."""
    return CABundleError(f"CA bundle not found: {path}", url=url, hint=CA_BUNDLE_HINT)


def too_large(url: str, size: int, limit: int) -> TooLargeError:
    return TooLargeError(
        f"response larger than max_size ({size} > {limit} bytes, after decompression)",
        url=url,
        hint="raise `max_size` for this source if the page is really this big",
    )


def timed_out(url: str, limit: timedelta, stage: str = "") -> TimeoutError_:
    """The source's ``timeout`` (the only limit on one fetch) ran out."""
    where = f" {stage}" if stage else ""
    return TimeoutError_(
        f"no complete answer within {seconds(limit)}: the source's `timeout` ran out{where}",
        url=url,
        hint=f"the site is slow or unreachable; if it is just slow, raise its `timeout` "
        f"(now {seconds(limit)}) in sources.yaml, or `timeout` under defaults:",
    )


def network_error(exc: BaseException, url: str) -> FetchError:
    """Say in words what went wrong on the wire; mark what is worth a retry.

    The cause decides, not the exception's type: a TLS, DNS, refusal or
    reset problem is named as such whichever class the transport raised
    (the aiohttp transport reports every lost connection as a connect
    timeout), and only a real timeout is a ``timeout``.
    """
    tls = _tls_failure(exc, url)
    if tls is not None:
        return tls
    text = _first_line(str(exc)) or type(exc).__name__
    lowered = text.lower()
    if any(marker in lowered for marker in _DNS_MARKERS):
        return _dns_failure(url)
    if "refused" in lowered or find_cause(exc, ConnectionRefusedError):
        return transient(NetworkError("connection refused", url=url))
    if find_cause(exc, socket.gaierror):
        return _dns_failure(url)
    lost = _lost_connection(exc, url)
    if lost is not None:
        return lost
    if isinstance(exc, httpx.TimeoutException) or find_cause(exc, TimeoutError):
        return transient(TimeoutError_(f"timed out ({type(exc).__name__})", url=url))
    if isinstance(exc, httpx.RemoteProtocolError):
        return transient(NetworkError(f"the server broke the protocol: {text}", url=url))
    if isinstance(exc, httpx.ReadError):
        return transient(NetworkError(f"connection reset while reading: {text}", url=url))
    malformed = find_cause(exc, aiohttp.ClientResponseError)
    if malformed is not None or not isinstance(exc, httpx.HTTPError):
        detail = _first_line(getattr(malformed, "message", "") or text).split(": b'")[0]
        message = f"the server sent a malformed response: {detail.rstrip(':')}"
        return NetworkError(message, url=url, hint="not an HTTP answer watcher can trust")
    return transient(NetworkError(f"network error: {text}", url=url))


def _tls_failure(exc: BaseException, url: str) -> NetworkError | None:
    """A certificate the trust store refuses, or a handshake that failed."""
    cert = find_cause(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        problem = _cert_problem(cert)
        hint = _CERT_HINTS.get(problem, _CERT_HINTS["unknown issuer"])
        return NetworkError(f"TLS certificate not trusted: {problem}", url=url, hint=hint)
    handshake = find_cause(exc, ssl.SSLError)
    if handshake is None:
        return None
    if "WRONG_VERSION_NUMBER" in str(handshake):
        return NetworkError(
            "TLS handshake failed: the server does not speak TLS on this port",
            url=url,
            hint="if that port is plain HTTP, the URL should say http://",
        )
    return NetworkError(f"TLS handshake failed: {_first_line(str(handshake))}", url=url)


_CERT_HINTS = {
    "unknown issuer": "if the site's CA is not a public one (e.g. the Russian national root CA),"
    " configure `ca_bundle`",
    "certificate expired": "the site's certificate expired: nothing to configure here;"
    " tell the site, or wait for it to renew",
    "certificate does not match the host name": "the certificate is for another host:"
    " check the URL (a www. prefix?)",
}


def _lost_connection(exc: BaseException, url: str) -> NetworkError | None:
    """The server closed or reset the connection: a network failure, not a timeout."""
    if find_cause(exc, aiohttp.ServerTimeoutError) is not None:
        return None
    if find_cause(exc, aiohttp.ServerDisconnectedError) is not None:
        message = "the server closed the connection without answering"
        hint = _PLAIN_TO_TLS if url.startswith("http://") else None
        return transient(NetworkError(message, url=url, hint=hint))
    reset = find_cause(exc, ConnectionResetError)
    if reset is not None or _errno_in_chain(exc, errno.ECONNRESET):
        hint = _PLAIN_TO_TLS if url.startswith("http://") else None
        return transient(NetworkError("connection reset by the server", url=url, hint=hint))
    payload = find_cause(exc, aiohttp.ClientPayloadError)
    if payload is not None:
        detail = _first_line(str(payload))
        return transient(NetworkError(f"the body was cut short: {detail}", url=url))
    if find_cause(exc, aiohttp.ClientConnectionError) is not None:
        detail = _first_line(str(find_cause(exc, aiohttp.ClientConnectionError)))
        return transient(NetworkError(f"connection lost: {detail or 'no detail'}", url=url))
    return None


_PLAIN_TO_TLS = "if that port speaks https, the URL should say https://"


def _errno_in_chain(exc: BaseException, number: int) -> bool:
    found = find_cause(exc, OSError)
    return isinstance(found, OSError) and found.errno == number


def _first_line(text: str, width: int = 200) -> str:
    """The first line of an exception's message, cut to ``width``: servers send huge ones."""
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= width else line[: width - 3] + "..."


def _dns_failure(url: str) -> NetworkError:
    host = urlsplit(url).hostname or url
    return NetworkError(
        f"DNS lookup failed for {host}",
        url=url,
        hint="check the host name, or the machine's network and resolver",
    )


def find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` in ``exc``'s chain of causes, if any."""
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


def seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():g}s"
