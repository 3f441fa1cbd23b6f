"""Ctrl-C and kills never hide a change: what was stored is reported, now or by the next check."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite


def page(text: str, hold: threading.Event | None = None) -> Page:
    return Page(f"<html><body><main><p>{text}</p></main></body></html>", hold=hold)


class Project:
    """Two sources: ``fast`` changes, ``held`` keeps the check waiting until released."""

    def __init__(self, root: Path, site: WebSite) -> None:
        self.root, self.site = root, site
        self.hold = threading.Event()
        site.routes["/fast"] = page("Телефон: 8 800 555-01-23")
        site.routes["/held"] = page("Статья 10")
        self.config = write_config(
            root,
            f"""\
            defaults: {{retries: 0, timeout: 120s}}
            sources:
              - {{id: fast, url: "{site.url}/fast", title: Fast}}
              - {{id: held, url: "{site.url}/held", title: Held}}
            """,
        )
        assert self.cli("check").returncode == 0
        site.routes["/fast"] = page("Телефон: 8 800 555-01-45")
        site.routes["/held"] = page("Статья 10", hold=self.hold)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("-c", str(self.config), *args, cwd=self.root)

    def versions(self, source: str) -> int:
        state = json.loads((self.root / "snapshots" / source / "state.json").read_text("utf-8"))
        return len(state["versions"])

    def start_check(self, *args: str) -> subprocess.Popen[str]:
        """A check, returned once it stored fast's change and waits for the held page."""
        command = [sys.executable, "-m", "watcher", "-c", str(self.config), "check", *args]
        process = subprocess.Popen(
            command, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(1200):
            held = sum(1 for path, _ in self.site.requests if path == "/held") >= 2
            if (held and self.versions("fast") == 2) or process.poll() is not None:
                break
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        return process


@pytest.fixture
def project(tmp_path: Path, site: WebSite) -> Iterator[Project]:
    made = Project(tmp_path, site)
    try:
        yield made
    finally:
        made.hold.set()


def test_ctrl_c_reports_what_was_stored_before_it(project: Project) -> None:
    running = project.start_check()
    running.send_signal(signal.SIGINT)
    out, err = running.communicate(timeout=60)
    assert running.returncode == 130, out + err
    assert "fast: changed:" in out
    assert "interrupted after 1 of 2 sources" in out
    assert "Traceback" not in err
    project.hold.set()
    later = project.cli("check", "--quiet")
    assert later.returncode == 0, later.stderr
    assert later.stdout == ""  # reported already: not again


def test_a_change_a_killed_check_stored_is_reported_by_the_next_check(project: Project) -> None:
    running = project.start_check("--quiet")
    running.kill()  # no chance to report anything
    running.communicate(timeout=60)
    project.hold.set()
    later = project.cli("check", "--quiet")  # what cron mails
    assert later.returncode == 0, later.stderr
    assert "stored by an earlier check that was stopped before reporting them" in later.stdout
    assert "  fast: changed: " in later.stdout
    assert "watcher diff fast --from " in later.stdout
    again = project.cli("check", "--quiet")
    assert again.stdout == ""  # reported once


def test_check_json_lists_the_earlier_changes(project: Project) -> None:
    running = project.start_check("--json")
    running.kill()
    running.communicate(timeout=60)
    project.hold.set()
    later = project.cli("check", "--json")
    data = json.loads(later.stdout)
    assert data["interrupted"] is False
    (earlier,) = data["earlier"]
    assert earlier["id"] == "fast" and earlier["old_hash"] and earlier["new_hash"]


def test_ctrl_c_while_the_command_loads_is_no_traceback(tmp_path: Path) -> None:
    """A Ctrl-C that lands while watcher's libraries are being imported."""
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'watcher.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['watcher', 'status']\n"
        "from watcher.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130
    assert done.stderr == "aborted\n"


def test_watcher_run_logs_what_a_killed_check_never_reported(project: Project) -> None:
    running = project.start_check()
    running.kill()
    running.communicate(timeout=60)
    project.hold.set()
    once = project.cli("run", "--once", "--log-format", "json")
    assert once.returncode == 0, once.stderr
    events = [json.loads(line) for line in once.stderr.splitlines()]
    (unreported,) = [e for e in events if e["event"] == "check.unreported"]
    assert unreported["source"] == "fast" and unreported["level"] == "info"
    assert project.cli("check", "--quiet").stdout == ""
