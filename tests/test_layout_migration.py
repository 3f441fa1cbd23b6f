"""A project written in the first ``snapshots/`` layout: read as it is, moved once.

The first layout kept ``versions/<hash>.txt``, ``raw/<hash>.<ext>.zst`` and a
``current.txt`` copy in each source's folder. The project here is built with
files, as such a project lies in a repository, not with the old code. Every
step of the move can be interrupted: each partial state below is one a kill
can leave, and it must read correctly and finish moving on the next check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard

from tests.conftest import current_text, run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.project import Project
from watcher.store.files import SNAPSHOTS_README
from watcher.text.normalize import content_hash
from watcher.text.render import Body, render, rules_fingerprint

OLD_README = """\
# snapshots/

Committed state of watcher, the source of truth for every command.
One folder per source id:

- `current.txt`: the current normalized text of the source;
- `state.json`: HTTP validators, the last check and its outcome,
  consecutive failures, and every version the source has had;
- `versions/<hash>.txt`: each version's text, addressed by content hash;
- `raw/<hash>.<ext>.zst`: the raw response body (zstd) that produced it:
  the evidence of what an editor verified.

Files are written atomically by `watcher check`; do not edit them by hand.
"""

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
    sources: [fund, law]
"""


def html(text: str) -> str:
    return f"<html><body><main><h1>Полис ОМС</h1><p>{text}</p></main></body></html>"


EDITIONS = {
    "fund": ["горячая линия 8 (800) 555-01-23", "горячая линия 8 (800) 555-01-45"],
    "law": ["статья 10 в редакции 1"],
}


def write_old_project(root: Path, site: WebSite) -> dict[str, list[str]]:
    """A layout-1 project on disk, its sites serving the last edition; hashes per source."""
    write_config(root, CONFIG.format(url=site.url))
    config = Project.load(root / "sources.yaml").config
    (root / "snapshots").mkdir()
    (root / "snapshots" / "README.md").write_text(OLD_README, encoding="utf-8")
    hashes = {}
    for source_id, editions in EDITIONS.items():
        source = config.source(source_id)
        folder = root / "snapshots" / source_id
        (folder / "versions").mkdir(parents=True)
        (folder / "raw").mkdir()
        versions = []
        for day, edition in enumerate(editions, start=1):
            body = html(edition).encode()
            text = render(source.text, Body(body, "text/html", None, source.url)).text
            digest = content_hash(text)
            (folder / "versions" / f"{digest}.txt").write_text(text, encoding="utf-8")
            raw = zstandard.ZstdCompressor().compress(body)
            (folder / "raw" / f"{digest}.html.zst").write_bytes(raw)
            (folder / "current.txt").write_text(text, encoding="utf-8")
            versions.append(
                {
                    "charset": None,
                    "content_type": "text/html",
                    "final_url": source.url,
                    "hash": digest,
                    "metadata": {},
                    "raw": f"raw/{digest}.html.zst",
                    "seen": f"2026-03-0{day}T08:00:00+00:00",
                }
            )
        at = versions[-1]["seen"]
        state = {
            "consecutive_failures": 0,
            "last_check": {"at": at, "outcome": "changed" if day > 1 else "baseline"},
            "last_success": at,
            "last_change": at if day > 1 else None,
            "rules": rules_fingerprint(source.text),
            "schema": 1,
            "source": source_id,
            "url": source.url,
            "versions": versions,
        }
        (folder / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
        site.routes[f"/{source_id}"] = Page(html(editions[-1]))
        hashes[source_id] = [v["hash"] for v in versions]
    return hashes


@pytest.fixture
def old(tmp_path: Path, site: WebSite) -> tuple[Path, dict[str, list[str]]]:
    return tmp_path, write_old_project(tmp_path, site)


def assert_moved(root: Path, hashes: dict[str, list[str]]) -> None:
    """Layout 2, with every version and raw body where the state says, verified."""
    assert (root / "snapshots" / "README.md").read_text(encoding="utf-8") == SNAPSHOTS_README
    project = Project.load(root / "sources.yaml")
    for source_id, wanted in hashes.items():
        folder = root / "snapshots" / source_id
        assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == [], source_id
        assert not (folder / "current.txt").exists()
        state = project.store.load_state(source_id)
        assert [v.hash for v in state.versions] == wanted
        for version in state.versions:
            assert version.raw == f"{version.hash}.html.zst"
            assert (folder / f"{version.hash}.txt").is_file()
            assert project.store.read_version(source_id, version.hash)
            assert project.store.read_raw(source_id, version.raw).startswith(b"<html>")
    assert project.store.repairs == []


def test_an_old_project_is_read_as_it_is_by_every_reader(
    old: tuple[Path, dict[str, list[str]]],
) -> None:
    root, _ = old
    before = sorted(str(p.relative_to(root)) for p in (root / "snapshots").rglob("*"))
    status = run_cli("status", "--json", cwd=root)
    assert status.returncode == 0, status.stderr
    assert [s["versions"] for s in json.loads(status.stdout)["sources"]] == [2, 1]
    diff = run_cli("diff", "fund", cwd=root)
    assert diff.returncode == 0, diff.stderr
    assert "-горячая линия 8 (800) 555-01-23" in diff.stdout
    gate = run_cli("ci", cwd=root)  # the fund changed since the baseline, never reviewed
    assert gate.returncode == 1 and "FAIL insurance [needs review]" in gate.stdout, gate.stdout
    after = sorted(str(p.relative_to(root)) for p in (root / "snapshots").rglob("*"))
    assert after == before  # readers move nothing


def test_check_moves_it_once_and_sees_no_change(old: tuple[Path, dict[str, list[str]]]) -> None:
    root, hashes = old
    first = run_cli("check", "--json", cwd=root)
    assert first.returncode == 0, first.stderr
    assert "watcher: migrated: snapshots/ moved to one folder per source (2 source(s))" in (
        first.stderr
    )
    outcomes = [r["outcome"] for r in json.loads(first.stdout)["sources"]]
    assert outcomes == ["unchanged", "unchanged"]
    assert_moved(root, hashes)
    assert current_text(root, "fund").endswith("горячая линия 8 (800) 555-01-45")
    again = run_cli("check", cwd=root)
    assert again.returncode == 0 and "migrated" not in again.stderr
    diff = run_cli("diff", "fund", cwd=root)
    assert "+горячая линия 8 (800) 555-01-45" in diff.stdout


def _versions_moved_only(folder: Path) -> None:
    for path in (folder / "versions").iterdir():
        path.rename(folder / path.name)
    (folder / "versions").rmdir()


def _raw_moved_too(folder: Path) -> None:
    _versions_moved_only(folder)
    for path in (folder / "raw").iterdir():
        path.rename(folder / path.name)
    (folder / "raw").rmdir()


def _state_rewritten(folder: Path) -> None:
    _raw_moved_too(folder)
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    for version in state["versions"]:
        version["raw"] = version["raw"].removeprefix("raw/")
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")


def _half_of_versions_moved(folder: Path) -> None:
    first = sorted((folder / "versions").iterdir())[0]
    first.rename(folder / first.name)
    (folder / "versions" / ".abc.txt.123.tmp").write_text("half a write")


@pytest.mark.parametrize(
    "step", [_half_of_versions_moved, _versions_moved_only, _raw_moved_too, _state_rewritten]
)
def test_a_move_killed_at_any_step_reads_and_finishes(
    old: tuple[Path, dict[str, list[str]]], step: object
) -> None:
    root, hashes = old
    assert callable(step)
    step(root / "snapshots" / "fund")  # where a kill can leave the move of one source
    diff = run_cli("diff", "fund", cwd=root)
    assert diff.returncode == 0, diff.stderr
    assert "+горячая линия 8 (800) 555-01-45" in diff.stdout
    project = Project.load(root / "sources.yaml")
    for version in project.store.load_state("fund").versions:
        assert project.store.read_raw("fund", version.raw or "").startswith(b"<html>")
    checked = run_cli("check", "--json", cwd=root)
    assert checked.returncode == 0, checked.stderr
    assert [r["outcome"] for r in json.loads(checked.stdout)["sources"]] == [
        "unchanged",
        "unchanged",
    ]
    assert_moved(root, hashes)


def test_a_damaged_version_is_rebuilt_from_current_txt_before_the_copy_goes(
    old: tuple[Path, dict[str, list[str]]],
) -> None:
    root, hashes = old
    folder = root / "snapshots" / "fund"
    current = hashes["fund"][-1]
    good = (folder / "current.txt").read_bytes()
    (folder / "versions" / f"{current}.txt").write_bytes(good[:10])
    (folder / "raw" / f"{current}.html.zst").unlink()  # the raw body cannot help
    checked = run_cli("check", cwd=root)
    assert checked.returncode == 0, checked.stderr
    assert "rebuilt from current.txt" in checked.stderr
    assert (folder / f"{current}.txt").read_bytes() == good
    assert not (folder / "current.txt").exists()


def test_reindex_moves_it_too(old: tuple[Path, dict[str, list[str]]]) -> None:
    root, hashes = old
    done = run_cli("reindex", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "snapshots/ moved to one folder per source" in done.stdout
    assert_moved(root, hashes)
