"""The editors' digest: ``watcher report``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from watcher.cli.common import Context, at_option, now_or, pass_ctx, wait_option
from watcher.errors import NotifyError
from watcher.report import FORMATS
from watcher.results import SEVERITIES, Severity
from watcher.store import project_lock

if TYPE_CHECKING:  # the report stack (Jinja2, the digest builder) is imported by the command
    from watcher.project import Project
    from watcher.report.model import Digest
    from watcher.report.render import Renderer

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


@click.command("report")
@click.option(
    "--since",
    metavar="DATE|last",
    default=None,
    help="Start of the period: a UTC date or time, or 'last' (the end of the previous "
    "digest in the output folder). Default: 'last', else the last 7 days.",
)
@click.option(
    "--format",
    "formats",
    default=",".join(FORMATS),
    show_default=True,
    help="Formats to write, comma-separated.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder [default: reports/ beside sources.yaml].",
)
@click.option(
    "--min-severity",
    type=click.Choice([s.value for s in SEVERITIES]),
    default=None,
    help="Show only changes of this severity or more (the others are counted, and their "
    "guides still need review).",
)
@click.option("--email", is_flag=True, help="Mail each owner their guides, maintainers health.")
@click.option("--always", is_flag=True, help="With --email: mail even when nothing needs anyone.")
@at_option
@wait_option
@pass_ctx
def report(
    ctx: Context,
    since: str | None,
    formats: str,
    out: Path | None,
    min_severity: str | None,
    email: bool,
    always: bool,
    at: datetime | None,
    wait: float,
) -> None:
    """Write the editors' digest: what needs whom, what changed, source health.

    Reads snapshots/ (and the database, for fetch detail, when present) and
    writes dated HTML, Markdown and JSON digests, latest.html, index.html and
    an Atom feed (feed.xml). Each change is shown from the version the
    editor last verified. --at sets the end of the period and the generation
    stamp, for reproducible output.
    """
    from watcher.notify.digests import mail_ready
    from watcher.report.output import parse_formats, write_digest

    project = ctx.project
    chosen = parse_formats(formats)
    if email:
        mail_ready(project.config)
    with project_lock(project.root, "report", wait=wait):
        minimum = Severity(min_severity) if min_severity else None
        written = write_digest(
            project, chosen, now_or(at), since=_since(since), out_dir=out, min_severity=minimum
        )
    click.echo(f"digest for {written.since:%Y-%m-%d %H:%M} – {written.until:%Y-%m-%d %H:%M} UTC:")
    for path in written.paths:
        click.echo(f"  {path}")
    if email:
        try:
            _email(project, written.digest, written.renderer, always)
        except NotifyError as exc:
            again = f"watcher report --email --since {written.since:%Y-%m-%dT%H:%M}"
            hint = f"{exc.hint}; to mail this digest: {again}"
            raise NotifyError(exc.message, hint=hint) from exc


def _since(text: str | None) -> datetime | str | None:
    if text is None or text == "last":
        return text
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise click.BadParameter(
        f"{text!r}: use YYYY-MM-DD, YYYY-MM-DDTHH:MM or 'last'", param_hint="--since"
    )


def _email(project: Project, digest: Digest, renderer: Renderer, always: bool) -> None:
    from watcher.notify.digests import mail_digest

    mails = mail_digest(project.config, digest, renderer, always=always)
    if not mails:
        click.echo("email: nothing needs attention, nothing sent (--always sends anyway)")
    for mail in mails:
        click.echo(f"email: sent to {', '.join(mail.to)}: {mail.subject}")


COMMANDS = (report,)
