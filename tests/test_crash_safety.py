"""``watcher check`` killed with SIGKILL at random points leaves nothing half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.project import Project

SOURCES = 12
KILLS = 30


def page(n: int, edition: int) -> Page:
    lines = "".join(f"<p>Статья {n}.{i}: редакция {edition}</p>" for i in range(40))
    return Page(f"<html><body><main>{lines}</main></body></html>", delay=0.15)


def test_kill_at_random_points_then_recover(tmp_path: Path, site: WebSite) -> None:
    sources = "\n".join(
        f"  - {{id: s{n}, url: '{site.url}/s{n}', title: S{n}}}" for n in range(SOURCES)
    )
    write_config(tmp_path, f"defaults:\n  per_host: 4\nsources:\n{sources}\n")
    rng = random.Random(20261122)
    env = {**os.environ}
    env.pop("WATCHER_DB", None)
    interrupted = 0
    for edition in range(KILLS):
        for n in range(SOURCES):
            site.routes[f"/s{n}"] = page(n, edition)
        started = time.time()
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "check", "--quiet", "--wait", "5"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if edition % 2:
            # Half the kills land at a random moment of the whole process...
            time.sleep(rng.uniform(0.05, 1.5))
        else:
            # ...the other half surely inside the run, once it started writing.
            wait_for_write(tmp_path, started, process)
            time.sleep(rng.uniform(0.0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert_consistent(tmp_path)
        interrupted += mid_run(tmp_path, edition)
    # The kills must really land inside runs, not only before or after them.
    assert interrupted >= 3, interrupted
    final = run_cli("check", cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    assert_exact(tmp_path)
    project = Project.load(tmp_path / "sources.yaml")
    for n in range(SOURCES):
        state = project.store.load_state(f"s{n}")
        assert state.current is not None
        text = project.store.read_version(f"s{n}", state.current)
        assert f"редакция {KILLS - 1}" in text


def assert_consistent(root: Path) -> None:
    """Every snapshot file parses and agrees with its state; the journal agrees.

    The one window a kill can hit is between the commit of ``state.json``
    and the commit of the journal transaction: then the journal lags by
    exactly the last version, and the next writer repairs it. Anything else
    is corruption. Every source keeps the one folder of the current layout.
    """
    project = Project.load(root / "sources.yaml")
    try:
        for source_id, state in project.states().items():
            hashes = [v.hash for v in state.versions]
            folder = project.store.source_dir(source_id)
            for version in state.versions:
                assert project.store.read_version(source_id, version.hash)
                assert version.raw and project.store.read_raw(source_id, version.raw)
            if folder.is_dir():
                assert not [p.name for p in folder.iterdir() if p.is_dir()], source_id
                assert not (folder / "current.txt").exists(), source_id
            journal = [v.hash for v in project.journal.versions(source_id)]
            assert journal in (hashes, hashes[:-1]), source_id
    finally:
        project.close()


def wait_for_write(root: Path, since: float, process: subprocess.Popen[bytes]) -> None:
    """Wait until some state.json was written after ``since`` (or the run ended)."""
    deadline = time.time() + 20
    while time.time() < deadline and process.poll() is None:
        states = (root / "snapshots").glob("*/state.json")
        if any(path.stat().st_mtime > since for path in states):
            return
        time.sleep(0.01)


def mid_run(root: Path, edition: int) -> bool:
    """True if the kill left some sources at this edition and some not."""
    project = Project.load(root / "sources.yaml")
    seen = set()
    for source_id, state in project.states().items():
        if state.current is not None:
            text = project.store.read_version(source_id, state.current)
            seen.add(f"редакция {edition}" in text)
    return seen == {True, False}


def assert_exact(root: Path) -> None:
    project = Project.load(root / "sources.yaml")
    try:
        for source_id, state in project.states().items():
            journal = [v.hash for v in project.journal.versions(source_id)]
            assert journal == [v.hash for v in state.versions]
            folder = project.store.source_dir(source_id)
            stored = sorted(p.name for p in folder.iterdir())
            wanted = {f"{v.hash}.txt" for v in state.versions} | {v.raw for v in state.versions}
            # a kill before a state.json may leave its new version's files: never less
            assert {"state.json"} | {w for w in wanted if w} <= set(stored), source_id
            assert not [name for name in stored if name.startswith(".")], source_id
    finally:
        project.close()
