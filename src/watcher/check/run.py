"""One run of ``watcher check``: which sources, and all of them at once.

Every source goes through the stages as one :class:`~watcher.check.source.SourceCheck`,
concurrently, within the politeness limits of one shared
:class:`~watcher.fetch.client.Fetcher`. A failure is recorded for that
source alone; it never aborts the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from watcher.check.record import unrecorded
from watcher.check.reported import pending
from watcher.check.signal import with_site_templates
from watcher.check.source import SourceCheck
from watcher.config.model import Source
from watcher.errors import StateError
from watcher.fetch.client import Fetcher, Transport
from watcher.project import Project
from watcher.results import Clock, RunResult, SourceResult, utcnow
from watcher.state import SourceState
from watcher.text.workers import renderers_for


def select_sources(
    project: Project,
    *,
    source_ids: Sequence[str] = (),
    guide_ids: Sequence[str] = (),
    due_only: bool = False,
    now: datetime | None = None,
) -> list[Source]:
    """The sources a check should cover, in configuration order."""
    config = project.config
    wanted = {config.source(sid).id for sid in source_ids}
    for gid in guide_ids:
        wanted.update(config.guide(gid).source_ids)
    sources = [s for s in config.sources if not wanted or s.id in wanted]
    if due_only:
        moment = now or utcnow()
        sources = [s for s in sources if _due(project, s, moment)]
    return sources


def _due(project: Project, source: Source, now: datetime) -> bool:
    """Due, or its state is damaged: then its check says so, and the others go on."""
    try:
        state = project.store.load_state(source.id)
    except StateError:
        return True
    return is_due(source, state, now)


def is_due(source: Source, state: SourceState, now: datetime) -> bool:
    """Never checked, or its cron ``schedule`` fired or its ``interval`` elapsed since.

    For ``check --due`` from cron: no jitter (the crontab spreads the runs).
    """
    if state.last_check is None:
        return True
    if source.cadence.schedule is not None:
        from watcher.schedule import fired_since  # APScheduler: only for sources with a schedule

        return fired_since(source, state.last_check.at, now)
    return now - state.last_check.at >= source.cadence.interval


def check_now(
    project: Project,
    sources: Sequence[Source],
    *,
    on_result: Callable[[SourceResult], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> RunResult:
    """:func:`run_check` for a command, with the changes earlier checks never reported.

    Ctrl-C stops the run where its sources wait on the network (never inside
    a source's writes): the result then holds the sources checked before
    it, whose changes are stored, and says it was ``interrupted``.
    """
    earlier = pending(project)
    done: list[SourceResult] = []

    def collect(result: SourceResult) -> None:
        done.append(result)
        if on_result is not None:
            on_result(result)

    started = utcnow()
    try:
        run = asyncio.run(run_check(project, sources, on_result=collect, on_start=on_start))
    except KeyboardInterrupt:
        run = RunResult(started, utcnow(), tuple(done), interrupted=True)
    return replace(run, earlier=earlier)


async def run_check(
    project: Project,
    sources: Sequence[Source],
    *,
    clock: Clock = utcnow,
    transport: Transport | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> RunResult:
    """Check ``sources`` concurrently within the politeness limits.

    ``on_start(source_id)`` is told when a source's request really starts
    (past the politeness limits), ``on_result`` when its check is done.
    """
    started = clock()
    project.store.repairs.clear()
    project.reconcile()
    defaults = project.config.defaults
    renderers = renderers_for(defaults.workers, len(sources))
    by_url = {source.url: source.id for source in sources}

    def requested(url: str) -> None:
        if on_start is not None and url in by_url:  # robots.txt is no source's request
            on_start(by_url[url])

    fetcher = Fetcher(
        concurrency=defaults.concurrency, transport=transport, on_request=requested
    )
    async with fetcher:

        async def one(source: Source) -> SourceResult:
            try:
                check = SourceCheck(project, source, fetcher, renderers, clock)
            except StateError as exc:
                result = unrecorded(source, exc, clock())
            else:
                result = await check.run()
            if on_result is not None:
                on_result(result)
            return result

        try:
            # Every source runs to its end whatever another one raised: the
            # results of the others are stored before the first error goes up.
            gathered = await asyncio.gather(*(one(s) for s in sources), return_exceptions=True)
        finally:
            await renderers.aclose()
    results = []
    for item in gathered:
        if isinstance(item, BaseException):
            raise item
        results.append(item)
    return RunResult(
        started=started,
        finished=clock(),
        results=with_site_templates(project, results),
        rendered_in_workers=renderers.in_workers,
        repairs=tuple(project.store.repairs),
    )
