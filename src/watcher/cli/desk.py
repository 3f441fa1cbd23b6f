"""The editor desk's commands: ``serve``, ``reports`` and ``users``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from watcher.cli.common import Context, pass_ctx, wait_option
from watcher.errors import UsageError
from watcher.results import utcnow
from watcher.state import REPORT_STATUSES, ROLES
from watcher.store import project_lock

if TYPE_CHECKING:  # the journal (SQLAlchemy) and the desk are imported by the commands
    from watcher.store.desk import ReaderReport


@click.command()
@click.option(
    "-c",
    "--config",
    "config",
    type=click.Path(path_type=Path),
    default=None,
    help="The configuration, as `watcher -c` (so `watcher serve -c DIR/sources.yaml` works).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8780, show_default=True, help="Port to listen on.")
@click.option(
    "--commit",
    is_flag=True,
    help="Commit snapshots/ to git after each action, with the editor as the author.",
)
@click.option(
    "--forwarded-allow",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESSES",
    help="Reverse proxies (comma-separated) whose X-Forwarded-For/-Proto are trusted.",
)
@pass_ctx
def serve(
    ctx: Context, config: Path | None, host: str, port: int, commit: bool, forwarded_allow: str
) -> None:
    """Serve the editor desk: the queue, guide pages, sign-off and readers' reports.

    Editors log in with an account made by `watcher users add`. Readers may
    only send reports: POST /api/reports and the form at /report?guide=ID.
    Put it behind a TLS reverse proxy that exposes only those two.
    """
    from watcher.store import DeskStore
    from watcher.web.server import serve as run_server  # uvicorn: only for this command

    if config is not None:
        ctx.config_path = config
    project = ctx.project
    if not DeskStore(project.journal).accounts():
        click.echo(
            "watcher: no desk account yet: create one with "
            f"`watcher -c {project.config.path} users add NAME --role editor`",
            err=True,
        )
    click.echo(f"watcher desk for {project.config.path} on http://{host}:{port}/ (Ctrl-C stops)")
    run_server(project, host=host, port=port, commit=commit, forwarded=forwarded_allow)


# ---------------------------------------------------------------- reports


@click.group()
def reports() -> None:
    """Readers' reports: list them and triage them (as the desk does)."""


@reports.command("list")
@click.option(
    "--status",
    type=click.Choice([*REPORT_STATUSES, "all"]),
    default="new",
    show_default=True,
    help="Which reports.",
)
@click.option("-g", "--guide", metavar="ID", help="Only reports about this guide.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (no contacts).")
@pass_ctx
def reports_list(ctx: Context, status: str, guide: str | None, as_json: bool) -> None:
    """List reports, oldest first (default: the new ones, waiting for triage)."""
    from watcher.guides import reports as triage
    from watcher.store import DeskStore

    project = ctx.project
    if guide:
        project.config.guide(guide)
    triage.erase_expired_contacts(project, utcnow())
    statuses = REPORT_STATUSES if status == "all" else (status,)
    found = DeskStore(project.journal).reports(statuses, guide)
    if as_json:
        data = [_report_json(r) for r in found]
        click.echo(json.dumps({"schema": "watcher.reports/1", "reports": data}, indent=2))
        return
    for report in found:
        click.echo(
            f"{report.ref}  {report.status:<9} {report.guide}  "
            f"{report.received_at:%Y-%m-%d %H:%M}  {triage.summary(report.text, 80)}"
        )
    if not found:
        click.echo(f"no {'' if status == 'all' else status + ' '}reports")


@reports.command("show")
@click.argument("ref")
@pass_ctx
def reports_show(ctx: Context, ref: str) -> None:
    """Show one report in full, with the reader's contact (personal data)."""
    from watcher.guides import reports as triage
    from watcher.store import DeskStore

    report = DeskStore(ctx.project.journal).report(ref)
    click.echo(f"{report.ref} about guide {report.guide}: {report.status}")
    click.echo(f"received {report.received_at:%Y-%m-%d %H:%M} UTC")
    if report.page:
        click.echo(f"page: {triage.summary(report.page, 500)}")
    click.echo(f"contact: {report.contact or 'none'}")
    if report.triaged_by:
        click.echo(f"{report.status} by {report.triaged_by}: {report.note or ''}".rstrip(": "))
    click.echo("")
    click.echo(report.text)


@reports.command("accept")
@click.argument("ref")
@click.option("--by", required=True, metavar="NAME", help="Who accepts it (required).")
@click.option("--note", default="", metavar="TEXT", help="Why, or what to check.")
@click.option("-g", "--guide", metavar="ID", help="Link it to another guide.")
@click.option("-s", "--source", metavar="ID", help="The cited source it is about.")
@click.option("--claim", metavar="TEXT", help="The guide's claim it is about.")
@wait_option
@pass_ctx
def reports_accept(
    ctx: Context, ref: str, by: str, note: str, guide: str | None, source: str | None,
    claim: str | None, wait: float,
) -> None:  # fmt: skip
    """Accept a report: its guide needs review until it is signed off.

    Writes snapshots/_reports/GUIDE.json (commit it): no personal data.
    """
    from watcher.guides import reports as triage

    project = ctx.project
    with project_lock(project.root, "reports accept", wait=wait):
        done = triage.accept(
            project, ref, by=by, now=utcnow(), note=note, guide=guide, source=source, claim=claim
        )
    click.echo(f"accepted {done.ref}: guide {done.guide} needs review until it is signed off")


@reports.command("reject")
@click.argument("ref")
@click.option("--by", required=True, metavar="NAME", help="Who rejects it (required).")
@click.option("--note", required=True, metavar="TEXT", help="Why (required).")
@wait_option
@pass_ctx
def reports_reject(ctx: Context, ref: str, by: str, note: str, wait: float) -> None:
    """Reject a report, saying why."""
    from watcher.guides import reports as triage

    project = ctx.project
    with project_lock(project.root, "reports reject", wait=wait):
        done = triage.reject(project, ref, by=by, now=utcnow(), note=note)
    click.echo(f"rejected {done.ref}")


@reports.command("duplicate")
@click.argument("ref")
@click.option("--of", "of", required=True, metavar="REF", help="The report it repeats.")
@click.option("--by", required=True, metavar="NAME", help="Who triages it (required).")
@wait_option
@pass_ctx
def reports_duplicate(ctx: Context, ref: str, of: str, by: str, wait: float) -> None:
    """Mark a report as a duplicate of another."""
    from watcher.guides import reports as triage

    project = ctx.project
    with project_lock(project.root, "reports duplicate", wait=wait):
        done = triage.mark_duplicate(project, ref, of=of, by=by, now=utcnow())
    click.echo(f"{done.ref} is a duplicate of {done.duplicate_of}")


def _report_json(report: ReaderReport) -> dict[str, object]:
    return {
        "ref": report.ref,
        "guide": report.guide,
        "status": report.status,
        "received_at": report.received_at.isoformat(),
        "text": report.text,
        "page": report.page,
        "source": report.source,
        "triaged_by": report.triaged_by,
        "note": report.note,
        "duplicate_of": report.duplicate_of,
    }


# ---------------------------------------------------------------- users


@click.group()
def users() -> None:
    """Desk accounts: editors and maintainers (passwords stored only as hashes)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--email", metavar="ADDRESS", help="For git commits made with --commit.")
@click.option("--replace", is_flag=True, help="Reset an existing account's password and role.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@pass_ctx
def users_add(
    ctx: Context, name: str, role: str, email: str | None, replace: bool, password_stdin: bool
) -> None:
    """Create a desk account; the password is asked for (never an argument)."""
    from watcher.web import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UsageError("the password cannot be empty")
    account = accounts.add_account(
        ctx.project, name, role, password, utcnow(), email=email, replace=replace
    )
    click.echo(f"{'reset' if replace else 'added'} {account.role} {account.name}")


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List the desk's accounts."""
    from watcher.store import DeskStore

    for account in DeskStore(ctx.project.journal).accounts():
        click.echo(f"{account.name}  {account.role}  since {account.created_at:%Y-%m-%d}")


@users.command("remove")
@click.argument("name")
@pass_ctx
def users_remove(ctx: Context, name: str) -> None:
    """Remove a desk account (its sign-offs stay in the history)."""
    from watcher.store import DeskStore

    if not DeskStore(ctx.project.journal).remove_account(name):
        raise UsageError(f"no account named {name!r}")
    click.echo(f"removed {name}")


COMMANDS = (serve, reports, users)
