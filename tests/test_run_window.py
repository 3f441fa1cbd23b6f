"""The run's window: sources interleaved by host, a bounded number at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import write_config
from tests.webserver import Page, WebSite
from watcher.check.run import MIN_WINDOW, in_window, interleaved, run_check, window_for
from watcher.config.model import Source
from watcher.project import Project
from watcher.results import BASELINE, SourceResult, utcnow


def sources_over(tmp_path: Path, counts: dict[str, int], per_host: int = 2) -> list[Source]:
    lines = [f"defaults:\n  per_host: {per_host}\nsources:"]
    for host, count in counts.items():
        name = host.split(".")[0]
        entry = "  - {{id: {}-{}, url: 'https://{}/p{}', title: T}}"
        lines += [entry.format(name, n, host, n) for n in range(count)]
    return list(Project.load(write_config(tmp_path, "\n".join(lines) + "\n")).config.sources)


def test_interleaved_spreads_every_host_evenly(tmp_path: Path) -> None:
    sources = sources_over(tmp_path, {"a.example": 6, "b.example": 3, "c.example": 1})
    order = [s.id for s in interleaved(sources)]
    assert sorted(order) == sorted(s.id for s in sources)
    hosts = [sid.split("-")[0] for sid in order]
    assert hosts[0] == "a"  # the busiest host starts first
    # every third of the run holds a third of each host's sources
    for third in (hosts[:4], hosts[3:7], hosts[6:]):
        assert third.count("a") >= 2
    assert hosts.index("b") < 3 and hosts[-1] != "b"
    for host in ("a", "b"):  # each host's own sources keep their order
        mine = [sid for sid in order if sid.startswith(host)]
        assert mine == sorted(mine, key=lambda sid: int(sid.rsplit("-", 1)[1]))


def test_window_fills_every_hosts_slots_twice(tmp_path: Path) -> None:
    sources = sources_over(tmp_path, {f"h{n}.example": 50 for n in range(20)})
    assert window_for(sources, concurrency=64) == 2 * 40
    assert window_for(sources, concurrency=16) == 2 * 16
    assert window_for(sources[:3], concurrency=64) == MIN_WINDOW


def test_in_window_keeps_the_given_order_and_the_bound(tmp_path: Path) -> None:
    sources = sources_over(tmp_path, {"a.example": 30, "b.example": 10})
    busy = 0
    most = 0

    async def one(source: Source) -> SourceResult:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.001)
        busy -= 1
        return SourceResult(source=source.id, outcome=BASELINE, at=utcnow())

    results = asyncio.run(in_window(sources, 7, one))
    assert [r.source for r in results] == [s.id for s in sources]
    assert most == 7


def test_a_run_larger_than_its_window_checks_every_source(tmp_path: Path, site: WebSite) -> None:
    for n in range(40):
        site.routes[f"/p{n}"] = Page(f"<html><body><main><p>страница {n}</p></main></body></html>")
    sources = "\n".join(f"  - {{id: p{n}, url: '{site.url}/p{n}', title: T}}" for n in range(40))
    config = f"defaults:\n  per_host: 2\n  workers: 0\nsources:\n{sources}\n"
    project = Project.load(write_config(tmp_path, config))
    run = asyncio.run(run_check(project, project.config.sources))
    assert [r.source for r in run.results] == [f"p{n}" for n in range(40)]
    assert {r.outcome for r in run.results} == {BASELINE}
    assert site.max_in_flight <= 2
