"""``watcher audit``: the published guides against sources.yaml."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

import click

from watcher.cli.common import Context, echo_config_warnings, pass_ctx, wait_option
from watcher.errors import EXIT_ALL_FAILED
from watcher.store import project_lock

if TYPE_CHECKING:
    from watcher.guides.audit import GuideAudit
    from watcher.project import Project


@click.command("audit")
@click.argument("guides", nargs=-1, metavar="[GUIDE]...")
@click.option("--json", "as_json", is_flag=True, help="Print the audits as JSON (watcher.audit/1).")
@wait_option
@pass_ctx
def audit(ctx: Context, guides: tuple[str, ...], as_json: bool, wait: float) -> None:
    """Compare each published guide's "Sources" section with sources.yaml (network).

    Fetches each guide's url (same politeness, robots.txt and quality gate
    as sources) and every official link it cites, then reports: links the
    page cites that no source watches, sources mapped to the guide that the
    page does not cite, cited links that are dead or redirect elsewhere,
    and when the page itself last changed. The result is kept in
    snapshots/_guides/ (commit it): `status`, `ci` and the digest show it.
    """
    from watcher.guides.audit_run import audit_guides  # the HTTP stack: only for this command

    project = ctx.project
    echo_config_warnings(project.config)
    chosen = [project.config.guide(g) for g in guides] or list(project.config.guides)
    with project_lock(project.root, "audit", wait=wait):
        audits = asyncio.run(audit_guides(project.config, project.guide_pages, chosen))
    if as_json:
        click.echo(json.dumps([a.to_json() for a in audits], ensure_ascii=False, indent=2))
    else:
        for one in audits:
            _echo_audit(project, one)
        _echo_summary(project, audits)
    if audits and all(a.error and a.page_hash is None for a in audits):
        sys.exit(EXIT_ALL_FAILED)


def _echo_audit(project: Project, audit: GuideAudit) -> None:
    from watcher.guides.audit import LinkStatus, audit_reasons

    click.echo(f"{audit.guide}: {audit.url}")
    if audit.page_hash is not None:
        changed = audit.page_changed
        since = f"{audit.page_first_seen:%Y-%m-%d %H:%M} UTC" if audit.page_first_seen else "?"
        when = f"{changed:%Y-%m-%d %H:%M} UTC" if changed else f"not since first read {since}"
        click.echo(f"  page text last changed: {when}")
    if not audit.error:
        watched = len(audit.cited) - len(audit.not_watched)
        click.echo(
            f"  cites {len(audit.cited)} official link(s): {watched} watched, "
            f"{len(audit.not_watched)} not watched"
        )
    signoff = project.reviews.load(audit.guide).last_signoff
    for reason in audit_reasons(project.config, audit, signoff):
        click.echo(f"  ! {reason.text}")
        click.echo(f"    next: {reason.action}")
    for link in audit.with_status(LinkStatus.UNCHECKED):
        click.echo(f"  ? could not check {link.url}: {link.detail}")


def _echo_summary(project: Project, audits: list[GuideAudit]) -> None:
    from watcher.guides.audit import audit_reasons

    failed = sum(1 for a in audits if a.error)
    with_findings = sum(
        1
        for a in audits
        if audit_reasons(project.config, a, project.reviews.load(a.guide).last_signoff)
    )
    click.echo(
        f"watcher audit: {len(audits)} guide(s) audited, {with_findings} with findings, "
        f"{failed} could not be read"
    )


COMMANDS = (audit,)
