"""The ``watcher`` command line: parse -> call the library -> render.

Commands live in modules by the user they serve: ``runs`` (check, demo),
``daemon`` (run), ``inspect`` (status, diff, history, validate), ``gate`` (review, ci),
``audit`` (audit), ``admin`` (rename-source, reindex) and ``desk`` (serve, reports,
users). Only the CLI prints or exits.

Exit codes, the same for every command:

- 0 success (for ``check``: it ran, whatever changed)
- 1 policy failure (``watcher ci``)
- 2 configuration or usage error
- 3 every source failed (the network is probably down)
- 4 another watcher run holds the project's lock
- 5 the database cannot be reached or opened
- 130 interrupted (Ctrl-C)
- 70 internal error (a short message here, the traceback in a log file)
"""

from __future__ import annotations

import signal
import sys
import traceback

import click

from watcher.cli import admin, audit, daemon, desk, gate, inspect, report, runs
from watcher.cli.common import cli, crash_log
from watcher.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, WatcherError
from watcher.redact import redact

for _module in (runs, daemon, inspect, gate, audit, report, admin, desk):
    for _command in _module.COMMANDS:
        cli.add_command(_command)

__all__ = ["cli", "main"]


def main() -> None:
    """Console entry point: map errors to exit codes, never a traceback."""
    _reap_own_children()
    try:
        cli.main(standalone_mode=False, prog_name="watcher")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except WatcherError as exc:
        from watcher.cli import terminal

        click.echo(terminal.safe(f"watcher: error: {exc}"), err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the last line of defence: exit 70, traceback to a file
        from watcher.cli import terminal

        log = crash_log([traceback.format_exc()])
        message = f"watcher: internal error: {type(exc).__name__}: {exc} (traceback in {log})"
        click.echo(terminal.safe(redact(message)), err=True)
        sys.exit(EXIT_INTERNAL)


def _reap_own_children() -> None:
    """Take back SIGCHLD if a parent left it ignored.

    With SIGCHLD ignored the kernel reaps the render workers itself, asyncio
    never learns how they exited, and says "Unknown child process pid" on
    stderr for each one.
    """
    if signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
