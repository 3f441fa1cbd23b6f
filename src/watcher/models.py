"""Frozen data passed between the stages of a run. No I/O here.

The configuration objects (:class:`Config`, :class:`Source`, :class:`Guide`)
are built by ``config.py`` with every default already resolved, so no other
stage ever looks at ``defaults:`` again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

EMPTY_HEADERS: Mapping[str, str] = MappingProxyType({})
DEFAULT_TIMEZONE = "Europe/Moscow"
ALERT_EVENTS = ("needs-review", "broken", "claim-missing", "recovered")
"""Every kind of immediate notification, in the words of ``notify: webhooks: events``."""


@dataclass(frozen=True)
class Defaults:
    """Settings every source inherits unless it overrides them."""

    user_agent: str
    timeout: timedelta
    interval: timedelta
    per_host: int
    concurrency: int
    max_size: int
    max_redirects: int
    fail_after: int
    max_age: timedelta
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY_HEADERS)
    delay: timedelta = timedelta(0)
    retries: int = 2
    max_retry_after: timedelta = timedelta(minutes=2)
    robots: str = "obey"
    proxy: str | None = None
    ca_bundle: str | None = None
    verify: bool = True
    email: str | None = None
    min_size_ratio: float = 0.3
    allow_private: bool = False
    timezone: str = DEFAULT_TIMEZONE
    workers: int | str = "auto"


@dataclass(frozen=True)
class Source:
    """One monitored page, with its defaults resolved."""

    id: str
    url: str
    title: str
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[re.Pattern[str], ...] = ()
    encoding: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY_HEADERS)
    interval: timedelta = timedelta(days=1)
    timeout: timedelta = timedelta(seconds=30)
    max_size: int = 10 * 1024 * 1024
    max_redirects: int = 10
    user_agent: str = "watcher"
    per_host: int = 2
    fail_after: int = 3
    max_age: timedelta = timedelta(days=7)
    delay: timedelta = timedelta(0)
    retries: int = 2
    max_retry_after: timedelta = timedelta(minutes=2)
    robots: str = "obey"
    proxy: str | None = None
    ca_bundle: str | None = None
    verify: bool = True
    email: str | None = None
    min_size_ratio: float = 0.3
    allow_private: bool = False
    timezone: str = DEFAULT_TIMEZONE
    schedule: str | None = None
    format: str = "auto"
    notes: str = ""
    minor: tuple[re.Pattern[str], ...] = ()
    structure: str | None = None  # "law": changes are reported per article
    confirm: int = 0
    confirm_delay: timedelta = timedelta(seconds=30)
    line: int = 0

    @property
    def host(self) -> str:
        """Host name (with port) used for per-host politeness limits."""
        from urllib.parse import urlsplit

        return urlsplit(self.url).netloc.lower()


@dataclass(frozen=True)
class GuideSource:
    """One entry of a guide's ``sources:`` list, with the quotes the guide relies on."""

    source: str
    line: int = 0
    claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guide:
    """A published guide and the sources it cites."""

    id: str
    title: str
    url: str
    owner: str
    review_every: timedelta
    sources: tuple[GuideSource, ...]
    line: int = 0

    @property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(entry.source for entry in self.sources)


@dataclass(frozen=True)
class SmtpSettings:
    """How digests are mailed (``notify: smtp:``); the password is never stored here."""

    host: str
    port: int
    security: str  # "starttls", "ssl" or "none"
    sender: str
    user: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class Webhook:
    """One ``notify: webhooks:`` entry: a JSON POST per alert of the listed ``events``.

    The token is never stored: ``token_env`` names the environment variable
    holding it. It replaces ``{token}`` in ``url`` (Slack, Mattermost and
    Telegram put the secret in the address), else it is sent as a bearer token.
    """

    url: str
    template: str = "generic"  # generic, slack, mattermost or telegram
    token_env: str | None = None
    chat_id: str | None = None  # telegram only
    events: tuple[str, ...] = ALERT_EVENTS
    line: int = 0

    @property
    def channel(self) -> str:
        """Stable name of this channel in the alert record (never holds the token)."""
        return f"webhook:{self.url}"


@dataclass(frozen=True)
class Notify:
    """The ``notify:`` section: SMTP, the maintainers' addresses and webhooks."""

    smtp: SmtpSettings | None = None
    maintainers: tuple[str, ...] = ()
    webhooks: tuple[Webhook, ...] = ()


@dataclass(frozen=True)
class ReportJob:
    """One ``reports: schedule:`` entry: write (and maybe mail) a digest on a cron."""

    cron: str
    formats: tuple[str, ...] = ("html", "md", "json", "atom")
    email: bool = False
    always: bool = False
    line: int = 0


@dataclass(frozen=True)
class ReportSettings:
    """The ``reports:`` section: template overrides and scheduled digests."""

    templates: Path | None = None
    schedule: tuple[ReportJob, ...] = ()


@dataclass(frozen=True)
class Config:
    """A loaded, validated sources.yaml."""

    path: Path
    defaults: Defaults
    sources: tuple[Source, ...]
    guides: tuple[Guide, ...]
    notify: Notify | None = None
    reports: ReportSettings = field(default_factory=ReportSettings)

    @property
    def root(self) -> Path:
        """Directory holding the configuration; other paths default to it."""
        return self.path.parent

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        from watcher.errors import UnknownIdError

        known = ", ".join(s.id for s in self.sources) or "none"
        raise UnknownIdError(f"unknown source {source_id!r}", hint=f"known sources: {known}")

    def guide(self, guide_id: str) -> Guide:
        for guide in self.guides:
            if guide.id == guide_id:
                return guide
        from watcher.errors import UnknownIdError

        known = ", ".join(g.id for g in self.guides) or "none"
        raise UnknownIdError(f"unknown guide {guide_id!r}", hint=f"known guides: {known}")

    def guides_citing(self, source_id: str) -> tuple[Guide, ...]:
        return self._citing.get(source_id, ())

    @cached_property
    def _citing(self) -> dict[str, tuple[Guide, ...]]:
        """Source id -> the guides citing it, in guide order (asked once per source per run)."""
        citing: dict[str, list[Guide]] = {}
        for guide in self.guides:
            for source_id in dict.fromkeys(guide.source_ids):
                citing.setdefault(source_id, []).append(guide)
        return {source_id: tuple(guides) for source_id, guides in citing.items()}

    def claims(self, guide_id: str, source_id: str) -> tuple[str, ...]:
        """The claims ``guide_id`` quotes from ``source_id`` (none if it lists none)."""
        for entry in self.guide(guide_id).sources:
            if entry.source == source_id:
                return entry.claims
        return ()


