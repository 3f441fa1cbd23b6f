"""The small things a new user trips on: each says what is true, in words, with the right code."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.cli import terminal
from watcher.daemon.service import _summary
from watcher.project import Project
from watcher.results import UNCHANGED, RunResult, SourceResult


def page(text: str) -> Page:
    return Page(f"<html><body><main><p>{text}</p></main></body></html>")


def one_source(root: Path, site: WebSite, guides: str = "") -> Path:
    return write_config(
        root,
        f"""\
        defaults: {{retries: 0}}
        sources:
          - {{id: fund, url: "{site.url}/fund", title: Fund}}
        {guides}""",
    )


GUIDE = """guides:
          - {id: g, title: G, url: https://guides.example.org/g, owner: ed@example.org,
             sources: [fund]}
"""


def test_history_labels_a_reversion_as_one(tmp_path: Path, site: WebSite) -> None:
    config = one_source(tmp_path, site)
    for text in (
        "Телефон: 8 800 555-01-23",
        "Телефон: 8 800 555-01-45",
        "Телефон: 8 800 555-01-23",
    ):
        site.routes["/fund"] = page(text)
        assert run_cli("-c", str(config), "check", cwd=tmp_path).returncode == 0
    history = run_cli("-c", str(config), "history", "fund", cwd=tmp_path)
    labels = [line.split()[3] for line in history.stdout.splitlines()[1:4]]
    assert labels == ["baseline", "change", "reverted"]


def test_diff_of_a_source_with_one_version_is_no_error(tmp_path: Path, site: WebSite) -> None:
    config = one_source(tmp_path, site, GUIDE)
    none_yet = run_cli("-c", str(config), "diff", "fund", cwd=tmp_path)
    assert none_yet.returncode == 0, none_yet.stderr
    assert "fund has no snapshot yet" in none_yet.stdout
    site.routes["/fund"] = page("Телефон: 8 800 555-01-23")
    run_cli("-c", str(config), "check", cwd=tmp_path)
    one = run_cli("-c", str(config), "diff", "fund", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert "has one version" in one.stdout and "nothing to compare yet" in one.stdout


def test_batch_done_reports_the_measured_duration() -> None:
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # recorded times are whole seconds
    run = RunResult(now, now, (SourceResult("fund", UNCHANGED, now),))
    assert _summary(run, 0.4331)["seconds"] == 0.433


def test_run_once_with_nothing_due_says_so(tmp_path: Path, site: WebSite) -> None:
    site.routes["/fund"] = page("Телефон: 8 800 555-01-23")
    config = one_source(tmp_path, site, GUIDE)
    assert run_cli("-c", str(config), "check", cwd=tmp_path).returncode == 0
    once = run_cli("-c", str(config), "run", "--once", "--log-format", "json", cwd=tmp_path)
    assert once.returncode == 0, once.stderr
    events = [json.loads(line) for line in once.stderr.splitlines()]
    (nothing,) = [e for e in events if e["event"] == "batch.none_due"]
    assert nothing["next"]  # when something will be


def test_review_all_with_no_snapshot_is_a_usage_error(tmp_path: Path, site: WebSite) -> None:
    config = one_source(tmp_path, site, GUIDE)
    result = run_cli(
        "-c", str(config), "review", "--all", "--by", "Anna", "--note", "adopting", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "nothing to sign off" in result.stderr
    assert not (tmp_path / "snapshots" / "_reviews").exists()


def test_check_counts_a_guide_whose_claim_is_missing(tmp_path: Path, site: WebSite) -> None:
    site.routes["/fund"] = page("Телефон горячей линии: 8 800 555-01-23")
    config = one_source(
        tmp_path,
        site,
        """guides:
          - id: g
            title: G
            url: https://guides.example.org/g
            owner: ed@example.org
            sources: [{source: fund, claims: ["срок оформления 30 дней"]}]
""",
    )
    result = run_cli("-c", str(config), "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 guide flagged" in result.stdout
    assert "guide g needs review: a claim it quotes from fund is modified or missing" in (
        result.stdout
    )


def test_a_source_no_guide_cites_is_warned_about(tmp_path: Path, site: WebSite) -> None:
    config = write_config(
        tmp_path,
        f"""\
        sources:
          - {{id: fund, url: "{site.url}/fund", title: Fund}}
          - {{id: orphan, url: "{site.url}/orphan", title: Orphan}}
        {GUIDE}""",
    )
    result = run_cli("-c", str(config), "validate", cwd=tmp_path)
    assert result.returncode == 0
    assert f"{config}: OK (2 sources, 1 guide, " in result.stdout
    assert f"watcher: warning: {config}:3: source 'orphan' is cited by no guide" in (
        result.stdout
    )
    status = run_cli("-c", str(config), "status", cwd=tmp_path)
    assert "source 'orphan' is cited by no guide" in status.stderr


def test_validate_counts_in_words(tmp_path: Path, site: WebSite) -> None:
    config = write_config(
        tmp_path,
        f"""\
        sources:
          - {{id: fund, url: "{site.url}/fund", title: Fund}}
        guides:
          - {{id: g, title: G, url: https://guides.publisher.ru/g, owner: ed@publisher.ru,
             sources: [fund]}}
        """,
    )
    result = run_cli("-c", str(config), "validate", cwd=tmp_path)
    assert result.stdout.strip() == f"{config}: OK (1 source, 1 guide)"


def test_the_progress_hears_of_a_source_when_its_request_starts(
    tmp_path: Path, site: WebSite
) -> None:
    """The bar names the sources in flight: run_check says when each request starts."""
    for name in ("a", "b"):
        site.routes[f"/{name}"] = page(f"Страница {name}")
    config = write_config(
        tmp_path,
        f"""\
        defaults: {{retries: 0, concurrency: 1}}
        sources:
          - {{id: a, url: "{site.url}/a", title: A}}
          - {{id: b, url: "{site.url}/b", title: B}}
        """,
    )
    events: list[str] = []
    project = Project.load(config)
    try:
        asyncio.run(
            run_check(
                project,
                project.config.sources,
                on_start=lambda source: events.append(f"start {source}"),
                on_result=lambda result: events.append(f"done {result.source}"),
            )
        )
    finally:
        project.close()
    assert sorted(events) == ["done a", "done b", "start a", "start b"]
    for name in ("a", "b"):
        assert events.index(f"start {name}") < events.index(f"done {name}")
    first_done = next(e for e in events if e.startswith("done"))
    assert events.index(first_done) < max(events.index("start a"), events.index("start b"))


def test_the_bar_names_the_oldest_source_in_flight() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with terminal.progress(console, 3) as bar:
        bar.started("fund")
        bar.started("law")
        bar.started("clinic")
        bar(SourceResult("law", UNCHANGED, now))  # finished: not what the bar names
        assert isinstance(bar, terminal._Bar)
        assert bar.bar.tasks[0].description == "fund (+1 more)"
        bar(SourceResult("fund", UNCHANGED, now))
        assert bar.bar.tasks[0].description == "clinic"
