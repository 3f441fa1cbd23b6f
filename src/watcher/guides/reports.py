"""Readers' reports about guides: intake and triage.

Intake (:func:`receive`) is what the desk's public endpoints call: the
guide named by id or by its published URL, what looks wrong (required,
capped), optionally the page or line it is about and a contact e-mail.
Every report is stored in the database with a reference the reader can
quote. Report text is hostile: it is kept as typed (control characters
removed) and escaped wherever it is shown; the one-line :func:`summary`
is what reaches ``snapshots/`` and the CI output.

Triage (:func:`accept`, :func:`reject`, :func:`mark_duplicate`) is shared
by the desk and ``watcher reports``. Accepting writes the report's summary
(no personal data) to ``snapshots/_reports/<guide>.json``, so the guide is
"needs review" with the report as the reason until it is signed off. The
caller holds the project lock.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from watcher.config.model import Config, DeskSettings, Guide
from watcher.config.settings import make_desk
from watcher.errors import ReportError, UnknownIdError, UsageError
from watcher.state import AcceptedReport
from watcher.store import DeskStore, Journal
from watcher.store.desk import ReaderReport, ReportStatus
from watcher.store.reviews import ReviewStore

REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits a reader cannot confuse (no 0/O, 1/I)."""
SUMMARY_CHARS = 200
MAX_PAGE_CHARS = 500
MAX_CONTACT_CHARS = 254
OPEN_STATUSES: tuple[ReportStatus, ...] = ("new",)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"^[^@\s<>,;:\"'\\()\[\]]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$")


class Project(Protocol):
    """What intake and triage read and write (a :class:`watcher.project.Project`)."""

    @property
    def config(self) -> Config: ...

    @property
    def reviews(self) -> ReviewStore: ...

    @property
    def journal(self) -> Journal: ...


@dataclass(frozen=True)
class Submission:
    """What a reader sent, untrusted and unchecked."""

    guide: str
    text: str
    page: str = ""
    contact: str = ""


# ---------------------------------------------------------------- intake


def find_guide(config: Config, wanted: str) -> Guide:
    """The guide named by its id or by its published URL (query and fragment ignored)."""
    wanted = wanted.strip()
    if not wanted:
        raise ReportError("say which guide the report is about (its id or address)")
    if "://" not in wanted:
        return config.guide(wanted)
    key = _url_key(wanted)
    for guide in config.guides:
        if key is not None and _url_key(guide.url) == key:
            return guide
    raise UnknownIdError(
        f"no guide is published at {wanted[:200]!r}",
        hint="give the guide's id or the address of its page",
    )


def _url_key(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host, parts.path.rstrip("/") or "/"


def clean_text(text: str, *, limit: int, what: str, required: bool = True) -> str:
    """Report text as typed, minus control and direction-override characters."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text).strip()
    if required and not text:
        raise ReportError(f"{what} is required")
    if len(text) > limit:
        raise ReportError(f"{what} is too long: {len(text)} characters, at most {limit}")
    return text


def clean_contact(text: str) -> str | None:
    """An optional contact: one plain e-mail address, or a ReportError."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_CONTACT_CHARS or not _EMAIL.match(text):
        raise ReportError("the contact is not an e-mail address", hint="leave it empty, or fix it")
    return text


def summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    """One line of at most ``limit`` characters: what CI output and snapshots/ show."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def new_ref() -> str:
    """A reference the reader can quote: ``R-`` and seven unambiguous characters."""
    return "R-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(7))


def receive(project: Project, submission: Submission, now: datetime) -> ReaderReport:
    """Check a reader's report and store it as new; ReportError or UnknownIdError if not."""
    guide = find_guide(project.config, submission.guide)
    limit = _desk(project.config).max_report
    report = ReaderReport(
        ref=new_ref(),
        guide=guide.id,
        text=clean_text(submission.text, limit=limit, what="what looks wrong"),
        status="new",
        received_at=now,
        page=clean_text(submission.page, limit=MAX_PAGE_CHARS, what="the page", required=False)
        or None,
        contact=clean_contact(submission.contact),
    )
    return DeskStore(project.journal).add_report(report)


def erase_expired_contacts(project: Project, now: datetime) -> int:
    """Forget readers' contacts older than ``desk: contact_retention``; how many."""
    retention = _desk(project.config).contact_retention
    return DeskStore(project.journal).erase_contacts(now - retention)


def _desk(config: Config) -> DeskSettings:
    """The ``desk:`` settings (the table's defaults for a configuration built by hand)."""
    return config.desk or make_desk({})


# ---------------------------------------------------------------- triage


def accept(
    project: Project,
    ref: str,
    *,
    by: str,
    now: datetime,
    note: str = "",
    guide: str | None = None,
    source: str | None = None,
    claim: str | None = None,
) -> ReaderReport:
    """Accept a report: its guide needs review, with the report as the reason."""
    _require(by=by)
    store = DeskStore(project.journal)
    report = store.report(ref)
    target = project.config.guide(guide) if guide else project.config.guide(report.guide)
    source, claim = _link(project.config, target, source or None, claim or None)
    _withdraw(project, report)
    accepted = AcceptedReport(report.ref, summary(report.text), now, by, source, claim)
    project.reviews.accepted.append(target.id, accepted)
    triaged = replace(
        report, guide=target.id, source=source, claim=claim, duplicate_of=None,
        status="accepted", triaged_at=now, triaged_by=by, note=note.strip() or None,
    )  # fmt: skip
    store.save_triage(triaged)
    return triaged


def reject(project: Project, ref: str, *, by: str, now: datetime, note: str) -> ReaderReport:
    """Reject a report with a note saying why (it is kept, never shown to CI)."""
    _require(by=by, note=note)
    return _close(project, ref, "rejected", by=by, now=now, note=note)


def mark_duplicate(
    project: Project, ref: str, *, of: str, by: str, now: datetime, note: str = ""
) -> ReaderReport:
    """Mark a report as a duplicate of another one."""
    _require(by=by)
    original = DeskStore(project.journal).report(of)
    if original.ref == ref.strip().upper():
        raise UsageError("a report cannot duplicate itself")
    return _close(project, ref, "duplicate", by=by, now=now, note=note, of=original.ref)


def _close(
    project: Project,
    ref: str,
    status: ReportStatus,
    *,
    by: str,
    now: datetime,
    note: str,
    of: str | None = None,
) -> ReaderReport:
    store = DeskStore(project.journal)
    report = store.report(ref)
    _withdraw(project, report)
    closed = replace(
        report, status=status, triaged_at=now, triaged_by=by,
        note=note.strip() or None, duplicate_of=of,
    )  # fmt: skip
    store.save_triage(closed)
    return closed


def _withdraw(project: Project, report: ReaderReport) -> None:
    """An accepted report triaged again no longer holds its guide."""
    if report.status == "accepted":
        project.reviews.accepted.remove(report.guide, report.ref)


def _link(
    config: Config, guide: Guide, source: str | None, claim: str | None
) -> tuple[str | None, str | None]:
    """Check the source (cited by the guide) and claim (quoted from it) a report is about."""
    if source is not None and source not in guide.source_ids:
        raise UsageError(f"source {source!r} is not cited by guide {guide.id!r}")
    if claim is None:
        return source, None
    for entry in guide.sources:
        if claim in entry.claims and source in (None, entry.source):
            return entry.source, claim
    raise UsageError(f"guide {guide.id!r} quotes no such claim: {claim[:80]!r}")


def _require(**values: str) -> None:
    for name, value in values.items():
        if not value or not value.strip():
            raise UsageError(f"{name} is required and cannot be empty")
