"""Editor sign-off: pin a guide to the versions of its sources just checked.

``watcher review GUIDE`` pins every cited source (or the named ones) to its
current snapshot. ``--dismiss`` records that a flagged change needs no edit
to the guide: it pins only the changed sources (or the named ones) and is
kept apart in the history, so digests can say "dismissed: reason".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from watcher.config.model import Config, Guide
from watcher.errors import UsageError
from watcher.guides.freshness import source_verdict
from watcher.state import DISMISS, REVIEW, ReviewEntry
from watcher.store import Journal, SnapshotStore
from watcher.store.reviews import ReviewStore


class Project(Protocol):
    """What a sign-off reads and writes (a :class:`watcher.project.Project`)."""

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> SnapshotStore: ...

    @property
    def reviews(self) -> ReviewStore: ...

    @property
    def journal(self) -> Journal: ...


@dataclass(frozen=True)
class SignOff:
    """What one sign-off recorded, and what it had to leave out."""

    guide: str
    entry: ReviewEntry
    skipped: tuple[str, ...]


def sign_off(
    project: Project,
    guide_id: str,
    *,
    by: str,
    note: str,
    now: datetime,
    sources: Sequence[str] = (),
    dismiss: bool = False,
) -> SignOff:
    """Record a review (or dismissal) of ``guide_id`` against current snapshots."""
    _require_text(by=by, note=note)
    guide = project.config.guide(guide_id)
    wanted = _wanted_sources(project, guide, sources, dismiss, now)
    pins, skipped = _current_hashes(project, wanted)
    if not pins:
        raise UsageError(
            f"nothing to sign off for {guide.id}: {_nothing_reason(skipped, dismiss)}",
            hint="run `watcher check` first" if skipped else None,
        )
    if sources and skipped:
        raise UsageError(
            f"no snapshot yet for {', '.join(skipped)}", hint="run `watcher check` first"
        )
    entry = ReviewEntry(at=now, by=by, note=note, kind=DISMISS if dismiss else REVIEW, sources=pins)
    project.reviews.append(guide.id, entry)
    _journal(project, guide.id, entry)
    return SignOff(guide.id, entry, tuple(skipped))


def sign_off_all(project: Project, *, by: str, note: str, now: datetime) -> list[SignOff]:
    """Review every guide at once (adopting watcher on existing guides).

    A usage error when no guide could be signed off (no snapshot at all yet):
    a sign-off that pinned nothing is no sign-off.
    """
    _require_text(by=by, note=note)
    results = []
    for guide in project.config.guides:
        try:
            results.append(sign_off(project, guide.id, by=by, note=note, now=now))
        except UsageError:
            results.append(SignOff(guide.id, ReviewEntry(now, by, note, REVIEW), guide.source_ids))
    if not any(result.entry.sources for result in results):
        raise UsageError(
            "nothing to sign off: no source cited by a guide has a snapshot yet",
            hint="run `watcher check` first",
        )
    return results


def _require_text(**values: str) -> None:
    for name, value in values.items():
        if not value or not value.strip():
            raise UsageError(f"--{name} is required and cannot be empty")


def _wanted_sources(
    project: Project, guide: Guide, sources: Sequence[str], dismiss: bool, now: datetime
) -> list[str]:
    for source_id in sources:
        project.config.source(source_id)
        if source_id not in guide.source_ids:
            raise UsageError(f"source {source_id!r} is not cited by guide {guide.id!r}")
    if sources:
        return list(dict.fromkeys(sources))
    if not dismiss:
        return list(guide.source_ids)
    return _changed_sources(project, guide, now)


def _changed_sources(project: Project, guide: Guide, now: datetime) -> list[str]:
    pins = project.reviews.load(guide.id).pins()
    changed = []
    for source_id in guide.source_ids:
        state = project.store.load_state(source_id)
        source = project.config.source(source_id)
        if source_verdict(source, state, pins.get(source_id), now).changed:
            changed.append(source_id)
    return changed


def _current_hashes(project: Project, source_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    pins: dict[str, str] = {}
    skipped: list[str] = []
    for source_id in source_ids:
        current = project.store.load_state(source_id).current
        if current is None:
            skipped.append(source_id)
        else:
            pins[source_id] = current
    return pins, skipped


def _nothing_reason(skipped: list[str], dismiss: bool) -> str:
    if skipped:
        return f"no snapshot yet for {', '.join(skipped)}"
    return "no changed source to dismiss" if dismiss else "the guide cites no source"


def _journal(project: Project, guide_id: str, entry: ReviewEntry) -> None:
    detail = json.dumps({"guide": guide_id, **entry.to_json()}, ensure_ascii=False, sort_keys=True)
    with project.journal.transaction() as tx:
        tx.add_event(None, entry.at, entry.kind, detail)
