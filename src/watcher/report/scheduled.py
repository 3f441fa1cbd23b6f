"""Scheduled digests (``reports: schedule:``), run by ``watcher run``.

The same steps as ``watcher report --since last`` with the entry's formats
(and ``--email``/``--always`` when it says so), written to ``reports/``.
The caller holds the project lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.config.model import Config, Notify, ReportJob
from watcher.notify import mail as notify
from watcher.project import Project
from watcher.report.digest import Digest, build_digest, load_history
from watcher.report.output import load_state, period_start, write_report
from watcher.report.render import Renderer


@dataclass(frozen=True)
class ReportRun:
    """What one scheduled digest wrote and mailed."""

    since: datetime
    until: datetime
    written: tuple[Path, ...]
    mailed: tuple[str, ...] = ()


def last_digest(project: Project) -> datetime | None:
    """The end of the previous digest in ``reports/``, if any."""
    return load_state(project.reports_dir).last_until


def run_job(project: Project, job: ReportJob, until: datetime) -> ReportRun:
    """Write (and maybe mail) the digest since the last one; NotifyError if mailing fails."""
    out_dir = project.reports_dir
    renderer = Renderer(project.config.reports.templates)
    start = period_start("last", load_state(out_dir), until)
    digest = build_digest(load_history(project), start, until, generated=until)
    titles = {g.id: g.title for g in project.config.guides}
    written = tuple(write_report(digest, renderer, out_dir, job.formats, titles))
    mailed: tuple[str, ...] = ()
    settings = project.config.notify
    if job.email and settings is not None:
        mailed = _mail(project.config, settings, digest, renderer, job.always)
    return ReportRun(start, until, written, mailed)


def _mail(
    config: Config, settings: Notify, digest: Digest, renderer: Renderer, always: bool
) -> tuple[str, ...]:
    def render(part: Digest, audience: str) -> tuple[str, str]:
        return renderer.html(part, audience), renderer.markdown(part, audience)

    mails = notify.compose(config, digest, render, always=always)
    notify.send(settings, mails)
    return tuple(address for mail in mails for address in mail.to)
