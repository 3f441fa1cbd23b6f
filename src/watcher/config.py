"""Load and strictly validate ``sources.yaml``; the only module that reads YAML.

The file is composed into YAML *nodes* (not plain Python objects) so every
value still knows its line. Each problem raises :class:`ConfigError` naming
the file, the 1-based line and the key path (``sources[3].url``): unknown
keys (with a close-match suggestion), duplicate mapping keys, duplicate ids,
guides citing unknown sources, wrong types and invalid values.

An empty value (``key:`` with nothing after it) is an error, except for the
top-level ``defaults:`` and ``guides:`` sections, which may be left empty.

The settings every source inherits, their defaults and help are in one
table, :data:`SETTINGS`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from watcher import __version__
from watcher.errors import ConfigError
from watcher.models import (
    ALERT_EVENTS,
    DEFAULT_TIMEZONE,
    Config,
    Defaults,
    Guide,
    GuideSource,
    Notify,
    ReportJob,
    ReportSettings,
    SmtpSettings,
    Source,
    Webhook,
)
from watcher.text.decode import canonical_encoding
from watcher.text.html import is_valid_selector

DEFAULT_USER_AGENT = f"watcher/{__version__} (+https://github.com/watcher-monitor/watcher)"
DEFAULT_REVIEW_EVERY = timedelta(days=90)

_T = TypeVar("_T")
_V = TypeVar("_V")
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
# libyaml's parser when PyYAML was built with it (its wheels are): same
# nodes and marks, ten times faster on a config of a thousand sources.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "nothing (an empty value)",
    "timestamp": "a date",
    "seq": "a list",
    "map": "a mapping",
    "merge": "a merge key (<<)",
}
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+")
_DURATION_HINT = "use a number with a unit (ms, s, m, h, d, w) such as 30s, 12h, 7d or 1h30m"
_SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
_SIZE_UNITS |= {"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMG]I?B|B)?", re.IGNORECASE)
_SIZE_HINT = "use a number of bytes or a size with a unit such as 512KB, 10MB, 1GB (KB = 1024)"


# -- public parsers ---------------------------------------------------------


def parse_duration(text: str | int | float) -> timedelta:
    """Parse ``500ms``, ``30s``, ``5m``, ``12h``, ``7d``, ``2w`` or ``1h30m``.

    A bare number (or numeric string) is seconds. Zero, negative and
    unparsable values raise :class:`ConfigError`.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ConfigError(f"expected a duration, got {text!r}", hint=_DURATION_HINT)
    if isinstance(text, str) and not _NUMBER.fullmatch(text.strip()):
        return _positive(_duration_from_units(text), text)
    seconds = float(text)
    if not math.isfinite(seconds):
        raise ConfigError(f"invalid duration {text!r}", hint=_DURATION_HINT)
    return _positive(_timedelta(seconds, text), text)


def _duration_from_units(text: str) -> timedelta:
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ConfigError(f"duration must be positive, got {text!r}", hint=_DURATION_HINT)
    if not _DURATION.fullmatch(stripped):
        raise ConfigError(f"invalid duration {text!r}", hint=_DURATION_HINT)
    parts = _DURATION_PART.findall(stripped)
    seconds = sum(float(n) * _DURATION_UNITS[u].total_seconds() for n, u in parts)
    return _timedelta(seconds, text)


def _timedelta(seconds: float, text: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ConfigError(f"duration {text!r} is too large", hint=_DURATION_HINT) from None


def _positive(value: timedelta, text: object) -> timedelta:
    if value <= timedelta(0):
        raise ConfigError(f"duration must be positive, got {text!r}", hint=_DURATION_HINT)
    return value


def parse_size(text: str | int) -> int:
    """Parse a size in bytes: ``1048576``, ``512KB``, ``10MB``, ``1GB`` (KB = 1024).

    Zero, negative and unparsable values raise :class:`ConfigError`.
    """
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ConfigError(f"expected a size, got {text!r}", hint=_SIZE_HINT)
    if isinstance(text, int):
        return _positive_size(text, text)
    match = _SIZE.fullmatch(text.strip())
    if match is None or (match[2] is None and "." in match[1]):
        raise ConfigError(f"invalid size {text!r}", hint=_SIZE_HINT)
    factor = _SIZE_UNITS[(match[2] or "").upper()]
    return _positive_size(int(float(match[1]) * factor), text)


def _positive_size(value: int, text: object) -> int:
    if value <= 0:
        raise ConfigError(f"size must be positive, got {text!r}", hint=_SIZE_HINT)
    return value


# -- the node reader ----------------------------------------------------------


@dataclass(frozen=True)
class _At:
    """A YAML node together with where it is: the file and the key path."""

    file: str
    key: str
    node: yaml.Node

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    @property
    def kind(self) -> str:
        tag = str(self.node.tag)
        return tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag

    def error(self, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.file, line=self.line, key=self.key or None, hint=hint)

    def child(self, name: str, node: yaml.Node) -> _At:
        return _At(self.file, f"{self.key}.{name}" if self.key else name, node)

    def item(self, index: int, node: yaml.Node) -> _At:
        return _At(self.file, f"{self.key}[{index}]", node)

    def expected(self, what: str, hint: str | None = None) -> ConfigError:
        got = _TYPE_NAMES.get(self.kind, f"a value tagged {self.kind}")
        return self.error(f"expected {what}, got {got}", hint)


@dataclass(frozen=True)
class _Map:
    """A checked YAML mapping: string keys, no duplicates, only allowed keys."""

    at: _At
    values: dict[str, _At]

    def get(self, name: str) -> _At | None:
        return self.values.get(name)

    def require(self, name: str) -> _At:
        if name not in self.values:
            raise self.at.error(f"missing required key {name!r}")
        return self.values[name]


def _as_map(at: _At, allowed: Collection[str] | None) -> _Map:
    """Check a mapping node; ``allowed=None`` accepts any key (``headers``)."""
    if not isinstance(at.node, yaml.MappingNode):
        raise at.expected("a mapping")
    values: dict[str, _At] = {}
    for key_node, value_node in at.node.value:
        name = _key_name(_At(at.file, at.key, key_node))
        if name in values:
            first = values[name].line
            raise at.child(name, key_node).error(
                f"duplicate key {name!r}", hint=f"first given at line {first}"
            )
        _check_known(at.child(name, key_node), name, allowed)
        values[name] = at.child(name, value_node)
    return _Map(at, values)


def _key_name(at: _At) -> str:
    if at.kind == "merge":
        raise at.error("YAML merge keys (<<) are not supported", "put shared settings in defaults:")
    if at.kind != "str" or not isinstance(at.node, yaml.ScalarNode):
        raise at.expected("a string as mapping key")
    return str(at.node.value)


def _check_known(at: _At, name: str, allowed: Collection[str] | None) -> None:
    if allowed is None or name in allowed:
        return
    close = difflib.get_close_matches(name, allowed, n=1)
    listed = "allowed keys: " + ", ".join(allowed)
    hint = f"did you mean {close[0]!r}? {listed}" if close else listed
    raise at.error(f"unknown key {name!r}", hint=hint)


def _as_list(at: _At) -> list[_At]:
    if not isinstance(at.node, yaml.SequenceNode):
        raise at.expected("a list")
    return [at.item(index, node) for index, node in enumerate(at.node.value)]


def _scalar(at: _At, kind: str, what: str) -> str:
    if at.kind != kind or not isinstance(at.node, yaml.ScalarNode):
        hint = None
        if isinstance(at.node, yaml.ScalarNode) and kind == "str":
            hint = f'put it in quotes: "{at.node.value}"'
        raise at.expected(what, hint)
    return str(at.node.value)


def _located(at: _At, parse: Callable[[_V], _T], value: _V) -> _T:
    """Run a public parser, re-raising its error with the file, line and key."""
    try:
        return parse(value)
    except ConfigError as exc:
        raise at.error(exc.message, exc.hint) from None


# -- value readers: one YAML node -> one typed value ---------------------------


def _read_str(at: _At) -> str:
    return _scalar(at, "str", "a string")


def _read_text(at: _At) -> str:
    text = _read_str(at)
    if not text.strip():
        raise at.error("must not be empty")
    return text


def _read_int(at: _At, minimum: int) -> int:
    if at.kind != "int":
        raise at.expected(f"an integer >= {minimum}")
    value = _yaml_int(at)
    if value < minimum:
        raise at.error(f"must be an integer >= {minimum}, got {value}")
    return value


def _yaml_int(at: _At) -> int:
    """An ``int``-tagged scalar as YAML 1.1 reads it (``0x1F``, ``1_000``)."""
    if not isinstance(at.node, yaml.ScalarNode):
        raise at.expected("an integer")
    return int(_CONSTRUCTOR.construct_yaml_int(at.node))


def _read_positive_int(at: _At) -> int:
    return _read_int(at, 1)


def _read_count(at: _At) -> int:
    return _read_int(at, 0)


def _read_number(at: _At) -> str | int | float:
    """A YAML integer, float or string, for the parsers that take all three."""
    if at.kind == "int":
        return _yaml_int(at)
    if at.kind == "float" and isinstance(at.node, yaml.ScalarNode):
        return float(_CONSTRUCTOR.construct_yaml_float(at.node))
    if at.kind != "str":
        raise at.expected("a number or a string")
    return _read_str(at)


def _read_duration(at: _At) -> timedelta:
    return _located(at, parse_duration, _read_number(at))


def _read_size(at: _At) -> int:
    value = _read_number(at)
    if isinstance(value, float):
        raise at.error(f"invalid size {value!r}", hint=_SIZE_HINT)
    return _located(at, parse_size, value)


def _read_slug(at: _At) -> str:
    slug = _read_str(at)
    if not _SLUG.fullmatch(slug):
        hint = "use 1-63 lowercase letters, digits and hyphens, starting with a letter or digit"
        raise at.error(f"invalid id {slug!r}", hint=hint)
    return slug


def _read_url(at: _At) -> str:
    url = _read_str(at)
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise at.error(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise at.error(f"invalid URL {url!r}", hint="use an absolute http:// or https:// URL")
    return url


def _read_strings(at: _At) -> list[tuple[_At, str]]:
    """One string or a list of strings, each with its own location."""
    if isinstance(at.node, yaml.SequenceNode):
        return [(item, _read_str(item)) for item in _as_list(at)]
    if at.kind != "str":
        raise at.expected("a string or a list of strings")
    return [(at, _read_str(at))]


def _read_selectors(at: _At) -> tuple[str, ...]:
    return tuple(_check_selector(item, text) for item, text in _read_strings(at))


def _check_selector(at: _At, selector: str) -> str:
    if not is_valid_selector(selector):
        raise at.error(f"invalid CSS selector {selector!r}")
    return selector


def _read_patterns(at: _At) -> tuple[re.Pattern[str], ...]:
    return tuple(_compile(item, text) for item, text in _read_strings(at))


def _compile(at: _At, pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise at.error("empty regular expression", hint="it would match everywhere")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise at.error(f"invalid regular expression {pattern!r}: {exc}") from None


def _read_encoding(at: _At) -> str:
    name = _read_str(at)
    canonical = canonical_encoding(name)
    if canonical is None:
        raise at.error(
            f"unknown or unsupported encoding {name!r}", hint="e.g. utf-8, windows-1251, koi8-r"
        )
    return canonical


def _read_headers(at: _At) -> Mapping[str, str]:
    headers = {}
    for name, value in _as_map(at, None).values.items():
        if not _HEADER_NAME.fullmatch(name):
            raise value.error(f"invalid HTTP header name {name!r}")
        text = _read_str(value)
        if "\r" in text or "\n" in text:
            raise value.error("header values must be on one line")
        headers[name] = text
    return MappingProxyType(headers)


def _read_owner(at: _At) -> str:
    owner = _read_str(at)
    addresses = getaddresses([owner])
    if len(addresses) != 1 or not _EMAIL.fullmatch(addresses[0][1]):
        hint = 'use an e-mail address, optionally as "Name <address>"'
        raise at.error(f"invalid owner {owner!r}", hint=hint)
    return owner


# -- the settings table --------------------------------------------------------


def _read_pause(at: _At) -> timedelta:
    """A duration that may be zero (``0``, ``0s``)."""
    text = _read_number(at)
    if str(text).strip().rstrip("smh").strip() in ("0", "0.0"):
        return timedelta(0)
    return _read_duration(at)


def _read_choice(at: _At, choices: tuple[str, ...]) -> str:
    value = _read_str(at)
    if value not in choices:
        raise at.error(f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def _read_robots(at: _At) -> str:
    return _read_choice(at, ("obey", "ignore"))


def _read_workers(at: _At) -> int | str:
    """``auto`` or a number of processes (0: render in the fetching process)."""
    if at.kind == "int":
        return _read_count(at)
    if at.kind == "str" and _read_str(at) == "auto":
        return "auto"
    raise at.expected("auto or a number of processes (0 or more)")


def _read_format(at: _At) -> str:
    return _read_choice(at, ("auto", "html", "pdf", "text", "json"))


def _read_bool(at: _At) -> bool:
    if at.kind != "bool" or not isinstance(at.node, yaml.ScalarNode):
        raise at.expected("true or false")
    return bool(_CONSTRUCTOR.construct_yaml_bool(at.node))


def _read_proxy(at: _At) -> str:
    value = _read_str(at)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise at.error(
            f"invalid proxy URL {value!r}",
            hint="e.g. http://proxy.example:3128 or socks5://host:1080",
        )
    return value


def _read_ca_bundle(at: _At) -> str:
    value = _read_str(at)
    path = Path(value)
    if not path.is_absolute():
        path = Path(at.file).resolve().parent / path
    if not path.is_file():
        raise at.error(f"CA bundle not found: {path}", hint="a PEM file, relative to sources.yaml")
    return str(path)


def _read_email(at: _At) -> str:
    value = _read_str(at)
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise at.error(f"invalid e-mail address {value!r}")
    return value


def _read_ratio(at: _At) -> float:
    value = _read_number(at)
    try:
        ratio = float(value)
    except ValueError:
        raise at.expected("a number between 0 and 1") from None
    if not 0 <= ratio <= 1:
        raise at.error(f"expected a number between 0 and 1, got {value!r}")
    return ratio


def _read_timezone(at: _At) -> str:
    name = _read_str(at)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = "use an IANA name such as Europe/Moscow or UTC"
        raise at.error(f"unknown time zone {name!r}", hint=hint) from None
    return name


def _read_cron(at: _At) -> str:
    """A crontab expression (``0 6 * * 1-5``), checked by the scheduler's parser."""
    from watcher.schedule import parse_cron  # apscheduler is only loaded when a schedule is set

    expr = " ".join(_read_text(at).split())
    _located(at, lambda text: parse_cron(text, "UTC"), expr)
    return expr


@dataclass(frozen=True)
class Setting:
    """One setting of ``defaults:``; ``per_source`` ones a source may override."""

    name: str
    default: object
    read: Callable[[_At], object]
    help: str
    per_source: bool = True


SETTINGS: tuple[Setting, ...] = (
    Setting("user_agent", DEFAULT_USER_AGENT, _read_text, "User-Agent header of every request"),
    Setting("timeout", timedelta(seconds=30), _read_duration, "time allowed for one request"),
    Setting("interval", timedelta(days=1), _read_duration, "how often a source is checked"),
    Setting("per_host", 2, _read_positive_int, "concurrent requests per host"),
    Setting("concurrency", 16, _read_positive_int, "concurrent requests overall", False),
    Setting("max_size", 10 * 1024**2, _read_size, "largest response body accepted"),
    Setting("max_redirects", 10, _read_count, "redirects followed before giving up"),
    Setting("fail_after", 3, _read_positive_int, "consecutive failures before 'broken'"),
    Setting(
        "max_age", timedelta(days=7), _read_duration, "age of the last good check that is stale"
    ),
    Setting("headers", MappingProxyType({}), _read_headers, "extra request headers (merged)"),
    Setting("delay", timedelta(0), _read_pause, "least time between two requests to one host"),
    Setting("retries", 2, _read_count, "retries of a transient failure (timeout, 5xx, 429)"),
    Setting(
        "max_retry_after", timedelta(minutes=2), _read_duration, "longest Retry-After honoured"
    ),
    Setting("robots", "obey", _read_robots, "obey robots.txt, or 'ignore' where entitled"),
    Setting("proxy", None, _read_proxy, "HTTP(S) or SOCKS proxy URL"),
    Setting("ca_bundle", None, _read_ca_bundle, "PEM file of extra trusted CAs"),
    Setting("verify", True, _read_bool, "verify TLS certificates (false is loud)"),
    Setting("email", None, _read_email, "contact address sent as the From: header"),
    Setting(
        "min_size_ratio", 0.3, _read_ratio, "text smaller than this share of the last is an error"
    ),
    Setting("allow_private", False, _read_bool, "let redirects reach private addresses"),
    Setting("timezone", DEFAULT_TIMEZONE, _read_timezone, "time zone of cron schedules"),
    Setting(
        "workers",
        "auto",
        _read_workers,
        "processes that extract text beside the fetching one",
        False,
    ),
)
_PER_SOURCE = {s.name: s.read for s in SETTINGS if s.per_source}

_SOURCE_FIELDS: dict[str, Callable[[_At], object]] = {
    "id": _read_slug,
    "url": _read_url,
    "title": _read_text,
    "select": _read_selectors,
    "exclude": _read_selectors,
    "ignore": _read_patterns,
    "encoding": _read_encoding,
    "format": _read_format,
    "notes": _read_str,
    "schedule": _read_cron,
    "minor": _read_patterns,
    "structure": lambda at: _read_choice(at, ("law",)),
    "confirm": _read_count,
    "confirm_delay": _read_pause,
    **_PER_SOURCE,
}
_GUIDE_FIELDS: dict[str, Callable[[_At], object]] = {
    "id": _read_slug,
    "title": _read_text,
    "url": _read_url,
    "owner": _read_owner,
    "review_every": _read_duration,
}
_REQUIRED = ("id", "url", "title")
_TOP_LEVEL = ("defaults", "hosts", "sources", "guides", "notify", "reports")
_HOST_SETTINGS = ("per_host", "delay", "proxy", "ca_bundle", "verify", "robots", "headers")


def _read_fields(mapping: _Map, readers: Mapping[str, Callable[[_At], object]]) -> dict[str, Any]:
    """Read every key present with its reader, in file order."""
    return {name: readers[name](at) for name, at in mapping.values.items() if name in readers}


# -- notify: and reports: ------------------------------------------------------

_SMTP_SECURITY = {"starttls": 587, "ssl": 465, "none": 25}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _read_security(at: _At) -> str:
    value = _read_str(at)
    if value not in _SMTP_SECURITY:
        raise at.error(f"invalid security {value!r}", hint="use starttls, ssl or none")
    return value


def _read_env_name(at: _At) -> str:
    name = _read_str(at)
    if not _ENV_NAME.fullmatch(name):
        hint = "name an environment variable (SMTP_PASSWORD), never the password itself"
        raise at.error(f"invalid environment variable name {name!r}", hint=hint)
    return name


def _read_host(at: _At) -> str:
    host = _read_text(at)
    if any(c.isspace() or c in "/:@" for c in host):
        raise at.error(f"invalid host name {host!r}", hint="e.g. smtp.example.org")
    return host


def _read_port(at: _At) -> int:
    port = _read_positive_int(at)
    if port > 65535:
        raise at.error(f"invalid port {port}", hint="use 1-65535")
    return port


def _read_addresses(at: _At) -> tuple[str, ...]:
    return tuple(_read_owner(item) for item, _ in _read_strings(at))


_SMTP_FIELDS: dict[str, Callable[[_At], object]] = {
    "host": _read_host,
    "port": _read_port,
    "security": _read_security,
    "user": _read_text,
    "password_env": _read_env_name,
    "sender": _read_owner,
}
_NOTIFY_FIELDS: dict[str, Callable[[_At], object]] = {"maintainers": _read_addresses}
_REPORTS_FIELDS: dict[str, Callable[[_At], object]] = {"templates": _read_text}
_WEBHOOK_TEMPLATES = ("generic", "slack", "mattermost", "telegram")
_REPORT_FORMATS = ("html", "md", "json", "atom")  # report.output.FORMATS, without jinja2


def _read_chat_id(at: _At) -> str:
    return str(_yaml_int(at)) if at.kind == "int" else _read_text(at)


def _read_events(at: _At) -> tuple[str, ...]:
    return _read_names(at, ALERT_EVENTS, "event")


def _read_formats(at: _At) -> tuple[str, ...]:
    return _read_names(at, _REPORT_FORMATS, "format")


def _read_names(at: _At, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = []
    for item, name in _read_strings(at):
        if name not in allowed:
            raise item.error(f"unknown {what} {name!r}", hint=f"use {', '.join(allowed)}")
        names.append(name)
    if not names:
        raise at.error(f"name at least one {what}", hint=f"use {', '.join(allowed)}")
    return tuple(dict.fromkeys(names))


_WEBHOOK_FIELDS: dict[str, Callable[[_At], object]] = {
    "url": _read_url,
    "template": lambda at: _read_choice(at, _WEBHOOK_TEMPLATES),
    "token_env": _read_env_name,
    "chat_id": _read_chat_id,
    "events": _read_events,
}
_REPORT_JOB_FIELDS: dict[str, Callable[[_At], object]] = {
    "cron": _read_cron,
    "formats": _read_formats,
    "email": _read_bool,
    "always": _read_bool,
}


def _webhooks(at: _At | None) -> tuple[Webhook, ...]:
    """``webhooks: [{url, template, token_env, chat_id, events}]``."""
    if at is None:
        return ()
    return tuple(_webhook(item) for item in _as_list(at))


def _webhook(at: _At) -> Webhook:
    mapping = _as_map(at, list(_WEBHOOK_FIELDS))
    values = _read_fields(mapping, _WEBHOOK_FIELDS)
    url_at = mapping.require("url")
    if "{token}" in values["url"] and "token_env" not in values:
        raise url_at.error("the URL has a {token} placeholder but no token_env names it")
    telegram = values.get("template") == "telegram"
    if telegram and "chat_id" not in values:
        raise at.error("a telegram webhook needs chat_id", hint="the chat to post to")
    if not telegram and "chat_id" in values:
        raise mapping.require("chat_id").error("chat_id is only for template: telegram")
    return Webhook(**values, line=at.line)


def _notify(at: _At | None) -> Notify | None:
    """``notify: {smtp, maintainers, webhooks}``; secrets stay in the environment."""
    if at is None:
        return None
    mapping = _as_map(at, [*_NOTIFY_FIELDS, "smtp", "webhooks"])
    webhooks = _webhooks(mapping.get("webhooks"))
    smtp_at = mapping.get("smtp")
    if smtp_at is None:
        if not webhooks:
            raise at.error("notify: needs smtp: or webhooks:", hint="see notify: in README.md")
        return Notify(None, **_read_fields(mapping, _NOTIFY_FIELDS), webhooks=webhooks)
    smtp = _as_map(smtp_at, list(_SMTP_FIELDS))
    values = _read_fields(smtp, _SMTP_FIELDS)
    for name in ("host", "sender"):
        smtp.require(name)
    values.setdefault("security", "starttls")
    values.setdefault("port", _SMTP_SECURITY[values["security"]])
    if ("user" in values) != ("password_env" in values):
        raise smtp_at.error(
            "user and password_env go together", hint="give both to log in, or neither"
        )
    extra = _read_fields(mapping, _NOTIFY_FIELDS)
    return Notify(SmtpSettings(**values), **extra, webhooks=webhooks)


def _reports(at: _At | None, root: Path, notify: Notify | None) -> ReportSettings:
    """``reports: {templates: DIR, schedule: [...]}``; DIR is relative to sources.yaml."""
    if at is None:
        return ReportSettings()
    mapping = _as_map(at, [*_REPORTS_FIELDS, "schedule"])
    values = _read_fields(mapping, _REPORTS_FIELDS)
    templates = root / values["templates"] if "templates" in values else None
    if templates is not None and not templates.is_dir():
        raise mapping.require("templates").error(f"no such directory: {templates}")
    items = _as_list(mapping.require("schedule")) if mapping.get("schedule") else []
    jobs = tuple(_report_job(item, notify) for item in items)
    return ReportSettings(templates=templates, schedule=jobs)


def _report_job(at: _At, notify: Notify | None) -> ReportJob:
    """``{cron: "0 9 * * 1", formats: [html, atom], email: true, always: false}``."""
    mapping = _as_map(at, list(_REPORT_JOB_FIELDS))
    mapping.require("cron")
    values = _read_fields(mapping, _REPORT_JOB_FIELDS)
    if values.get("email") and (notify is None or notify.smtp is None):
        hint = "configure notify: smtp: to mail digests"
        raise mapping.require("email").error("email: true needs notify: smtp:", hint=hint)
    return ReportJob(**values, line=at.line)


# -- building the objects ------------------------------------------------------


def load_config(path: str | os.PathLike[str]) -> Config:
    """Load and validate a ``sources.yaml``; raise :class:`ConfigError` on any problem."""
    root = _At(str(path), "", _compose(path))
    top = _as_map(root, _TOP_LEVEL)
    defaults = _defaults(top.get("defaults"))
    hosts = _hosts(top.get("hosts"))
    sources = _sources(top.require("sources"), defaults, hosts)
    guides = _guides(top.get("guides"), {s.id: s for s in sources})
    notify = _notify(top.get("notify"))
    reports = _reports(top.get("reports"), Path(path).resolve().parent, notify)
    return Config(Path(path).resolve(), defaults, sources, guides, notify, reports)


def _compose(path: str | os.PathLike[str]) -> yaml.Node:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc.strerror}", path=str(path)) from None
    try:
        node = yaml.compose(data, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise _yaml_error(str(path), exc) from None
    if node is None:
        raise ConfigError("the file is empty", path=str(path), hint="it needs a sources: list")
    return node


def _yaml_error(path: str, exc: yaml.YAMLError) -> ConfigError:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return ConfigError(f"invalid YAML: {exc}", path=path)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    detail = ", ".join(str(p) for p in (exc.context, exc.problem) if p)
    start = exc.context_mark
    hint = None
    if start is not None and line is not None and start.line + 1 != line:
        hint = f"the construct started at line {start.line + 1}"
    return ConfigError(f"invalid YAML: {detail}", path=path, line=line, hint=hint)


def _defaults(at: _At | None) -> Defaults:
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    if at is not None and at.kind != "null":
        mapping = _as_map(at, [s.name for s in SETTINGS])
        values |= _read_fields(mapping, {s.name: s.read for s in SETTINGS})
    return Defaults(**values)


HostSettings = Mapping[str, Mapping[str, Any]]


def _hosts(at: _At | None) -> HostSettings:
    """``hosts:``: settings for every source on a host, keyed by host name."""
    if at is None or at.kind == "null":
        return {}
    readers = {name: _PER_SOURCE[name] for name in _HOST_SETTINGS}
    hosts = {}
    for name, item in _as_map(at, None).values.items():
        host = name.strip().lower()
        if not host or "/" in host or " " in host:
            raise item.error(
                f"invalid host name {name!r}", hint="e.g. www.mgfoms.ru or 127.0.0.1:8080"
            )
        hosts[host] = _read_fields(_as_map(item, _HOST_SETTINGS), readers)
    return hosts


def _sources(at: _At, defaults: Defaults, hosts: HostSettings) -> tuple[Source, ...]:
    items = _as_list(at)
    if not items:
        raise at.error("at least one source is required")
    sources = tuple(_source(item, defaults, hosts) for item in items)
    _check_unique(items, [s.id for s in sources])
    return sources


def _source(at: _At, defaults: Defaults, hosts: HostSettings) -> Source:
    """A source's settings: its own, else its host's (``hosts:``), else ``defaults:``."""
    mapping = _as_map(at, list(_SOURCE_FIELDS))
    values = _read_fields(mapping, _SOURCE_FIELDS)
    for name in _REQUIRED:
        mapping.require(name)
    inherited = {name: getattr(defaults, name) for name in _PER_SOURCE}
    host = dict(_host_settings(hosts, values["url"]))
    headers = _merge_headers(defaults.headers, host.pop("headers", {}))
    headers = _merge_headers(headers, values.pop("headers", {}))
    values = {**inherited, **host, **values, "headers": headers}
    return Source(**values, line=at.line)


def _host_settings(hosts: HostSettings, url: str) -> Mapping[str, Any]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return hosts.get(parts.netloc.lower()) or hosts.get(host) or {}


def _merge_headers(base: Mapping[str, str], override: Mapping[str, str]) -> Mapping[str, str]:
    """Header names are case-insensitive: an override replaces any spelling."""
    replaced = {name.lower() for name in override}
    kept = {name: value for name, value in base.items() if name.lower() not in replaced}
    return MappingProxyType({**kept, **override})


def _check_unique(items: list[_At], ids: Iterable[str]) -> None:
    seen: dict[str, int] = {}
    for item, ident in zip(items, ids, strict=True):
        if ident in seen:
            where = _as_map(item, None).require("id")
            raise where.error(
                f"duplicate id {ident!r}", hint=f"first defined at line {seen[ident]}"
            )
        seen[ident] = item.line


def _guides(at: _At | None, sources: Mapping[str, Source]) -> tuple[Guide, ...]:
    if at is None or at.kind == "null":
        return ()
    items = _as_list(at)
    guides = tuple(_guide(item, sources) for item in items)
    _check_unique(items, [g.id for g in guides])
    return guides


def _guide(at: _At, sources: Mapping[str, Source]) -> Guide:
    mapping = _as_map(at, [*_GUIDE_FIELDS, "sources"])
    values = _read_fields(mapping, _GUIDE_FIELDS)
    for name in (*_REQUIRED, "owner"):
        mapping.require(name)
    cited = _guide_sources(mapping.require("sources"), sources)
    values.setdefault("review_every", DEFAULT_REVIEW_EVERY)
    return Guide(**values, sources=cited, line=at.line)


def _guide_sources(at: _At, sources: Mapping[str, Source]) -> tuple[GuideSource, ...]:
    items = _as_list(at)
    if not items:
        raise at.error("a guide must cite at least one source")
    cited: dict[str, GuideSource] = {}
    for item in items:
        where, ident, claims = _guide_source_id(item)
        _check_cited(where, ident, sources, cited)
        cited[ident] = GuideSource(ident, line=item.line, claims=claims)
    return tuple(cited.values())


def _guide_source_id(at: _At) -> tuple[_At, str, tuple[str, ...]]:
    """A cited source is an id string or a mapping ``{source: ID, claims: [...]}``."""
    if isinstance(at.node, yaml.MappingNode):
        mapping = _as_map(at, ("source", "claims"))
        where = mapping.require("source")
        claims_at = mapping.get("claims")
        claims = _read_claims(claims_at) if claims_at is not None else ()
        return where, _read_str(where), claims
    if at.kind != "str":
        raise at.expected("a source id or a mapping with 'source'")
    return at, _read_str(at), ()


def _read_claims(at: _At) -> tuple[str, ...]:
    """Short quotes of the source that the guide relies on; each must have a word."""
    claims: list[str] = []
    for item, text in _read_strings(at):
        if not any(char.isalnum() for char in text):
            raise item.error("a claim must quote some words or numbers of the source")
        if text in claims:
            raise item.error(f"claim {text!r} is listed twice")
        claims.append(text)
    return tuple(claims)


def _check_cited(
    at: _At, ident: str, sources: Mapping[str, Source], cited: Mapping[str, GuideSource]
) -> None:
    if ident in cited:
        raise at.error(f"source {ident!r} is listed twice", f"first at line {cited[ident].line}")
    if ident not in sources:
        close = difflib.get_close_matches(ident, list(sources), n=3)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else None
        raise at.error(f"unknown source {ident!r}", hint or "define it under sources:")
