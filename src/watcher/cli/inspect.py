"""Read-only commands: ``status``, ``diff``, ``history``, ``validate``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import click

from watcher.cli.common import Context, at_option, echo_config_warnings, now_or, pass_ctx
from watcher.errors import UsageError
from watcher.redact import redact_url

if TYPE_CHECKING:
    from watcher.project import Project


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print guides and sources as JSON (schema watcher.status/1).",
)
@at_option
@pass_ctx
def status(ctx: Context, as_json: bool, at: datetime | None) -> None:
    """Guides with their state and reasons, and each source's health.

    States, most severe first: broken, needs review, unverified, overdue, fresh.
    """
    from watcher.cli import jsonout, terminal

    project = ctx.project
    echo_config_warnings(project.config)
    states = project.states()
    verdicts = project.verdicts(now_or(at))
    if as_json:
        data = jsonout.status(project.config, states, verdicts)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = terminal.make_console()
    terminal.guide_table(console, verdicts, {g.id: g.title for g in project.config.guides})
    terminal.source_table(console, states, {s.id: s.title for s in project.config.sources})


@click.command()
@click.argument("source")
@click.option(
    "--from", "from_hash", metavar="HASH", help="Old version (default: the one before the current)."
)
@click.option("--to", "to_hash", metavar="HASH", help="New version (default: the current one).")
@click.option(
    "--since-review",
    "guide",
    metavar="GUIDE",
    help="From the version GUIDE was last verified against (its pin) to the current one.",
)
@click.option(
    "--color/--no-color", default=None, help="Force colour on or off (default: on a terminal only)."
)
@pass_ctx
def diff(
    ctx: Context,
    source: str,
    from_hash: str | None,
    to_hash: str | None,
    guide: str | None,
    color: bool | None,
) -> None:
    """Show the latest change of SOURCE, or the change between two versions.

    With --since-review GUIDE: the diff an editor needs, from the version the
    guide was verified against to the current one, however many came between.
    """
    project = ctx.project
    source_id = project.config.source(source).id
    hashes = [v.hash for v in project.store.load_state(source_id).versions]
    if guide is not None:
        from_hash = _pinned_hash(project, guide, source_id)
    if len(hashes) < 2 and not from_hash:  # not a mistake of the user's: nothing changed yet
        if hashes:
            click.echo(f"{source_id} has one version ({hashes[0]}): nothing to compare yet")
        else:
            click.echo(f"{source_id} has no snapshot yet: run `watcher check -s {source_id}`")
        return
    new = _match_hash(hashes, to_hash) if to_hash else hashes[-1]
    old = _match_hash(hashes, from_hash) if from_hash else _previous(hashes, new)
    _show(project, source_id, old, new, color)


def _show(project: Project, source_id: str, old: str, new: str, color: bool | None) -> None:
    from watcher.changes.diff import diff_texts, render_unified
    from watcher.cli import terminal

    store = project.store
    result = diff_texts(store.read_version(source_id, old), store.read_version(source_id, new))
    console = terminal.make_console(color=color)
    header = f"{source_id}: {old} -> {new}"
    note = _notes(project, source_id)
    if result.empty:
        click.echo(f"{header}: no difference")
    elif color or (color is None and console.is_terminal):
        terminal.show_diff(console, result, header, note)
    else:
        labels = {"old_label": f"{source_id}@{old}", "new_label": f"{source_id}@{new}"}
        click.echo(terminal.safe(_annotated(render_unified(result, **labels), note)), nl=False)


def _notes(project: Project, source_id: str) -> Callable[[str], str | None]:
    """What a changed line is, when the assessment leaves it out."""
    from watcher.changes.volatility import shape
    from watcher.guides.template import SiteTemplates

    config = project.config
    source = config.source(source_id)
    peers = {s.id: project.store.load_state(s.id) for s in config.sources if s.host == source.host}
    template = SiteTemplates(config, peers, project.store).lines_for(source)
    volatile = set(peers[source_id].volatile)

    def note(text: str) -> str | None:
        if shape(text) in volatile:
            return "volatile, ignored"
        if text in template:
            return "the site's template, not counted"
        return None

    return note


def _annotated(unified: str, note: Callable[[str], str | None]) -> str:
    lines = unified.split("\n")
    for index, line in enumerate(lines):
        if line[:1] in "+-" and not line.startswith(("+++ ", "--- ")):
            said = note(line[1:])
            if said:
                lines[index] = f"{line}   ({said})"
    return "\n".join(lines)


def _pinned_hash(project: Project, guide_id: str, source_id: str) -> str:
    guide = project.config.guide(guide_id)
    if source_id not in guide.source_ids:
        raise UsageError(f"guide {guide.id!r} does not cite source {source_id!r}")
    state = project.store.load_state(source_id)
    pin = project.reviews.load(guide.id).pins().get(source_id)
    pinned = state.resolve(pin.hash) if pin else state.baseline
    if pinned is None:
        raise UsageError(f"{source_id} has no snapshot yet", hint="run `watcher check` first")
    return pinned


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


@click.command()
@click.argument("source")
@click.option(
    "-n", "--limit", default=20, show_default=True, help="How many fetch attempts to show."
)
@pass_ctx
def history(ctx: Context, source: str, limit: int) -> None:
    """Versions of SOURCE and its recent fetch attempts."""
    from watcher.cli import terminal

    project = ctx.project
    source_id = project.config.source(source).id
    state = project.store.load_state(source_id)
    click.echo(f"{source_id}: {len(state.versions)} version(s)")
    for index, version in enumerate(state.versions):
        label = "baseline" if index == 0 else "reverted" if version.reverted else "change"
        seen = f"{version.seen:%Y-%m-%d %H:%M:%S}"
        line = f"  {seen}  {version.hash}  {label}  {redact_url(version.final_url)}"
        click.echo(terminal.safe(line))
    click.echo("fetch attempts (newest first):")
    for row in project.journal.fetches(source_id, limit):
        detail = row.error or f"HTTP {row.status} {row.content_hash or ''}".rstrip()
        click.echo(terminal.safe(f"  {row.at:%Y-%m-%d %H:%M:%S}  {row.outcome:<9}  {detail}"))


@click.command()
@pass_ctx
def validate(ctx: Context) -> None:
    """Only load and check the configuration (exit 2 with file:line: key on error).

    Warnings (a placeholder owner or guide URL, a CA bundle not there yet)
    are printed, but do not fail.
    """
    config = ctx.project.config
    counts = f"{_count(len(config.sources), 'source')}, {_count(len(config.guides), 'guide')}"
    if config.warnings:
        counts += f", {_count(len(config.warnings), 'warning')}"
    click.echo(f"{config.path}: OK ({counts})")
    echo_config_warnings(config, err=False)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


COMMANDS = (status, diff, history, validate)
