"""Digests by mail: ``watcher report --email`` and the scheduled digests of ``watcher run``.

A scheduled digest (``reports: schedule:``) takes the same steps as
``watcher report --since last`` with the entry's formats (and
``--email``/``--always`` when it says so), written to ``reports/``. The
caller holds the project lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.config.model import Config, Notify, ReportJob
from watcher.errors import UsageError
from watcher.notify import mail
from watcher.project import Project
from watcher.report.model import Digest
from watcher.report.output import write_digest
from watcher.report.render import Renderer


@dataclass(frozen=True)
class ReportRun:
    """What one scheduled digest wrote and mailed."""

    since: datetime
    until: datetime
    written: tuple[Path, ...]
    mailed: tuple[str, ...] = ()


def run_job(project: Project, job: ReportJob, until: datetime) -> ReportRun:
    """Write (and maybe mail) the digest since the last one; NotifyError if mailing fails."""
    if job.email and project.config.notify is not None:
        mail_ready(project.config)  # before writing: a digest written is a period gone
    written = write_digest(project, job.formats, until)
    mailed: tuple[str, ...] = ()
    if job.email and project.config.notify is not None:
        mails = mail_digest(project.config, written.digest, written.renderer, always=job.always)
        mailed = tuple(address for item in mails for address in item.to)
    return ReportRun(written.since, until, written.paths, mailed)


def notify_settings(config: Config) -> Notify:
    """The ``notify:`` section, or a usage error saying it is needed to mail digests."""
    if config.notify is None:
        raise UsageError(
            "--email needs a notify: section in sources.yaml", hint="see docs/digests.md"
        )
    return config.notify


def mail_ready(config: Config) -> Notify:
    """Everything mailing a digest needs, checked before anything is written.

    Writing a digest moves the period on (``--since last``): a digest that
    was written but could not be mailed would never be mailed.
    """
    settings = notify_settings(config)
    mail.ready(settings)
    return settings


def mail_digest(
    config: Config, digest: Digest, renderer: Renderer, *, always: bool
) -> list[mail.Mail]:
    """Mail each owner their guides and the maintainers source health; the mails sent.

    An empty list when nothing needs anyone (unless ``always``).
    """
    settings = notify_settings(config)

    def render(part: Digest, audience: str) -> tuple[str, str]:
        return renderer.html(part, audience), renderer.plain(part, audience)

    mails = mail.compose(config, digest, render, always=always)
    sent = mail.send(settings, mails)
    return mails if sent else []
