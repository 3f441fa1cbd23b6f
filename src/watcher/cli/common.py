"""The command group, its global options and what every command shares."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from watcher import __version__
from watcher.redact import redact
from watcher.results import utcnow

if TYPE_CHECKING:  # a command imports what it uses when it runs: `watcher --help` loads none of it
    from watcher.config.model import Config
    from watcher.project import Project

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
            from watcher.project import Project

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


def at_option(func: F) -> F:
    """``--at TIME``: evaluate freshness as of another time."""
    option = click.option(
        "--at",
        "at",
        type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
        default=None,
        help="Evaluate as of this UTC time instead of now (e.g. what is overdue next month).",
    )
    return option(func)


def wait_option(func: F) -> F:
    """``--wait SECONDS``: wait for another run's lock instead of exiting 4."""
    option = click.option(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Wait this long for another run's lock instead of exiting 4.",
    )
    return option(func)


def now_or(at: datetime | None) -> datetime:
    return at.replace(tzinfo=UTC) if at else utcnow()


def crash_log(tracebacks: Iterable[str]) -> Path:
    """Append tracebacks to ``watcher-crash.log`` in the temp directory; return its path."""
    path = Path(tempfile.gettempdir()) / "watcher-crash.log"
    with path.open("a", encoding="utf-8") as handle:  # redacted: a URL's password stays out
        command = " ".join(sys.argv[1:])
        handle.write(redact(f"--- {datetime.now(UTC).isoformat()} watcher {command}\n"))
        for text in tracebacks:
            handle.write(redact(text))
    return path


def echo_config_warnings(config: Config, *, err: bool = True) -> None:
    """The configuration's warnings (placeholders, missing files), one line each."""
    for warning in config.warnings:
        click.echo(f"watcher: warning: {warning}", err=err)
