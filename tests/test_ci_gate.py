"""``watcher ci`` on a fresh copy: no database, no network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.state import GuideReviews, ReviewEntry
from watcher.store.reviews import ReviewStore

CONFIG = """\
defaults:
  timeout: 2s
  retries: 0
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
    owner: Editor <editor@example.org>
    sources: [fund]
  - id: laws
    title: Laws
    url: https://guides.example.org/laws
    owner: editor@example.org
    sources: [law]
"""


def page(text: str) -> Page:
    return Page(f"<html><body><main><p>{text}</p></main></body></html>")


def fresh_copy(project: Path, target: Path) -> Path:
    """What CI sees: sources.yaml and snapshots/ only (no .watcher/)."""
    target.mkdir()
    shutil.copy(project / "sources.yaml", target / "sources.yaml")
    shutil.copytree(project / "snapshots", target / "snapshots")
    return target


@pytest.fixture
def project(tmp_path: Path, site: WebSite) -> Path:
    site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-23")
    site.routes["/law"] = page("Статья 10")
    root = tmp_path / "project"
    root.mkdir()
    write_config(root, CONFIG.format(url=site.url))
    assert run_cli("check", cwd=root).returncode == 0
    return root


def test_change_fails_review_passes_second_change_fails(
    project: Path, site: WebSite, tmp_path: Path
) -> None:
    assert run_cli("ci", cwd=fresh_copy(project, tmp_path / "c0")).returncode == 0
    site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-45")
    run_cli("check", cwd=project)
    site.stop()

    copy = fresh_copy(project, tmp_path / "c1")
    result = run_cli("ci", cwd=copy)
    assert result.returncode == 1
    assert "FAIL insurance [needs review]" in result.stdout
    assert "fund changed" in result.stdout
    assert "watcher diff fund --since-review insurance" in result.stdout
    assert "ok   laws [fresh]" in result.stdout
    assert not (copy / ".watcher" / "watcher.db").exists()

    reviewed = run_cli("review", "insurance", "--by", "Anna", "--note", "phone updated", cwd=copy)
    assert reviewed.returncode == 0, reviewed.stderr
    assert run_cli("ci", cwd=copy).returncode == 0


def test_second_change_diff_starts_at_the_reviewed_version(project: Path, site: WebSite) -> None:
    site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-45")
    run_cli("check", cwd=project)
    run_cli("review", "insurance", "--by", "Anna", "--note", "ok", cwd=project)
    for phone in ("555-01-46", "555-01-47"):
        site.routes["/fund"] = page(f"Горячая линия: 8 (800) {phone}")
        run_cli("check", cwd=project)
    assert run_cli("ci", cwd=project).returncode == 1
    diff = run_cli("diff", "fund", "--since-review", "insurance", cwd=project)
    assert "-Горячая линия: 8 (800) 555-01-45" in diff.stdout
    assert "+Горячая линия: 8 (800) 555-01-47" in diff.stdout
    assert "555-01-46" not in diff.stdout


def test_junit_annotations_and_summary(project: Path, site: WebSite, tmp_path: Path) -> None:
    site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-45")
    run_cli("check", cwd=project)
    junit = tmp_path / "out" / "watcher.xml"
    summary = tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(project),
    }
    result = run_cli("ci", "--junit", str(junit), cwd=project, env=env)
    assert result.returncode == 1

    xml = JUnitXml.fromfile(str(junit))
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {"insurance", "laws"}
    failures = [r for r in cases["insurance"].result if isinstance(r, Failure)]
    assert failures and failures[0].message.startswith("needs review: fund changed")
    assert not cases["laws"].result

    assert not any(line.startswith("::") for line in result.stdout.splitlines())
    annotations = [line for line in result.stderr.splitlines() if line.startswith("::")]
    line = (project / "sources.yaml").read_text().splitlines().index("  - id: insurance") + 1
    expected = f"::error file=sources.yaml,line={line},title=insurance%3A needs review::"
    assert annotations[0].startswith(expected)
    assert "watcher diff fund --since-review insurance" in annotations[0]
    text = summary.read_text(encoding="utf-8")
    assert "| :x: `insurance`" in text
    assert "needs review" in text


def test_no_annotations_outside_github(project: Path, tmp_path: Path, site: WebSite) -> None:
    site.routes["/fund"] = page("другой текст")
    run_cli("check", cwd=project)
    summary = tmp_path / "summary.md"
    result = run_cli(
        "ci", cwd=project, env={"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert result.returncode == 1
    assert not any(line.startswith("::") for line in result.stdout.splitlines())
    assert not any(line.startswith("::") for line in result.stderr.splitlines())
    assert not summary.exists()


def test_ci_json_is_valid_json_inside_a_github_job(
    project: Path, tmp_path: Path, site: WebSite
) -> None:
    site.routes["/fund"] = page("другой текст")
    run_cli("check", cwd=project)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    result = run_cli("ci", "--json", cwd=project, env=env)
    assert result.returncode == 1
    data = json.loads(result.stdout)  # `ci --json > out.json` in a GitHub job
    assert data["passed"] is False
    assert any(line.startswith("::error ") for line in result.stderr.splitlines())


@pytest.mark.parametrize(
    ("args", "guide", "state"),
    [
        (["--fail-on", "unreviewed"], "insurance", "unreviewed"),
        (["--fail-on", "overdue", "--at", "2099-01-01"], "insurance", "overdue"),
    ],
    ids=["unreviewed-on-a-fresh-guide", "overdue-on-an-unverified-guide"],
)
def test_junit_failure_names_the_state_that_failed_the_guide(
    project: Path, tmp_path: Path, args: list[str], guide: str, state: str
) -> None:
    junit = tmp_path / "junit.xml"
    result = run_cli("ci", *args, "--junit", str(junit), cwd=project)
    assert result.returncode == 1, result.stdout
    cases = {case.name: case for suite in JUnitXml.fromfile(str(junit)) for case in suite}
    (failure,) = [r for r in cases[guide].result if isinstance(r, Failure)]
    assert failure.type == state
    assert failure.message.startswith(f"{state}: ")


def test_fail_on_and_json(project: Path) -> None:
    strict = run_cli("ci", "--fail-on", "unreviewed", "--json", cwd=project)
    assert strict.returncode == 1
    data = json.loads(strict.stdout)
    assert data["schema"] == "watcher.ci/1"
    assert data["passed"] is False
    assert data["guides"][0]["failures"][0]["state"] == "unreviewed"
    overdue = run_cli("ci", "--at", "2099-01-01", cwd=project)
    assert overdue.returncode == 1
    assert "unverified" in overdue.stdout
    warn_only = run_cli("ci", "--fail-on", "broken", "--at", "2099-01-01", cwd=project)
    assert warn_only.returncode == 0
    assert "! " in warn_only.stdout
    bad = run_cli("ci", "--fail-on", "sometimes", cwd=project)
    assert bad.returncode == 2


def test_review_files_are_deterministic(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "snapshots")
    entry = ReviewEntry.from_json(
        {
            "at": "2026-03-01T10:00:00+00:00",
            "by": "Анна",
            "note": "проверено",
            "kind": "review",
            "sources": {"law": "b" * 16, "fund": "a" * 16},
        }
    )
    store.append("insurance", entry)
    first = store.path("insurance").read_bytes()
    store.save(store.load("insurance"))
    assert store.path("insurance").read_bytes() == first
    assert store.load("insurance") == GuideReviews("insurance", [entry])
    assert "Анна" in first.decode("utf-8")
    assert first.decode().index('"fund"') < first.decode().index('"law"')


def test_review_cli_errors(project: Path) -> None:
    missing_note = run_cli("review", "insurance", "--by", "Anna", cwd=project)
    assert missing_note.returncode == 2
    unknown = run_cli("review", "nope", "--by", "A", "--note", "n", cwd=project)
    assert unknown.returncode == 2
    assert "unknown guide 'nope'" in unknown.stderr
    both = run_cli("review", "insurance", "--all", "--by", "A", "--note", "n", cwd=project)
    assert both.returncode == 2
    everything = run_cli("review", "--all", "--by", "A", "--note", "adopting", cwd=project)
    assert everything.returncode == 0
    assert "review of insurance by A: pinned fund@" in everything.stdout


def test_disabled_tls_verification_is_loud(project: Path) -> None:
    config = project / "sources.yaml"
    text = config.read_text().replace("    title: Fund\n", "    title: Fund\n    verify: false\n")
    config.write_text(text)
    result = run_cli("ci", cwd=project)
    assert result.returncode == 0
    assert "! fund is fetched with TLS verification disabled (verify: false)" in result.stdout


def test_status_names_the_failure_class(project: Path, site: WebSite) -> None:
    site.routes["/law"] = Page("<html><body><h1>Страница не найдена</h1></body></html>")
    run_cli("check", cwd=project)
    status = run_cli("status", cwd=project, env={"COLUMNS": "250"})
    assert "[soft-404]" in status.stdout
