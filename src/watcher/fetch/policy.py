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
