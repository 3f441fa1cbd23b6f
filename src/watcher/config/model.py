"""A loaded ``sources.yaml`` as frozen records. No I/O, no defaults.

Every value here was resolved by the loader: a source's own setting, else
its host's (``hosts:``), else ``defaults:``, else the settings table
(:mod:`watcher.config.settings`, the only place a default is written). No
other stage ever looks at ``defaults:`` again.

A :class:`Source` groups its settings by the stage that reads them: how it
is fetched (:class:`~watcher.fetch.policy.FetchPolicy`), how its body
becomes text (:class:`~watcher.text.rules.TextRules`), what counts as a
change (:class:`~watcher.changes.rules.SignalRules`) and how often it is
checked (:class:`~watcher.schedule.Cadence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from watcher.changes.rules import SignalRules
from watcher.errors import UnknownIdError
from watcher.fetch.policy import FetchPolicy, host_of
from watcher.schedule import Cadence
from watcher.text.rules import TextRules

ALERT_EVENTS = ("needs-review", "broken", "claim-missing", "recovered", "reader-report")
"""Every kind of immediate notification, in the words of ``notify: webhooks: events``."""


@dataclass(frozen=True)
class Defaults:
    """The ``defaults:`` section, every value resolved (see the settings table)."""

    user_agent: str
    timeout: timedelta
    interval: timedelta
    per_host: int
    concurrency: int
    max_size: int
    max_redirects: int
    fail_after: int
    max_age: timedelta
    headers: Mapping[str, str]
    delay: timedelta
    retries: int
    max_retry_after: timedelta
    robots: str
    proxy: str | None
    ca_bundle: str | None
    verify: bool
    email: str | None
    min_size_ratio: float
    allow_private: bool
    timezone: str
    workers: int | str
    recheck_delay: timedelta
    confirm_shrink: int


@dataclass(frozen=True)
class Source:
    """One monitored page, its settings grouped by the stage that reads them."""

    id: str
    url: str
    title: str
    fetch: FetchPolicy
    text: TextRules
    signal: SignalRules
    cadence: Cadence
    notes: str
    line: int

    @cached_property
    def host(self) -> str:
        """Host name (with port) used for per-host politeness limits (parsed once)."""
        return host_of(self.url)


@dataclass(frozen=True)
class GuideSource:
    """One entry of a guide's ``sources:`` list, with the quotes the guide relies on."""

    source: str
    line: int
    claims: tuple[str, ...]


@dataclass(frozen=True)
class Guide:
    """A published guide and the sources it cites."""

    id: str
    title: str
    url: str
    owner: str
    review_every: timedelta
    sources: tuple[GuideSource, ...]
    line: int

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
    ca_bundle: str | None = None
    """PEM file of CAs trusted, besides the system's, for the server's certificate."""


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
class ConfigWarning:
    """Something in sources.yaml that loads but needs a maintainer (a placeholder, a
    missing file): printed by ``validate``, ``status`` and ``ci``, never an error."""

    message: str
    path: str
    line: int | None = None
    key: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        key = f"{self.key}: " if self.key else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}: {key}{self.message}{hint}"


@dataclass(frozen=True)
class DeskSettings:
    """The ``desk:`` section: the editor desk (``watcher serve``), every value resolved."""

    origins: tuple[str, ...]
    contact_retention: timedelta
    max_report: int
    reports_per_hour: int
    login_attempts: int
    session: timedelta
    lock_wait: timedelta
    url: str | None


@dataclass(frozen=True)
class Config:
    """A loaded, validated sources.yaml."""

    path: Path
    defaults: Defaults
    sources: tuple[Source, ...]
    guides: tuple[Guide, ...]
    notify: Notify | None = None
    reports: ReportSettings = field(default_factory=ReportSettings)
    desk: DeskSettings | None = None
    """None in records built by hand; the loader always fills it."""
    warnings: tuple[ConfigWarning, ...] = ()
    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The ``hosts:`` section as read: host name -> its settings (for pages that are
    not sources, such as the published guides :mod:`watcher.guides.audit` reads)."""

    @property
    def root(self) -> Path:
        """Directory holding the configuration; other paths default to it."""
        return self.path.parent

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        raise UnknownIdError(f"unknown source {source_id!r}", hint=f"known sources: {known}")

    def guide(self, guide_id: str) -> Guide:
        for guide in self.guides:
            if guide.id == guide_id:
                return guide
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
