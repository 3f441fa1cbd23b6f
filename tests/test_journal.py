"""The database journal, on SQLite and on a real PostgreSQL server.

Every test of the journal runs against both backends. On PostgreSQL each
test gets a database of its own on the throwaway server `.ci/run` starts
(see tests/postgres.py): in CI, a missing server fails these tests.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import postgres
from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.errors import EXIT_DATABASE, EXIT_LOCKED, LockedError, StoreError
from watcher.project import Project
from watcher.results import BASELINE, CHANGED, FAILED, UNCHANGED
from watcher.state import SourceState, Version
from watcher.store import Journal

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal' / 'watcher.db'}"
        return
    with postgres.fresh_database(postgres.server_url()) as url:
        yield url


@pytest.fixture
def journal(db_url: str) -> Iterator[Journal]:
    opened = Journal(db_url)
    try:
        yield opened
    finally:
        opened.close()


def fetch_row(at: datetime, outcome: str = UNCHANGED, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "source": "fund",
        "at": at,
        "outcome": outcome,
        "url": "https://fund.example.org/oms",
        "final_url": None,
        "status": 200,
        "duration_ms": 12,
        "bytes": 100,
        "error_kind": None,
        "error": None,
        "content_hash": None,
    }
    return {**row, **values}


def state_with(*hashes: str) -> SourceState:
    versions = [Version(hash=h, seen=T0 + timedelta(hours=i)) for i, h in enumerate(hashes)]
    return SourceState(source="fund", versions=versions)


def test_fetches_come_back_newest_first_in_utc(journal: Journal) -> None:
    moscow = datetime(2026, 3, 1, 15, 0, tzinfo=UTC).astimezone()
    with journal.transaction() as tx:
        tx.add_fetch(**fetch_row(T0, BASELINE, content_hash="a" * 16))
        tx.add_fetch(**fetch_row(moscow, FAILED, error_kind="http", error="HTTP 503 Сервис"))
        tx.add_fetch(**fetch_row(T0 + timedelta(hours=1)))
    rows = journal.fetches("fund")
    assert [r.outcome for r in rows] == [FAILED, UNCHANGED, BASELINE]
    assert rows[0].at == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    assert rows[0].error == "HTTP 503 Сервис"
    assert [r.outcome for r in journal.fetches("fund", limit=1)] == [FAILED]
    assert journal.count_fetches() == 3


def test_a_failed_transaction_writes_nothing(journal: Journal) -> None:
    with pytest.raises(RuntimeError), journal.transaction() as tx:
        tx.add_fetch(**fetch_row(T0))
        tx.flush()
        raise RuntimeError("the check failed half-way")
    assert journal.fetches("fund") == []


def test_versions_follow_the_state(journal: Journal) -> None:
    state = state_with("a1", "b2")
    with journal.transaction() as tx:
        tx.add_version(state, 0)
        tx.add_version(state, 1)
    assert [(v.hash, v.position) for v in journal.versions("fund")] == [("a1", 0), ("b2", 1)]
    state.versions.append(Version(hash="c3", seen=T0 + timedelta(days=1)))
    assert journal.reconcile([state, SourceState(source="law")]) == 1
    assert journal.reconcile([state]) == 0
    assert [v.hash for v in journal.versions("fund")] == ["a1", "b2", "c3"]
    assert journal.versions("fund")[2].seen == T0 + timedelta(days=1)


def test_changes_and_rename(journal: Journal) -> None:
    with journal.transaction() as tx:
        tx.add_fetch(**fetch_row(T0))
        tx.add_version(state_with("a1"), 0)
        tx.add_change(
            source="fund",
            at=T0,
            old_hash="a1",
            new_hash="b2",
            lines_added=2,
            lines_removed=1,
            changed_ratio=0.25,
        )
    journal.rename_source("fund", "oms-fund", T0)
    assert journal.fetches("fund") == [] and journal.changes("fund") == []
    (change,) = journal.changes("oms-fund")
    assert (change.old_hash, change.new_hash, change.changed_ratio) == ("a1", "b2", 0.25)
    assert [v.hash for v in journal.versions("oms-fund")] == ["a1"]


def test_a_check_writes_its_journal(db_url: str, tmp_path: Path, site: WebSite) -> None:
    site.routes["/fund"] = Page("<html><body><main><p>Телефон: 8 800 555-01-23</p></main></body>")
    config = write_config(
        tmp_path,
        f"""\
        defaults: {{retries: 0}}
        sources:
          - {{id: fund, url: "{site.url}/fund", title: Fund}}
        guides:
          - {{id: g, title: G, url: https://guides.example.org/g, owner: ed@example.org,
              sources: [fund]}}
        """,
    )
    project = Project.load(config, db_url)
    try:
        asyncio.run(run_check(project, project.config.sources))
        site.routes["/fund"] = Page("<html><body><main><p>Телефон: 8 800 555-01-45</p></main>")
        run = asyncio.run(run_check(project, project.config.sources))
        assert run.results[0].outcome == CHANGED
        state = project.store.load_state("fund")
        assert [v.hash for v in project.journal.versions("fund")] == [
            v.hash for v in state.versions
        ]
        assert [r.outcome for r in project.journal.fetches("fund")] == [CHANGED, BASELINE]
        assert len(project.journal.changes("fund")) == 1
    finally:
        project.close()
    history = run_cli("--db", db_url, "-c", str(config), "history", "fund", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    assert "changed" in history.stdout and "baseline" in history.stdout
    reindex = run_cli("--db", db_url, "-c", str(config), "reindex", cwd=tmp_path)
    assert reindex.returncode == 0, reindex.stderr
    assert "reindexed: 0 source(s)" in reindex.stdout


def test_the_journal_lock_is_exclusive_and_names_its_holder(db_url: str) -> None:
    first, second = Journal(db_url), Journal(db_url)
    try:
        with first.lock("check"):
            if first.engine.dialect.name == "sqlite":
                with second.lock("check"):  # a local file: the file lock covers it
                    pass
                return
            with pytest.raises(LockedError) as refused, second.lock("check"):
                pass
            assert "holds the database lock: watcher check pid" in str(refused.value)
        with second.lock("check"):  # released: the next run takes it
            pass
    finally:
        first.close()
        second.close()


# -- PostgreSQL only ----------------------------------------------------------------


def test_a_wrong_password_is_exit_5_and_never_shown(postgres_url: str, tmp_path: Path) -> None:
    user, _, rest = postgres_url.partition("@")
    wrong = f"{user.rpartition(':')[0]}:Wr0ngPassw0rd@{rest}"
    config = write_config(tmp_path, "sources:\n  - {id: p, url: 'http://127.0.0.1:9/', title: P}\n")
    result = run_cli("--db", wrong, "-c", str(config), "check", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_DATABASE, output
    assert "password authentication failed" in output
    assert "Wr0ngPassw0rd" not in output
    assert ":***@127.0.0.1" in output


def test_an_unknown_database_is_exit_5(postgres_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, "sources:\n  - {id: p, url: 'http://127.0.0.1:9/', title: P}\n")
    missing = postgres.with_database(postgres_url, "watcher_no_such_database")
    result = run_cli("--db", missing, "-c", str(config), "history", "p", cwd=tmp_path)
    assert result.returncode == EXIT_DATABASE, result.stderr
    assert 'database "watcher_no_such_database" does not exist' in result.stderr


def clone(root: Path, site: WebSite) -> Path:
    """One maintainer's copy of the project (its own snapshots/ and file lock)."""
    root.mkdir()
    return write_config(
        root,
        f"""\
        defaults: {{retries: 0, timeout: 90s}}
        sources:
          - {{id: fund, url: "{site.url}/fund", title: Fund}}
        """,
    )


def start_check(config: Path, db_url: str, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "watcher", "--db", db_url, "-c", str(config), "check", *extra]
    return subprocess.Popen(
        command, cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_request(site: WebSite, path: str, count: int, process: subprocess.Popen[str]) -> None:
    for _ in range(600):
        if sum(1 for p, _ in site.requests if p == path) >= count or process.poll() is not None:
            return
        time.sleep(0.1)


def test_two_machines_sharing_one_database_take_turns(
    postgres_url: str, tmp_path: Path, site: WebSite
) -> None:
    hold = threading.Event()
    site.routes["/fund"] = Page("<html><body><main><p>Полис ОМС</p></main></body>", hold=hold)
    first = clone(tmp_path / "anna", site)
    second = clone(tmp_path / "boris", site)
    running = start_check(first, postgres_url)
    try:
        wait_for_request(site, "/fund", 1, running)
        assert running.poll() is None, running.communicate()
        refused = run_cli("--db", postgres_url, "-c", str(second), "check", cwd=second.parent)
        assert refused.returncode == EXIT_LOCKED, refused.stdout + refused.stderr
        assert "another watcher run holds the database lock: watcher check pid" in refused.stderr
        waiting = start_check(second, postgres_url, "--wait", "120")
    finally:
        hold.set()
    _out, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    _out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert sum(1 for p, _ in site.requests if p == "/fund") == 2  # the refused run fetched nothing
    project = Project.load(first, postgres_url)
    try:
        rows = project.journal.fetches("fund")
        assert sorted(r.outcome for r in rows) == [BASELINE, BASELINE]
        assert len(project.journal.versions("fund")) == 1
    finally:
        project.close()


def test_a_killed_holder_leaves_no_stale_database_lock(
    postgres_url: str, tmp_path: Path, site: WebSite
) -> None:
    hold = threading.Event()
    site.routes["/fund"] = Page("<html><body><main><p>Полис ОМС</p></main></body>", hold=hold)
    first = clone(tmp_path / "anna", site)
    second = clone(tmp_path / "boris", site)
    running = start_check(first, postgres_url)
    try:
        wait_for_request(site, "/fund", 1, running)
        running.kill()
        running.communicate(timeout=60)
    finally:
        hold.set()
    after = run_cli("--db", postgres_url, "-c", str(second), "check", "--wait", "60", cwd=tmp_path)
    assert after.returncode == 0, after.stderr


def test_postgres_tests_fail_in_ci_without_a_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(postgres.URL_ENV, raising=False)
    monkeypatch.setenv(postgres.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="requires it"):
        postgres.server_url()
    monkeypatch.setenv(postgres.REQUIRE_ENV, "0")
    with pytest.raises(pytest.skip.Exception, match="WATCHER_TEST_POSTGRES"):
        postgres.server_url()


def test_store_errors_name_the_database_without_its_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    journal = Journal(url)
    try:
        with (
            pytest.raises(StoreError, match="database error in sqlite:///"),
            journal.transaction() as tx,
        ):
            tx.connection.exec_driver_sql("SELECT * FROM no_such_table")
    finally:
        journal.close()
