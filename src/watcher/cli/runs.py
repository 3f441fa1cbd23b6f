"""Commands that fetch: ``check`` and ``demo``."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from watcher.cli.common import Context, crash_log, pass_ctx, wait_option
from watcher.errors import EXIT_ALL_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED
from watcher.redact import redact
from watcher.results import RunResult, utcnow

if TYPE_CHECKING:
    from rich.console import Console

    from watcher.notify import alerts
    from watcher.project import Project


@click.command()
@click.option(
    "-s", "--source", "sources", multiple=True, metavar="ID", help="Only this source (repeatable)."
)
@click.option(
    "-g",
    "--guide",
    "guides",
    multiple=True,
    metavar="ID",
    help="Only the sources of this guide (repeatable).",
)
@click.option(
    "--due",
    is_flag=True,
    help="Only sources that are due: their cron schedule fired, or their interval "
    "elapsed, since their last check (for frequent cron runs).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing unless content changed or a source newly crossed its failure threshold.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the versioned machine-readable result (schema watcher.check/1).",
)
@wait_option
@pass_ctx
def check(
    ctx: Context,
    sources: tuple[str, ...],
    guides: tuple[str, ...],
    due: bool,
    quiet: bool,
    as_json: bool,
    wait: float,
) -> None:
    """Fetch sources, store new versions and flag the guides citing changed ones.

    Exits 0 when the run completed (whatever changed), 3 when every source
    failed (the network is probably down), 4 when another run holds the lock.
    """
    from watcher.check.reported import mark_reported, reported_in
    from watcher.check.run import check_now, select_sources
    from watcher.cli import terminal

    project = ctx.project
    selected = select_sources(project, source_ids=sources, guide_ids=guides, due_only=due)
    console = terminal.make_console()
    bar_console = terminal.make_console(stderr=True) if quiet or as_json else console
    delivery = None
    with project.lock("check", wait=wait):
        with terminal.progress(bar_console, len(selected)) as advance:
            run = check_now(project, selected, on_result=advance, on_start=advance.started)
        if not run.interrupted and project.config.notify:
            delivery = _dispatch(project)
        _print_check(console, run, quiet=quiet, as_json=as_json, total=len(selected))
        mark_reported(project, reported_in(run))
    for moved in run.migrated:
        click.echo(f"watcher: migrated: {moved}", err=True)
    for repair in run.repairs:
        click.echo(f"watcher: repaired: {repair}", err=True)
    if delivery is not None:
        _print_alerts(delivery, quiet=quiet)
    if run.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    exit_for_internal_errors(run)
    if run.all_failed:
        sys.exit(EXIT_ALL_FAILED)


def exit_for_internal_errors(run: RunResult) -> None:
    """Exit 70 after a run in which a source met a bug (its failure is recorded, the rest too)."""
    broken = run.internal_errors
    if not broken:
        return
    from watcher.cli import terminal

    log = crash_log(r.traceback or f"{r.source}: {r.error}\n" for r in broken)
    for result in broken:
        message = f"watcher: {result.source}: {result.error} (traceback in {log})"
        click.echo(terminal.safe(message), err=True)
    sys.exit(EXIT_INTERNAL)


def _print_check(
    console: Console, run: RunResult, *, quiet: bool, as_json: bool, total: int
) -> None:
    from watcher.cli import jsonout, terminal

    if as_json:
        click.echo(json.dumps(jsonout.check_result(run), ensure_ascii=False, indent=2))
    elif not quiet or run.noteworthy or run.interrupted:
        terminal.check_summary(console, run, total)


def _dispatch(project: Project) -> alerts.Delivery:
    """The alerts of the run (the mail, webhook and template stacks: only when configured)."""
    from watcher.notify import alerts

    return alerts.dispatch(project, utcnow())


def _print_alerts(delivery: alerts.Delivery, *, quiet: bool) -> None:
    """Alerts go to stderr, so stdout stays the check's (and ``--json``'s)."""
    from watcher.cli import terminal

    for channel, key in delivery.sent:
        if not quiet:
            click.echo(redact(f"notify: sent {key} to {channel}"), err=True)
    for channel, error in delivery.failed:
        message = f"watcher: warning: notify: {channel}: {error} (retried next check)"
        click.echo(terminal.safe(redact(message)), err=True)


@click.command()
@click.option(
    "--keep",
    type=click.Path(path_type=Path, file_okay=False),
    help="Leave the demo project in DIR.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Only serve the demo site until stopped, starting where the demo ends (amended).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port for the demo site [default: 8765; without --serve, any free port if it is busy].",
)
def demo(keep: Path | None, serve: bool, port: int | None) -> None:
    """Run watcher end to end on a bundled demo site, with no network needed."""
    from watcher.cli import demo as flow
    from watcher.cli import terminal

    if serve:
        flow.serve(port)
        return
    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp:
        flow.run_demo(keep or Path(tmp), port, terminal.make_console(), keep=keep is not None)


COMMANDS = (check, demo)
