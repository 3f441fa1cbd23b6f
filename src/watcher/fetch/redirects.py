"""Redirects followed by hand, and the private-address guard.

Every hop is counted, loops are caught, the chain is recorded, and no
redirect from a public address can lead to a private one (an SSRF guard)
unless the source allows it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from watcher.errors import RedirectError

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})

Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    """The addresses a host name resolves to (via the system resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def redirect_target(response: httpx.Response, url: str) -> str | None:
    """The absolute address a redirect points to; None if it is not a redirect."""
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location: str = response.headers.get("location", "")
    return urljoin(url, location) if location else None


def next_hop(origin: str, chain: list[str], location: str, max_redirects: int) -> str:
    """``location`` if following it is allowed: no loop, not too many, HTTP only."""
    if location in chain:
        raise RedirectError(f"redirect loop: {' -> '.join([*chain, location])}", url=origin)
    if len(chain) > max_redirects:
        raise RedirectError(f"more than {max_redirects} redirects", url=origin)
    if not location.startswith(("http://", "https://")):
        raise RedirectError(f"redirect to a non-HTTP address: {location}", url=origin)
    return location


class PrivateGuard:
    """Refuses redirects from a public address to a private one; caches lookups per run."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver
        self._private: dict[str, bool] = {}

    async def check(self, origin: str, target: str, *, allow_private: bool) -> None:
        """Raise :class:`RedirectError` if ``origin`` is public and ``target`` private."""
        if allow_private or await self._is_private(urlsplit(origin).hostname or ""):
            return
        if await self._is_private(urlsplit(target).hostname or ""):
            raise RedirectError(
                f"redirect to a private address refused: {target}",
                url=origin,
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


def _private_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast


def same_page(a: str, b: str) -> bool:
    """True if two URLs differ only by scheme, a ``www.`` prefix or a trailing slash."""
    return _page_key(a) == _page_key(b)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return host + port, parts.path.rstrip("/") or "/", parts.query
