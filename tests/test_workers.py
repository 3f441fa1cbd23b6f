"""Worker processes for the render stage: same text, same errors, nothing lost."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.config import make_source
from watcher.errors import QualityError, SourceError
from watcher.project import Project
from watcher.results import Fetched
from watcher.text.render import render_fetched
from watcher.text.workers import Renderers, renderers_for

SOURCE = make_source(
    id="fund",
    url="https://fund.example/oms",
    title="Fund",
    select=("article",),
    ignore=(),
)

ARTICLE = """<html><head><meta charset="utf-8"><title>ОМС</title></head><body>
<nav>Главная · Новости</nav><article><h1>Полис ОМС</h1>
<p>Иностранные граждане, работающие по трудовому договору, застрахованы в системе ОМС.</p>
<p>Срок оформления полиса — 5 рабочих дней.</p></article></body></html>"""

CAPTCHA = """<html><head><title>Вы не робот?</title></head><body>
<div class="smart-captcha"></div></body></html>"""


def fetched(body: str | bytes, charset: str | None = "utf-8") -> Fetched:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Fetched(
        url=SOURCE.url,
        final_url=SOURCE.url,
        status=200,
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        duration_ms=10,
        body=data,
        content_type="text/html",
        charset=charset,
    )


def in_worker(*bodies: Fetched) -> tuple[list[object], Renderers]:
    """Render each body with one worker process; the text, or the error raised."""

    async def go() -> tuple[list[object], Renderers]:
        renderers = Renderers(1)
        assert await renderers.ready() == 1
        answers: list[object] = []
        try:
            for body in bodies:
                try:
                    answers.append(await renderers.render(SOURCE.text, body, None))
                except SourceError as exc:
                    answers.append(exc)
        finally:
            await renderers.aclose()
        return answers, renderers

    return asyncio.run(go())


def test_a_worker_renders_the_same_text_as_this_process() -> None:
    cp1251 = ARTICLE.replace('charset="utf-8"', 'charset="windows-1251"').encode("cp1251")
    bodies = (fetched(ARTICLE), fetched(cp1251, charset=None))
    answers, renderers = in_worker(*bodies)
    assert renderers.in_workers == 2
    assert answers == [render_fetched(SOURCE.text, body, None) for body in bodies]
    assert "Срок оформления полиса - 5 рабочих дней." in answers[1].text  # type: ignore[attr-defined]


def test_a_source_error_crosses_from_the_worker_whole() -> None:
    answers, renderers = in_worker(fetched(CAPTCHA))
    assert renderers.in_workers == 1
    error = answers[0]
    assert isinstance(error, QualityError)
    with pytest.raises(QualityError) as here:
        render_fetched(SOURCE.text, fetched(CAPTCHA), None)
    assert (error.kind, str(error), error.url, error.status) == (
        here.value.kind,
        str(here.value),
        here.value.url,
        here.value.status,
    )


def test_a_dead_worker_loses_nothing() -> None:
    async def go() -> tuple[list[str], Renderers]:
        renderers = Renderers(1)
        await renderers.ready()
        texts = [(await renderers.render(SOURCE.text, fetched(ARTICLE), None)).text]
        for worker in renderers._workers:  # the OOM killer, say
            os.kill(worker.process.pid, signal.SIGKILL)
            await worker.process.wait()
        texts.append((await renderers.render(SOURCE.text, fetched(ARTICLE), None)).text)
        await renderers.aclose()
        return texts, renderers

    texts, renderers = asyncio.run(go())
    assert texts[0] == texts[1] != ""
    assert (renderers.in_workers, renderers.in_process) == (1, 1)


def test_auto_uses_the_spare_cores_once_there_is_work_to_share() -> None:
    spare = max(1, min(len(os.sched_getaffinity(0)) - 1, 4))
    assert renderers_for("auto").wanted == spare
    assert renderers_for(0).wanted == 0
    assert renderers_for(2).wanted == 2

    async def go() -> Renderers:
        renderers = renderers_for("auto")
        for _ in range(10):  # a small run, or one of 304s: nothing to share
            await renderers.render(SOURCE.text, fetched(ARTICLE), None)
        await renderers.aclose()
        return renderers

    small = asyncio.run(go())
    assert (small.in_process, small.in_workers, small._workers) == (10, 0, [])


def test_auto_starts_with_a_run_expected_to_render_many_bodies() -> None:
    async def go() -> Renderers:
        renderers = renderers_for("auto", 1000, expected=1000)  # a cold run
        renderers.warm()
        assert await renderers.ready() >= 1  # started before the first body came
        await renderers.render(SOURCE.text, fetched(ARTICLE), None)
        await renderers.aclose()
        return renderers

    cold = asyncio.run(go())
    assert (cold.in_process, cold.in_workers) == (0, 1)
    steady = renderers_for("auto", 1000, expected=10)  # mostly 304s: none until there is work
    steady.warm()
    assert steady._starting is None


CONFIG = """\
defaults:
  timeout: 5s
  retries: 0
  per_host: 4
  workers: {workers}
sources:
{sources}
guides:
  - id: guide
    title: Guide
    url: https://guides.example.org/guide
    owner: editor@example.org
    sources: [{ids}]
"""


def project_of(root: Path, site: WebSite, workers: int, pages: int) -> Project:
    ids = [f"p{i:02d}" for i in range(pages)]
    sources = "\n".join(
        f"  - {{id: {i}, url: '{site.url}/{i}', title: Page {i}, select: article}}" for i in ids
    )
    root.mkdir()
    text = CONFIG.format(workers=workers, sources=sources, ids=", ".join(ids))
    return Project.load(write_config(root, text))


def test_a_check_with_workers_stores_what_one_without_stores(tmp_path: Path, site: WebSite) -> None:
    pages = 24
    for i in range(pages):
        body = CAPTCHA if i == 7 else ARTICLE.replace("5 рабочих", f"{i} рабочих")
        # Slow enough (6 rounds of 0.4 s) for the worker to be up well before the end.
        site.routes[f"/p{i:02d}"] = Page(body, status=404 if i == 9 else 200, delay=0.4)
    runs = {}
    for workers in (0, 1):
        project = project_of(tmp_path / f"workers-{workers}", site, workers, pages)
        runs[workers] = asyncio.run(run_check(project, project.config.sources))
        texts = {
            sid: project.store.read_version(sid, state.current)
            for sid, state in project.states().items()
            if state.current
        }
        runs[workers] = (runs[workers], texts)
    (plain, plain_texts), (pooled, pooled_texts) = runs[0], runs[1]
    assert plain.rendered_in_workers == 0
    assert pooled.rendered_in_workers > 0
    assert [(r.source, r.outcome, r.error_kind) for r in pooled.results] == [
        (r.source, r.outcome, r.error_kind) for r in plain.results
    ]
    assert pooled_texts == plain_texts
    assert len(pooled_texts) == pages - 2  # the captcha and the 404 are failures, not versions


def test_a_worker_out_of_step_is_dropped_and_nothing_hangs() -> None:
    async def go() -> tuple[str, Renderers]:
        renderers = Renderers(1)
        await renderers.ready()
        worker = renderers._workers[0]
        assert worker.process.stdin is not None
        worker.process.stdin.write(b"\x00\x00\x00\x05junk!")  # a request no worker can read
        await asyncio.wait_for(worker.process.wait(), 10)
        text = (await renderers.render(SOURCE.text, fetched(ARTICLE), None)).text
        await asyncio.wait_for(renderers.aclose(), 20)
        return text, renderers

    text, renderers = asyncio.run(go())
    assert text == render_fetched(SOURCE.text, fetched(ARTICLE), None).text
    assert (renderers.in_workers, renderers.in_process) == (0, 1)


def test_never_more_workers_than_sources() -> None:
    """``workers: 16`` for a run of two sources starts two processes, not sixteen."""
    assert renderers_for(16, 2).wanted == 2
    assert renderers_for("auto", 1).wanted == 1
    assert renderers_for(3, 0).wanted == 0


def test_a_dead_worker_is_never_written_to(caplog: pytest.LogCaptureFixture) -> None:
    """Bodies sent to a worker that died (before its exit is noticed) used to fill
    stderr with asyncio's "pipe closed by peer" warnings."""
    guarded = make_source(id="g", url=SOURCE.url, title="G", ignore=(re.compile("x"),))

    async def go() -> list[str]:
        renderers = Renderers(1)
        await renderers.ready()
        worker = renderers._workers[0]
        os.kill(worker.process.pid, signal.SIGKILL)
        time.sleep(0.3)  # dead, and the loop has not noticed yet
        bodies = [renderers.render(guarded.text, fetched(ARTICLE), None) for _ in range(10)]
        texts = [r.text for r in await asyncio.gather(*bodies)]
        await renderers.aclose()
        return texts

    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        texts = asyncio.run(go())
    assert len(set(texts)) == 1
    assert "pipe closed by peer" not in caplog.text


def test_bodies_that_need_a_deadline_start_the_workers_once() -> None:
    guarded = make_source(id="g", url=SOURCE.url, title="G", ignore=(re.compile("x"),))

    async def go() -> Renderers:
        renderers = Renderers(2)
        bodies = [renderers.render(guarded.text, fetched(ARTICLE), None) for _ in range(6)]
        await asyncio.gather(*bodies)
        await renderers.aclose()
        return renderers

    renderers = asyncio.run(go())
    assert (renderers.in_workers, renderers.in_process) == (6, 0)
    assert len(renderers._workers) == 2
