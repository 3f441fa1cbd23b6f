"""What a stored change means to the guides citing the source: pins, claims, severity, flags.

Used by :class:`~watcher.check.source.SourceCheck` after it recorded the
fetch: the change is assessed (severity, reasons, law units), the claims
of every citing guide are checked against the version that guide is
pinned to (even when nothing changed), and the guides whose pinned version
differs from the current one are flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from watcher.changes.assessment import assess_texts, remember
from watcher.changes.claims import check_claims, summary
from watcher.config.model import Source
from watcher.errors import StoreError
from watcher.guides.freshness import assessed_verdict, source_verdict
from watcher.guides.template import SiteTemplates
from watcher.project import Project
from watcher.results import CHANGED, REVERTED, GuideClaims, SourceResult, utcnow
from watcher.state import SourceState


def pinned_versions(project: Project, source: Source, state: SourceState) -> dict[str, str]:
    """Guide id -> the version of ``source`` it is pinned to (its baseline if never reviewed)."""
    pins = {}
    for guide in project.config.guides_citing(source.id):
        pin = project.reviews.load(guide.id).pins().get(source.id)
        pinned = state.resolve(pin.hash) if pin else state.baseline
        if pinned is not None:
            pins[guide.id] = pinned
    return pins


def assessed(
    project: Project,
    source: Source,
    state: SourceState,
    result: SourceResult,
    text: str | None,
    template: frozenset[str] = frozenset(),
) -> SourceResult:
    """``result`` with its change assessed and the citing guides' claims checked.

    The source's volatile lines (learnt from its history) and the site's
    ``template`` lines are left out of the assessment.
    """
    config = project.config
    quoting = {g.id: config.claims(g.id, source.id) for g in config.guides_citing(source.id)}
    quoting = {guide: claims for guide, claims in quoting.items() if claims}
    changed = result.outcome in (CHANGED, REVERTED) and result.old_hash is not None
    if state.current is None or not (quoting or changed):
        return result
    store = project.store
    new_text = text if text is not None else store.read_version(source.id, state.current)
    pins = pinned_versions(project, source, state) if quoting else {}
    checked = tuple(
        _guide_claims(project, source.id, guide, pins.get(guide), claims, new_text)
        for guide, claims in quoting.items()
    )
    if not changed:
        return replace(result, claims=checked)
    every_claim = tuple(dict.fromkeys(c for claims in quoting.values() for c in claims))
    old_text = store.read_version(source.id, result.old_hash or "")
    assessment = assess_texts(
        source.signal,
        old_text,
        new_text,
        every_claim,
        diff=result.diff,
        template=template,
        volatile=state.volatile,
    )
    remember(
        source.id,
        source.signal,
        result.old_hash or "",
        state.current,
        every_claim,
        assessment,
        template=template,
        volatile=state.volatile,
    )
    return replace(
        result,
        severity=assessment.severity,
        reasons=assessment.reasons,
        law=assessment.law,
        claims=checked,
    )


def _guide_claims(
    project: Project,
    source_id: str,
    guide_id: str,
    pinned: str | None,
    claims: tuple[str, ...],
    text: str,
) -> GuideClaims:
    """One guide's claims in ``text``, compared with the version the guide is pinned to."""
    old: str | None = text
    if pinned is not None:
        try:
            old = project.store.read_version(source_id, pinned)
        except StoreError:
            old = None
    results = check_claims(old, text, claims)
    return GuideClaims(guide_id, summary(results), results)


def flagged(
    project: Project,
    source: Source,
    state: SourceState,
    result: SourceResult,
    template: frozenset[str] = frozenset(),
) -> SourceResult:
    """``result`` naming the citing guides whose pinned version differs from the current one.

    Only a change that matters flags: the pinned -> current change is assessed,
    and a cosmetic one (punctuation, case, spacing, link targets to the same
    documents) is recorded and shown, never flagged.
    """
    if result.outcome != CHANGED:
        return result
    guides = []
    config = project.config
    for guide in config.guides_citing(source.id):
        pin = project.reviews.load(guide.id).pins().get(source.id)
        verdict = source_verdict(source, state, pin, state.last_success or utcnow())
        if verdict.changed:
            claims = config.claims(guide.id, source.id)
            verdict = assessed_verdict(
                source, verdict, claims, project.store, template=template, volatile=state.volatile
            )
        if verdict.needs_review:
            guides.append(guide.id)
    return replace(result, flagged=tuple(guides))


def with_site_templates(
    project: Project, results: Sequence[SourceResult]
) -> tuple[SourceResult, ...]:
    """The changes of one host's sources assessed and flagged, knowing all its pages as stored.

    A change of a source whose host has other sources waits for them (see
    :class:`~watcher.check.source.SourceCheck`'s ``defer``): then a change
    made only of the site's template (the same menu, banner or footer on
    the other pages of the host) does not flag guides (see
    :mod:`watcher.guides.template`), and each change is assessed once.
    """
    if not results:
        return ()
    config = project.config
    host = config.source(results[0].source).host
    peers = (s.id for s in config.sources if s.host == host)
    states = {state.source: state for state in project.store.readable_states(peers)}
    templates = SiteTemplates(config, states, project.store)
    out = []
    for result in results:
        source = config.source(result.source)
        state = states.get(result.source) or project.store.load_state(result.source)
        template = templates.lines_for(source)
        result = assessed(project, source, state, result, None, template)
        out.append(flagged(project, source, state, result, template))
    return tuple(out)

