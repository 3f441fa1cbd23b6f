"""How one source is fetched: the fetch group of a source's settings.

Built by :mod:`watcher.config` from the settings table (the only place a
default is written); the fetch stage reads nothing else of the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

RobotsRule = Literal["obey", "ignore"]

CA_BUNDLE_HINT = (
    "put the PEM certificates the host needs in that file: for *.gov.ru hosts, the "
    "Russian Trusted Root CA and the current Russian Trusted Sub CA from "
    "https://www.gosuslugi.ru/crt, checked against their SHA-256 fingerprints "
    "(docs/configuration.md, hosts:)"
)
"""What to do about a missing ``ca_bundle`` file (config warnings and fetch failures)."""


@dataclass(frozen=True)
class FetchPolicy:
    """Politeness, limits and TLS settings of one source's fetches."""

    user_agent: str
    timeout: timedelta
    max_size: int
    max_redirects: int
    per_host: int
    headers: Mapping[str, str]
    delay: timedelta
    retries: int
    max_retry_after: timedelta
    robots: RobotsRule
    proxy: str | None
    ca_bundle: str | None
    verify: bool
    email: str | None
    allow_private: bool


def host_of(url: str) -> str:
    """Host name (with port) used for per-host politeness limits."""
    return urlsplit(url).netloc.lower()


def same_page(a: str, b: str) -> bool:
    """True if two URLs differ only by scheme, a ``www.`` prefix or a trailing slash."""
    return _page_key(a) == _page_key(b)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return host + port, parts.path.rstrip("/") or "/", parts.query
