"""Start-up: a command loads only the stacks it uses.

``watcher --help`` loads no library stack at all, and the read-only
commands never the journal (SQLAlchemy), the HTTP stack (httpx, aiohttp),
the report stack (Jinja2) or APScheduler. What is loaded is read from
``sys.modules`` of a real ``watcher`` process; how long it takes is for
``bench/`` to say, not for a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_config
from watcher.cli import gate
from watcher.guides import gate as ci

HEAVY = ("sqlalchemy", "httpx", "aiohttp", "jinja2", "apscheduler", "selectolax", "rapidfuzz")

PROBE = """\
import sys
from watcher.cli import cli
try:
    cli.main(sys.argv[1:], standalone_mode=False, prog_name="watcher")
finally:
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    sys.stderr.write("\\nLOADED " + " ".join(loaded) + "\\n")
"""

CONFIG = """\
sources:
  - id: fund
    url: https://fund.example.org/page
    title: Fund page
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources: [fund]
"""


def loaded_by(*args: str, cwd: Path) -> set[str]:
    """The top-level packages a ``watcher`` process had loaded when it ended."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    return set(line.split()[1:])


def test_help_loads_no_library_stack(tmp_path: Path) -> None:
    loaded = loaded_by("--help", cwd=tmp_path)
    assert not loaded & {*HEAVY, "yaml", "rich"}


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["ci"], ["validate"]])
def test_read_only_commands_load_no_journal_http_or_report_stack(
    tmp_path: Path, command: list[str]
) -> None:
    write_config(tmp_path, CONFIG)
    loaded = loaded_by(*command, cwd=tmp_path)
    assert "yaml" in loaded  # it did run
    assert not loaded & {"sqlalchemy", "httpx", "aiohttp", "jinja2", "apscheduler"}


def test_status_json_still_reads_the_project(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "status", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [s["id"] for s in json.loads(done.stdout)["sources"]] == ["fund"]


def test_the_ci_default_is_the_gate_default() -> None:
    assert ",".join(s.replace(" ", "-") for s in ci.DEFAULT_FAIL_ON) == gate.DEFAULT_FAIL_ON
