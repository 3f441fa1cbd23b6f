"""Redirects followed by hand, and the private-address guard.

Every hop is counted, loops are caught, the chain is recorded, and no
redirect from a public address can lead to a private one (an SSRF guard)
unless the source allows it.

The guard fails closed: a name that does not resolve here, or that names
this machine or a private network by itself (``localhost.``,
``*.internal``, ``*.local``), is refused, since nothing proves it public.
Each host is resolved once per run (:class:`AddressBook`), and the direct
connections use those very addresses (:class:`PinnedResolver`), so a name
that answers a public address to the guard and a private one to the
connection (DNS rebinding) reaches nothing new. Through a proxy, the proxy
resolves names itself: the guard still refuses what resolves here to a
private address or not at all, but cannot pin what the proxy connects to,
nor see the proxy's own network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

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


class AddressBook:
    """Each host name resolved once per run: what the guard checks is what is connected to."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver
        self._known: dict[str, list[str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def addresses(self, host: str) -> list[str]:
        """The addresses of ``host`` (an IP literal is its own); OSError if it does not resolve."""
        host = host.rstrip(".").lower()
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        async with self._locks.setdefault(host, asyncio.Lock()):
            if host not in self._known:
                self._known[host] = list(await self._resolver(host))
        if not self._known[host]:
            raise OSError(f"{host} has no address")
        return self._known[host]


class PinnedResolver(AbstractResolver):
    """aiohttp's resolver of direct connections: the run's :class:`AddressBook`."""

    def __init__(self, book: AddressBook) -> None:
        self._book = book

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = []
        for address in await self._book.addresses(host):
            kind = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family not in (kind, socket.AF_UNSPEC):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=port,
                    family=kind,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError(f"no address of {host} in the asked family")
        return results

    async def close(self) -> None:
        return None


_UNRESOLVED = "a name that does not resolve here"
_PRIVATE_NAMES = ("localhost", "localdomain")
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")


class PrivateGuard:
    """Refuses redirects from a public address to a private or unresolvable one."""

    def __init__(self, book: AddressBook) -> None:
        self._book = book

    async def check(self, origin: str, target: str, *, allow_private: bool) -> None:
        """Raise :class:`RedirectError` if ``origin`` is public and ``target`` not provably so."""
        if allow_private or await self._private(urlsplit(origin).hostname or "") is not None:
            return
        why = await self._private(urlsplit(target).hostname or "")
        if why is not None:
            hint = "set `allow_private: true` for this source if it is really intended"
            if why == _UNRESOLVED:
                hint = f"nothing proves it public; {hint}"
            raise RedirectError(f"redirect to {why} refused: {target}", url=origin, hint=hint)

    async def _private(self, host: str) -> str | None:
        """Why ``host`` may not be reached from a public page; None if it is public."""
        name = host.rstrip(".").lower()
        if not name or name in _PRIVATE_NAMES or name.endswith(_PRIVATE_SUFFIXES):
            return "a private address"
        try:
            addresses = await self._book.addresses(name)
        except OSError:
            return _UNRESOLVED
        return "a private address" if any(map(_private_address, addresses)) else None


def _private_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return True  # not an address: nothing proves it public
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )
