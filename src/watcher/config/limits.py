"""Limits of the settings: values that pass their type but would break every check.

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
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from watcher.config.nodes import At

_T = TypeVar("_T")
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
