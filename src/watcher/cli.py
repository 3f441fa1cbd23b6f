"""The ``watcher`` command line: parse -> call the library -> render.

Exit codes, the same for every command:

- 0 success (for ``check``: it ran, whatever changed)
- 1 policy failure (``watcher ci``)
- 2 configuration or usage error
- 3 every source failed (the network is probably down)
- 4 another watcher run holds the project's lock
- 70 internal error (a short message here, the traceback in the log)
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__, jsonout, terminal
from .diff import diff_texts, render_unified
from .errors import (
    EXIT_ALL_FAILED,
    EXIT_INTERNAL,
    EXIT_USAGE,
    UsageError,
    WatcherError,
)
from .freshness import all_verdicts
from .pipeline import RunResult, run_check, select_sources
from .project import Project
from .store import project_lock

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command gets: where the configuration and database are."""

    def __init__(self, config: Path, db: str | None) -> None:
        self.config_path = config
        self.db = db
        self._project: Project | None = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = Project.load(self.config_path, self.db)
        return self._project


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watcher")
@click.option(
    "-c",
    "--config",
    type=click.Path(path_type=Path),
    default=Path("sources.yaml"),
    show_default=True,
    help="The configuration file; snapshots/, reports/ and .watcher/ live beside it.",
)
@click.option(
    "--db",
    envvar="WATCHER_DB",
    default=None,
    help="SQLAlchemy database URL [default: .watcher/watcher.db beside the config].",
)
@click.pass_context
def cli(ctx: click.Context, config: Path, db: str | None) -> None:
    """Watch the official sources behind published guides.

    Fetches every source cited by a guide, stores snapshots of the text that
    matters, diffs each new version and flags the guides whose sources changed.
    """
    ctx.obj = Context(config, db)


# ---------------------------------------------------------------------------
# check


@cli.command()
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
    "--due", is_flag=True, help="Only sources whose interval has elapsed (for frequent cron runs)."
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
@click.option(
    "--wait",
    type=float,
    default=0.0,
    metavar="SECONDS",
    help="Wait this long for another run's lock instead of exiting 4.",
)
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
    project = ctx.project
    selected = select_sources(project, source_ids=sources, guide_ids=guides, due_only=due)
    console = terminal.make_console()
    with (
        project_lock(project.root, "check", wait=wait),
        terminal.progress(
            console if not (quiet or as_json) else terminal.make_console(stderr=True), len(selected)
        ) as advance,
    ):
        run = asyncio.run(run_check(project, selected, on_result=advance))
    _print_check(console, run, quiet=quiet, as_json=as_json)
    if run.all_failed:
        sys.exit(EXIT_ALL_FAILED)


def _print_check(console: Any, run: RunResult, *, quiet: bool, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(jsonout.check_result(run), ensure_ascii=False, indent=2))
    elif not quiet or run.noteworthy:
        terminal.check_summary(console, run)


# ---------------------------------------------------------------------------
# read-only commands


@cli.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print guides and sources as JSON (schema watcher.status/1).",
)
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Guides with their state, and each source's last success, change and error."""
    project = ctx.project
    states = project.states()
    verdicts = all_verdicts(project.config, states)
    if as_json:
        data = jsonout.status(project.config, states, verdicts)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = terminal.make_console()
    terminal.guide_table(console, verdicts, {g.id: g.title for g in project.config.guides})
    terminal.source_table(console, states, {s.id: s.title for s in project.config.sources})


@cli.command()
@click.argument("source")
@click.option(
    "--from", "from_hash", metavar="HASH", help="Old version (default: the one before the current)."
)
@click.option("--to", "to_hash", metavar="HASH", help="New version (default: the current one).")
@click.option(
    "--color/--no-color", default=None, help="Force colour on or off (default: on a terminal only)."
)
@pass_ctx
def diff(
    ctx: Context, source: str, from_hash: str | None, to_hash: str | None, color: bool | None
) -> None:
    """Show the latest change of SOURCE, or the change between two versions."""
    project = ctx.project
    source_id = project.config.source(source).id
    state = project.store.load_state(source_id)
    hashes = [v.hash for v in state.versions]
    if len(hashes) < 2 and not from_hash:
        raise UsageError(f"{source_id} has {len(hashes)} version(s): nothing to compare yet")
    new = _match_hash(hashes, to_hash) if to_hash else hashes[-1]
    old = _match_hash(hashes, from_hash) if from_hash else _previous(hashes, new)
    old_text = project.store.read_version(source_id, old)
    result = diff_texts(old_text, project.store.read_version(source_id, new))
    console = terminal.make_console(color=color)
    header = f"{source_id}: {old} -> {new}"
    if result.empty:
        click.echo(f"{header}: no difference")
    elif color or (color is None and console.is_terminal):
        terminal.show_diff(console, result, header)
    else:
        click.echo(
            render_unified(result, old_label=f"{source_id}@{old}", new_label=f"{source_id}@{new}")
        )


def _match_hash(hashes: list[str], prefix: str) -> str:
    matches = sorted({h for h in hashes if h.startswith(prefix)})
    if len(matches) != 1:
        problem = "no version" if not matches else "several versions"
        raise UsageError(f"{problem} matching {prefix!r}", hint="see `watcher history SOURCE`")
    return matches[0]


def _previous(hashes: list[str], new: str) -> str:
    index = max(i for i, h in enumerate(hashes) if h == new)
    if index == 0:
        raise UsageError(f"{new} is the first version: pass --from HASH")
    return hashes[index - 1]


@cli.command()
@click.argument("source")
@click.option(
    "-n", "--limit", default=20, show_default=True, help="How many fetch attempts to show."
)
@pass_ctx
def history(ctx: Context, source: str, limit: int) -> None:
    """Versions of SOURCE and its recent fetch attempts."""
    project = ctx.project
    source_id = project.config.source(source).id
    state = project.store.load_state(source_id)
    click.echo(f"{source_id}: {len(state.versions)} version(s)")
    for index, version in enumerate(state.versions):
        label = "baseline" if index == 0 else "change"
        click.echo(
            f"  {version.seen:%Y-%m-%d %H:%M:%S}  {version.hash}  {label}  {version.final_url}"
        )
    click.echo("fetch attempts (newest first):")
    for row in project.journal.fetches(source_id, limit):
        detail = row.error or f"HTTP {row.status} {row.content_hash or ''}".rstrip()
        click.echo(f"  {row.at:%Y-%m-%d %H:%M:%S}  {row.outcome:<9}  {detail}")


@cli.command()
@pass_ctx
def validate(ctx: Context) -> None:
    """Only load and check the configuration (exit 2 with file:line: key on error)."""
    config = ctx.project.config
    click.echo(f"{config.path}: OK ({len(config.sources)} sources, {len(config.guides)} guides)")


# ---------------------------------------------------------------------------
# maintenance


@cli.command("rename-source")
@click.argument("old")
@click.argument("new")
@pass_ctx
def rename_source(ctx: Context, old: str, new: str) -> None:
    """Move the history of source OLD to NEW (after renaming it in sources.yaml)."""
    project = ctx.project
    project.config.source(new)
    with project_lock(project.root, "rename-source"):
        project.store.rename(old, new)
        project.journal.rename_source(old, new, datetime.now(UTC))
    click.echo(f"moved history of {old} to {new}")


@cli.command()
@pass_ctx
def reindex(ctx: Context) -> None:
    """Rebuild the database's versions index from snapshots/ (snapshots win)."""
    project = ctx.project
    with project_lock(project.root, "reindex"):
        fixed = project.reconcile()
    click.echo(f"reindexed: {fixed} source(s) updated from snapshots/")


# ---------------------------------------------------------------------------
# demo


@cli.command()
@click.option(
    "--keep",
    type=click.Path(path_type=Path, file_okay=False),
    help="Leave the demo project in DIR.",
)
@click.option("--serve", is_flag=True, help="Only serve the demo site until stopped.")
@click.option(
    "--port", type=int, default=None, help="Port for the demo site [default: 8765 if free]."
)
def demo(keep: Path | None, serve: bool, port: int | None) -> None:
    """Run watcher end to end on a bundled demo site, with no network needed."""
    from .demo import flow

    if serve:
        flow.serve(port)
        return
    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp:
        flow.run_demo(keep or Path(tmp), port, terminal.make_console(), keep=keep is not None)


# ---------------------------------------------------------------------------
# entry point


def main() -> None:
    """Console entry point: map errors to exit codes, never a traceback."""
    try:
        cli.main(standalone_mode=False, prog_name="watcher")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except WatcherError as exc:
        click.echo(f"watcher: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the last line of defence: exit 70, traceback to a file
        log = _log_crash()
        click.echo(
            f"watcher: internal error: {type(exc).__name__}: {exc} (traceback in {log})", err=True
        )
        sys.exit(EXIT_INTERNAL)


def _log_crash() -> Path:
    path = Path(tempfile.gettempdir()) / "watcher-crash.log"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {datetime.now(UTC).isoformat()} watcher {' '.join(sys.argv[1:])}\n")
        traceback.print_exc(file=handle)
    return path
