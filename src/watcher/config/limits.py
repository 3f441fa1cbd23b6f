"""Limits of the settings: values that pass their type but would break every check.

- URLs with credentials or control characters, header values that are not
  one line of ASCII, CA bundles that are not PEM certificates;
- upper bounds (:func:`at_most`): ``workers: 40`` started 40 processes for
  two sources, ``delay: 2d`` stalled every run silently;
- regular expressions that backtrack catastrophically (:func:`nested_repeat`):
  a repetition whose body can match again through a repetition of its own,
  such as ``(a+)+`` or ``(\\w+\\s*)*``, takes hours on a line that almost
  matches. They are refused when the configuration is read (and a page
  whose source has ``ignore`` regexes renders under a deadline anyway).
"""

from __future__ import annotations

import re
import re._constants as sre  # type: ignore[import-not-found]  # how re parses a pattern
import re._parser as sre_parse  # type: ignore[import-not-found]
import ssl
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from watcher.config.nodes import At

_T = TypeVar("_T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def at_most(read: Callable[[At], _T], limit: int | timedelta, why: str) -> Callable[[At], _T]:
    """``read``, then refuse a value over ``limit`` (non-numbers such as ``auto`` pass)."""

    def bounded(at: At) -> _T:
        value = read(at)
        over = (isinstance(value, int) and isinstance(limit, int) and value > limit) or (
            isinstance(value, timedelta) and isinstance(limit, timedelta) and value > limit
        )
        if over:
            raise at.error(f"must be at most {_shown(limit)}, got {_shown(value)}", hint=why)
        return value

    return bounded


def _shown(value: Any) -> str:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return f"{seconds / 60:g}m" if seconds >= 60 else f"{seconds:g}s"
    return str(value)


def check_url(at: At, url: str) -> None:
    """A URL may carry no control character, nor a user or password (sent, and shown)."""
    if _CONTROL.search(url):
        raise at.error(f"a control character in the URL {url!r}", hint="remove it")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise at.error(
            "a URL with a user name or password: it would be sent to every redirect target"
            " and shown in the digests",
            hint="remove it; a site that needs credentials is not a public source",
        )


def header_value(at: At, text: str) -> str:
    """HTTP header values are one line of ASCII: anything else breaks every request."""
    if _CONTROL.search(text):
        raise at.error(
            f"a control character (CR, LF, NUL...) in {text!r}", hint="HTTP headers are one line"
        )
    if not text.isascii():
        raise at.error(
            f"non-ASCII characters in {text!r}",
            hint="HTTP headers are ASCII: transliterate the text (Latin letters)",
        )
    return text


def check_pem(at: At, path: Path) -> None:
    """The bundle must load as certificates now, not fail every fetch of its hosts later."""
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise at.error(
            f"CA bundle {path} is not a PEM file of certificates ({exc})",
            hint="-----BEGIN CERTIFICATE----- blocks; convert a DER file with"
            " `openssl x509 -inform der -in CA.cer -out CA.pem`",
        ) from None


def check_backtracking(at: At, pattern: str) -> None:
    """Refuse a regex that repeats a repetition (see :func:`nested_repeat`)."""
    nested = nested_repeat(pattern)
    if nested is not None:
        raise at.error(
            f"regular expression {pattern!r} repeats a repetition ({nested}): on some pages"
            " it would run for hours (catastrophic backtracking)",
            hint="repeat once: (?:\\d+\\s)* instead of (?:\\d+\\s*)*, \\w+ instead of (\\w+)+",
        )


def nested_repeat(pattern: str) -> str | None:
    """The repetition of ``pattern`` that repeats a repetition; None if there is none."""
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    return _nested(list(tree), pattern)


def _nested(items: list[Any], pattern: str) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            _, high, body = av
            if high == sre.MAXREPEAT and _repeats_alone(list(body)):
                return _fragment(pattern)
            found = _nested(list(body), pattern)
        elif op is sre.SUBPATTERN:
            found = _nested(list(av[-1]), pattern)
        elif op is sre.BRANCH:
            found = next((f for b in av[1] if (f := _nested(list(b), pattern))), None)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _nested(list(av[1]), pattern)
        else:
            found = None
        if found is not None:
            return found
    return None


def _repeats_alone(body: list[Any]) -> bool:
    """True if ``body`` can match through an unbounded repetition, all else matching nothing."""
    for index, (op, av) in enumerate(body):
        if _min_width(body[:index] + body[index + 1 :]) > 0:
            continue
        if op in _REPEATS and av[1] == sre.MAXREPEAT:
            return True
        if op is sre.SUBPATTERN and _repeats_alone(list(av[-1])):
            return True
        if op is sre.BRANCH and any(_repeats_alone(list(branch)) for branch in av[1]):
            return True
    return False


def _min_width(items: list[Any]) -> int:
    if not items:
        return 0
    return int(sre_parse.SubPattern(sre_parse.State(), items).getwidth()[0])


def _fragment(pattern: str) -> str:
    return pattern if len(pattern) <= 40 else pattern[:37] + "..."
