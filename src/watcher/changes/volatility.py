"""Volatility from history: lines that change on every other check while the rest stays put.

Some lines of a page change all the time and mean nothing: a rate of the
day, a "users online" count, a rotating headline of a sidebar that slipped
into the content. No default filter can know them all, but the history
can: when a small change (at most :data:`SMALL_CHANGE` lines) touches a line
of the same *shape* (its words, digits aside) :data:`VOLATILE_AFTER` times
within :data:`WINDOW`, that shape is volatile for the source. It is recorded
in the source's committed state, ignored when a later change is assessed
(``watcher diff`` marks such lines "volatile, ignored"), and never hides a
claim: claims are checked on the whole text. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from watcher.changes.facts import find_facts
from watcher.results import Diff

SMALL_CHANGE = 3
"""Changes touching more lines than this teach nothing: the page itself changed."""
VOLATILE_AFTER = 3
"""Small changes of one shape within the window that make it volatile."""
WINDOW = timedelta(days=30)
KEPT_TIMES = 5
KEPT_SHAPES = 100

_DIGITS = re.compile(r"\d+")


def shape(line: str) -> str:
    """A line with its digits masked: what stays the same while a counter moves."""
    return _DIGITS.sub("#", line)


def changed_lines(diff: Diff) -> list[str]:
    """The removed and added lines of a diff."""
    return [line.text for hunk in diff.hunks for line in hunk.lines if line.tag != " "]


def learn(
    churn: dict[str, list[datetime]], volatile: list[str], diff: Diff, at: datetime
) -> list[str]:
    """Record one change in ``churn``; return the shapes that just became volatile.

    A line holding a fact a guide could quote (a phone number, an amount, a
    percentage, a time limit, a law reference) never becomes volatile,
    however often it changes: each of its changes matters.
    """
    lines = changed_lines(diff)
    shapes = list(dict.fromkeys(shape(line) for line in lines))
    if not shapes or len(lines) > 2 * SMALL_CHANGE or len(shapes) > SMALL_CHANGE:
        return []
    if any(_quotable(line) for line in lines):
        return []
    learnt = []
    for key in shapes:
        recent = [t for t in churn.get(key, []) if at - t <= WINDOW][-(KEPT_TIMES - 1) :]
        times = [*recent, at]
        churn[key] = times
        if len(times) >= VOLATILE_AFTER and key not in volatile:
            volatile.append(key)
            learnt.append(key)
    for key in _oldest(churn, len(churn) - KEPT_SHAPES):
        del churn[key]
    return learnt


def _quotable(line: str) -> bool:
    return any(fact.kind in _NEVER_VOLATILE for fact in find_facts(line))


_NEVER_VOLATILE = frozenset({"phone", "money", "percent", "duration", "law"})


def _oldest(churn: dict[str, list[datetime]], count: int) -> Iterable[str]:
    if count <= 0:
        return []
    return sorted(churn, key=lambda key: churn[key][-1])[:count]
