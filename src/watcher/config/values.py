"""Value readers: one YAML node -> one typed, checked value (and the public parsers)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from watcher.config.limits import check_backtracking, check_pem, check_url, header_value
from watcher.config.model import ALERT_EVENTS
from watcher.config.nodes import CONSTRUCTOR, At, as_list, as_map, located, scalar, yaml_int
from watcher.errors import ConfigError
from watcher.text.decode import canonical_encoding
from watcher.text.html import is_valid_selector
from watcher.text.rules import FORMATS

SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
"""``notify: smtp: security`` -> its usual port."""
REPORT_FORMATS = ("html", "md", "json", "atom")  # report.output.FORMATS, without jinja2
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
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


# -- value readers: one YAML node -> one typed value ---------------------------


def read_str(at: At) -> str:
    return scalar(at, "str", "a string")


def read_text(at: At) -> str:
    text = read_str(at)
    if not text.strip():
        raise at.error("must not be empty")
    return text


def read_int(at: At, minimum: int) -> int:
    if at.kind != "int":
        raise at.expected(f"an integer >= {minimum}")
    value = yaml_int(at)
    if value < minimum:
        raise at.error(f"must be an integer >= {minimum}, got {value}")
    return value


def read_positive_int(at: At) -> int:
    return read_int(at, 1)


def read_count(at: At) -> int:
    return read_int(at, 0)


def read_number(at: At) -> str | int | float:
    """A YAML integer, float or string, for the parsers that take all three."""
    if at.kind == "int":
        return yaml_int(at)
    if at.kind == "float" and isinstance(at.node, yaml.ScalarNode):
        return float(CONSTRUCTOR.construct_yaml_float(at.node))
    if at.kind != "str":
        raise at.expected("a number or a string")
    return read_str(at)


def read_duration(at: At) -> timedelta:
    return located(at, parse_duration, read_number(at))


def read_size(at: At) -> int:
    value = read_number(at)
    if isinstance(value, float):
        raise at.error(f"invalid size {value!r}", hint=_SIZE_HINT)
    return located(at, parse_size, value)


def read_slug(at: At) -> str:
    slug = read_str(at)
    if not _SLUG.fullmatch(slug):
        hint = "use 1-63 lowercase letters, digits and hyphens, starting with a letter or digit"
        raise at.error(f"invalid id {slug!r}", hint=hint)
    return slug


def read_url(at: At) -> str:
    url = read_str(at)
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise at.error(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise at.error(f"invalid URL {url!r}", hint="use an absolute http:// or https:// URL")
    check_url(at, url)
    return url


def read_origins(at: At) -> tuple[str, ...]:
    """``https://guides.example.org`` (or a list): web origins, without a path."""
    origins = []
    for item, text in read_strings(at):
        url = read_url(item)
        parts = urlsplit(url)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise item.error(
                f"an origin has no path: {text!r}", hint=f"use {parts.scheme}://{parts.netloc}"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


def read_strings(at: At) -> list[tuple[At, str]]:
    """One string or a list of strings, each with its own location."""
    if isinstance(at.node, yaml.SequenceNode):
        return [(item, read_str(item)) for item in as_list(at)]
    if at.kind != "str":
        raise at.expected("a string or a list of strings")
    return [(at, read_str(at))]


def read_selectors(at: At) -> tuple[str, ...]:
    return tuple(_check_selector(item, text) for item, text in read_strings(at))


def _check_selector(at: At, selector: str) -> str:
    if not is_valid_selector(selector):
        raise at.error(f"invalid CSS selector {selector!r}")
    return selector


def read_patterns(at: At) -> tuple[re.Pattern[str], ...]:
    return tuple(_compile(item, text) for item, text in read_strings(at))


def _compile(at: At, pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise at.error("empty regular expression", hint="it would match everywhere")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise at.error(f"invalid regular expression {pattern!r}: {exc}") from None
    check_backtracking(at, pattern)
    return compiled


def read_encoding(at: At) -> str:
    name = read_str(at)
    canonical = canonical_encoding(name)
    if canonical is None:
        raise at.error(
            f"unknown or unsupported encoding {name!r}", hint="e.g. utf-8, windows-1251, koi8-r"
        )
    return canonical


def read_headers(at: At) -> Mapping[str, str]:
    headers = {}
    for name, value in as_map(at, None).values.items():
        if not _HEADER_NAME.fullmatch(name):
            raise value.error(f"invalid HTTP header name {name!r}")
        text = read_str(value)
        if "\r" in text or "\n" in text:
            raise value.error("header values must be on one line")
        headers[name] = header_value(value, text)
    return MappingProxyType(headers)


def read_header_text(at: At) -> str:
    """A non-empty value sent as an HTTP header (``user_agent``): printable ASCII."""
    return header_value(at, read_text(at))


def read_owner(at: At) -> str:
    owner = read_str(at)
    addresses = getaddresses([owner])
    if len(addresses) != 1 or not _EMAIL.fullmatch(addresses[0][1]):
        hint = 'use an e-mail address, optionally as "Name <address>"'
        raise at.error(f"invalid owner {owner!r}", hint=hint)
    return owner


def read_pause(at: At) -> timedelta:
    """A duration that may be zero (``0``, ``0s``)."""
    text = read_number(at)
    if str(text).strip().rstrip("smh").strip() in ("0", "0.0"):
        return timedelta(0)
    return read_duration(at)


def read_choice(at: At, choices: tuple[str, ...]) -> str:
    value = read_str(at)
    if value not in choices:
        raise at.error(f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def read_robots(at: At) -> str:
    return read_choice(at, ("obey", "ignore"))


def read_workers(at: At) -> int | str:
    """``auto`` or a number of processes (0: render in the fetching process)."""
    if at.kind == "int":
        return read_count(at)
    if at.kind == "str" and read_str(at) == "auto":
        return "auto"
    raise at.expected("auto or a number of processes (0 or more)")


def read_format(at: At) -> str:
    return read_choice(at, FORMATS)


def read_bool(at: At) -> bool:
    if at.kind != "bool" or not isinstance(at.node, yaml.ScalarNode):
        raise at.expected("true or false")
    return bool(CONSTRUCTOR.construct_yaml_bool(at.node))


def read_proxy(at: At) -> str:
    value = read_str(at)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise at.error(
            f"invalid proxy URL {value!r}",
            hint="e.g. http://proxy.example:3128 or socks5://host:1080",
        )
    return value


def read_ca_bundle(at: At) -> str:
    """The bundle's absolute path. A missing file is not an error here: the sources
    using it fail at check time, and loading warns (:mod:`watcher.config.warnings`)."""
    path = ca_bundle_path(at)
    if path.exists() and not path.is_file():
        hint = "a PEM file, relative to sources.yaml"
        raise at.error(f"CA bundle is not a file: {path}", hint=hint)
    if path.is_file():
        check_pem(at, path)
    return str(path)


def ca_bundle_path(at: At) -> Path:
    """A ``ca_bundle`` value resolved against the folder of sources.yaml."""
    path = Path(read_str(at))
    return path if path.is_absolute() else Path(at.file).resolve().parent / path


def read_email(at: At) -> str:
    value = read_str(at)
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise at.error(f"invalid e-mail address {value!r}")
    return header_value(at, value)  # sent as the From: header of every request


def read_ratio(at: At) -> float:
    value = read_number(at)
    try:
        ratio = float(value)
    except ValueError:
        raise at.expected("a number between 0 and 1") from None
    if not 0 <= ratio <= 1:
        raise at.error(f"expected a number between 0 and 1, got {value!r}")
    return ratio


def read_timezone(at: At) -> str:
    name = read_str(at)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = "use an IANA name such as Europe/Moscow or UTC"
        raise at.error(f"unknown time zone {name!r}", hint=hint) from None
    return name


def read_cron(at: At) -> str:
    """A crontab expression (``0 6 * * 1-5``), checked by the scheduler's parser."""
    from watcher.schedule import parse_cron  # apscheduler is only loaded when a schedule is set

    expr = " ".join(read_text(at).split())
    located(at, lambda text: parse_cron(text, "UTC"), expr)
    return expr


def read_security(at: At) -> str:
    value = read_str(at)
    if value not in SMTP_PORTS:
        raise at.error(f"invalid security {value!r}", hint="use starttls, ssl or none")
    return value


def read_env_name(at: At) -> str:
    name = read_str(at)
    if not _ENV_NAME.fullmatch(name):
        hint = "name an environment variable (SMTP_PASSWORD), never the password itself"
        raise at.error(f"invalid environment variable name {name!r}", hint=hint)
    return name


def read_host(at: At) -> str:
    host = read_text(at)
    if any(c.isspace() or c in "/:@" for c in host):
        raise at.error(f"invalid host name {host!r}", hint="e.g. smtp.example.org")
    return host


def read_port(at: At) -> int:
    port = read_positive_int(at)
    if port > 65535:
        raise at.error(f"invalid port {port}", hint="use 1-65535")
    return port


def read_addresses(at: At) -> tuple[str, ...]:
    return tuple(read_owner(item) for item, _ in read_strings(at))


def read_chat_id(at: At) -> str:
    return str(yaml_int(at)) if at.kind == "int" else read_text(at)


def read_events(at: At) -> tuple[str, ...]:
    return read_names(at, ALERT_EVENTS, "event")


def read_formats(at: At) -> tuple[str, ...]:
    return read_names(at, REPORT_FORMATS, "format")


def read_names(at: At, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = []
    for item, name in read_strings(at):
        if name not in allowed:
            raise item.error(f"unknown {what} {name!r}", hint=f"use {', '.join(allowed)}")
        names.append(name)
    if not names:
        raise at.error(f"name at least one {what}", hint=f"use {', '.join(allowed)}")
    return tuple(dict.fromkeys(names))


def read_claims(at: At) -> tuple[str, ...]:
    """Short quotes of the source that the guide relies on; each must have a word."""
    claims: list[str] = []
    for item, text in read_strings(at):
        if not any(char.isalnum() for char in text):
            raise item.error("a claim must quote some words or numbers of the source")
        if text in claims:
            raise item.error(f"claim {text!r} is listed twice")
        claims.append(text)
    return tuple(claims)


def read_structure(at: At) -> str:
    return read_choice(at, ("law",))
