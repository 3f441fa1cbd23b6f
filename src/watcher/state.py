"""Committed-state records: what ``snapshots/`` holds, with no I/O.

Per-source state kept in ``snapshots/<id>/state.json``:

This is everything the next run needs, committed with the snapshots so a
fresh clone with no database can carry on: HTTP validators, the outcome of
the last check, consecutive failures, and the list of versions. The JSON
is written with sorted keys and a fixed layout so it reads well in
``git diff``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from watcher import shapes
from watcher.errors import ErrorKind
from watcher.results import Outcome

STATE_SCHEMA = 1
REVIEWS_SCHEMA = 1


@dataclass
class Version:
    """One distinct normalized text a source has had."""

    hash: str
    seen: datetime
    raw: str | None = None
    content_type: str = ""
    charset: str | None = None
    final_url: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    reverted: bool = False
    """Stored as a reversion (back to a recent version: flapping), not as a change.
    Written to the file only when true."""


@dataclass
class CheckOutcome:
    """What happened the last time the source was checked."""

    at: datetime
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    kind: ErrorKind | None = None


@dataclass
class Rebase:
    """Stored versions re-extracted after a rule or normalizer change."""

    at: datetime
    rules_from: str
    rules_to: str
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass
class Shrink:
    """A text far smaller than the current version, waiting to hold before it is a change."""

    hash: str
    count: int
    since: datetime


@dataclass
class SourceState:
    """The committed state of one source."""

    source: str
    url: str = ""
    final_url: str = ""
    rules: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_check: CheckOutcome | None = None
    last_success: datetime | None = None
    last_change: datetime | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    moved_to: str | None = None
    versions: list[Version] = field(default_factory=list)
    rebases: list[Rebase] = field(default_factory=list)
    shrink: Shrink | None = None
    churn: dict[str, list[datetime]] = field(default_factory=dict)
    """Line shape -> when a small change touched it lately (volatility from history)."""
    volatile: list[str] = field(default_factory=list)
    """Line shapes that changed on several recent fetches while the rest stayed put."""
    unreported: list[str] = field(default_factory=list)
    """Hashes of changes stored by a check that never got to report them (interrupted):
    the next check reports them. Left out of the file when empty."""

    @property
    def current(self) -> str | None:
        """Hash of the current version, or None before the first baseline."""
        return self.versions[-1].hash if self.versions else None

    @property
    def baseline(self) -> str | None:
        """Hash of the first version ever stored."""
        return self.versions[0].hash if self.versions else None

    def version(self, content_hash: str) -> Version | None:
        for version in reversed(self.versions):
            if version.hash == content_hash:
                return version
        return None

    def resolve(self, content_hash: str) -> str:
        """Follow re-base renames: a hash recorded under older rules -> today's."""
        for rebase in self.rebases:
            content_hash = rebase.hashes.get(content_hash, content_hash)
        return content_hash

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _encode(self)
        for key in _OMITTED_WHEN_EMPTY:
            if not data[key]:
                del data[key]  # files of sources that never needed them stay as they were
        data["schema"] = STATE_SCHEMA
        for version in data["versions"]:
            if not version["reverted"]:
                del version["reverted"]
        return data

    @classmethod
    def from_json(cls, data: Any) -> SourceState:
        """The state a ``state.json`` holds; raises :class:`~watcher.shapes.ShapeError` if not."""
        shapes.check(data, _STATE_SHAPE, "", STATE_SCHEMA)
        data = dict(data)
        data.pop("schema", None)
        data["versions"] = [Version(**_decode(v)) for v in data.get("versions", [])]
        data["rebases"] = [Rebase(**_decode(r)) for r in data.get("rebases", [])]
        check = data.get("last_check")
        data["last_check"] = _check_outcome(check) if check else None
        for key in ("last_success", "last_change", "failing_since"):
            data[key] = _time(data.get(key))
        shrink = data.get("shrink")
        data["shrink"] = Shrink(**_decode(shrink)) if shrink else None
        data["churn"] = {
            shape: [t for t in map(_time, times) if t is not None]
            for shape, times in (data.get("churn") or {}).items()
        }
        data["volatile"] = list(data.get("volatile") or [])
        data["unreported"] = list(data.get("unreported") or [])
        return cls(**data)


_OMITTED_WHEN_EMPTY = ("shrink", "churn", "volatile", "unreported")
_TIME_KEYS = frozenset({"at", "seen", "since"})


def _check_outcome(data: dict[str, Any]) -> CheckOutcome:
    fields = _decode(data)
    fields["outcome"] = Outcome(fields["outcome"])
    return CheckOutcome(**fields)


def _encode(value: Any) -> Any:
    """Records as JSON values, in one pass (``asdict`` deep-copies every value first)."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _encode(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _decode(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _time(value) if key in _TIME_KEYS else value for key, value in data.items()}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


# ------------------------------------------------------------- sign-offs

REVIEW = "review"
DISMISS = "dismiss"


@dataclass(frozen=True)
class ReviewEntry:
    """One sign-off: an editor verified (or dismissed a change to) a guide."""

    at: datetime
    by: str
    note: str
    kind: str
    sources: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "by": self.by,
            "kind": self.kind,
            "note": self.note,
            "sources": dict(sorted(self.sources.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReviewEntry:
        """One entry of a review file (checked by :func:`reviews_from_json`)."""
        return cls(
            at=datetime.fromisoformat(data["at"]),
            by=data["by"],
            note=data["note"],
            kind=data.get("kind", REVIEW),
            sources=dict(data.get("sources", {})),
        )


@dataclass(frozen=True)
class Pin:
    """The version of one source a guide was verified against."""

    hash: str
    entry: ReviewEntry


@dataclass(frozen=True)
class AcceptedReport:
    """A reader's report an editor accepted: the guide needs review until signed off.

    Committed under ``snapshots/_reports/`` so ``watcher ci`` sees it offline;
    it holds no personal data (the reader's contact stays in the database).
    It is resolved by the first sign-off (not a dismissal) at or after
    ``accepted_at`` that pins its ``source`` (any sign-off when none is named).
    """

    ref: str
    summary: str
    accepted_at: datetime
    accepted_by: str
    source: str | None = None
    claim: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted_at": self.accepted_at.isoformat(timespec="seconds"),
            "accepted_by": self.accepted_by,
            "claim": self.claim,
            "ref": self.ref,
            "source": self.source,
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcceptedReport:
        return cls(
            ref=data["ref"],
            summary=data["summary"],
            accepted_at=datetime.fromisoformat(data["accepted_at"]),
            accepted_by=data["accepted_by"],
            source=data.get("source"),
            claim=data.get("claim"),
        )

    def resolved_by(self, entry: ReviewEntry) -> bool:
        """This sign-off settles the report."""
        if entry.kind != REVIEW or entry.at < self.accepted_at.replace(microsecond=0):
            return False
        return self.source is None or self.source in entry.sources


@dataclass
class GuideReviews:
    """The sign-off history of one guide, and the reader reports accepted about it."""

    guide: str
    entries: list[ReviewEntry] = field(default_factory=list)
    reports: list[AcceptedReport] = field(default_factory=list)

    @property
    def open_reports(self) -> tuple[AcceptedReport, ...]:
        """Accepted reports no later sign-off has settled: the guide needs review."""
        return tuple(r for r in self.reports if not any(r.resolved_by(e) for e in self.entries))

    def pins(self) -> dict[str, Pin]:
        """Latest pinned hash per source."""
        pins: dict[str, Pin] = {}
        for entry in self.entries:
            for source, content_hash in entry.sources.items():
                pins[source] = Pin(content_hash, entry)
        return pins

    @property
    def last_signoff(self) -> datetime | None:
        return self.entries[-1].at if self.entries else None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REVIEWS_SCHEMA,
            "guide": self.guide,
            "entries": [entry.to_json() for entry in self.entries],
        }


def reviews_from_json(guide: str, data: Any) -> GuideReviews:
    """The sign-offs a review file holds; :class:`~watcher.shapes.ShapeError` if it is not one."""
    shapes.check(data, _REVIEWS_SHAPE, "", REVIEWS_SCHEMA)
    return GuideReviews(guide, [ReviewEntry.from_json(item) for item in data.get("entries", [])])


# Shapes of the committed documents (see :mod:`watcher.shapes`).

_VERSION_SHAPE = {
    "hash": str,
    "seen": shapes.TIME,
    "raw": shapes.Optional(shapes.NULLABLE_STR),
    "content_type": shapes.Optional(str),
    "charset": shapes.Optional(shapes.NULLABLE_STR),
    "final_url": shapes.Optional(str),
    "metadata": shapes.Optional(shapes.MapOf(str)),
    "reverted": shapes.Optional(bool),
}
_CHECK_SHAPE = {
    "at": shapes.TIME,
    "outcome": {outcome.value for outcome in Outcome},
    "status": shapes.Optional((int, type(None))),
    "error": shapes.Optional(shapes.NULLABLE_STR),
    "kind": shapes.Optional(shapes.NULLABLE_STR),
}
_SHRINK_SHAPE = {"hash": str, "count": shapes.COUNT, "since": shapes.TIME}
_REBASE_SHAPE = {
    "at": shapes.TIME,
    "rules_from": str,
    "rules_to": str,
    "hashes": shapes.Optional(shapes.MapOf(str)),
}
_STATE_SHAPE = {
    "schema": shapes.Optional(int),
    "source": str,
    "url": shapes.Optional(str),
    "final_url": shapes.Optional(str),
    "rules": shapes.Optional(str),
    "etag": shapes.Optional(shapes.NULLABLE_STR),
    "last_modified": shapes.Optional(shapes.NULLABLE_STR),
    "last_check": shapes.Optional((type(None), _CHECK_SHAPE)),
    "last_success": shapes.Optional(shapes.MAYBE_TIME),
    "last_change": shapes.Optional(shapes.MAYBE_TIME),
    "consecutive_failures": shapes.Optional(shapes.COUNT),
    "failing_since": shapes.Optional(shapes.MAYBE_TIME),
    "moved_to": shapes.Optional(shapes.NULLABLE_STR),
    "versions": shapes.Optional(shapes.ListOf(_VERSION_SHAPE)),
    "rebases": shapes.Optional(shapes.ListOf(_REBASE_SHAPE)),
    "shrink": shapes.Optional((type(None), _SHRINK_SHAPE)),
    "churn": shapes.Optional(shapes.MapOf(shapes.ListOf(shapes.TIME))),
    "volatile": shapes.Optional(shapes.ListOf(str)),
    "unreported": shapes.Optional(shapes.ListOf(str)),
}
_ENTRY_SHAPE = {
    "at": shapes.TIME,
    "by": str,
    "note": str,
    "kind": shapes.Optional({REVIEW, DISMISS}),
    "sources": shapes.Optional(shapes.MapOf(str)),
}
_REVIEWS_SHAPE = {
    "schema": shapes.Optional(int),
    "guide": shapes.Optional(str),
    "entries": shapes.Optional(shapes.ListOf(_ENTRY_SHAPE)),
}


ReportStatus = Literal["new", "accepted", "rejected", "duplicate"]
"""Where a reader's report stands in the desk's triage (the report itself is in the journal)."""
REPORT_STATUSES: tuple[ReportStatus, ...] = ("new", "accepted", "rejected", "duplicate")
Role = Literal["editor", "maintainer"]
"""What a desk account may do."""
ROLES: tuple[Role, ...] = ("editor", "maintainer")
