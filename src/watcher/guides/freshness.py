"""Guide freshness: is each guide still backed by what its editor verified?

A guide is pinned, per cited source, to the version an editor verified
(``watcher review``); until the first sign-off, the pin is the source's
first baseline ("baseline, not yet reviewed by an editor"). Each guide
gets one state, the most severe that applies:

1. **broken**: a cited source failed ``fail_after`` checks in a row;
2. **needs review**: a cited source's content differs from its pin, or
   an editor accepted a reader's report about the guide that no sign-off
   has settled yet (``snapshots/_reports/``);
3. **unverified**: a cited source had no successful check for ``max_age``;
4. **overdue**: ``review_every`` elapsed since the guide's last sign-off;
5. **fresh**: none of the above.

A change that is reverted before anyone reviews it (current content equals
the pin) leaves the guide fresh. A source that moved (permanent redirect)
is a warning, not a state. Pure: states, reviews and ``now`` come in as
parameters, so tests can move the clock.

Given a reader of version texts, each cited source is also assessed from
its pinned text to its current one (:mod:`watcher.changes.assessment`): a changed
source's reason carries a severity (cosmetic, minor, major) and the
reasons for it, and a claim of the guide that is modified or missing is a
"needs review" reason of its own, of major severity, listed first. Claims
are computed from the committed texts each time, so ``watcher ci`` sees
them on a fresh clone with no extra state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from watcher.changes.assessment import Assessment, assess_versions, rank
from watcher.config.model import Config, Guide, Source
from watcher.errors import StoreError
from watcher.guides.template import SiteTemplates
from watcher.results import Severity
from watcher.state import DISMISS, AcceptedReport, GuideReviews, Pin, SourceState


class GuideState(StrEnum):
    """A guide's state, most severe first; the last four only ever warn."""

    BROKEN = "broken"
    NEEDS_REVIEW = "needs review"
    UNVERIFIED = "unverified"
    OVERDUE = "overdue"
    FRESH = "fresh"
    UNREVIEWED = "unreviewed"
    MOVED = "moved"
    INSECURE = "insecure"
    AUDIT = "audit"


BROKEN = GuideState.BROKEN
NEEDS_REVIEW = GuideState.NEEDS_REVIEW
UNVERIFIED = GuideState.UNVERIFIED
OVERDUE = GuideState.OVERDUE
FRESH = GuideState.FRESH
UNREVIEWED = GuideState.UNREVIEWED
MOVED = GuideState.MOVED
INSECURE = GuideState.INSECURE
AUDIT = GuideState.AUDIT
"""Findings of ``watcher audit`` (:mod:`watcher.guides.audit`): warnings, never a state."""

SEVERITY = (BROKEN, NEEDS_REVIEW, UNVERIFIED, OVERDUE, FRESH)
CLAIMS = "claims"
"""``Reason.kind`` of a claim modified or missing (its state is needs review)."""
READER_REPORT = "reader-report"
"""``Reason.kind`` of an accepted reader report not yet settled by a sign-off."""


class VersionReader(Protocol):
    """Reads version texts: ``(source id, hash) -> text`` (the snapshot store)."""

    def read_version(self, source_id: str, content_hash: str) -> str: ...


@dataclass(frozen=True)
class Reason:
    """Why a guide is in its state, and the one thing to do about it.

    ``severity`` (cosmetic, minor, major) is set on needs-review reasons whose
    change was assessed; ``kind`` is :data:`CLAIMS` for a claim problem.
    """

    state: GuideState
    source: str | None
    text: str
    action: str
    severity: Severity | None = None
    kind: str | None = None


@dataclass(frozen=True)
class SourceVerdict:
    """One cited source, seen from one guide."""

    source: str
    pinned: str | None
    current: str | None
    pin_kind: str
    pin_at: datetime | None = None
    pin_by: str | None = None
    pin_note: str | None = None
    changed_since: datetime | None = None
    broken: bool = False
    unverified: bool = False
    moved_to: str | None = None
    insecure: bool = False
    assessment: Assessment | None = None

    @property
    def changed(self) -> bool:
        return self.pinned is not None and self.current is not None and self.pinned != self.current

    @property
    def needs_review(self) -> bool:
        """Changed since the pin in a way that matters: cosmetic changes never flag.

        A change that could not be assessed (a version file missing) flags.
        """
        if not self.changed:
            return False
        severity = self.assessment.severity if self.assessment is not None else None
        return severity != Severity.COSMETIC

    @property
    def baseline_pin(self) -> bool:
        return self.pin_kind == "baseline"


@dataclass(frozen=True)
class GuideVerdict:
    """The state of one guide and the reasons behind it."""

    guide: str
    state: GuideState
    sources: tuple[SourceVerdict, ...]
    reasons: tuple[Reason, ...]
    last_signoff: datetime | None = None

    @property
    def changed_sources(self) -> tuple[SourceVerdict, ...]:
        """Sources whose current version differs from the pin (cosmetic changes too)."""
        return tuple(v for v in self.sources if v.changed)

    @property
    def review_sources(self) -> tuple[SourceVerdict, ...]:
        """Sources changed in a way that needs the editor (minor or major)."""
        return tuple(v for v in self.sources if v.needs_review)

    @property
    def unreviewed(self) -> bool:
        """Some cited source is pinned only to its first baseline."""
        return any(v.baseline_pin for v in self.sources)

    @property
    def warnings(self) -> tuple[Reason, ...]:
        warn = (OVERDUE, MOVED, UNREVIEWED, INSECURE, AUDIT)
        return tuple(r for r in self.reasons if r.state in warn)

    @property
    def severity(self) -> Severity | None:
        """The highest severity of the guide's needs-review reasons (None if unassessed)."""
        found = [r.severity for r in self.reasons if r.state == NEEDS_REVIEW and r.severity]
        return max(found, key=rank) if found else None

    @property
    def claim_problems(self) -> tuple[Reason, ...]:
        """Claims of the guide modified or missing in their source."""
        return tuple(r for r in self.reasons if r.kind == CLAIMS)

    @property
    def reader_reports(self) -> tuple[Reason, ...]:
        """Accepted reader reports no sign-off has settled yet."""
        return tuple(r for r in self.reasons if r.kind == READER_REPORT)

    def has(self, state: GuideState) -> bool:
        """True if any reason of this kind applies (not only the overall state)."""
        if state == UNREVIEWED:
            return self.unreviewed
        return any(r.state == state for r in self.reasons) or self.state == state


def source_verdict(
    source: Source, state: SourceState, pin: Pin | None, now: datetime
) -> SourceVerdict:
    """Compare a source's current version with its pin (default: its baseline)."""
    pinned = state.resolve(pin.hash) if pin else state.baseline
    changed = pinned is not None and state.current is not None and pinned != state.current
    last_success = state.last_success
    return SourceVerdict(
        source=source.id,
        pinned=pinned,
        current=state.current,
        pin_kind=pin.entry.kind if pin else "baseline",
        pin_at=pin.entry.at if pin else (state.versions[0].seen if state.versions else None),
        pin_by=pin.entry.by if pin else None,
        pin_note=pin.entry.note if pin else None,
        changed_since=_changed_since(state, pinned) if changed else None,
        broken=state.consecutive_failures >= source.cadence.fail_after,
        unverified=last_success is None or now - last_success > source.cadence.max_age,
        moved_to=state.moved_to,
        insecure=not source.fetch.verify,
    )


def _changed_since(state: SourceState, pinned: str | None) -> datetime | None:
    """When the first version after the pinned one was seen."""
    positions = [i for i, v in enumerate(state.versions) if v.hash == pinned]
    if not positions or positions[-1] + 1 >= len(state.versions):
        return state.last_change
    return state.versions[positions[-1] + 1].seen


def guide_verdict(
    guide: Guide,
    config: Config,
    states: Mapping[str, SourceState],
    reviews: GuideReviews,
    now: datetime,
    versions: VersionReader | None = None,
    templates: SiteTemplates | None = None,
) -> GuideVerdict:
    """The state of ``guide`` at ``now``; with ``versions``, changes and claims are assessed.

    ``templates`` (learnt from the same states and versions when not given)
    keeps the site's template lines out of the assessment.
    """
    pins = reviews.pins()
    verdicts = tuple(
        source_verdict(
            config.source(sid), states.get(sid) or SourceState(source=sid), pins.get(sid), now
        )
        for sid in guide.source_ids
    )
    if versions is not None:
        templates = templates or SiteTemplates(config, states, versions)
        verdicts = tuple(
            assessed_verdict(
                config.source(v.source),
                v,
                config.claims(guide.id, v.source),
                versions,
                template=templates.lines_for(config.source(v.source)),
                volatile=(states.get(v.source) or SourceState(v.source)).volatile,
            )
            for v in verdicts
        )
    signoff = reviews.last_signoff or _first_baseline(verdicts)
    reasons = (
        _source_reasons(guide, verdicts, states)
        + tuple(_report_reason(guide, report) for report in reviews.open_reports)
        + _guide_reasons(guide, signoff, now)
    )
    state = next((s for s in SEVERITY if any(r.state == s for r in reasons)), FRESH)
    return GuideVerdict(guide.id, state, verdicts, reasons, reviews.last_signoff)


def assessed_verdict(
    source: Source,
    verdict: SourceVerdict,
    claims: tuple[str, ...],
    versions: VersionReader,
    *,
    template: frozenset[str] = frozenset(),
    volatile: Sequence[str] = (),
) -> SourceVerdict:
    """The verdict with its pinned -> current assessment, when there is something to say."""
    if verdict.current is None or not (verdict.changed or claims):
        return verdict
    old = verdict.pinned if verdict.changed and verdict.pinned else verdict.current
    try:
        assessment = assess_versions(
            source.id,
            source.signal,
            old,
            verdict.current,
            claims,
            lambda h: versions.read_version(source.id, h),
            template=template,
            volatile=volatile,
        )
    except StoreError:
        return verdict  # a missing version file: the change is still reported, unassessed
    return replace(verdict, assessment=assessment)


def _first_baseline(verdicts: tuple[SourceVerdict, ...]) -> datetime | None:
    times = [v.pin_at for v in verdicts if v.pin_at is not None]
    return min(times) if times else None


def _source_reasons(
    guide: Guide, verdicts: tuple[SourceVerdict, ...], states: Mapping[str, SourceState]
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    for verdict in verdicts:
        state = states.get(verdict.source) or SourceState(source=verdict.source)
        reasons.extend(_reasons_for(guide, verdict, state))
    claims = [r for v in verdicts if (r := _claims_reason(guide, v)) is not None]
    return tuple(claims + reasons)


def _reasons_for(guide: Guide, verdict: SourceVerdict, state: SourceState) -> list[Reason]:
    sid = verdict.source
    reasons = []
    if verdict.broken:
        error = state.last_check.error if state.last_check else "unknown error"
        since = _at(state.failing_since)
        text = f"{sid} failing: {state.consecutive_failures} checks in a row since {since}: {error}"
        reasons.append(
            Reason(BROKEN, sid, text, f"fix the source or its URL, then `watcher check -s {sid}`")
        )
    if verdict.needs_review:
        reasons.append(_changed_reason(guide, verdict))
    if verdict.unverified and not verdict.broken:
        last = _at(state.last_success)
        text = f"{sid} not verified: last successful check {last}"
        reasons.append(Reason(UNVERIFIED, sid, text, f"`watcher check -s {sid}`"))
    if verdict.moved_to:
        text = f"{sid} moved to {verdict.moved_to}: update sources.yaml"
        reasons.append(Reason(MOVED, sid, text, f"set url: {verdict.moved_to} for {sid}"))
    if verdict.insecure:
        text = f"{sid} is fetched with TLS verification disabled (verify: false)"
        reasons.append(
            Reason(INSECURE, sid, text, f"give {sid} a `ca_bundle` and remove `verify: false`")
        )
    return reasons


def _changed_reason(guide: Guide, verdict: SourceVerdict) -> Reason:
    text = (
        f"{verdict.source} changed since {_at(verdict.changed_since)} "
        f"({verdict.pinned} -> {verdict.current}; pinned: {_pin_words(verdict)})"
    )
    assessment = verdict.assessment
    if assessment is not None and assessment.severity is not None:
        text += f"; {assessment.severity}: {'; '.join(assessment.reasons[:_REASONS_SHOWN])}"
        if assessment.law:
            text += f"; by article: {'; '.join(assessment.law)}"
        if assessment.claims and not assessment.claim_problems:
            text += f"; {assessment.claims_summary}"
    severity = assessment.severity if assessment is not None else None
    return Reason(NEEDS_REVIEW, verdict.source, text, _review_action(guide, verdict), severity)


_REASONS_SHOWN = 3


def _review_action(guide: Guide, verdict: SourceVerdict) -> str:
    return (
        f"`watcher diff {verdict.source} --since-review {guide.id}`, update the guide, then "
        f"`watcher review {guide.id} --by NAME --note TEXT`"
    )


def _claims_reason(guide: Guide, verdict: SourceVerdict) -> Reason | None:
    """A claim of the guide modified or missing: needs review, major, listed first."""
    assessment = verdict.assessment
    if assessment is None or not assessment.claim_problems:
        return None
    found = [f"now «{r.found}»" for r in assessment.claim_problems if r.found is not None]
    text = "; ".join([f"{verdict.source}: {assessment.claims_summary}", *found])
    if verdict.changed:
        action = (
            f"`watcher diff {verdict.source} --since-review {guide.id}`, update the guide and "
            f"its claims in sources.yaml, then `watcher review {guide.id} --by NAME --note TEXT`"
        )
    else:
        action = (
            f"the page never said it: correct the claim under guide {guide.id} in sources.yaml, "
            f"or the guide"
        )
    return Reason(NEEDS_REVIEW, verdict.source, text, action, Severity.MAJOR, CLAIMS)


def _report_reason(guide: Guide, report: AcceptedReport) -> Reason:
    """An accepted reader report: needs review until a sign-off settles it."""
    about = f" about {report.source}" if report.source else ""
    text = (
        f"reader report {report.ref}{about}, accepted by {report.accepted_by} "
        f"{_at(report.accepted_at)}: «{report.summary}»"
    )
    action = (
        f"`watcher reports show {report.ref}`, check the guide, then "
        f"`watcher review {guide.id} --by NAME --note TEXT`"
    )
    return Reason(NEEDS_REVIEW, report.source, text, action, kind=READER_REPORT)


def _pin_words(verdict: SourceVerdict) -> str:
    if verdict.baseline_pin:
        return "baseline, not yet reviewed by an editor"
    how = "dismissed" if verdict.pin_kind == DISMISS else "reviewed"
    return f"{how} by {verdict.pin_by} {_at(verdict.pin_at)}"


def _guide_reasons(guide: Guide, signoff: datetime | None, now: datetime) -> tuple[Reason, ...]:
    if signoff is None or now - signoff <= guide.review_every:
        return ()
    days = guide.review_every.days
    text = f"last sign-off {_at(signoff)}, more than {days} days ago (review_every)"
    action = f"re-read the guide, then `watcher review {guide.id} --by NAME --note TEXT`"
    return (Reason(OVERDUE, None, text, action),)


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def all_verdicts(
    config: Config,
    states: Mapping[str, SourceState],
    reviews: Mapping[str, GuideReviews],
    now: datetime,
    versions: VersionReader | None = None,
    templates: SiteTemplates | None = None,
) -> list[GuideVerdict]:
    """Every guide's verdict, in configuration order (assessed when ``versions`` is given)."""
    if templates is None and versions is not None:
        templates = SiteTemplates(config, states, versions)
    return [
        guide_verdict(
            guide,
            config,
            states,
            reviews.get(guide.id) or GuideReviews(guide.id),
            now,
            versions,
            templates,
        )
        for guide in config.guides
    ]
