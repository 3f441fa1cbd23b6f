"""The service command: ``watcher run``."""

from __future__ import annotations

import asyncio
import sys

import click

from watcher import log
from watcher.cli.common import Context, pass_ctx
from watcher.cli.runs import exit_for_internal_errors
from watcher.errors import EXIT_ALL_FAILED


@click.command("run")
@click.option(
    "--once",
    is_flag=True,
    help="Check the sources that are due now, send alerts and exit (as `watcher check --due`).",
)
@click.option(
    "--log-format",
    type=click.Choice(log.FORMATS),
    default="text",
    show_default=True,
    help="One line per event on stderr: key=value text (journald) or JSON.",
)
@click.option(
    "--wait",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Wait this long for another run's lock. Default: as long as it takes for each "
    "batch of the service; 0 with --once (exit 4 if it is held).",
)
@pass_ctx
def run(ctx: Context, once: bool, log_format: str, wait: float | None) -> None:
    """Keep checking each source on its schedule, alert, and write scheduled digests.

    Each source is checked on its interval (or cron `schedule:`), sources
    due together in one batch; new "needs review", broken sources and
    recoveries are sent to the `notify:` channels; `reports: schedule:`
    digests are written on time. SIGHUP reloads sources.yaml (a broken
    edit keeps the running configuration); SIGTERM or SIGINT stop after the
    batch in flight, exit 0.
    """
    log.configure(sys.stderr, log_format)
    from watcher.daemon.service import (
        Daemon,  # APScheduler: imported only by the command that needs it
    )

    daemon = Daemon(ctx.config_path, ctx.db, wait=wait)
    if not once:
        asyncio.run(daemon.serve())
        return
    result = asyncio.run(daemon.once())
    if result is not None:
        exit_for_internal_errors(result)
    if result is not None and result.all_failed:
        sys.exit(EXIT_ALL_FAILED)


COMMANDS = (run,)
