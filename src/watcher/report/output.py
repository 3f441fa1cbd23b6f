"""Write digests under ``reports/``: dated files, latest, index, feed, state.

Layout of the output directory (default ``reports/`` beside sources.yaml)::

    digest-2026-11-22.html  .md  .json   one digest per period end: the first of a UTC
    digest-2026-11-22-1730.html ...      day by its date, a later one that day by its time
    latest.html                          a copy of the newest HTML digest
    index.html                           every digest, newest first
    feed.xml                             Atom: the latest 50 changes, across runs
    .report-state.json                   the previous period (``--since last``),
                                         the digests written, the feed entries

Feed entries are kept in the state file and merged by id on every run, so
a change keeps its entry (and id) however many digests mention it. All
files are written atomically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.errors import StoreError, UsageError
from watcher.project import Project
from watcher.report import FORMATS, jsondoc
from watcher.report.digest import build_digest, load_history
from watcher.report.model import DISMISSED, Digest, day
from watcher.report.render import Renderer, web_url
from watcher.results import Severity
from watcher.store import atomic_write, read_json, write_json

STATE_FILE = ".report-state.json"
STATE_SCHEMA = "watcher.report-state/1"
FEED_SIZE = 50
DEFAULT_PERIOD = timedelta(days=7)
TAG_PREFIX = "tag:watcher,2026:"


@dataclass(frozen=True)
class ReportState:
    """What previous runs left in the output directory."""

    last_until: datetime | None
    digests: tuple[Mapping[str, Any], ...]
    feed: tuple[Mapping[str, Any], ...]


def parse_formats(text: str) -> tuple[str, ...]:
    """``"html,md"`` -> ``("html", "md")``; unknown names are usage errors."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise UsageError(
            f"unknown format {', '.join(unknown) or text!r}", hint=f"use {', '.join(FORMATS)}"
        )
    return tuple(dict.fromkeys(names))


def load_state(out_dir: Path) -> ReportState:
    path = out_dir / STATE_FILE
    try:
        data = read_json(path)
    except StoreError as exc:
        raise StoreError(exc.message, hint="delete it to start afresh") from exc
    if data is None:
        return ReportState(None, (), ())
    last = data.get("last_until")
    return ReportState(
        datetime.fromisoformat(last) if last else None,
        tuple(data.get("digests", ())),
        tuple(data.get("feed", ())),
    )


def period_start(spec: datetime | str | None, state: ReportState, until: datetime) -> datetime:
    """``--since``: a time, ``"last"`` (the previous digest's end) or None (default).

    Without a previous digest, ``last`` and the default cover the last 7 days.
    """
    if isinstance(spec, datetime):
        since = spec
    elif spec in (None, "last") and state.last_until is not None:
        since = state.last_until
    elif spec in (None, "last"):
        since = until - DEFAULT_PERIOD
    else:
        raise UsageError(f"invalid --since {spec!r}", hint="use a date (2026-11-01) or 'last'")
    if since > until:
        raise UsageError(f"--since {since:%Y-%m-%d %H:%M} is after the end of the period")
    return since


def write_report(
    digest: Digest,
    renderer: Renderer,
    out_dir: Path,
    formats: Sequence[str],
    guide_titles: Mapping[str, str],
) -> list[Path]:
    """Write the digest in ``formats``; return the paths written, in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state = load_state(out_dir)
    stem = digest_name(digest.until, state.digests)
    written: list[Path] = []
    if "html" in formats:
        page = renderer.html(digest)
        written += [_write(out_dir / f"{stem}.html", page), _write(out_dir / "latest.html", page)]
    if "md" in formats:
        written.append(_write(out_dir / f"{stem}.md", renderer.markdown(digest)))
    if "json" in formats:
        written.append(_write(out_dir / f"{stem}.json", jsondoc.dumps(digest)))
    digests = _digests(state.digests, digest, stem, formats)
    feed = _merge_feed(state.feed, _feed_entries(digest, renderer, guide_titles))
    if "atom" in formats:
        xml = renderer.feed(feed, digest.generated, "latest.html")
        written.append(_write(out_dir / "feed.xml", xml_text(xml)))
    if "html" in formats:
        index = renderer.index(_index_rows(out_dir, digests), digest.generated)
        written.append(_write(out_dir / "index.html", index))
    _save_state(out_dir, digest.until, digests, feed)
    return written


def digest_name(until: datetime, previous: Iterable[Mapping[str, Any]]) -> str:
    """The file stem of the digest ending at ``until``: never another digest's.

    The first digest whose period ends on a UTC day is ``digest-YYYY-MM-DD``;
    a later one that day adds the end time (``-HHMM``, ``-HHMMSS``). Writing
    the same period again keeps its name.
    """
    taken = {str(r["name"]): str(r.get("until")) for r in previous if "name" in r}
    day = f"digest-{until:%Y-%m-%d}"
    candidates = (day, f"{day}-{until:%H%M}", f"{day}-{until:%H%M%S}")
    for name in candidates:
        if taken.get(name, until.isoformat()) == until.isoformat():
            return name
    return f"{candidates[-1]}-{len(taken)}"


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (controls, U+FFFE, U+FFFF...).

    One such character makes the whole feed invalid, and feed readers drop it.
    """
    return _NOT_XML.sub("", text)


def _write(path: Path, text: str) -> Path:
    atomic_write(path, text.encode("utf-8"))
    path.chmod(0o644)  # digests are for reading and publishing, unlike temporary files
    return path


def _digests(
    previous: Iterable[Mapping[str, Any]], digest: Digest, stem: str, formats: Sequence[str]
) -> list[Mapping[str, Any]]:
    row = {
        "name": stem,
        "since": digest.since.isoformat(),
        "until": digest.until.isoformat(),
        "attention": len(digest.attention),
        "open_changes": digest.counts.open_changes,
        "failing": digest.counts.failing,
        "formats": sorted(formats),
    }
    rows = {r["name"]: r for r in previous if isinstance(r, Mapping) and "name" in r}
    rows[stem] = row
    return sorted(rows.values(), key=lambda r: (str(r.get("until")), str(r["name"])), reverse=True)


def _index_rows(out_dir: Path, digests: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Digests whose HTML file exists, newest first, with a one-line summary."""
    rows = []
    for row in digests:
        name = str(row["name"])
        if not (out_dir / f"{name}.html").exists():
            continue
        since = datetime.fromisoformat(str(row["since"]))
        until = datetime.fromisoformat(str(row["until"]))
        summary = (
            f"{row['attention']} guide(s) need attention, {row['open_changes']} change(s) "
            f"to review, {row['failing']} failing source(s)"
        )
        rows.append(
            {
                "file": f"{name}.html",
                "title": f"{since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC",
                "summary": summary,
            }
        )
    return rows


def _feed_entries(
    digest: Digest, renderer: Renderer, guide_titles: Mapping[str, str]
) -> list[dict[str, Any]]:
    entries = []
    for item in digest.changes:
        dismissed = item.status == DISMISSED and item.dismissal is not None
        when = (
            item.dismissal.at if dismissed and item.dismissal else item.detected
        ) or digest.until
        title = guide_titles.get(item.guide, item.guide)
        verb = "change dismissed" if dismissed else "changed"
        severity = f" [{item.severity}]" if item.severity else ""
        entries.append(
            {
                "id": TAG_PREFIX + item.entry_id,
                "title": f"{title}: {item.source.title} {verb}{severity}, {day(when)}",
                "updated": when.isoformat(),
                "link": web_url(item.source.url),
                "content": renderer.entry_html(item, digest),
            }
        )
    return entries


def _merge_feed(
    previous: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The latest :data:`FEED_SIZE` entries; a new entry replaces one with its id."""
    entries = {str(e["id"]): e for e in previous if isinstance(e, Mapping) and "id" in e}
    entries.update({str(e["id"]): e for e in new})
    ordered = sorted(entries.values(), key=lambda e: (str(e["updated"]), str(e["id"])))
    return ordered[::-1][:FEED_SIZE]


def _save_state(
    out_dir: Path,
    until: datetime,
    digests: Sequence[Mapping[str, Any]],
    feed: Sequence[Mapping[str, Any]],
) -> None:
    data = {
        "schema": STATE_SCHEMA,
        "last_until": until.isoformat(),
        "digests": list(digests),
        "feed": list(feed),
    }
    write_json(out_dir / STATE_FILE, data)


@dataclass(frozen=True)
class Written:
    """One digest as written: the period, the digest, its renderer and the files."""

    since: datetime
    until: datetime
    digest: Digest
    renderer: Renderer
    paths: tuple[Path, ...]


def write_digest(
    project: Project,
    formats: Sequence[str],
    until: datetime,
    *,
    since: datetime | str | None = "last",
    out_dir: Path | None = None,
    min_severity: Severity | None = None,
) -> Written:
    """Build the digest of ``since`` (a time, 'last' or None) .. ``until`` and write it.

    The one way a digest is written, by ``watcher report`` and by the
    scheduled digests of ``watcher run``; the caller holds the project lock.
    """
    out_dir = out_dir if out_dir is not None else project.reports_dir
    renderer = Renderer(project.config.reports.templates)
    start = period_start(since, load_state(out_dir), until)
    history = load_history(project)
    digest = build_digest(history, start, until, generated=until, min_severity=min_severity)
    titles = {g.id: g.title for g in project.config.guides}
    paths = write_report(digest, renderer, out_dir, formats, titles)
    return Written(start, until, digest, renderer, tuple(paths))


def last_digest(project: Project) -> datetime | None:
    """The end of the previous digest in ``reports/``, if any."""
    return load_state(project.reports_dir).last_until
