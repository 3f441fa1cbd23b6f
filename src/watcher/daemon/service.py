"""``watcher run``: check each source when it is due, alert, write scheduled digests.

One asyncio event loop holds everything:

- the :class:`~watcher.schedule.Timers` (APScheduler), one job per source
  and per scheduled digest, which only *wake* the runner;
- the runner: on a wake-up it waits :data:`BATCH_WINDOW` so everything due
  at once joins, then checks every due source (from the committed state)
  in **one** :func:`~watcher.check.source.run_check`, within the politeness
  limits of ``watcher check``; sends the alerts (:mod:`watcher.notify.alerts`);
  writes the digests whose time came; and moves each source's timer to its
  next due time. The project lock is held for that cycle only, and waited
  for while another run (a cron check, an editor's review) holds it;
- signal handlers: ``SIGHUP`` reloads ``sources.yaml`` after validating it
  (a broken file is logged with its line and the running configuration
  stays); ``SIGTERM``/``SIGINT`` stop: at once when idle, else after the
  batch in flight. A batch still running :data:`STOP_GRACE` later (or at a
  second signal) is cancelled *between* sources: cancellation only lands
  where a source awaits the network, never inside the synchronous writes of
  a finished source, and the project is reconciled before the lock goes.

Everything is logged as one-line events (:mod:`watcher.log`); nothing is
printed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.check.reported import mark_reported, pending, reported_in
from watcher.check.run import run_check
from watcher.config.model import Config, Source
from watcher.errors import LockedError, NotifyError, StateError, WatcherError
from watcher.log import event
from watcher.notify import alerts
from watcher.notify.digests import run_job
from watcher.project import Project
from watcher.report.output import last_digest
from watcher.results import Clock, RunResult, SourceResult, utcnow
from watcher.schedule import (
    Timer,
    Timers,
    due_sources,
    first_run,
    is_due,
    report_timer,
    source_timer,
)
from watcher.state import SourceState

BATCH_WINDOW = 0.5
"""Seconds a wake-up waits so that sources due at the same moment share one batch."""
STOP_GRACE = 60.0
"""Seconds a stop waits for the batch in flight before cancelling it between sources."""
LOCK_POLL = 0.5
HOLD = timedelta(minutes=5)
"""How long a source whose check recorded nothing waits before it is tried again."""
ALERT_RETRY = 300.0
"""Seconds until alerts a channel refused are tried again, though no source is due."""
LOCK_RETRY = 30.0
"""After giving up on a busy lock (``--wait``), seconds until the next try."""

logger = logging.getLogger("watcher.daemon")


def precise_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Daemon:
    """The ``watcher run`` process: configuration, timers and the run loop."""

    config_path: Path
    db_url: str | None = None
    wait: float | None = None  # seconds to wait for the lock per batch; None: as long as it takes
    clock: Clock = utcnow  # times recorded in the state (whole seconds)
    timer_clock: Clock = precise_now  # due-time decisions: a 1s interval needs the fraction
    project: Project = field(init=False)
    _timers: Timers = field(init=False)
    _wake: asyncio.Event = field(init=False)
    _stop: asyncio.Event = field(init=False)
    _reports_due: set[int] = field(default_factory=set, init=False)
    _alerts_owed: bool = field(default=False, init=False)
    _once: bool = field(default=False, init=False)
    _batch: asyncio.Task[None] | None = field(default=None, init=False)
    _stopping: bool = field(default=False, init=False)
    _reload_asked: bool = field(default=False, init=False)
    _held: dict[str, datetime] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.project = Project.load(self.config_path, self.db_url)  # ConfigError: exit 2
        self._timers = Timers(self._on_timer)

    # ------------------------------------------------------------ one-shot

    async def once(self) -> RunResult | None:
        """Check what is due now, alert, and return (``watcher run --once``)."""
        self._once = True
        try:
            with self.project.lock("run", wait=self.wait or 0.0):
                run = await self._check_due()
                if run is None:  # say so: a silent --once looks like one that never ran
                    event(logger, "batch.none_due", next=self._next_due())
                return run
        finally:
            self.project.close()

    def _next_due(self) -> datetime | None:
        states, now = self._states(), self.timer_clock()
        times = [first_run(s, states[s.id], now) for s in self.project.config.sources]
        return min(times, default=None)

    # ------------------------------------------------------------ the loop

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT; return after a clean stop."""
        self._wake, self._stop = asyncio.Event(), asyncio.Event()
        self._install_signals()
        self._timers.replace(self._plan())
        self._timers.start()
        event(logger, "daemon.started", config=str(self.project.config.path), **self._counts())
        for warning in self.project.config.warnings:
            event(logger, "config.warning", logging.WARNING, warning=str(warning))
        try:
            while await self._next_wake():
                await self._run_cycle()
        finally:
            self._timers.shutdown()
            self.project.close()
        event(logger, "daemon.stopped")

    async def _next_wake(self) -> bool:
        """Wait for a timer, a reload or a stop; False when stopping."""
        await self._wake.wait()
        if not self._stopping:
            with suppress(TimeoutError):  # let everything due at this moment join the batch
                await asyncio.wait_for(self._stop.wait(), BATCH_WINDOW)
        self._wake.clear()
        if self._reload_asked and not self._stopping:
            self._reload()
        return not self._stopping

    async def _run_cycle(self) -> None:
        self._batch = asyncio.create_task(self._cycle())
        await asyncio.wait({self._batch})
        task, self._batch = self._batch, None
        if task.cancelled():
            event(logger, "batch.cancelled", logging.WARNING)
        elif (exc := task.exception()) is not None:
            level = logging.ERROR
            if isinstance(exc, WatcherError):
                event(logger, "cycle.failed", level, error=str(exc))
            else:
                logger.log(level, "cycle.failed", exc_info=exc, extra={"fields": {}})
        self._reschedule()

    async def _cycle(self) -> None:
        """One wake-up: the due batch, alerts and digests, under the lock."""
        due = self._due()
        if not due and not self._reports_due and not self._alerts_owed:
            return
        lock = await self._acquire()
        if lock is None:
            return
        with lock:
            if await self._check_due() is None and self._alerts_owed:
                self._alert()  # retry the channels that failed, though nothing was due
            self._write_digests()

    async def _check_due(self) -> RunResult | None:
        """Check every due source in one run, then send the alerts it calls for."""
        project = self.project
        _log_unreported(project)
        due = self._due()
        if not due:
            return None
        event(logger, "batch.started", sources=[s.id for s in due])
        logged: list[SourceResult] = []  # each result is logged (reported) as it comes

        def on_result(result: SourceResult) -> None:
            _log_result(result)
            logged.append(result)

        started = time.monotonic()
        try:
            run = await run_check(project, due, clock=self.clock, on_result=on_result)
        except asyncio.CancelledError:
            project.reconcile()  # still under the lock: finish what an interrupted write left
            mark_reported(project, reported_in(RunResult(utcnow(), utcnow(), tuple(logged))))
            raise
        finally:
            self._hold_unrecorded(due)
        mark_reported(project, reported_in(run))
        event(logger, "batch.done", **_summary(run, time.monotonic() - started))
        for moved in run.migrated:
            event(logger, "store.migrated", logging.INFO, migrated=moved)
        for repair in run.repairs:
            event(logger, "store.repaired", logging.WARNING, repair=repair)
        self._alert()
        return run

    def _alert(self) -> None:
        if self.project.config.notify is None:
            return
        try:
            delivery = alerts.dispatch(self.project, self.clock())
        except WatcherError as exc:  # the record could not be written: log, retry next batch
            event(logger, "alerts.failed", logging.ERROR, error=str(exc))
            delivery = alerts.Delivery(failed=(("record", str(exc)),))
        else:
            _log_delivery(delivery)
        self._alerts_owed = bool(delivery.failed)
        if self._alerts_owed and not self._once:
            asyncio.get_running_loop().call_later(ALERT_RETRY, self._wake.set)

    def _write_digests(self) -> None:
        jobs = self.project.config.reports.schedule
        for index in sorted(self._reports_due):
            if index >= len(jobs):
                continue
            try:
                done = run_job(self.project, jobs[index], self.clock())
            except (NotifyError, WatcherError) as exc:
                event(logger, "report.failed", logging.ERROR, job=index, error=str(exc))
                continue
            files = [str(p) for p in done.written]
            event(logger, "report.done", job=index, files=files, mailed=list(done.mailed))
        self._reports_due.clear()

    async def _acquire(self) -> ExitStack | None:
        """The project lock, waited for without blocking signals; None if stopping."""
        deadline = None if self.wait is None else time.monotonic() + self.wait
        told = False
        while not self._stopping:
            stack = ExitStack()
            try:
                stack.enter_context(self.project.lock("run"))
                return stack
            except LockedError as exc:
                if not told:
                    event(logger, "lock.busy", holder=exc.message)
                    told = True
            if deadline is not None and time.monotonic() >= deadline:
                event(logger, "lock.gave_up", logging.WARNING, retry_in=LOCK_RETRY)
                asyncio.get_running_loop().call_later(LOCK_RETRY, self._wake.set)
                return None
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), LOCK_POLL)
        return None

    # ------------------------------------------------------------ timers

    def _plan(self) -> list[Timer]:
        states = self._states()
        return plan(self.project.config, states, last_digest(self.project), self.timer_clock())

    # ------------------------------------------------------------ holds

    def _states(self) -> dict[str, SourceState]:
        return {source.id: self._state(source.id) for source in self.project.config.sources}

    def _state(self, source_id: str) -> SourceState:
        """The committed state; a damaged one reads as never checked (it is due, then held)."""
        try:
            return self.project.store.load_state(source_id)
        except StateError:
            return SourceState(source_id)

    def _due(self) -> list[Source]:
        """The sources due now, but for those held after a check that recorded nothing."""
        now = self.timer_clock()
        self._held = {sid: until for sid, until in self._held.items() if until > now}
        due = due_sources(self.project.config.sources, self._states(), now)
        return [s for s in due if s.id not in self._held]

    def _hold_unrecorded(self, batch: list[Source]) -> None:
        """A source of ``batch`` still due (its check recorded nothing: damaged state, a
        failed batch) waits :data:`HOLD` (at most its interval), never the next wake-up."""
        now = self.timer_clock()
        for source in batch:
            if is_due(source, self._state(source.id), now):
                hold = max(min(source.cadence.interval, HOLD), timedelta(seconds=BATCH_WINDOW))
                self._held[source.id] = now + hold
                event(logger, "source.held", logging.WARNING, source=source.id, until=now + hold)

    async def _on_timer(self, job_id: str) -> None:
        kind, _, name = job_id.partition(":")
        if kind == "report":
            self._reports_due.add(int(name))
        self._wake.set()

    def _reschedule(self) -> None:
        """Move each source's timer to its next due time, from the committed state."""
        now = self.timer_clock()
        states = self._states()
        for source in self.project.config.sources:
            when = max(first_run(source, states[source.id], now), self._held.get(source.id, now))
            self._timers.move(f"source:{source.id}", when)

    def _counts(self) -> dict[str, Any]:
        config = self.project.config
        runs = self._timers.next_runs()
        first = min(runs.values()) if runs else None
        return {
            "sources": len(config.sources),
            "digests": len(config.reports.schedule),
            "next": first,
        }

    # ------------------------------------------------------------ signals

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self._on_hup)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop, sig.name)

    def _on_hup(self) -> None:
        event(logger, "config.reload_requested", busy=self._batch is not None)
        self._reload_asked = True
        self._wake.set()

    def _on_stop(self, name: str) -> None:
        busy = self._batch is not None and not self._batch.done()
        if self._stopping and busy:
            event(logger, "daemon.cancelling", signal=name)
            self._cancel()
            return
        self._stopping = True
        self._stop.set()
        event(logger, "daemon.stopping", signal=name, batch_in_flight=busy)
        if busy:
            asyncio.get_running_loop().call_later(STOP_GRACE, self._cancel)
        self._wake.set()

    def _cancel(self) -> None:
        if self._batch is not None and not self._batch.done():
            self._batch.cancel()

    def _reload(self) -> None:
        """Swap in the edited configuration, or keep the running one if it is invalid."""
        self._reload_asked = False
        try:
            fresh = Project.load(self.config_path, self.db_url)
        except WatcherError as exc:
            event(logger, "config.rejected", logging.ERROR, error=str(exc))
            return
        old, self.project = self.project, fresh
        old.close()
        self._timers.replace(self._plan())
        event(logger, "config.reloaded", **self._counts())


def _log_result(result: SourceResult) -> None:
    fields: dict[str, Any] = {"source": result.source, "outcome": result.outcome}
    if result.error:
        fields |= {"kind": result.error_kind, "error": result.error}
        fields["failures"] = result.consecutive_failures
    if result.new_hash and result.outcome != "unchanged":
        fields["hash"] = result.new_hash
    if result.flagged:
        fields["flagged"] = list(result.flagged)
    if result.newly_failing:
        fields["newly_failing"] = True
    if result.recovered:
        fields["recovered"] = True
    level = logging.WARNING if result.error else logging.INFO
    if result.traceback:  # a bug met on this source: its failure is recorded, the rest goes on
        fields["traceback"] = result.traceback
        level = logging.ERROR
    event(logger, "check.done", level, **fields)


def _log_unreported(project: Project) -> None:
    """Changes an interrupted check stored and never reported: logged now, so reported."""
    earlier = pending(project)
    for change in earlier:
        event(
            logger,
            "check.unreported",
            source=change.source,
            old_hash=change.old_hash,
            hash=change.new_hash,
            stored=change.at,
        )
    mark_reported(project, {change.source for change in earlier})


def _summary(run: RunResult, seconds: float) -> dict[str, Any]:
    """The batch's outcomes and its duration, measured (the recorded times are whole seconds)."""
    counts = Counter(str(r.outcome) for r in run.results)
    return {**counts, "flagged": list(run.flagged_guides), "seconds": round(seconds, 3)}


def _log_delivery(delivery: alerts.Delivery) -> None:
    if delivery.seeded:
        event(logger, "alerts.seeded", conditions=delivery.seeded)
    for key in delivery.new:
        event(logger, "alert.new", key=key)
    for channel, key in delivery.sent:
        event(logger, "alert.sent", channel=channel, key=key)
    for channel, error in delivery.failed:
        event(logger, "alert.failed", logging.WARNING, channel=channel, error=error)
    for key in delivery.dropped:
        event(logger, "alert.dropped", logging.WARNING, key=key)


def plan(
    config: Config,
    states: Mapping[str, SourceState],
    last_digest: datetime | None,
    now: datetime,
) -> list[Timer]:
    """Every timer of a configuration."""
    timers = [source_timer(s, states.get(s.id) or SourceState(s.id), now) for s in config.sources]
    timezone = config.defaults.timezone
    for index, job in enumerate(config.reports.schedule):
        timers.append(report_timer(index, job.cron, timezone, last_digest, now))
    return timers
