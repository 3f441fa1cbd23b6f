"""One run of ``watcher check``: which sources, and in what order.

Every source goes through the stages as one :class:`~watcher.check.source.SourceCheck`,
concurrently, within the politeness limits of one shared
:class:`~watcher.fetch.client.Fetcher`. A failure is recorded for that
source alone; it never aborts the run.

Sources are taken in a window: a fixed number of lanes (:func:`window_for`)
each check one source at a time, taking the next from one queue in which
every host's sources are spread evenly (:func:`interleaved`). Every host
then has work waiting while its politeness slots free up, the busiest
host most of all, and only the sources in the window have their state,
body and text in memory, however many the run has.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
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
from watcher.results import CHANGED, Clock, RunResult, SourceResult, utcnow
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


WINDOW_PER_SLOT = 2
"""Lanes per politeness slot: one fetching, one rendering or recording."""
MIN_WINDOW = 16


def interleaved(sources: Sequence[Source]) -> list[Source]:
    """The sources with every host's spread evenly over the run, the busiest first.

    Source ``i`` of a host with ``n`` sources takes its place at ``(i + 0.5) / n``
    of the run: each host is reached at the rate its share calls for, so all
    hosts finish together and the busiest one is never left idle.
    """
    by_host: dict[str, list[Source]] = {}
    for source in sources:
        by_host.setdefault(source.host, []).append(source)
    hosts = sorted(by_host.values(), key=len, reverse=True)
    placed = [
        ((i + 0.5) / len(group), rank, source)
        for rank, group in enumerate(hosts)
        for i, source in enumerate(group)
    ]
    return [source for _, _, source in sorted(placed, key=lambda p: (p[0], p[1]))]


def window_for(sources: Sequence[Source], concurrency: int) -> int:
    """How many sources are checked at once: enough to fill every host's slots twice."""
    per_host: dict[str, int] = {}
    for source in sources:
        per_host[source.host] = min(per_host.get(source.host, 0) + 1, source.fetch.per_host)
    slots = min(sum(per_host.values()), concurrency)
    return max(MIN_WINDOW, WINDOW_PER_SLOT * slots)


async def in_window(
    sources: Sequence[Source], lanes: int, one: Callable[[Source], Awaitable[SourceResult]]
) -> list[SourceResult]:
    """``one`` over every source, ``lanes`` at a time, results in the order given.

    Every source runs to its end whatever another one raised: the results
    of the others are stored before the first error goes up.
    """
    queue: Iterator[Source] = iter(interleaved(sources))
    done: dict[str, SourceResult] = {}
    errors: list[BaseException] = []

    async def lane() -> None:
        for source in queue:  # shared: each lane takes the next source
            try:
                done[source.id] = await one(source)
            except Exception as exc:
                errors.append(exc)

    await asyncio.gather(*(lane() for _ in range(min(lanes, len(sources)))))
    if errors:
        raise errors[0]
    return [done[source.id] for source in sources]


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
    fresh = sum(not project.store.state_path(s.id).exists() for s in sources)
    renderers = renderers_for(defaults.workers, len(sources), expected=fresh)
    renderers.warm()
    hosts = _HostChanges(project, sources, on_result)
    by_url = {source.url: source.id for source in sources}

    def requested(url: str) -> None:
        if on_start is not None and url in by_url:  # robots.txt is no source's request
            on_start(by_url[url])

    fetcher = Fetcher(
        concurrency=defaults.concurrency, transport=transport, on_request=requested
    )
    async with fetcher:

        async def one(source: Source) -> SourceResult:
            defer = hosts.shared(source)
            try:
                check = SourceCheck(project, source, fetcher, renderers, clock, defer)
            except StateError as exc:
                result = unrecorded(source, exc, clock())
            else:
                result = await check.run()
            hosts.done(source, result, deferred=defer and result.outcome == CHANGED)
            return result

        try:
            with project.journal.grouped():
                lanes = window_for(sources, defaults.concurrency)
                results = await in_window(sources, lanes, one)
        except BaseException:  # Ctrl-C or a bug: the changes held for their hosts are stored,
            hosts.settle_all()  # and reported now, assessed with the pages in so far
            raise
        finally:
            await renderers.aclose()
    project.seal()
    return RunResult(
        started=started,
        finished=clock(),
        results=tuple(hosts.final.get(r.source, r) for r in results),
        rendered_in_workers=renderers.in_workers,
        repairs=tuple(project.store.repairs),
        migrated=tuple(project.migrated),
    )


class _HostChanges:
    """Changes of sources that share their host, held until the host's last source is in.

    Then they are assessed and flagged knowing the site's template
    (:func:`~watcher.check.signal.with_site_templates`), while the other
    hosts' requests are still on the wire; ``on_result`` hears of each
    result once it is final.
    """

    def __init__(
        self,
        project: Project,
        sources: Sequence[Source],
        on_result: Callable[[SourceResult], None] | None,
    ) -> None:
        self._project = project
        self._on_result = on_result
        self._configured = Counter(s.host for s in project.config.sources)
        self._left = Counter(s.host for s in sources)
        self._held: dict[str, list[SourceResult]] = {}
        self.final: dict[str, SourceResult] = {}

    def shared(self, source: Source) -> bool:
        return self._configured[source.host] > 1

    def done(self, source: Source, result: SourceResult, *, deferred: bool) -> None:
        if deferred:
            self._held.setdefault(source.host, []).append(result)
        else:
            self._heard(result)
        self._left[source.host] -= 1
        if self._left[source.host] == 0:
            self._settle(source.host)

    def settle_all(self) -> None:
        """Assess and report every held change now (the run stops before its hosts are done)."""
        for host in list(self._held):
            self._settle(host)

    def _settle(self, host: str) -> None:
        for settled in with_site_templates(self._project, self._held.pop(host, [])):
            self.final[settled.source] = settled
            self._heard(settled)

    def _heard(self, result: SourceResult) -> None:
        if self._on_result is not None:
            self._on_result(result)
