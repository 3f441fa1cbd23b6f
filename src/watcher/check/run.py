"""One run of ``watcher check``: which sources, and all of them at once.

Every source goes through the stages as one :class:`~watcher.check.source.SourceCheck`,
concurrently, within the politeness limits of one shared
:class:`~watcher.fetch.client.Fetcher`. A failure is recorded for that
source alone; it never aborts the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from watcher.check.record import unrecorded
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


async def run_check(
    project: Project,
    sources: Sequence[Source],
    *,
    clock: Clock = utcnow,
    transport: Transport | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
) -> RunResult:
    """Check ``sources`` concurrently within the politeness limits."""
    started = clock()
    project.store.repairs.clear()
    project.reconcile()
    defaults = project.config.defaults
    renderers = renderers_for(defaults.workers, len(sources))
    async with Fetcher(concurrency=defaults.concurrency, transport=transport) as fetcher:

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
