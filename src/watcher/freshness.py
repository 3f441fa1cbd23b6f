"""Guide freshness: is each guide still backed by what its editor verified?

A guide is pinned, per cited source, to the version it was verified
against. Until an editor signs a guide off, the pin is the source's first
baseline ("baseline, not yet reviewed by an editor"). A guide needs review
as soon as a cited source's current content differs from its pin, and is
fine again if the source returns to the pinned content. Pure: takes the
states and the time as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .models import Config, Guide
from .store.state import SourceState

OK = "ok"
NEEDS_REVIEW = "needs review"
PENDING = "pending"


@dataclass(frozen=True)
class SourceVerdict:
    """One cited source, seen from one guide."""

    source: str
    pinned: str | None
    current: str | None
    baseline_pin: bool
    changed_since: datetime | None = None

    @property
    def changed(self) -> bool:
        return self.pinned is not None and self.current is not None and self.pinned != self.current


@dataclass(frozen=True)
class GuideVerdict:
    """The state of one guide and the reasons behind it."""

    guide: str
    state: str
    sources: tuple[SourceVerdict, ...]
    reasons: tuple[str, ...]

    @property
    def changed_sources(self) -> tuple[SourceVerdict, ...]:
        return tuple(v for v in self.sources if v.changed)


def source_verdict(source_id: str, state: SourceState, pin: str | None = None) -> SourceVerdict:
    """Compare a source's current version with the pin (default: its baseline)."""
    pinned = state.resolve(pin) if pin else state.baseline
    verdict = SourceVerdict(
        source=source_id,
        pinned=pinned,
        current=state.current,
        baseline_pin=pin is None,
    )
    if not verdict.changed:
        return verdict
    return SourceVerdict(
        source=source_id,
        pinned=pinned,
        current=state.current,
        baseline_pin=pin is None,
        changed_since=_changed_since(state, pinned),
    )


def _changed_since(state: SourceState, pinned: str | None) -> datetime | None:
    """When the first version after the pinned one was seen."""
    last_pinned = max((i for i, v in enumerate(state.versions) if v.hash == pinned), default=None)
    if last_pinned is None or last_pinned + 1 >= len(state.versions):
        return state.last_change
    return state.versions[last_pinned + 1].seen


def guide_verdict(
    guide: Guide,
    states: Mapping[str, SourceState],
    pins: Mapping[str, str] | None = None,
) -> GuideVerdict:
    """The state of ``guide`` given its sources' states and its pins."""
    pins = pins or {}
    verdicts = tuple(
        source_verdict(sid, states.get(sid) or SourceState(source=sid), pins.get(sid))
        for sid in guide.source_ids
    )
    reasons = tuple(_reason(v) for v in verdicts if v.changed)
    if reasons:
        return GuideVerdict(guide.id, NEEDS_REVIEW, verdicts, reasons)
    if any(v.current is None for v in verdicts):
        missing = tuple(
            f"{v.source}: no successful check yet" for v in verdicts if v.current is None
        )
        return GuideVerdict(guide.id, PENDING, verdicts, missing)
    return GuideVerdict(guide.id, OK, verdicts, ())


def _reason(verdict: SourceVerdict) -> str:
    since = f" since {verdict.changed_since:%Y-%m-%d %H:%M} UTC" if verdict.changed_since else ""
    base = " (pinned: baseline, not yet reviewed by an editor)" if verdict.baseline_pin else ""
    return (
        f"{verdict.source} changed{since}: {verdict.pinned} -> {verdict.current}{base}; "
        f"see `watcher diff {verdict.source} --from {verdict.pinned}`"
    )


def all_verdicts(config: Config, states: Mapping[str, SourceState]) -> list[GuideVerdict]:
    return [guide_verdict(guide, states) for guide in config.guides]
