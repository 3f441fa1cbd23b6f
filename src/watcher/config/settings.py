"""The settings table: every setting of a source, its default, reader and help.

This is the only place a default is written. :func:`make_defaults` and
:func:`make_source` build the records of :mod:`watcher.config.model` from
it, grouping a source's settings by the stage that reads them (``fetch``,
``text``, ``signal``, ``cadence``). A setting's *scope* says where it may be
given: ``run`` only under ``defaults:`` (it is not per source), ``inherited``
under ``defaults:`` and per source (and under ``hosts:`` when ``host``),
``source`` per source only; ``desk`` only under ``desk:`` (the editor desk,
``watcher serve``), ``guide`` per guide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Literal

from watcher import __version__
from watcher.changes.rules import SignalRules
from watcher.config import values as v
from watcher.config.limits import at_most
from watcher.config.model import Defaults, DeskSettings, Source
from watcher.config.nodes import At
from watcher.fetch.policy import FetchPolicy
from watcher.schedule import Cadence
from watcher.text.rules import TextRules

Group = Literal["fetch", "text", "signal", "cadence", "run", "about", "guide", "desk"]
Scope = Literal["run", "inherited", "source", "guide", "desk"]

DEFAULT_USER_AGENT = f"watcher/{__version__} (+https://github.com/watcher-monitor/watcher)"


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default, reader and help, and where it applies."""

    name: str
    default: object
    read: Callable[[At], object]
    help: str
    group: Group
    scope: Scope = "inherited"
    host: bool = False


def _s(
    name: str,
    default: object,
    read: Callable[[At], object],
    help: str,
    group: Group,
    scope: Scope = "inherited",
    host: bool = False,
) -> Setting:
    return Setting(name, default, read, help, group, scope, host)


SETTINGS: tuple[Setting, ...] = (
    # -- fetch: how a source is fetched
    _s(
        "user_agent",
        DEFAULT_USER_AGENT,
        v.read_header_text,
        "User-Agent header of every request",
        "fetch",
    ),
    _s(
        "timeout",
        timedelta(seconds=30),
        at_most(v.read_duration, timedelta(minutes=30), "a longer wait only hides a dead site"),
        "time allowed for one request",
        "fetch",
    ),
    _s(
        "per_host",
        2,
        at_most(v.read_positive_int, 32, "more requests at once is no longer polite"),
        "concurrent requests per host",
        "fetch",
        host=True,
    ),
    _s(
        "max_size",
        10 * 1024**2,
        at_most(v.read_size, 1024**3, "no page is bigger; every body is held in memory"),
        "largest response body accepted",
        "fetch",
    ),
    _s(
        "max_redirects",
        10,
        at_most(v.read_count, 50, "browsers give up after 20"),
        "redirects followed before giving up",
        "fetch",
    ),
    _s(
        "headers",
        MappingProxyType({}),
        v.read_headers,
        "extra request headers (merged)",
        "fetch",
        host=True,
    ),
    _s(
        "delay",
        timedelta(0),
        at_most(v.read_pause, timedelta(minutes=5), "every run would wait that long per page"),
        "least time between two requests to one host",
        "fetch",
        host=True,
    ),
    _s(
        "retries",
        2,
        at_most(v.read_count, 10, "a failure that many retries did not cure is not transient"),
        "retries of a transient failure (timeout, 5xx, 429)",
        "fetch",
    ),
    _s(
        "max_retry_after",
        timedelta(minutes=2),
        v.read_duration,
        "longest Retry-After honoured",
        "fetch",
    ),
    _s(
        "robots",
        "obey",
        v.read_robots,
        "obey robots.txt, or 'ignore' where entitled",
        "fetch",
        host=True,
    ),
    _s("proxy", None, v.read_proxy, "HTTP(S) or SOCKS proxy URL", "fetch", host=True),
    _s("ca_bundle", None, v.read_ca_bundle, "PEM file of extra trusted CAs", "fetch", host=True),
    _s("verify", True, v.read_bool, "verify TLS certificates (false is loud)", "fetch", host=True),
    _s("email", None, v.read_email, "contact address sent as the From: header", "fetch"),
    _s("allow_private", False, v.read_bool, "let redirects reach private addresses", "fetch"),
    # -- text: how a body becomes snapshot text
    _s("select", (), v.read_selectors, "CSS selectors of the content watched", "text", "source"),
    _s(
        "exclude", (), v.read_selectors, "CSS selectors removed before extraction", "text", "source"
    ),
    _s("ignore", (), v.read_patterns, "regexes of volatile text removed", "text", "source"),
    _s(
        "encoding",
        None,
        v.read_encoding,
        "charset forced over headers and <meta>",
        "text",
        "source",
    ),
    _s("format", "auto", v.read_format, "auto, html, pdf, text or json", "text", "source"),
    _s(
        "min_size_ratio",
        0.3,
        v.read_ratio,
        "text smaller than this share of the last is an error",
        "text",
    ),
    # -- signal: what counts as a change, and how much it matters
    _s(
        "minor",
        (),
        v.read_patterns,
        "regexes of lines whose changes are at most minor",
        "signal",
        "source",
    ),
    _s(
        "structure", None, v.read_structure, "law: changes reported per article", "signal", "source"
    ),
    _s(
        "confirm",
        0,
        at_most(v.read_count, 5, "each confirming fetch waits confirm_delay"),
        "fetches that must agree before a change is stored",
        "signal",
        "source",
    ),
    _s(
        "confirm_delay",
        timedelta(seconds=30),
        at_most(v.read_pause, timedelta(minutes=10), "the run waits for it"),
        "wait between those fetches",
        "signal",
        "source",
    ),
    _s(
        "recheck_delay",
        timedelta(seconds=3),
        v.read_pause,
        "wait before fetching again a change that looks like a partial page",
        "signal",
    ),
    _s(
        "confirm_shrink",
        2,
        v.read_count,
        "later fetches that must show the same much smaller text before it is a change",
        "signal",
    ),
    # -- cadence: how often a source is checked, how long it may fail
    _s("interval", timedelta(days=1), v.read_duration, "how often a source is checked", "cadence"),
    _s(
        "schedule", None, v.read_cron, "crontab expression instead of interval", "cadence", "source"
    ),
    _s("timezone", "Europe/Moscow", v.read_timezone, "time zone of cron schedules", "cadence"),
    _s("fail_after", 3, v.read_positive_int, "consecutive failures before 'broken'", "cadence"),
    _s(
        "max_age",
        timedelta(days=7),
        v.read_duration,
        "age of the last good check that is stale",
        "cadence",
    ),
    # -- about: what editors and maintainers read
    _s("notes", "", v.read_str, "free text for maintainers", "about", "source"),
    # -- run: one value for the whole run, under defaults: only
    _s(
        "concurrency",
        16,
        at_most(v.read_positive_int, 512, "more sockets than a run can use"),
        "concurrent requests overall",
        "run",
        "run",
    ),
    _s(
        "workers",
        "auto",
        at_most(v.read_workers, 16, "each is a process; more than the cores only slows the run"),
        "processes that extract text beside the fetching one",
        "run",
        "run",
    ),
    # -- guide: defaults of a guide's own settings
    _s(
        "review_every",
        timedelta(days=90),
        v.read_duration,
        "how often a guide is signed off",
        "guide",
        "guide",
    ),
    # -- desk: the editor desk (`watcher serve`), under desk: only
    _s(
        "origins",
        (),
        v.read_origins,
        "guide sites allowed to send reports from a browser (CORS) [default: the guides' url]",
        "desk",
        "desk",
    ),
    _s(
        "contact_retention",
        timedelta(days=90),
        v.read_duration,
        "readers' contact e-mails are erased this long after their report",
        "desk",
        "desk",
    ),
    _s(
        "max_report",
        4000,
        v.read_positive_int,
        "longest report text, in characters",
        "desk",
        "desk",
    ),
    _s(
        "reports_per_hour",
        5,
        v.read_positive_int,
        "reports taken from one address an hour",
        "desk",
        "desk",
    ),
    _s(
        "login_attempts",
        5,
        v.read_positive_int,
        "failed logins per address and account in 15 minutes",
        "desk",
        "desk",
    ),
    _s("session", timedelta(hours=12), v.read_duration, "how long a login lasts", "desk", "desk"),
    _s(
        "lock_wait",
        timedelta(seconds=5),
        v.read_pause,
        "how long a desk action waits for a running check before 'busy'",
        "desk",
        "desk",
    ),
    _s("url", None, v.read_url, "the desk's public address, for links in alerts", "desk", "desk"),
)

BY_NAME: Mapping[str, Setting] = MappingProxyType({s.name: s for s in SETTINGS})
DEFAULTS_KEYS = tuple(s.name for s in SETTINGS if s.scope in ("run", "inherited"))
INHERITED = tuple(s.name for s in SETTINGS if s.scope == "inherited")
PER_SOURCE = tuple(s.name for s in SETTINGS if s.scope in ("inherited", "source"))
HOST_KEYS = tuple(s.name for s in SETTINGS if s.host)
DESK_KEYS = tuple(s.name for s in SETTINGS if s.scope == "desk")


def default(name: str) -> Any:
    """The default of one setting."""
    return BY_NAME[name].default


def make_defaults(values: Mapping[str, Any]) -> Defaults:
    """The ``defaults:`` section: ``values`` over the table's defaults."""
    return Defaults(**{name: values.get(name, default(name)) for name in DEFAULTS_KEYS})


def make_desk(values: Mapping[str, Any]) -> DeskSettings:
    """The ``desk:`` section: ``values`` over the table's defaults."""
    return DeskSettings(**{name: values.get(name, default(name)) for name in DESK_KEYS})


def make_source(id: str, url: str, title: str, *, line: int = 0, **values: Any) -> Source:
    """A source from its own ``values``, every other setting at the table's default.

    The loader passes the values a source inherits too; tests and tools may
    call it with only what matters to them.
    """
    unknown = set(values) - set(PER_SOURCE)
    if unknown:
        raise TypeError(f"unknown source settings: {', '.join(sorted(unknown))}")
    merged = {name: values.get(name, default(name)) for name in PER_SOURCE}

    def group(name: Group) -> dict[str, Any]:
        return {s.name: merged[s.name] for s in SETTINGS if s.group == name and s.name in merged}

    return Source(
        id=id,
        url=url,
        title=title,
        fetch=FetchPolicy(**group("fetch")),
        text=TextRules(**group("text")),
        signal=SignalRules(**group("signal")),
        cadence=Cadence(**group("cadence")),
        notes=merged["notes"],
        line=line,
    )
