"""When each source is due, and the timers that wake ``watcher run``.

The only module that imports apscheduler (3.x). Two halves:

- pure functions of a source, its committed state and ``now``
  (:func:`next_due`, :func:`due_sources`, :func:`jitter`...), so a restart
  picks up where the committed state says and tests move the clock by hand;
- :class:`Timers`, an ``AsyncIOScheduler`` with one job per source (an
  ``IntervalTrigger`` on its ``interval``, or a ``CronTrigger`` on its
  ``schedule`` in its ``timezone``) and one per scheduled digest. A job
  only *wakes* the daemon; what is checked is decided again from the
  committed state (:func:`due_sources`), so a ``watcher check`` run by cron
  in between is never repeated.

Jitter is deterministic: a fixed share of up to 10% of a source's period
(at most 5 minutes) derived from its id. Sources checked together at
start-up drift apart from then on, and a restart never moves a schedule.

Cron expressions are standard crontab (``0 6 * * 1-5``: minute, hour, day
of month, month, day of week with 0 or 7 = Sunday). APScheduler 3 counts
weekdays from Monday; the day-of-week field is translated here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watcher.errors import ConfigError
from watcher.state import SourceState

if TYPE_CHECKING:  # APScheduler is imported by the functions that use it: not for every command
    from apscheduler.triggers.base import BaseTrigger
    from apscheduler.triggers.cron import CronTrigger

JITTER_SHARE = 0.1
MAX_JITTER = timedelta(minutes=5)
MIN_GRACE = timedelta(minutes=1)
_TICK = timedelta(microseconds=1)
_CRON_HINT = 'five fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * 1-5"'
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

Wake = Callable[[str], Awaitable[None]]
"""Called (on the event loop) with the job id when a timer fires."""


@dataclass(frozen=True)
class Cadence:
    """How often a source is checked, and how long it may fail or go unchecked.

    The cadence group of a source's settings, built by :mod:`watcher.config`
    from the settings table (the only place a default is written).
    """

    interval: timedelta
    schedule: str | None
    timezone: str
    fail_after: int
    max_age: timedelta


class Scheduled(Protocol):
    """Anything with an id and a cadence (a configured source)."""

    @property
    def id(self) -> str: ...

    @property
    def cadence(self) -> Cadence: ...


_S = TypeVar("_S", bound=Scheduled)


# ---------------------------------------------------------------- cron parsing


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Moscow``); ConfigError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Moscow or UTC"
        ) from None


@lru_cache(maxsize=512)
def parse_cron(expr: str, timezone: str) -> CronTrigger:
    """A standard crontab expression as a trigger; ConfigError if invalid."""
    fields = expr.split()
    if len(fields) != 5:
        raise ConfigError(f"invalid cron expression {expr!r}", hint=_CRON_HINT)
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ConfigError(
            f"cron expression {expr!r} restricts both the day of month and the day of week",
            hint="restrict one of them (crontab would fire when either matches)",
        )
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=zone(timezone),
        )
    except ValueError as exc:
        raise ConfigError(f"invalid cron expression {expr!r}: {exc}", hint=_CRON_HINT) from None


def crontab_weekdays(text: str) -> str:
    """A crontab day-of-week field (0/7 = Sunday) in APScheduler's names.

    ``1-5`` -> ``mon,tue,wed,thu,fri``; ``*/2`` -> ``sun,tue,thu,sat``.
    """
    if text == "*":
        return "*"
    days: set[int] = set()
    for part in text.lower().split(","):
        days.update(_weekday_part(part))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday_part(part: str) -> list[int]:
    span, _, step_text = part.partition("/")
    step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
    if step_text and step is None:
        raise ConfigError(f"invalid day-of-week step in {part!r}", hint=_CRON_HINT)
    if span == "*":
        first, last = 0, 6
    else:
        low, _, high = span.partition("-")
        first = _weekday(low)
        last = _weekday(high) if high else (6 if step else first)
    if last == 0 and first > 0:  # "5-7" or "5-0": through Sunday
        last = 7
    if first > last:
        raise ConfigError(f"invalid day-of-week range {part!r}", hint=_CRON_HINT)
    return [d % 7 for d in range(first, last + 1, step or 1)]


def _weekday(text: str) -> int:
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    if text.isdigit() and int(text) <= 7:
        return int(text)  # 7 is Sunday too: taken modulo 7 by the caller
    raise ConfigError(f"invalid day of week {text!r}", hint="use 0-7 (0 or 7 = Sunday) or sun-sat")


# ---------------------------------------------------------------- due times


def fire_after(trigger: CronTrigger, moment: datetime) -> datetime:
    """The first time ``trigger`` fires strictly after ``moment``, in UTC."""
    fire: datetime | None = trigger.get_next_fire_time(None, moment + _TICK)
    if fire is None:  # a cron with no future time (never happens without an end date)
        raise ConfigError("the cron expression never fires again")
    return fire.astimezone(UTC)


def period(source: Scheduled, after: datetime) -> timedelta:
    """How often ``source`` is checked: its interval, or the gap between two cron times."""
    if source.cadence.schedule is None:
        return source.cadence.interval
    trigger = parse_cron(source.cadence.schedule, source.cadence.timezone)
    first = fire_after(trigger, after)
    return fire_after(trigger, first) - first


def max_jitter(every: timedelta) -> timedelta:
    """10% of the period, at most 5 minutes."""
    return min(every * JITTER_SHARE, MAX_JITTER)


def jitter(key: str, every: timedelta) -> timedelta:
    """A stable delay in ``[0, max_jitter(every))`` derived from ``key`` (a source id)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    return timedelta(seconds=round(max_jitter(every).total_seconds() * share, 3))


def next_due(source: Scheduled, state: SourceState, now: datetime) -> datetime:
    """When ``source`` is next due; ``now`` if it was never checked.

    Interval sources: the last check plus the interval plus the source's
    jitter. Cron sources: the first cron time after the last check, plus
    the jitter.
    """
    if state.last_check is None:
        return now
    last = state.last_check.at
    if source.cadence.schedule is None:
        return last + source.cadence.interval + jitter(source.id, source.cadence.interval)
    trigger = parse_cron(source.cadence.schedule, source.cadence.timezone)
    fire = fire_after(trigger, last)
    return fire + jitter(source.id, fire_after(trigger, fire) - fire)


def fired_since(source: Scheduled, last: datetime, now: datetime) -> bool:
    """True when the cron ``schedule`` of ``source`` fired after ``last``, by ``now``."""
    assert source.cadence.schedule is not None
    return fire_after(parse_cron(source.cadence.schedule, source.cadence.timezone), last) <= now


def is_due(source: Scheduled, state: SourceState, now: datetime) -> bool:
    """Never checked, or its next due time has come."""
    return next_due(source, state, now) <= now


def due_sources(
    sources: Iterable[_S], states: Mapping[str, SourceState], now: datetime
) -> list[_S]:
    """The sources due at ``now``, in configuration order: one batch."""
    return [s for s in sources if is_due(s, states.get(s.id) or SourceState(s.id), now)]


def first_run(source: Scheduled, state: SourceState, now: datetime) -> datetime:
    """When the daemon should first wake for ``source``: its due time, or now if overdue."""
    return max(next_due(source, state, now), now)


def report_first_run(cron: str, timezone: str, last: datetime | None, now: datetime) -> datetime:
    """The next digest time; ``now`` if a scheduled time passed since the ``last`` digest."""
    trigger = parse_cron(cron, timezone)
    if last is not None and fire_after(trigger, last) <= now:
        return now
    return fire_after(trigger, now)


def run_times(trigger: BaseTrigger, first: datetime, now: datetime) -> list[datetime]:
    """Every time a job whose next run was ``first`` should have run by ``now``."""
    times: list[datetime] = []
    fire: datetime | None = first
    while fire is not None and fire <= now:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, now)
    return times


def coalesce(times: Sequence[datetime]) -> list[datetime]:
    """Missed runs collapse into one: the latest."""
    return list(times[-1:])


# ---------------------------------------------------------------- the timers


@dataclass(frozen=True)
class Timer:
    """One job as planned: what it wakes for and when it first fires."""

    id: str
    first: datetime
    trigger: BaseTrigger
    grace: timedelta


def source_timer(source: Scheduled, state: SourceState, now: datetime) -> Timer:
    """The job of one source: its trigger, its first run from the committed state."""
    trigger: BaseTrigger
    if source.cadence.schedule is None:
        from apscheduler.triggers.interval import IntervalTrigger

        trigger = IntervalTrigger(seconds=source.cadence.interval.total_seconds(), timezone=UTC)
    else:
        trigger = parse_cron(source.cadence.schedule, source.cadence.timezone)
    every = period(source, now)
    return Timer(f"source:{source.id}", first_run(source, state, now), trigger, _grace(every))


def report_timer(
    index: int, cron: str, timezone: str, last: datetime | None, now: datetime
) -> Timer:
    """The job of one scheduled digest (``reports: schedule:`` entry ``index``)."""
    trigger = parse_cron(cron, timezone)
    first = report_first_run(cron, timezone, last, now)
    return Timer(f"report:{index}", first, trigger, _grace(fire_after(trigger, first) - first))


def _grace(every: timedelta) -> timedelta:
    """A wake-up late by up to one period still runs (once: coalesced)."""
    return max(every, MIN_GRACE)


class _ShutdownIsNoError(logging.Filter):
    """A wake-up job that a stop cancelled before it ran is not an error.

    Shutting the scheduler down cancels the job tasks it has created but not
    yet run, and APScheduler logs each as "Error running job" with the
    CancelledError: on every clean stop that came at the wrong moment.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, asyncio.CancelledError)


_QUIET_SHUTDOWN = _ShutdownIsNoError()
_EXECUTOR_LOG = "apscheduler.executors.default"


class Timers:
    """The APScheduler of ``watcher run``: jobs that wake the daemon on the event loop."""

    def __init__(self, wake: Wake) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._wake = wake
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        executor_log = logging.getLogger(_EXECUTOR_LOG)
        if _QUIET_SHUTDOWN not in executor_log.filters:
            executor_log.addFilter(_QUIET_SHUTDOWN)

    def start(self) -> None:
        """Start firing (call from inside the running event loop)."""
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def replace(self, timers: Iterable[Timer]) -> None:
        """Drop every job and add ``timers`` (start-up and reload)."""
        self._scheduler.remove_all_jobs()
        for timer in timers:
            self._scheduler.add_job(
                self._wake,
                trigger=timer.trigger,
                args=(timer.id,),
                id=timer.id,
                next_run_time=timer.first,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(timer.grace.total_seconds()),
            )

    def move(self, job_id: str, when: datetime) -> None:
        """Fire ``job_id`` next at ``when`` (after a check, from the committed state)."""
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.modify_job(job_id, next_run_time=when)

    def next_runs(self) -> dict[str, datetime]:
        """Each job's next fire time (for the log)."""
        return {
            job.id: job.next_run_time
            for job in self._scheduler.get_jobs()
            if job.next_run_time is not None
        }
