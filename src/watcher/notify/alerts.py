"""Immediate notifications: what to tell whom after a check, exactly once.

**Deciding** is pure (:func:`conditions`): from the committed state, the
alert-worthy conditions that hold now, each with a stable key:

- ``needs-review``: a guide's cited source differs from its pin, keyed by
  guide, source and the *current hash* (a second change is news again; the
  same text is not), for the guide's owner;
- ``broken``: a source failed ``fail_after`` checks in a row, keyed by
  source and the start of the failure streak, for the maintainers;
- ``claim-missing``: a claim a guide quotes is modified or missing in its
  source's current text, keyed by guide, source and current hash, for the
  guide's owner;
- ``reader-report``: a reader reported the guide as outdated and nobody
  triaged it yet (read from the database), keyed by guide and the report's
  reference, for the guide's owner; the reader's text is quoted inert, their
  contact never leaves the database;
- later kinds: add a finder to :data:`FINDERS`.

**Recording**: ``snapshots/_alerts.json`` (committed with the snapshots,
written atomically under the project lock) keeps every condition already
announced, so a restart, a cron ``watcher check`` beside the daemon, or a
fresh clone never announces it twice. A condition that ends is forgotten,
so its return is news again; a broken source that comes back gets one
``recovered`` alert. When the record does not exist yet (notifications were
just configured), the conditions that already hold are recorded as
*seeded*, not sent: the digest has them.

**Delivering** (:func:`dispatch`): content alerts go to the guide owner,
source alerts to the maintainers, by e-mail (one message per recipient and
run) and to every webhook listing the event. A channel that fails keeps
its alerts pending; they are retried at the next run for up to
:data:`GIVE_UP_AFTER`, and a failure never stops a check or the daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.config.model import Config, Notify
from watcher.errors import StoreError, WatcherError
from watcher.guides.freshness import GuideVerdict, all_verdicts
from watcher.guides.reports import OPEN_STATUSES, summary
from watcher.notify import mail as notify
from watcher.notify import webhooks
from watcher.project import Project
from watcher.redact import redact_url
from watcher.report.render import md_code
from watcher.state import SourceState
from watcher.store import DeskStore, read_json, write_json
from watcher.store.desk import ReaderReport

RECORD_FILE = "_alerts.json"
RECORD_SCHEMA = "watcher.alerts/1"
GIVE_UP_AFTER = timedelta(days=1)

NEEDS_REVIEW = "needs-review"
BROKEN = "broken"
CLAIM_MISSING = "claim-missing"
READER_REPORT = "reader-report"
RECOVERED = "recovered"
EDITORS = "editors"
MAINTAINERS = "maintainers"


@dataclass(frozen=True)
class Alert:
    """One thing worth telling someone now."""

    key: str
    event: str
    audience: str  # EDITORS (the guide's owner) or MAINTAINERS
    source: str
    guide: str | None
    subject: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Situation:
    """What the finders look at: the configuration and committed state at ``now``."""

    config: Config
    states: Mapping[str, SourceState]
    verdicts: tuple[GuideVerdict, ...]
    now: datetime
    reports: tuple[ReaderReport, ...] = ()


Finder = Callable[[Situation], Iterable[Alert]]


# ---------------------------------------------------------------- deciding


def needs_review(situation: Situation) -> Iterable[Alert]:
    """A guide's cited source changed from what its editor verified."""
    for verdict in situation.verdicts:
        guide = situation.config.guide(verdict.guide)
        for source in verdict.review_sources:
            title = situation.config.source(source.source).title
            yield Alert(
                key=f"{NEEDS_REVIEW}/{guide.id}/{source.source}/{source.current}",
                event=NEEDS_REVIEW,
                audience=EDITORS,
                source=source.source,
                guide=guide.id,
                subject=f"[watcher] needs review: {guide.title}",
                text=(
                    f"Guide {guide.title!r} ({guide.id}) needs review: source {source.source} "
                    f"({title}) changed ({source.pinned} -> {source.current}).\n"
                    f"See `watcher diff {source.source} --since-review {guide.id}`, update the "
                    f"guide, then `watcher review {guide.id} --by NAME --note TEXT`."
                ),
                data={"old_hash": source.pinned, "new_hash": source.current, "url": guide.url},
            )


def broken(situation: Situation) -> Iterable[Alert]:
    """A source failed ``fail_after`` checks in a row."""
    for source in situation.config.sources:
        state = situation.states.get(source.id)
        if state is None or state.consecutive_failures < source.cadence.fail_after:
            continue
        since = _iso(state.failing_since)
        error = state.last_check.error if state.last_check else "unknown error"
        guides = [g.id for g in situation.config.guides_citing(source.id)]
        url = redact_url(source.url)
        yield Alert(
            key=f"{BROKEN}/{source.id}/{since}",
            event=BROKEN,
            audience=MAINTAINERS,
            source=source.id,
            guide=None,
            subject=f"[watcher] source failing: {source.id}",
            text=(
                f"Source {source.id} ({url}) failed {state.consecutive_failures} checks "
                f"in a row since {since}: {error}. Guides citing it: {', '.join(guides) or 'none'}."
                f"\nFix the source or its URL, then `watcher check -s {source.id}`."
            ),
            data={"since": since, "error": error, "url": url, "guides": guides},
        )


def claim_missing(situation: Situation) -> Iterable[Alert]:
    """A claim a guide quotes is modified or missing in its source's current text."""
    for verdict in situation.verdicts:
        guide = situation.config.guide(verdict.guide)
        for reason in verdict.claim_problems:
            source_id = reason.source or ""
            state = situation.states.get(source_id)
            current = state.current if state is not None else None
            yield Alert(
                key=f"{CLAIM_MISSING}/{guide.id}/{source_id}/{current}",
                event=CLAIM_MISSING,
                audience=EDITORS,
                source=source_id,
                guide=guide.id,
                subject=f"[watcher] claim not found: {guide.title}",
                text=(
                    f"Guide {guide.title!r} ({guide.id}) quotes source {source_id}, which no "
                    f"longer says it: {reason.text}.\nNext: {reason.action}."
                ),
                data={"hash": current, "problem": reason.text, "url": guide.url},
            )


def reader_report(situation: Situation) -> Iterable[Alert]:
    """A reader's report about a guide, waiting for triage."""
    desk = situation.config.desk.url if situation.config.desk else None
    for report in situation.reports:
        guide = situation.config.guide(report.guide)
        where = f"{desk.rstrip('/')}/reports/{report.ref}" if desk else "the editor desk"
        yield Alert(
            key=f"{READER_REPORT}/{guide.id}/{report.ref}",
            event=READER_REPORT,
            audience=EDITORS,
            source="",
            guide=guide.id,
            subject=f"[watcher] reader report {report.ref}: {guide.title}",
            text=(
                f"A reader reported guide {guide.title!r} ({guide.id}) as outdated "
                f"(report {report.ref}).\nWhat looks wrong: {md_code(summary(report.text, 500))}"
                f"\nTriage it in {where}, or `watcher reports show {report.ref}`."
            ),
            data={"ref": report.ref, "url": guide.url},
        )


FINDERS: list[Finder] = [needs_review, claim_missing, broken, reader_report]
"""Every kind of condition."""


def conditions(situation: Situation, finders: Iterable[Finder] = ()) -> dict[str, Alert]:
    """Every alert-worthy condition that holds now, by key."""
    found: dict[str, Alert] = {}
    for finder in finders or FINDERS:
        found.update((alert.key, alert) for alert in finder(situation))
    return found


def recovery(
    entry: Mapping[str, Any], config: Config, states: Mapping[str, SourceState]
) -> Alert | None:
    """The one ``recovered`` alert owed when an announced broken source works again."""
    source_id = entry["source"]
    ids = {s.id for s in config.sources}
    state = states.get(source_id)
    if entry["event"] != BROKEN or entry.get("seeded") or source_id not in ids or state is None:
        return None
    if state.consecutive_failures >= config.source(source_id).cadence.fail_after:
        return None  # still failing, in a new streak: that one is its own alert
    return Alert(
        key=f"{RECOVERED}/{source_id}/{entry['data'].get('since')}",
        event=RECOVERED,
        audience=MAINTAINERS,
        source=source_id,
        guide=None,
        subject=f"[watcher] source back: {source_id}",
        text=f"Source {source_id} works again (it had been failing since "
        f"{entry['data'].get('since')}).",
        data={"since": entry["data"].get("since")},
    )


# ---------------------------------------------------------------- the record


@dataclass
class Record:
    """``snapshots/_alerts.json``: every condition announced (or pending), by key."""

    entries: dict[str, dict[str, Any]]
    existed: bool = True

    @classmethod
    def load(cls, path: Path) -> Record:
        try:
            data = read_json(path)
        except StoreError:  # unreadable: start over rather than stop checking
            data = None
        if data is None:
            return cls({}, existed=False)
        return cls(dict(data.get("alerts", {})))

    def save(self, path: Path) -> None:
        data = {"schema": RECORD_SCHEMA, "alerts": dict(sorted(self.entries.items()))}
        write_json(path, data, durable=True)


def record_path(project: Project) -> Path:
    return project.store.root / RECORD_FILE


def update(
    record: Record,
    now_holding: Mapping[str, Alert],
    config: Config,
    states: Mapping[str, SourceState],
    at: datetime,
) -> list[Alert]:
    """Record new conditions, forget ended ones; return the alerts to announce."""
    seeded = not record.existed
    fresh: list[Alert] = []
    for key in [k for k, e in record.entries.items() if k not in now_holding and not e["once"]]:
        back = recovery(record.entries.pop(key), config, states)
        if back is not None and back.key not in record.entries:
            fresh.append(back)
    fresh += [a for key, a in now_holding.items() if key not in record.entries and not seeded]
    for alert in now_holding.values():
        if alert.key not in record.entries:
            record.entries[alert.key] = _entry(alert, at, seeded=seeded)
    for alert in fresh:
        if alert.event == RECOVERED:
            record.entries[alert.key] = _entry(alert, at, seeded=False, once=True)
    record.existed = True
    return fresh


def _entry(alert: Alert, at: datetime, *, seeded: bool, once: bool = False) -> dict[str, Any]:
    entry = asdict(alert)
    entry.update(
        at=_iso(at), seeded=seeded, once=once, pending=[], delivered={}, error=None, attempts=0
    )
    entry["data"] = dict(alert.data)
    return entry


# ---------------------------------------------------------------- delivering


@dataclass(frozen=True)
class Delivery:
    """What one run of :func:`dispatch` did, for the log and the CLI."""

    new: tuple[str, ...] = ()
    sent: tuple[tuple[str, str], ...] = ()  # (channel, alert key)
    failed: tuple[tuple[str, str], ...] = ()  # (channel, error)
    dropped: tuple[str, ...] = ()
    seeded: int = 0


def channels(alert: Mapping[str, Any], settings: Notify, config: Config) -> list[str]:
    """Where one alert goes: the owner or maintainers by mail, subscribed webhooks."""
    targets = []
    if settings.smtp is not None:
        if alert["audience"] == EDITORS and alert["guide"] is not None:
            targets.append("email:" + config.guide(alert["guide"]).owner)
        elif alert["audience"] == MAINTAINERS:
            targets.extend("email:" + address for address in settings.maintainers)
    targets.extend(w.channel for w in settings.webhooks if alert["event"] in w.events)
    return targets


def dispatch(project: Project, now: datetime, finders: Iterable[Finder] = ()) -> Delivery:
    """Decide, record and deliver; call under the project lock, after a check."""
    settings = project.config.notify
    if settings is None:
        return Delivery()
    path = record_path(project)
    record = Record.load(path)
    situation = _situation(project, now)
    seeding = not record.existed
    fresh = update(record, conditions(situation, finders), project.config, situation.states, now)
    for alert in fresh:
        record.entries[alert.key]["pending"] = channels(asdict(alert), settings, project.config)
    record.save(path)  # decided before sending: a crash re-sends rather than forgets
    sent, failed = _deliver(record, settings, now, project.config.defaults.user_agent)
    dropped = _give_up(record, now)
    record.save(path)
    seeded = sum(1 for e in record.entries.values() if e["seeded"]) if seeding else 0
    return Delivery(tuple(a.key for a in fresh), sent, failed, dropped, seeded)


def _situation(project: Project, now: datetime) -> Situation:
    states = project.states()
    reviews = project.all_reviews()
    # With the store, changes and claims are assessed (claim-missing needs them).
    verdicts = tuple(all_verdicts(project.config, states, reviews, now, project.store))
    return Situation(project.config, states, verdicts, now, _new_reports(project))


def _new_reports(project: Project) -> tuple[ReaderReport, ...]:
    """Reports waiting for triage, about guides still configured (none without a database)."""
    guides = {g.id for g in project.config.guides}
    try:
        found = DeskStore(project.journal).reports(OPEN_STATUSES)
    except StoreError:
        return ()
    return tuple(r for r in found if r.guide in guides)


def _deliver(
    record: Record, settings: Notify, now: datetime, user_agent: str
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    by_channel: dict[str, list[str]] = {}
    for key, entry in sorted(record.entries.items(), key=lambda item: item[1]["at"]):
        for channel in entry["pending"]:
            by_channel.setdefault(channel, []).append(key)
    sent: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    hooks = {w.channel: w for w in settings.webhooks}
    for channel, keys in by_channel.items():
        try:
            _send(channel, [record.entries[k] for k in keys], settings, hooks, user_agent)
        except WatcherError as exc:
            failed.append((channel, str(exc)))
            _mark(record, keys, channel, now, error=str(exc))
            continue
        sent.extend((channel, key) for key in keys)
        _mark(record, keys, channel, now, error=None)
    return tuple(sent), tuple(failed)


def _send(
    channel: str,
    entries: list[dict[str, Any]],
    settings: Notify,
    hooks: Mapping[str, Any],
    user_agent: str,
) -> None:
    kind, _, target = channel.partition(":")
    if kind == "email":
        notify.send(settings, [_mail(target, entries)])
        return
    hook = hooks.get(channel)
    if hook is None:
        return  # the webhook was removed from sources.yaml: nothing to retry
    for entry in entries:
        data = {k: entry[k] for k in ("key", "event", "source", "guide", "at")}
        webhooks.send(hook, entry["text"], {**data, **entry["data"]}, user_agent=user_agent)


def _mail(to: str, entries: list[dict[str, Any]]) -> notify.Mail:
    if len(entries) == 1:
        subject = entries[0]["subject"]
    else:
        subject = f"[watcher] {len(entries)} alerts: " + ", ".join(
            sorted({e["event"] for e in entries})
        )
    text = "\n\n".join(e["text"] for e in entries) + "\n\n-- \nwatcher (immediate alerts)\n"
    return notify.Mail((to,), subject, "", text)


def _mark(
    record: Record, keys: list[str], channel: str, now: datetime, *, error: str | None
) -> None:
    for key in keys:
        entry = record.entries[key]
        entry["attempts"] += 1
        entry["error"] = error
        if error is None:
            entry["pending"].remove(channel)
            entry["delivered"][channel] = _iso(now)


def _give_up(record: Record, now: datetime) -> tuple[str, ...]:
    """Stop retrying what stayed undeliverable for a day; forget delivered one-offs."""
    dropped = []
    for key, entry in list(record.entries.items()):
        old = now - datetime.fromisoformat(entry["at"]) > GIVE_UP_AFTER
        if entry["pending"] and old:
            dropped.append(key)
            entry["pending"] = []
        if entry["once"] and not entry["pending"]:
            del record.entries[key]
    return tuple(dropped)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"
