"""Due times, jitter, cron and coalescing, with the clock moved by hand (no sleeping)."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import write_config
from watcher import log
from watcher.config import Source, load_config, make_source
from watcher.config.model import ReportJob
from watcher.daemon.service import plan
from watcher.errors import ConfigError
from watcher.schedule import (
    Timer,
    Timers,
    coalesce,
    crontab_weekdays,
    due_sources,
    fire_after,
    first_run,
    is_due,
    jitter,
    max_jitter,
    next_due,
    parse_cron,
    period,
    report_first_run,
    run_times,
    source_timer,
)
from watcher.state import CheckOutcome, SourceState

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Moscow


def source(sid: str = "fund", **kwargs: object) -> Source:
    return make_source(id=sid, url="https://example.org/", title=sid, **kwargs)  # type: ignore[arg-type]


def checked(at: datetime, sid: str = "fund") -> SourceState:
    return SourceState(source=sid, last_check=CheckOutcome(at=at, outcome="unchanged"))


def test_max_jitter_is_ten_percent_capped_at_five_minutes() -> None:
    assert max_jitter(timedelta(seconds=10)) == timedelta(seconds=1)
    assert max_jitter(timedelta(minutes=30)) == timedelta(minutes=3)
    assert max_jitter(timedelta(hours=1)) == timedelta(minutes=5)
    assert max_jitter(timedelta(days=7)) == timedelta(minutes=5)


@given(st.text(min_size=1, max_size=20), st.integers(min_value=1, max_value=10**7))
def test_jitter_is_stable_and_within_bounds(key: str, seconds: int) -> None:
    every = timedelta(seconds=seconds)
    assert timedelta(0) <= jitter(key, every) <= max_jitter(every)
    assert jitter(key, every) == jitter(key, every)


def test_jitter_spreads_sources_apart() -> None:
    every = timedelta(hours=1)
    offsets = {jitter(f"source-{n}", every) for n in range(20)}
    assert len(offsets) == 20
    assert max(offsets) - min(offsets) > timedelta(minutes=3)


def test_never_checked_is_due_now() -> None:
    fund = source(interval=timedelta(hours=1))
    assert next_due(fund, SourceState("fund"), T0) == T0
    assert is_due(fund, SourceState("fund"), T0)


def test_interval_due_time_comes_from_the_last_check_plus_jitter() -> None:
    fund = source(interval=timedelta(hours=1))
    state = checked(T0)
    due = T0 + timedelta(hours=1) + jitter("fund", timedelta(hours=1))
    assert next_due(fund, state, T0) == due
    assert not is_due(fund, state, due - timedelta(seconds=1))
    assert is_due(fund, state, due)
    # a restart in between neither re-checks nor loses the slot
    assert first_run(fund, state, T0 + timedelta(minutes=10)) == due


def test_overdue_source_runs_once_at_start_up() -> None:
    fund = source(interval=timedelta(hours=1))
    later = T0 + timedelta(days=3)
    assert first_run(fund, checked(T0), later) == later


def test_due_sources_form_one_batch_in_config_order() -> None:
    every = timedelta(minutes=10)
    a, b, c = (source(sid, interval=every) for sid in ("a", "b", "c"))
    states = {"a": checked(T0, "a"), "b": SourceState("b"), "c": checked(T0 - every * 2, "c")}
    assert [s.id for s in due_sources([a, b, c], states, T0)] == ["b", "c"]
    everything = T0 + every * 2
    assert [s.id for s in due_sources([a, b, c], states, everything)] == ["a", "b", "c"]


def test_crontab_weekdays_count_from_sunday() -> None:
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("0") == "sun"
    assert crontab_weekdays("7") == "sun"
    assert crontab_weekdays("5-7") == "sun,fri,sat"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("mon,wed") == "mon,wed"
    assert crontab_weekdays("*") == "*"


def test_cron_runs_in_its_time_zone() -> None:
    trigger = parse_cron("0 9 * * 1", "Europe/Moscow")  # Mondays 09:00 Moscow = 06:00 UTC
    assert fire_after(trigger, T0 - timedelta(seconds=1)) == T0
    nxt = fire_after(trigger, T0)
    assert nxt == T0 + timedelta(days=7)
    assert nxt.weekday() == 0


def test_cron_source_due_after_its_next_time_since_the_last_check() -> None:
    fund = source(schedule="0 6 * * 1-5", timezone="UTC")
    friday = datetime(2026, 3, 6, 6, 0, 30, tzinfo=UTC)
    due = next_due(fund, checked(friday), friday)
    monday = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    assert monday <= due < monday + timedelta(minutes=5)  # the weekend is skipped; jitter <= 5m
    assert period(fund, friday - timedelta(days=1)) == timedelta(days=3)  # Fri -> Mon
    assert period(fund, friday) == timedelta(days=1)  # Mon -> Tue


def test_missed_runs_coalesce_into_one() -> None:
    fund = source(interval=timedelta(minutes=10))
    timer = source_timer(fund, checked(T0), T0 + timedelta(minutes=5))
    missed = run_times(timer.trigger, timer.first, timer.first + timedelta(minutes=95))
    assert len(missed) == 10
    assert coalesce(missed) == [missed[-1]]
    assert timer.grace >= timedelta(minutes=10)


def test_a_missed_digest_runs_at_start_up_else_at_its_time() -> None:
    job = ReportJob(cron="0 9 * * 1")
    tuesday = T0 + timedelta(days=1)
    assert report_first_run(job.cron, "Europe/Moscow", T0 - timedelta(days=7), tuesday) == tuesday
    assert report_first_run(job.cron, "Europe/Moscow", T0, tuesday) == T0 + timedelta(days=7)
    assert report_first_run(job.cron, "Europe/Moscow", None, tuesday) == T0 + timedelta(days=7)


def test_plan_has_one_timer_per_source_and_digest(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """\
        defaults: {interval: 1h, timezone: Europe/Moscow}
        sources:
          - {id: a, url: "https://a.example/", title: A}
          - {id: b, url: "https://b.example/", title: B, schedule: "30 6 * * 1-5"}
        reports:
          schedule:
            - {cron: "0 9 * * 1", formats: [html, atom]}
        """,
    )
    config = load_config(path)
    assert config.sources[1].cadence.schedule == "30 6 * * 1-5"
    assert config.reports.schedule[0].formats == ("html", "atom")
    timers = plan(config, {"a": checked(T0, "a")}, None, T0)
    assert [t.id for t in timers] == ["source:a", "source:b", "report:0"]
    assert timers[0].first == T0 + timedelta(hours=1) + jitter("a", timedelta(hours=1))
    assert timers[1].first == T0  # never checked


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("schedule: '0 6 * *'", "invalid cron expression"),
        ("schedule: '61 6 * * *'", "invalid cron expression"),
        ("schedule: '0 6 1 * 1'", "restricts both"),
        ("schedule: '0 6 * * 9'", "day of week"),
        ("timezone: Mars/Olympus", "unknown time zone"),
    ],
)
def test_schedule_config_is_strict(tmp_path: Path, snippet: str, message: str) -> None:
    path = write_config(
        tmp_path,
        f"sources:\n  - id: a\n    url: https://a.example/\n    title: A\n    {snippet}\n",
    )
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert info.value.line == 5


def test_default_time_zone_is_moscow(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sources:\n  - {id: a, url: 'https://a.example/', title: A}\n")
    config = load_config(path)
    assert config.defaults.timezone == "Europe/Moscow" == config.sources[0].cadence.timezone


def test_check_due_follows_a_cron_schedule_not_the_interval() -> None:
    from watcher.check.run import is_due as check_is_due

    # 09:00 Moscow on weekdays; the default interval (1 day) would say "not yet".
    fund = source(schedule="0 9 * * 1-5", timezone="Europe/Moscow", interval=timedelta(days=1))
    before_nine = checked(T0 - timedelta(hours=1))  # 08:00 Moscow, Monday
    assert check_is_due(fund, before_nine, T0)  # 09:00 came since
    assert not check_is_due(fund, before_nine, T0 - timedelta(minutes=1))
    after_nine = checked(T0 + timedelta(minutes=30))
    assert not check_is_due(fund, after_nine, T0 + timedelta(hours=12))  # 21:00, same day
    assert check_is_due(fund, after_nine, T0 + timedelta(days=1))  # Tuesday 09:00
    plain = source(interval=timedelta(hours=6))
    assert not check_is_due(plain, checked(T0), T0 + timedelta(hours=5))
    assert check_is_due(plain, checked(T0), T0 + timedelta(hours=6))


def test_a_stop_that_cancels_a_due_wake_up_logs_no_error() -> None:
    """`watcher run` stopped cleanly must not log level=error (people alert on it)."""
    stream = io.StringIO()
    handler = log.configure(stream, "text")
    woke: list[str] = []

    async def wake(job_id: str) -> None:
        woke.append(job_id)

    async def start_and_stop() -> None:
        timers = Timers(wake)
        due = datetime.now(UTC) - timedelta(seconds=1)
        trigger = IntervalTrigger(seconds=3600, timezone=UTC)
        timers.replace([Timer("source:a", due, trigger, timedelta(hours=1))])
        timers.start()  # the due job's task is created here...
        timers.shutdown()  # ...and a stop cancels it before it runs
        await asyncio.sleep(0.05)

    try:
        asyncio.run(start_and_stop())
    finally:
        for name in ("watcher", "apscheduler"):
            logging.getLogger(name).removeHandler(handler)
    assert "level=error" not in stream.getvalue()
    assert "CancelledError" not in stream.getvalue()
