"""The editors' and CI's commands: ``review`` and ``ci``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from watcher.cli.common import (
    Context,
    at_option,
    echo_config_warnings,
    now_or,
    pass_ctx,
    wait_option,
)
from watcher.errors import EXIT_POLICY, UsageError
from watcher.results import SEVERITIES, Severity, utcnow
from watcher.store import project_lock

if TYPE_CHECKING:  # the gate, sign-off and the check are imported by the command that runs
    from watcher.guides import gate as ci
    from watcher.guides.review import SignOff
    from watcher.project import Project

DEFAULT_FAIL_ON = "broken,needs-review,unverified"
"""``--fail-on``'s default, :data:`watcher.guides.gate.DEFAULT_FAIL_ON` (a test keeps it so)."""


@click.command()
@click.argument("guide", required=False)
@click.option("--by", required=True, metavar="NAME", help="Who checked the guide (required).")
@click.option("--note", required=True, metavar="TEXT", help="What was checked, or why (required).")
@click.option(
    "-s", "--source", "sources", multiple=True, metavar="ID", help="Only these cited sources."
)
@click.option(
    "--dismiss",
    is_flag=True,
    help="The flagged change needs no edit to the guide: pin it, kept apart in the history.",
)
@click.option("--all", "all_guides", is_flag=True, help="Sign off every guide (adopting watcher).")
@wait_option
@pass_ctx
def review(
    ctx: Context,
    guide: str | None,
    by: str,
    note: str,
    sources: tuple[str, ...],
    dismiss: bool,
    all_guides: bool,
    wait: float,
) -> None:
    """Record that an editor checked GUIDE against the current snapshots.

    The guide is then fresh for those sources until one of them changes.
    The sign-off is kept in snapshots/_reviews/GUIDE.json (commit it).
    """
    from watcher.guides.review import sign_off, sign_off_all

    project = ctx.project
    if all_guides == (guide is not None):
        raise UsageError("name one GUIDE, or pass --all")
    if all_guides and (sources or dismiss):
        raise UsageError("--all cannot be combined with --source or --dismiss")
    with project_lock(project.root, "review", wait=wait):
        if all_guides:
            results = sign_off_all(project, by=by, note=note, now=utcnow())
        else:
            one = sign_off(
                project,
                guide or "",
                by=by,
                note=note,
                now=utcnow(),
                sources=sources,
                dismiss=dismiss,
            )
            results = [one]
    for result in results:
        _echo_sign_off(result)


def _echo_sign_off(result: SignOff) -> None:
    pinned = ", ".join(f"{s}@{h}" for s, h in sorted(result.entry.sources.items()))
    click.echo(
        f"{result.entry.kind} of {result.guide} by {result.entry.by}: pinned {pinned or 'nothing'}"
    )
    if result.skipped:
        click.echo(f"  not pinned (no snapshot yet): {', '.join(result.skipped)}")


@click.command("ci")
@click.option(
    "--fail-on",
    default=DEFAULT_FAIL_ON,
    show_default=True,
    help="States that fail the gate: broken, needs-review, unverified, overdue, unreviewed, "
    "audit (the findings of `watcher audit`, otherwise warnings).",
)
@click.option(
    "--junit",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write JUnit XML here (one test case per guide).",
)
@click.option(
    "--min-severity",
    type=click.Choice([s.value for s in SEVERITIES]),
    default=None,
    help="Fail only on changes of this severity or more; lesser ones only warn "
    "(the guide still needs review). Claims modified or missing are always major.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (watcher.ci/1).")
@click.option("--check", "check_first", is_flag=True, help="Run `watcher check` first (network).")
@click.option("--offline", is_flag=True, help="Only evaluate the committed state (the default).")
@at_option
@pass_ctx
def ci_command(
    ctx: Context,
    fail_on: str,
    junit: Path | None,
    min_severity: str | None,
    as_json: bool,
    check_first: bool,
    offline: bool,
    at: datetime | None,
) -> None:
    """Exit 1 when a guide relies on a changed, broken or unverified source.

    Reads only sources.yaml and snapshots/: no network and no database are
    needed, so it runs on a fresh clone. Under GITHUB_ACTIONS=true it also
    writes workflow annotations (on stderr, so --json output stays valid) and
    a step summary.
    """
    from watcher.guides import gate as ci

    project = ctx.project
    echo_config_warnings(project.config)
    states_to_fail = ci.parse_fail_on(fail_on)
    if check_first and offline:
        raise UsageError("--check and --offline exclude each other")
    if check_first:
        from watcher.check.run import run_check

        with project.lock("ci --check"):
            asyncio.run(run_check(project, project.config.sources))
    now = now_or(at)
    verdicts = project.verdicts(now)
    minimum = Severity(min_severity) if min_severity else None
    result = ci.evaluate(project.config, verdicts, states_to_fail, now, minimum)
    _print_ci(project, result, junit, as_json)
    if not result.passed:
        sys.exit(EXIT_POLICY)


def _print_ci(project: Project, result: ci.CiResult, junit: Path | None, as_json: bool) -> None:
    from watcher.guides import gate as ci

    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(ci.junit_xml(result), encoding="utf-8")
    annotations, summary = ci.github_outputs(result, project.config.path)
    for line in annotations:  # on stderr, which the runner reads too: stdout stays the report's
        click.echo(line, err=True)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary is not None and summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(summary)
    if as_json:
        click.echo(json.dumps(ci.to_json(result), ensure_ascii=False, indent=2))
    else:
        for line in ci.human_lines(result):
            click.echo(line)


COMMANDS = (review, ci_command)
