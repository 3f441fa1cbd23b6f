"""One run of ``watcher check``: the stages, in order, for every source.

For each source: fetch -> decode -> extract -> normalize -> compare with
the current version -> (confirm) -> store -> diff -> assess -> flag the
guides that cite it. A failure at any stage is recorded for that source
alone; it never aborts the run, never replaces the stored snapshot and never
counts as a change.

Noise that survives normalizing is kept out of the editor's way here:

- **flapping**: a new text equal to one of the :data:`REVERSION_WINDOW`
  versions before the current one is stored with the outcome ``reverted``,
  not reported as a change and flagging nobody, unless the version it
  leaves is the one a citing guide is pinned to (then it is a change away
  from what the editor verified);
- **confirm**: a source with ``confirm: N`` is fetched N more times,
  ``confirm_delay`` apart, before a change is stored; a change that does
  not hold is not recorded (``unconfirmed``).

Every change is assessed (severity, reasons, law units) and every success
checks the claims of the citing guides against their pinned versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import httpx

from watcher.changes.assessment import assess_texts
from watcher.changes.claims import check_claims, summary
from watcher.changes.diff import diff_texts
from watcher.errors import HTTPStatusError, SourceError, StoreError
from watcher.fetch.client import Fetcher, Validators
from watcher.guides.freshness import source_verdict
from watcher.models import Source
from watcher.project import Project
from watcher.results import (
    BASELINE,
    CHANGED,
    FAILED,
    REVERTED,
    UNCHANGED,
    Clock,
    Diff,
    Fetched,
    GuideClaims,
    Outcome,
    RunResult,
    SourceResult,
    utcnow,
)
from watcher.state import CheckOutcome, Rebase, SourceState, Version
from watcher.store import Transaction
from watcher.text import normalize
from watcher.text.render import (
    Body,
    Rendered,
    explain_status,
    render,
    render_fetched,
    rules_fingerprint,
)
from watcher.text.workers import Renderers, renderers_for

REVERSION_WINDOW = 3
"""Versions before the current one that a reversion may return to (flapping)."""


# ---------------------------------------------------------------------------
# selection


def select_sources(
    project: Project,
    *,
    source_ids: Sequence[str] = (),
    guide_ids: Sequence[str] = (),
    due_only: bool = False,
    now: datetime | None = None,
) -> list[Source]:
    """The sources a check should cover, in configuration order."""
    config = project.config
    wanted = {config.source(sid).id for sid in source_ids}
    for gid in guide_ids:
        wanted.update(config.guide(gid).source_ids)
    sources = [s for s in config.sources if not wanted or s.id in wanted]
    if due_only:
        moment = now or utcnow()
        sources = [s for s in sources if is_due(s, project.store.load_state(s.id), moment)]
    return sources


def is_due(source: Source, state: SourceState, now: datetime) -> bool:
    """Never checked, or its cron ``schedule`` fired or its ``interval`` elapsed since.

    For ``check --due`` from cron: no jitter (the crontab spreads the runs).
    """
    if state.last_check is None:
        return True
    if source.schedule is not None:
        from watcher.schedule import fired_since  # APScheduler: only for sources with a schedule

        return fired_since(source, state.last_check.at, now)
    return now - state.last_check.at >= source.interval


# ---------------------------------------------------------------------------
# the run


async def run_check(
    project: Project,
    sources: Sequence[Source],
    *,
    clock: Clock = utcnow,
    transport: httpx.AsyncBaseTransport | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
) -> RunResult:
    """Check ``sources`` concurrently within the politeness limits."""
    started = clock()
    project.reconcile()
    defaults = project.config.defaults
    renderers = renderers_for(defaults.workers)
    async with Fetcher(concurrency=defaults.concurrency, transport=transport) as fetcher:

        async def one(source: Source) -> SourceResult:
            result = await check_source(project, fetcher, renderers, source, clock)
            if on_result is not None:
                on_result(result)
            return result

        try:
            results = await asyncio.gather(*(one(s) for s in sources))
        finally:
            await renderers.aclose()
    return RunResult(
        started=started,
        finished=clock(),
        results=tuple(results),
        rendered_in_workers=renderers.in_workers,
    )


async def check_source(
    project: Project, fetcher: Fetcher, renderers: Renderers, source: Source, clock: Clock
) -> SourceResult:
    """Fetch, process and record one source. Never raises a SourceError."""
    state = project.store.load_state(source.id)
    rebased = rebase(project, source, state, clock())
    try:
        fetched = await fetcher.fetch(source, _validators(project, state))
        rendered = None
        if not fetched.not_modified:
            previous_size = _current_size(project, state)
            rendered = await renderers.render(source, fetched, previous_size)
    except HTTPStatusError as exc:
        return record_failure(project, source, state, explain_status(source, exc), clock(), rebased)
    except SourceError as exc:
        return record_failure(project, source, state, exc, clock(), rebased)
    if rendered is not None and await _unconfirmed(project, fetcher, source, state, rendered):
        # Forget the validators too: a 304 must not stand for a text never stored.
        fetched = replace(fetched, etag=None, last_modified=None)
        return record_success(
            project, source, state, fetched, None, clock(), rebased, unconfirmed=True
        )
    return record_success(project, source, state, fetched, rendered, clock(), rebased)


async def _unconfirmed(
    project: Project, fetcher: Fetcher, source: Source, state: SourceState, rendered: Rendered
) -> bool:
    """With ``confirm: N``, a change must hold for N more fetches, ``confirm_delay`` apart."""
    candidate = normalize.content_hash(rendered.text)
    if not source.confirm or state.current in (None, candidate):
        return False
    for _ in range(source.confirm):
        await asyncio.sleep(source.confirm_delay.total_seconds())
        try:
            again = await fetcher.fetch(source, None)
            text = render_fetched(source, again, _current_size(project, state)).text
        except SourceError:
            return True  # not confirmed; the next check looks again
        if normalize.content_hash(text) != candidate:
            return True
    return False


def _current_size(project: Project, state: SourceState) -> int | None:
    if state.current is None:
        return None
    return len(project.store.read_version(state.source, state.current))


def _validators(project: Project, state: SourceState) -> Validators | None:
    """Conditional headers, only when we hold a version to fall back on."""
    current = state.versions[-1] if state.versions else None
    if current is None or current.raw is None:
        return None
    return Validators(etag=state.etag, last_modified=state.last_modified)


# ---------------------------------------------------------------------------
# re-basing after a rule change


def rebase(project: Project, source: Source, state: SourceState, now: datetime) -> bool:
    """Re-extract stored raw bodies if the rules changed; True if hashes moved.

    A change of ``select``/``exclude``/``ignore``/``encoding`` (or of the
    normalizer) must not flag guides by itself: every stored version is
    rebuilt from its raw body with today's rules, and pins follow the
    recorded hash mapping.
    """
    fingerprint = rules_fingerprint(source)
    if state.rules == fingerprint:
        return False
    previous, state.rules = state.rules, fingerprint
    if not state.versions:
        return False
    mapping = _rebuild_versions(project, source, state)
    if mapping:
        state.rebases.append(
            Rebase(at=now, rules_from=previous, rules_to=fingerprint, hashes=mapping)
        )
    return bool(mapping)


def _rebuild_versions(project: Project, source: Source, state: SourceState) -> dict[str, str]:
    mapping: dict[str, str] = {}
    rebuilt: list[Version] = []
    for version in state.versions:
        new_hash = _rebuild_one(project, source, version)
        if new_hash != version.hash:
            mapping[version.hash] = new_hash
            version.hash = new_hash
        if rebuilt and rebuilt[-1].hash == version.hash:
            continue
        rebuilt.append(version)
    state.versions = rebuilt
    return mapping


def _rebuild_one(project: Project, source: Source, version: Version) -> str:
    if version.raw is None:
        return version.hash
    try:
        data = project.store.read_raw(source.id, version.raw)
        body = Body(data, version.content_type, version.charset, version.final_url)
        text = render(source, body).text
    except SourceError:
        return version.hash
    new_hash = normalize.content_hash(text)
    project.store.write_version(source.id, new_hash, text)
    return new_hash


# ---------------------------------------------------------------------------
# recording


def record_failure(
    project: Project,
    source: Source,
    state: SourceState,
    exc: SourceError,
    at: datetime,
    rebased: bool,
) -> SourceResult:
    """Count the failure; the stored snapshot stays as it was."""
    message = str(exc)
    state.url = source.url
    state.last_check = CheckOutcome(
        at=at, outcome=FAILED, status=exc.status, error=message, kind=exc.kind
    )
    state.consecutive_failures += 1
    state.failing_since = state.failing_since or at
    with project.journal.transaction() as tx:
        tx.add_fetch(
            source=source.id,
            at=at,
            outcome=FAILED,
            url=exc.url or source.url,
            final_url=None,
            status=exc.status,
            duration_ms=None,
            bytes=None,
            error_kind=exc.kind,
            error=message,
            content_hash=None,
        )
        if rebased:
            tx.sync_versions(state)
        project.store.save_state(state, current_changed=rebased)
    return SourceResult(
        source=source.id,
        outcome=FAILED,
        at=at,
        old_hash=state.current,
        status=exc.status,
        error_kind=exc.kind,
        error=message,
        consecutive_failures=state.consecutive_failures,
        newly_failing=state.consecutive_failures == source.fail_after,
        rebased=rebased,
    )


def record_success(
    project: Project,
    source: Source,
    state: SourceState,
    fetched: Fetched,
    rendered: Rendered | None,
    at: datetime,
    rebased: bool,
    *,
    unconfirmed: bool = False,
) -> SourceResult:
    """Store a new version when the text is new; assess it; flag the citing guides."""
    text = rendered.text if rendered is not None else None
    old_hash = state.current
    recovered = state.consecutive_failures >= source.fail_after
    new_hash = old_hash if text is None else normalize.content_hash(text)
    outcome = _outcome(old_hash, new_hash)
    if outcome == CHANGED and _reverts(project, source, state, old_hash, new_hash):
        outcome = REVERTED
    diff = None
    with project.journal.transaction() as tx:
        if outcome != UNCHANGED and rendered is not None and new_hash is not None:
            _store_version(project, source, state, fetched, rendered, new_hash, at)
            diff = _diff_and_journal(project, tx, source.id, old_hash, new_hash, rendered.text, at)
        _mark_success(state, source, fetched, at, outcome)
        tx.add_fetch(
            source=source.id,
            at=at,
            outcome=outcome,
            url=source.url,
            final_url=fetched.final_url,
            status=fetched.status,
            duration_ms=fetched.duration_ms,
            bytes=len(fetched.body),
            error_kind=None,
            error=None,
            content_hash=new_hash,
        )
        changed = outcome != UNCHANGED
        if rebased:
            tx.sync_versions(state)
        elif changed:
            tx.add_version(state, len(state.versions) - 1)
        project.store.save_state(state, current_changed=changed or rebased)
    result = SourceResult(
        source=source.id,
        outcome=outcome,
        at=at,
        old_hash=old_hash,
        new_hash=new_hash,
        diff=diff,
        status=fetched.status,
        final_url=fetched.final_url,
        not_modified=fetched.not_modified,
        duration_ms=fetched.duration_ms,
        recovered=recovered,
        rebased=rebased,
        flagged=_flagged(project, source, state) if outcome == CHANGED else (),
        unconfirmed=unconfirmed,
    )
    return _with_signal(project, source, state, result, text, diff)


def _reverts(
    project: Project, source: Source, state: SourceState, old_hash: str | None, new_hash: str | None
) -> bool:
    """Flapping: back to a recent version, and not away from a version a guide is pinned to."""
    recent = {v.hash for v in state.versions[-1 - REVERSION_WINDOW : -1]}
    return new_hash in recent and old_hash not in _pinned(project, source, state).values()


def _pinned(project: Project, source: Source, state: SourceState) -> dict[str, str]:
    """Guide id -> the version of ``source`` it is pinned to (its baseline if never reviewed)."""
    pins = {}
    for guide in project.config.guides_citing(source.id):
        pin = project.reviews.load(guide.id).pins().get(source.id)
        pinned = state.resolve(pin.hash) if pin else state.baseline
        if pinned is not None:
            pins[guide.id] = pinned
    return pins


def _with_signal(
    project: Project,
    source: Source,
    state: SourceState,
    result: SourceResult,
    text: str | None,
    diff: Diff | None,
) -> SourceResult:
    """The result with its change assessed and the citing guides' claims checked."""
    config = project.config
    quoting = {g.id: config.claims(g.id, source.id) for g in config.guides_citing(source.id)}
    quoting = {guide: claims for guide, claims in quoting.items() if claims}
    changed = result.outcome in (CHANGED, REVERTED) and result.old_hash is not None
    if state.current is None or not (quoting or changed):
        return result
    store = project.store
    new_text = text if text is not None else store.read_version(source.id, state.current)
    pins = _pinned(project, source, state) if quoting else {}
    checked = tuple(
        _guide_claims(project, source.id, guide, pins.get(guide), claims, new_text)
        for guide, claims in quoting.items()
    )
    if not changed:
        return replace(result, claims=checked)
    every_claim = tuple(dict.fromkeys(c for claims in quoting.values() for c in claims))
    old_text = store.read_version(source.id, result.old_hash or "")
    assessment = assess_texts(source, old_text, new_text, every_claim, diff=diff)
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


def _outcome(old_hash: str | None, new_hash: str | None) -> Outcome:
    if old_hash is None:
        return BASELINE
    return UNCHANGED if new_hash == old_hash else CHANGED


def _store_version(
    project: Project,
    source: Source,
    state: SourceState,
    fetched: Fetched,
    rendered: Rendered,
    new_hash: str,
    at: datetime,
) -> None:
    store = project.store
    store.write_version(source.id, new_hash, rendered.text)
    raw = store.write_raw(source.id, new_hash, fetched.body, fetched.content_type)
    state.versions.append(
        Version(
            hash=new_hash,
            seen=at,
            raw=raw,
            content_type=fetched.content_type,
            charset=fetched.charset,
            final_url=fetched.final_url,
            metadata=dict(rendered.metadata),
        )
    )


def _diff_and_journal(
    project: Project,
    tx: Transaction,
    source_id: str,
    old_hash: str | None,
    new_hash: str,
    text: str,
    at: datetime,
) -> Diff | None:
    if old_hash is None:
        return None
    diff = diff_texts(project.store.read_version(source_id, old_hash), text)
    tx.add_change(
        source=source_id,
        at=at,
        old_hash=old_hash,
        new_hash=new_hash,
        lines_added=diff.stats.lines_added,
        lines_removed=diff.stats.lines_removed,
        changed_ratio=diff.stats.changed_ratio,
    )
    return diff


def _mark_success(
    state: SourceState, source: Source, fetched: Fetched, at: datetime, outcome: Outcome
) -> None:
    state.url = source.url
    state.final_url = fetched.final_url
    state.last_check = CheckOutcome(at=at, outcome=outcome, status=fetched.status)
    state.last_success = at
    state.moved_to = fetched.moved_to
    state.consecutive_failures = 0
    state.failing_since = None
    if outcome == CHANGED:
        state.last_change = at
    if fetched.etag or not fetched.not_modified:
        state.etag = fetched.etag
    if fetched.last_modified or not fetched.not_modified:
        state.last_modified = fetched.last_modified


def _flagged(project: Project, source: Source, state: SourceState) -> tuple[str, ...]:
    """Guides citing the source whose pinned version differs from the current one."""
    flagged = []
    for guide in project.config.guides_citing(source.id):
        pin = project.reviews.load(guide.id).pins().get(source.id)
        if source_verdict(source, state, pin, state.last_success or utcnow()).changed:
            flagged.append(guide.id)
    return tuple(flagged)
