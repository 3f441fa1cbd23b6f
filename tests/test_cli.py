"""The command line as a user runs it: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.cli import cli

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
sources:
  - id: fund
    url: {url}/fund
    title: Fund page
  - id: law
    url: {url}/law
    title: Law page
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources: [fund]
  - id: laws
    title: Laws
    url: https://guides.example.org/laws
    owner: editor@example.org
    sources: [law]
"""


def page(text: str) -> Page:
    return Page(f"<html><body><main><p>Горячая линия</p><p>{text}</p></main></body></html>")


@pytest.fixture
def project_dir(tmp_path: Path, site: WebSite) -> Path:
    site.routes["/fund"] = page("8 (800) 555-01-23")
    site.routes["/law"] = page("Статья 10")
    write_config(tmp_path, CONFIG.format(url=site.url))
    return tmp_path


def test_every_command_has_help(tmp_path: Path) -> None:
    for name in cli.commands:
        result = run_cli(name, "--help", cwd=tmp_path)
        assert result.returncode == 0, name
        assert "Usage:" in result.stdout


def test_readme_documents_every_command() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"watcher {name}" in readme, name


def test_check_then_change_then_diff(project_dir: Path, site: WebSite) -> None:
    first = run_cli("check", cwd=project_dir)
    assert first.returncode == 0, first.stderr
    assert "2 baseline" in first.stdout
    site.routes["/fund"] = page("8 (800) 555-01-45")
    second = run_cli("check", cwd=project_dir)
    assert second.returncode == 0
    assert "guide insurance needs review" in second.stdout
    diff = run_cli("diff", "fund", cwd=project_dir)
    assert diff.returncode == 0
    assert "-8 (800) 555-01-23" in diff.stdout
    assert "+8 (800) 555-01-45" in diff.stdout
    status = run_cli("status", "--json", cwd=project_dir)
    data = json.loads(status.stdout)
    assert data["schema"] == "watcher.status/1"
    states = {g["id"]: g["state"] for g in data["guides"]}
    assert states == {"insurance": "needs review", "laws": "fresh"}


def test_check_json_is_versioned(project_dir: Path) -> None:
    result = run_cli("check", "--json", cwd=project_dir)
    data = json.loads(result.stdout)
    assert data["schema"] == "watcher.check/1"
    assert data["counts"] == {
        "checked": 2,
        "unchanged": 0,
        "changed": 0,
        "reverted": 0,
        "baseline": 2,
        "failed": 0,
    }
    assert {s["id"] for s in data["sources"]} == {"fund", "law"}


def test_quiet_prints_nothing_without_changes(project_dir: Path, site: WebSite) -> None:
    run_cli("check", cwd=project_dir)
    quiet = run_cli("check", "--quiet", cwd=project_dir)
    assert quiet.returncode == 0
    assert quiet.stdout == ""
    site.routes["/law"] = page("Статья 10.1")
    loud = run_cli("check", "--quiet", cwd=project_dir)
    assert "law: changed" in loud.stdout


def test_all_sources_failing_exits_3(project_dir: Path, site: WebSite) -> None:
    site.routes.clear()
    result = run_cli("check", cwd=project_dir)
    assert result.returncode == 3
    assert "2 failed" in result.stdout
    assert not (project_dir / "snapshots" / "fund" / "current.txt").exists()


def test_config_error_exits_2_with_file_and_line(tmp_path: Path) -> None:
    write_config(
        tmp_path, "sources:\n  - id: a\n    url: http://127.0.0.1/\n    title: A\n    colour: red\n"
    )
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "sources.yaml:5" in result.stderr
    assert "colour" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_and_missing_config(project_dir: Path, tmp_path: Path) -> None:
    ok = run_cli("validate", cwd=project_dir)
    assert ok.returncode == 0
    assert "2 sources, 2 guides" in ok.stdout
    missing = run_cli("--config", str(tmp_path / "nope.yaml"), "validate", cwd=tmp_path)
    assert missing.returncode == 2


def test_unknown_source_is_a_usage_error(project_dir: Path) -> None:
    result = run_cli("diff", "nope", cwd=project_dir)
    assert result.returncode == 2
    assert "unknown source 'nope'" in result.stderr


def test_config_elsewhere(project_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("cwd")
    result = run_cli("--config", str(project_dir / "sources.yaml"), "check", cwd=elsewhere)
    assert result.returncode == 0
    assert (project_dir / "snapshots" / "fund" / "state.json").exists()
    assert (project_dir / ".watcher" / "watcher.db").exists()
    assert not list(elsewhere.iterdir())


def test_history_and_rename_source(project_dir: Path, site: WebSite) -> None:
    run_cli("check", cwd=project_dir)
    site.routes["/fund"] = page("8 (800) 555-01-45")
    run_cli("check", cwd=project_dir)
    history = run_cli("history", "fund", cwd=project_dir)
    assert "2 version(s)" in history.stdout
    assert "baseline" in history.stdout
    config = project_dir / "sources.yaml"
    config.write_text(
        config.read_text().replace("id: fund", "id: oms-fund").replace("[fund]", "[oms-fund]")
    )
    renamed = run_cli("rename-source", "fund", "oms-fund", cwd=project_dir)
    assert renamed.returncode == 0, renamed.stderr
    moved = run_cli("history", "oms-fund", cwd=project_dir)
    assert "2 version(s)" in moved.stdout
    assert "changed" in moved.stdout
    status = json.loads(run_cli("status", "--json", cwd=project_dir).stdout)
    assert {g["id"]: g["state"] for g in status["guides"]}["insurance"] == "needs review"


def test_due_skips_recently_checked_sources(project_dir: Path, site: WebSite) -> None:
    run_cli("check", cwd=project_dir)
    site.requests.clear()
    result = run_cli("check", "--due", "--json", cwd=project_dir)
    assert json.loads(result.stdout)["counts"]["checked"] == 0
    assert site.requests == []


def test_second_writer_exits_4(project_dir: Path) -> None:
    from watcher.store import project_lock

    with project_lock(project_dir, "test"):
        result = run_cli("check", cwd=project_dir)
    assert result.returncode == 4
    assert "holds the project lock" in result.stderr
    assert "pid" in result.stderr


def test_a_run_that_met_a_bug_exits_70_naming_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile
    from datetime import UTC, datetime

    from watcher.cli.runs import exit_for_internal_errors
    from watcher.results import FAILED, RunResult, SourceResult

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    bug = SourceResult(
        "fund",
        FAILED,
        now,
        error_kind="internal",
        error="internal error: KeyError: 'x'",
        traceback="Traceback (most recent call last):\nKeyError: 'x'\n",
    )
    fine = SourceResult("law", "unchanged", now)  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as exit_:
        exit_for_internal_errors(RunResult(now, now, (bug, fine)))
    assert exit_.value.code == 70
    assert "fund: internal error: KeyError" in capsys.readouterr().err
    assert "KeyError: 'x'" in (tmp_path / "watcher-crash.log").read_text(encoding="utf-8")
    exit_for_internal_errors(RunResult(now, now, (fine,)))  # nothing to say: returns


def test_no_asyncio_noise_on_stderr_when_sigchld_is_ignored(tmp_path: Path, site: WebSite) -> None:
    """A parent that ignores SIGCHLD (some supervisors do) made every render worker end
    with "Unknown child process pid ..., will report returncode 255" on stderr."""
    import os
    import signal
    import subprocess
    import sys

    for name in ("a", "b"):
        site.routes[f"/{name}"] = page(f"страница {name}")
    sources = "".join(
        f"  - {{id: {n}, url: '{site.url}/{n}', title: {n}, ignore: 'x\\\\d+'}}\n" for n in "ab"
    )
    write_config(tmp_path, f"defaults: {{workers: 2, retries: 0}}\nsources:\n{sources}")
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_DB"}
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN),
    )
    assert result.returncode == 0, result.stderr
    assert "2 baseline" in result.stdout
    assert result.stderr == ""
