"""``watcher run`` as a real process against a real local site, and the project lock.

The daemon logs one JSON object per line (``--log-format json``); the tests
read those events and poll with deadlines instead of sleeping fixed times.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import current_text, run_cli, write_config
from tests.receiver import Receiver
from tests.test_alerts import TOKEN_ENV, fund
from tests.test_alerts import receiver as receiver
from tests.test_report_email import Inbox
from tests.test_report_email import smtp as smtp
from tests.webserver import Page, WebSite
from watcher.store import project_lock
from watcher.store.lock import lock_path

DEADLINE = 15.0


class Daemon:
    """A ``watcher run`` subprocess and the events it logged."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = config.parent / "daemon.log"
        full_env = {**os.environ, **(env or {})}
        full_env.pop("WATCHER_DB", None)
        with self.log.open("w", encoding="utf-8") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "watcher",
                    "-c",
                    str(config),
                    "run",
                    "--log-format=json",
                    *args,
                ],
                cwd=config.parent,
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )

    def events(self, name: str | None = None, **match: Any) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        found = [json.loads(line) for line in lines if line.startswith("{")]
        return [
            e
            for e in found
            if (name is None or e["event"] == name) and all(e.get(k) == v for k, v in match.items())
        ]

    def checks(self, source: str) -> int:
        return len(self.events("check.done", source=source))

    def wait_for(
        self, condition: Callable[[], object], what: str, timeout: float = DEADLINE
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.process.poll() is None, f"daemon exited early:\n{self.log.read_text()}"
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log.read_text()}")

    def stop(self, timeout: float = DEADLINE) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    try:
        yield started
    finally:
        for daemon in started:
            daemon.kill()


def page(text: str, delay: float = 0.0) -> Page:
    return Page(f"<html><body><main><p>{text}</p></main></body></html>", delay=delay)


def sources_yaml(site: WebSite, *entries: tuple[str, str], extra: str = "") -> str:
    lines = ["defaults: {retries: 0}", "sources:"]
    for sid, interval in entries:
        lines.append(
            f"  - {{id: {sid}, url: '{site.url}/{sid}', title: {sid}, interval: {interval}}}"
        )
    return "\n".join(lines) + "\n" + extra


def test_checks_each_source_on_its_interval_from_the_committed_state(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    for sid in ("fast", "slow", "old"):
        site.routes[f"/{sid}"] = page(sid)
    config = write_config(tmp_path, sources_yaml(site, ("old", "1h")))
    assert run_cli("-c", str(config), "check", cwd=tmp_path).returncode == 0
    write_config(tmp_path, sources_yaml(site, ("fast", "1s"), ("slow", "1h"), ("old", "1h")))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.checks("fast") >= 4, "four checks of the 1s source")
    first = daemon.events("batch.started")[0]
    assert first["sources"] == ["fast", "slow"]  # never checked: one batch at start-up
    assert daemon.checks("slow") == 1
    assert daemon.checks("old") == 0  # checked before the restart, not due for an hour
    assert daemon.stop() == 0
    assert daemon.events("daemon.stopped")


def test_sighup_reloads_and_a_broken_edit_keeps_the_running_config(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    site.routes["/a"] = page("a")
    site.routes["/b"] = page("b")
    config = write_config(tmp_path, sources_yaml(site, ("a", "1h")))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.checks("a") == 1, "the start-up check")

    write_config(tmp_path, sources_yaml(site, ("a", "1s"), ("b", "1h")))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for(lambda: daemon.events("config.reloaded"), "the reload")
    daemon.wait_for(lambda: daemon.checks("b") == 1, "the new source")
    daemon.wait_for(lambda: daemon.checks("a") >= 3, "the shorter interval")

    config.write_text(config.read_text() + "  - {id: c, url: 'nope', title: C, intervall: 1s}\n")
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for(lambda: daemon.events("config.rejected"), "the rejection")
    error = daemon.events("config.rejected")[0]["error"]
    assert "sources.yaml:5" in error
    seen = daemon.checks("a")
    daemon.wait_for(lambda: daemon.checks("a") >= seen + 2, "checks on the running config")
    assert daemon.checks("c") == 0
    assert daemon.stop() == 0


def test_sigterm_during_a_check_finishes_it_and_exits_0(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    site.routes["/slow"] = page("slow", delay=1.5)
    config = write_config(tmp_path, sources_yaml(site, ("slow", "1h")))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for(lambda: site.requests, "the request in flight")
    assert daemon.stop() == 0
    assert daemon.events("daemon.stopping")[0]["batch_in_flight"] is True
    assert daemon.checks("slow") == 1
    folder = tmp_path / "snapshots" / "slow"
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    assert state["last_check"]["outcome"] == "baseline"
    assert current_text(tmp_path, "slow").strip() == "slow"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_second_signal_cancels_the_batch_between_sources(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    site.routes["/quick"] = page("quick")
    site.routes["/stuck"] = page("stuck", delay=30)
    config = write_config(tmp_path, sources_yaml(site, ("quick", "1h"), ("stuck", "1h")))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.checks("quick") == 1, "the quick source")
    daemon.process.send_signal(signal.SIGTERM)
    daemon.wait_for(lambda: daemon.events("daemon.stopping"), "the first signal")
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 10
    assert daemon.events("batch.cancelled")
    quick = json.loads((tmp_path / "snapshots" / "quick" / "state.json").read_text())
    assert quick["last_check"]["outcome"] == "baseline"
    assert not (tmp_path / "snapshots" / "stuck" / "state.json").exists()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_daemon_takes_the_lock_per_batch_only(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    site.routes["/a"] = page("a")
    config = write_config(tmp_path, sources_yaml(site, ("a", "2s")))
    with project_lock(tmp_path, "review"):
        daemon = Daemon(config)
        daemons.append(daemon)
        daemon.wait_for(lambda: daemon.events("lock.busy"), "the daemon to find the lock held")
        assert "`watcher review`" in daemon.events("lock.busy")[0]["holder"]
        assert daemon.checks("a") == 0
    daemon.wait_for(lambda: daemon.checks("a") == 1, "the check once the lock is free")
    # between batches the daemon holds nothing: a cron check runs beside it
    other = run_cli("-c", str(config), "check", "--wait", "10", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    assert daemon.stop() == 0


def test_run_once_checks_what_is_due(tmp_path: Path, site: WebSite) -> None:
    site.routes["/a"] = page("a")
    site.routes["/b"] = page("b")
    config = write_config(tmp_path, sources_yaml(site, ("a", "1h")))
    assert run_cli("-c", str(config), "check", cwd=tmp_path).returncode == 0
    write_config(tmp_path, sources_yaml(site, ("a", "1h"), ("b", "1h")))
    result = run_cli("-c", str(config), "run", "--once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "event=check.done source=b outcome=baseline" in result.stderr
    assert "source=a" not in result.stderr
    assert [path for path, _ in site.requests].count("/a") == 1


def test_two_checks_at_once_wait_or_exit_4_naming_the_holder(tmp_path: Path, site: WebSite) -> None:
    hold = threading.Event()  # the first check's fetch waits until the test lets it go
    site.routes["/slow"] = Page("<html><body><main><p>slow</p></main></body></html>", hold=hold)
    config = write_config(tmp_path, sources_yaml(site, ("slow", "1h")))
    args = [sys.executable, "-m", "watcher", "-c", str(config), "check"]
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_DB"}
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait(lambda: site.requests, "the first check's request")
        refused = run_cli("-c", str(config), "check", cwd=tmp_path)
        assert refused.returncode == 4
        assert f"pid {first.pid}, `watcher check`" in refused.stderr
        waited = subprocess.Popen([*args, "--wait", "60"], cwd=tmp_path, env=env)
    finally:
        hold.set()
        assert first.wait(60) == 0
    assert waited.wait(60) == 0
    state = json.loads((tmp_path / "snapshots" / "slow" / "state.json").read_text())
    assert len(state["versions"]) == 1 and state["last_check"]["outcome"] == "unchanged"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path, site: WebSite) -> None:
    site.routes["/slow"] = page("slow", delay=30)
    config = write_config(tmp_path, sources_yaml(site, ("slow", "1h")))
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_DB"}
    holder = subprocess.Popen(
        [sys.executable, "-m", "watcher", "-c", str(config), "check"], cwd=tmp_path, env=env
    )
    _wait(lambda: site.requests, "the holder's request")
    assert f'"pid": {holder.pid}' in lock_path(tmp_path).read_text()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    site.routes["/slow"] = page("slow")
    result = run_cli("-c", str(config), "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f'"pid": {holder.pid}' not in lock_path(tmp_path).read_text()


def test_daemon_alerts_once_per_change_and_writes_scheduled_digests(
    tmp_path: Path,
    site: WebSite,
    receiver: Receiver,
    smtp: tuple[Inbox, int],
    daemons: list[Daemon],
) -> None:
    inbox, port = smtp
    site.routes["/fund"] = fund("8 800 555-01-23", visits=1)
    config = write_config(
        tmp_path,
        f"""\
        defaults: {{retries: 0, interval: 1s}}
        sources:
          - {{id: fund, url: '{site.url}/fund', title: Fund, ignore: 'Просмотров:\\s*\\d+'}}
        guides:
          - {{id: ins, title: Insurance, url: 'https://g.example/ins', owner: ed@example.org,
              sources: [fund]}}
        notify:
          smtp: {{host: 127.0.0.1, port: {port}, security: none, sender: w@example.org}}
          maintainers: [ops@example.org]
          webhooks: [{{url: '{receiver.url}/hook', token_env: WATCHER_TEST_HOOK_TOKEN}}]
        reports:
          schedule:
            - {{cron: '0 9 * * 1', formats: [html, json], email: true, always: true}}
        """,
    )
    old = run_cli(
        "-c", str(config), "report", "--format", "json", "--at", "2026-01-01", cwd=tmp_path
    )
    assert old.returncode == 0, old.stderr
    daemon = Daemon(config, env=TOKEN_ENV)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.events("report.done"), "the missed Monday digest")
    assert (tmp_path / "reports" / "latest.html").is_file()
    digest_mails = len(inbox.messages)
    assert digest_mails >= 1
    for visits in range(2, 5):  # noise: the counter changes on every fetch
        site.routes["/fund"] = fund("8 800 555-01-23", visits=visits)
        daemon.wait_for(lambda v=visits: _fetched(site) >= v, "a noise-only check")
    site.routes["/fund"] = fund("8 800 555-01-45", visits=5)
    daemon.wait_for(lambda: receiver.accepted(), "the webhook")
    fetched = _fetched(site)
    daemon.wait_for(lambda: _fetched(site) >= fetched + 3, "three more checks")
    assert daemon.stop() == 0
    assert receiver.events() == ["needs-review"]
    assert len(inbox.messages) == digest_mails + 1
    assert inbox.messages[-1][0] == ("ed@example.org",)
    assert len(daemon.events("alert.sent")) == 2  # one mail, one webhook


def _fetched(site: WebSite) -> int:
    return [path for path, _ in site.requests].count("/fund")


def _wait(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_malformed_answer_is_recorded_once_and_blames_no_neighbour(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    """A garbage status line used to fail the whole batch: retried every half second,
    never recorded, and the healthy sources beside it logged as connect timeouts."""
    from tests.test_misbehaviour import RawServer

    site.routes["/healthy"] = page("healthy")
    raw = RawServer(b"GARBAGE\r\n\r\n")
    try:
        text = sources_yaml(site, ("healthy", "1h"))
        text += f"  - {{id: bad, url: '{raw.url}/bad', title: bad, interval: 1h}}\n"
        config = write_config(tmp_path, text)
        daemon = Daemon(config)
        daemons.append(daemon)
        daemon.wait_for(lambda: daemon.events("batch.done"), "the first batch")
        time.sleep(2 * 0.5 + 0.5)  # room for the retries the bug made, every batch window
        assert daemon.stop() == 0
    finally:
        raw.close()
    assert not daemon.events("cycle.failed")
    assert len(daemon.events("batch.started")) == 1
    [bad] = daemon.events("check.done", source="bad")
    assert bad["outcome"] == "failed" and bad["kind"] == "network"
    assert "malformed response" in bad["error"]
    [healthy] = daemon.events("check.done", source="healthy")
    assert healthy["outcome"] == "baseline"
    state = json.loads((tmp_path / "snapshots" / "bad" / "state.json").read_text())
    assert state["consecutive_failures"] == 1


def test_a_source_whose_state_is_damaged_is_held_not_retried_at_once(
    tmp_path: Path, site: WebSite, daemons: list[Daemon]
) -> None:
    site.routes["/a"] = page("a")
    site.routes["/b"] = page("b")
    config = write_config(tmp_path, sources_yaml(site, ("a", "1h"), ("b", "1h")))
    assert run_cli("-c", str(config), "check", cwd=tmp_path).returncode == 0
    state = tmp_path / "snapshots" / "a" / "state.json"
    good = state.read_text(encoding="utf-8")
    state.write_text(f"<<<<<<< HEAD\n{good}=======\n{good}>>>>>>> other\n", encoding="utf-8")
    write_config(tmp_path, sources_yaml(site, ("a", "1h"), ("b", "1s")))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.checks("b") >= 3, "three checks of the healthy source")
    assert daemon.stop() == 0
    [damaged] = daemon.events("check.done", source="a")
    assert (damaged["outcome"], damaged["kind"]) == ("failed", "state")
    assert "merge conflict" in damaged["error"]
    assert daemon.events("source.held", source="a")
    assert state.read_text(encoding="utf-8").startswith("<<<<<<< HEAD")  # left as it was
