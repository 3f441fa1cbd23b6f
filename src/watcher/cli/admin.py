"""Maintenance commands: ``rename-source`` and ``reindex``."""

from __future__ import annotations

import click

from watcher.cli.common import Context, pass_ctx
from watcher.results import utcnow


@click.command("rename-source")
@click.argument("old")
@click.argument("new")
@pass_ctx
def rename_source(ctx: Context, old: str, new: str) -> None:
    """Move the history and reviews of source OLD to NEW.

    Rename the source's id in sources.yaml first (its URL may change too:
    the id is the source's identity), then run this.
    """
    project = ctx.project
    project.config.source(new)
    with project.lock("rename-source"):
        project.store.rename(old, new)
        project.reviews.rename_source(old, new)
        project.journal.rename_source(old, new, utcnow())
    click.echo(f"moved history and reviews of {old} to {new}")


@click.command()
@pass_ctx
def reindex(ctx: Context) -> None:
    """Rebuild the database index from snapshots/ (snapshots win), and repair what it can.

    A damaged database file is moved aside and rebuilt; a state.json deleted
    while its versions remain is rebuilt from the database; every version
    file is checked against its hash and rebuilt from its raw body when it
    gives that very text. A project of the first snapshots/ layout is moved
    to the current one.
    """
    project = ctx.project
    with project.lock("reindex"):
        done = project.reindex()
    for line in done[:-1]:
        click.echo(line)
    click.echo(f"reindexed: {done[-1]}")


COMMANDS = (rename_source, reindex)
