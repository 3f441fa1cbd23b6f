"""Shared fixtures: a real local web server and a project on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import postgres
from tests.webserver import WebSite


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two workers per core for ``-n auto``: most end-to-end tests wait on a child
    ``watcher`` process or a local server, leaving a core idle with one worker each."""
    return 2 * (os.cpu_count() or 1)


@pytest.fixture
def site() -> Iterator[WebSite]:
    server = WebSite().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server (see tests/postgres.py)."""
    with postgres.fresh_database(postgres.server_url()) as url:
        yield url


def write_config(directory: Path, text: str) -> Path:
    """Write a sources.yaml (dedented) into ``directory`` and return its path."""
    path = directory / "sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def current_text(root: Path, source_id: str) -> str:
    """The current snapshot text of a source, read from its files as a person would."""
    folder = root / "snapshots" / source_id
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    return (folder / f"{state['versions'][-1]['hash']}.txt").read_text(encoding="utf-8")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m watcher`` as a user would, capturing its output."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("WATCHER_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=120,
        check=False,
    )
