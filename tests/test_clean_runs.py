"""A run that ended cleanly lets the next one skip the repair scan; nothing else does.

The scan (leftover temporary files, every state against the journal's
versions index) is what a killed or failed run needs. A clean ``watcher
check`` seals the lock file with a fingerprint of the state files and the
database; the next writer skips the scan only if the seal is there and the
fingerprint is the same. These tests edit the files as a kill, git or a
person would, between real runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.project import Project

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
  robots: ignore
sources:
  - id: fund
    url: {url}/fund
    title: Fund
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources: [fund]
"""


def page(text: str) -> Page:
    return Page(f"<html><body><main><h1>Полис ОМС</h1><p>{text}</p></main></body></html>")


@pytest.fixture
def root(tmp_path: Path, site: WebSite) -> Path:
    site.routes["/fund"] = page("горячая линия 8 (800) 555-01-23")
    write_config(tmp_path, CONFIG.format(url=site.url))
    assert run_cli("check", cwd=tmp_path).returncode == 0
    site.routes["/fund"] = page("горячая линия 8 (800) 555-01-45")
    assert run_cli("check", cwd=tmp_path).returncode == 0
    return tmp_path


def lock(root: Path) -> dict[str, object]:
    data = json.loads((root / ".watcher" / "lock").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def journal_versions(root: Path) -> list[str]:
    project = Project.load(root / "sources.yaml")
    try:
        return [row.hash for row in project.journal.versions("fund")]
    finally:
        project.close()


def test_a_clean_check_seals_the_lock_and_the_next_skips_the_scan(root: Path) -> None:
    assert "seal" in lock(root)
    leftover = root / "snapshots" / "fund" / ".state.json.1.tmp"
    leftover.write_text("{}")  # no interrupted write makes one after a clean run
    assert run_cli("check", cwd=root).returncode == 0
    assert leftover.exists()  # the scan did not run: the seal was trusted


def test_after_an_interrupted_run_the_scan_runs(root: Path) -> None:
    leftover = root / "snapshots" / "fund" / ".state.json.1.tmp"
    leftover.write_text("{}")
    holder = {k: v for k, v in lock(root).items() if k != "seal"}
    (root / ".watcher" / "lock").write_text(json.dumps(holder))  # as a killed holder leaves it
    assert run_cli("check", cwd=root).returncode == 0
    assert not leftover.exists()
    assert "seal" in lock(root)


def test_a_state_edited_after_a_clean_run_is_reconciled(root: Path) -> None:
    path = root / "snapshots" / "fund" / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    assert len(journal_versions(root)) == 2
    state["versions"] = state["versions"][:1]  # as `git checkout` of an older state.json
    path.write_text(json.dumps(state), encoding="utf-8")
    project = Project.load(root / "sources.yaml")
    try:
        assert project.reconcile() == 1  # without the lock: never trusts a seal
    finally:
        project.close()
    assert journal_versions(root) == [state["versions"][0]["hash"]]


def test_a_check_after_a_state_edit_reconciles_before_checking(root: Path) -> None:
    path = root / "snapshots" / "fund" / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    state["versions"] = state["versions"][:1]
    path.write_text(json.dumps(state), encoding="utf-8")
    assert run_cli("check", cwd=root).returncode == 0
    # the first version again, then the page's text as the check found it
    kept = json.loads(path.read_text(encoding="utf-8"))["versions"]
    assert journal_versions(root) == [v["hash"] for v in kept]


def test_other_writers_leave_no_seal(root: Path) -> None:
    done = run_cli("review", "--all", "--by", "Anna", "--note", "ok", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "seal" not in lock(root)
