"""Damaged committed state: never forgotten silently, never an internal error.

``snapshots/`` is edited by people and merged by git. A conflict, a file of
the wrong shape, a deleted ``state.json``, a truncated version file, a full
disk or a damaged database is named by its file with what to do, fails the
sources it concerns alone, and is repaired where the repair is certain.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.errors import StateError, StoreError
from watcher.project import Project
from watcher.results import RunResult
from watcher.store import atomic_write
from watcher.text.normalize import content_hash
from watcher.text.render import Body, render

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
  robots: ignore
sources:
  - id: fund
    url: {url}/fund
    title: Fund
  - id: law
    url: {url}/law
    title: Law
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: editor@example.org
    sources: [fund]
"""


def page(text: str) -> Page:
    return Page(
        "<html><body><main><h1>Полис ОМС</h1>"
        + "".join(f"<p>Пункт {n}: {text}.</p>" for n in range(12))
        + "</main></body></html>"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, WebSite]]:
    """A project whose fund page changed after a sign-off: the guide needs review.

    Built once; each test works on a copy (the site serves the changed page)."""
    site = WebSite().start()
    root = tmp_path_factory.mktemp("damaged")
    try:
        site.routes["/fund"] = page("горячая линия 8 (800) 555-01-23")
        site.routes["/law"] = page("статья 10")
        write_config(root, CONFIG.format(url=site.url))
        assert run_cli("check", cwd=root).returncode == 0
        signed = run_cli("review", "insurance", "--by", "Anna", "--note", "ok", cwd=root)
        assert signed.returncode == 0, signed.stderr
        site.routes["/fund"] = page("горячая линия 8 (800) 555-01-45")
        assert run_cli("check", cwd=root).returncode == 0
        yield root, site
    finally:
        site.stop()


@pytest.fixture
def root(template: tuple[Path, WebSite], tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(template[0], copy)
    return copy


def check(root: Path) -> RunResult:
    project = Project.load(root / "sources.yaml")
    try:
        return asyncio.run(run_check(project, project.config.sources))
    finally:
        project.close()


def folder(root: Path, source: str = "fund") -> Path:
    return root / "snapshots" / source


def needs_review(root: Path) -> bool:
    status = run_cli("status", "--json", cwd=root)
    assert status.returncode == 0, status.stderr
    guides = json.loads(status.stdout)["guides"]
    return [g["state"] for g in guides] == ["needs review"]


# -- a deleted state.json ----------------------------------------------------------


def test_a_deleted_state_is_refused_then_rebuilt_from_the_journal(root: Path) -> None:
    state = folder(root) / "state.json"
    versions = json.loads(state.read_text(encoding="utf-8"))["versions"]
    state.unlink()  # how many people "resolve" a merge conflict

    fund, law = check(root).results
    assert (fund.outcome, fund.error_kind) == ("failed", "state")
    assert "state.json is missing, but 2 version(s) of fund are stored" in (fund.error or "")
    assert "watcher reindex" in (fund.error or "")
    assert not state.exists()  # nothing was written over the history
    assert law.outcome == "unchanged"
    status = run_cli("status", cwd=root)
    assert status.returncode == 5 and "state.json is missing" in status.stderr

    reindexed = run_cli("reindex", cwd=root)
    assert reindexed.returncode == 0, reindexed.stderr
    assert "fund: state.json rebuilt from the journal (2 versions" in reindexed.stdout
    rebuilt = json.loads(state.read_text(encoding="utf-8"))["versions"]
    assert [v["hash"] for v in rebuilt] == [v["hash"] for v in versions]
    assert needs_review(root)  # the pending change is not forgotten
    assert check(root).results[0].outcome == "unchanged"


def test_without_a_journal_a_deleted_state_stays_refused(root: Path) -> None:
    (folder(root) / "state.json").unlink()
    (root / ".watcher" / "watcher.db").unlink()  # a fresh clone
    reindexed = run_cli("reindex", cwd=root)
    assert "fund: state.json cannot be rebuilt (the journal has no versions of it)" in (
        reindexed.stdout
    )
    assert check(root).results[0].error_kind == "state"


# -- version files: verified on read, never trusted over a good text -----------------


def test_a_truncated_current_version_is_rebuilt_from_its_raw_body(root: Path) -> None:
    state = json.loads((folder(root) / "state.json").read_text(encoding="utf-8"))
    version = folder(root) / f"{state['versions'][-1]['hash']}.txt"
    good = version.read_bytes()
    version.write_bytes(good[: len(good) // 2])

    run = check(root)
    assert [r.outcome for r in run.results] == ["unchanged", "unchanged"]
    assert version.read_bytes() == good
    assert run.repairs == (
        f"{version} was damaged (its text does not match its hash): rebuilt from its raw body",
    )


def test_an_old_version_is_rebuilt_from_its_raw_body(root: Path) -> None:
    state = json.loads((folder(root) / "state.json").read_text(encoding="utf-8"))
    old = folder(root) / f"{state['versions'][0]['hash']}.txt"
    good = old.read_bytes()
    old.write_bytes(b"\xff\xfe not even UTF-8")
    reindexed = run_cli("reindex", cwd=root)
    assert reindexed.returncode == 0, reindexed.stderr
    assert f"{old} was not UTF-8: rebuilt from its raw body" in reindexed.stdout
    assert old.read_bytes() == good


def test_a_version_lost_with_its_raw_body_fails_its_source_alone(root: Path) -> None:
    state = json.loads((folder(root) / "state.json").read_text(encoding="utf-8"))
    current = state["versions"][-1]
    (folder(root) / f"{current['hash']}.txt").unlink()
    (folder(root) / current["raw"]).unlink()
    fund, law = check(root).results
    assert (fund.outcome, fund.error_kind) == ("failed", "state")
    assert f"version {current['hash']} of fund is missing" in (fund.error or "")
    assert "cannot be rebuilt" in (fund.error or "")
    assert law.outcome == "unchanged"


# -- merge conflicts and wrong shapes ---------------------------------------------------


def conflicted(text: str) -> str:
    return f"<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> feature\n"


def test_a_merge_conflict_in_a_state_is_named_and_blocks_only_its_source(root: Path) -> None:
    state = folder(root) / "state.json"
    state.write_text(conflicted(state.read_text(encoding="utf-8")), encoding="utf-8")
    fund, law = check(root).results
    assert (fund.outcome, fund.error_kind) == ("failed", "state")
    assert f"merge conflict in {state}" in (fund.error or "")
    assert "git checkout --ours" in (fund.error or "")
    assert law.outcome == "unchanged"
    for command in ("status", "ci"):
        result = run_cli(command, cwd=root)
        assert result.returncode == 5, result.stderr
        assert f"merge conflict in {state}" in result.stderr
        assert "internal error" not in result.stderr


def test_a_damaged_state_never_loses_a_sibling_pages_change(
    root: Path, template: tuple[Path, WebSite]
) -> None:
    # fund and law share their host: law's change waits for the host's pages, then is
    # assessed knowing the site's template, which fund's damaged state must not break
    (folder(root) / "state.json").write_text("{not json", encoding="utf-8")
    site = template[1]
    site.routes["/law"] = page("статья 11")
    try:
        fund, law = check(root).results
    finally:
        site.routes["/law"] = page("статья 10")
    assert (fund.outcome, fund.error_kind) == ("failed", "state")
    assert law.outcome == "changed"
    assert law.severity is not None  # assessed, not dropped on the way


def test_a_merge_conflict_in_a_review_file_is_named(root: Path) -> None:
    reviews = root / "snapshots" / "_reviews" / "insurance.json"
    reviews.write_text(conflicted(reviews.read_text(encoding="utf-8")), encoding="utf-8")
    result = run_cli("status", cwd=root)
    assert result.returncode == 5
    assert f"merge conflict in {reviews}" in result.stderr


WRONG_SHAPES = {
    "unknown key": ("state", lambda d: {**d, "colour": "red"}, "unknown key 'colour'"),
    "a list": ("state", lambda d: [], "expected an object, got a list"),
    "a bad date": (
        "state",
        lambda d: {**d, "last_success": "yesterday"},
        "last_success: expected an ISO date",
    ),
    "a missing hash": (
        "state",
        lambda d: {**d, "versions": [{k: v for k, v in d["versions"][0].items() if k != "hash"}]},
        "versions[0].hash: missing",
    ),
    "a string failure count": (
        "state",
        lambda d: {**d, "consecutive_failures": "3"},
        "consecutive_failures: expected a whole number",
    ),
    "schema 99": ("state", lambda d: {**d, "schema": 99}, "schema 99: written by another version"),
    "a review without at": (
        "reviews",
        lambda d: {**d, "entries": [{k: v for k, v in d["entries"][0].items() if k != "at"}]},
        "entries[0].at: missing",
    ),
}


@pytest.mark.parametrize("case", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_document_of_the_wrong_shape_is_named_by_file_and_key(
    root: Path, case: tuple[str, object, str]
) -> None:
    which, edit, words = case
    path = (
        folder(root) / "state.json"
        if which == "state"
        else root / "snapshots" / "_reviews" / "insurance.json"
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(edit(data)), encoding="utf-8")  # type: ignore[operator]
    result = run_cli("status", cwd=root)
    assert result.returncode == 5, result.stderr
    assert f"{path}: " in result.stderr and words in result.stderr
    assert "internal error" not in result.stderr


def test_a_version_file_that_is_not_utf8_is_not_an_internal_error(root: Path) -> None:
    state = json.loads((folder(root) / "state.json").read_text(encoding="utf-8"))
    version = folder(root) / f"{state['versions'][-1]['hash']}.txt"
    version.write_bytes(b"\xff\xfe")
    os.remove(folder(root) / state["versions"][-1]["raw"])
    result = run_cli("diff", "fund", cwd=root)
    assert result.returncode == 5, result.stderr
    assert f"version {state['versions'][-1]['hash']} of fund is not UTF-8" in result.stderr


# -- the disk and the database ------------------------------------------------------------


def test_a_full_disk_names_the_file_and_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "snapshots" / "fund" / "state.json"
    path.parent.mkdir(parents=True)
    # The temporary file of the next write goes to /dev/full: a real ENOSPC.
    (path.parent / f".state.json.{os.getpid()}.tmp").symlink_to("/dev/full")
    with pytest.raises(StoreError) as raised:
        atomic_write(path, b"{}")
    assert str(raised.value).startswith(f"cannot write {path}: No space left on device")
    assert "the disk is full" in str(raised.value)
    assert not path.exists()


def test_a_file_in_the_way_is_named_by_the_command(
    root: Path, template: tuple[Path, WebSite]
) -> None:
    site = template[1]
    law = Project.load(root / "sources.yaml").config.source("law")
    amended = page("статья 11")
    body = Body(str(amended.body).encode(), "text/html", "utf-8", law.url)
    new = folder(root, "law") / f"{content_hash(render(law.text, body).text)}.txt"
    new.mkdir()  # os.replace onto a directory fails: as a read-only file would
    site.routes["/law"] = amended
    try:
        result = run_cli("check", cwd=root)
    finally:
        site.routes["/law"] = page("статья 10")
    assert result.returncode == 5, result.stderr
    assert f"{new}: Is a directory" in result.stderr  # named, with its cause
    assert "internal error" not in result.stderr


def test_a_damaged_database_is_named_and_rebuilt_by_reindex(root: Path) -> None:
    database = root / ".watcher" / "watcher.db"
    for extra in ("-wal", "-shm"):
        Path(f"{database}{extra}").unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 100)
    result = run_cli("check", cwd=root)
    assert result.returncode == 5, result.stderr
    assert "watcher reindex" in result.stderr and "internal error" not in result.stderr
    reindexed = run_cli("reindex", cwd=root)
    assert reindexed.returncode == 0, reindexed.stderr
    assert "the database was damaged: moved to" in reindexed.stdout
    assert list(database.parent.glob("watcher.db.damaged-*"))
    assert run_cli("check", cwd=root).returncode == 0
    assert needs_review(root)
    history = run_cli("history", "fund", cwd=root)
    assert history.returncode == 0, history.stderr


def test_state_error_is_a_store_error() -> None:
    assert issubclass(StateError, StoreError)


def test_check_due_is_not_blocked_by_one_damaged_state(root: Path) -> None:
    """``watcher check --due`` from cron must still check the other sources."""
    state = folder(root) / "state.json"
    state.write_text(conflicted(state.read_text(encoding="utf-8")), encoding="utf-8")
    law = folder(root, "law") / "state.json"
    data = json.loads(law.read_text(encoding="utf-8"))
    data["last_check"]["at"] = "2000-01-01T00:00:00+00:00"  # long due
    law.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli("check", "--due", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "fund: failed: merge conflict in" in result.stdout
    law_state = json.loads(law.read_text(encoding="utf-8"))
    assert law_state["last_check"]["at"] != "2000-01-01T00:00:00+00:00"
