"""Machine-readable results of ``check --json`` and ``status --json``.

Each document carries a ``schema`` name with a version (``watcher.check/1``,
``watcher.status/1``). Within a version, fields are only ever added; a
field is never renamed, retyped or removed. Times are ISO 8601 in UTC.

``watcher.check/1``::

    {"schema": "watcher.check/1", "started": TIME, "finished": TIME,
     "counts": {"checked", "unchanged", "changed", "reverted", "baseline",
                "failed": INT},
     "guides_flagged": [GUIDE_ID, ...],
     "sources": [{"id", "outcome": "baseline|unchanged|changed|reverted|failed",
                  "at", "old_hash", "new_hash", "status", "final_url",
                  "not_modified", "duration_ms", "error_kind", "error",
                  "consecutive_failures", "newly_failing", "recovered",
                  "rebased", "flagged": [GUIDE_ID],
                  "diff": null | {"lines_added", "lines_removed",
                                  "words_added", "words_removed",
                                  "changed_ratio"},
                  "severity": null | "cosmetic|minor|major",
                  "reasons": [TEXT], "law": [TEXT], "unconfirmed": BOOL,
                  "claims": [{"guide", "summary",
                              "results": [{"claim", "status":
                                  "intact|moved|modified|missing",
                                  "old_line", "new_line", "found",
                                  "words": [{"op", "text"}], "score"}]}]}]}

``reverted`` (flapping: back to one of the last versions, see
:mod:`watcher.check.source`), ``severity``, ``reasons``, ``law`` (changes per
article of a ``structure: law`` source), ``claims`` (each citing guide's
claims against its pinned version, on every successful check) and
``unconfirmed`` (a change that did not hold on the ``confirm`` re-fetch)
were added within version 1, and so were ``interrupted`` (true when Ctrl-C
stopped the run: ``sources`` then holds those checked before it) and
``earlier`` (``[{"id", "old_hash", "new_hash", "at"}]``: changes an earlier,
interrupted check stored and never reported).

``watcher.status/1``::

    {"schema": "watcher.status/1",
     "guides": [{"id", "title",
                 "state": "broken|needs review|unverified|overdue|fresh",
                 "severity": null | "cosmetic|minor|major",
                 "reasons": [{"state", "source", "text", "action",
                              "severity", "kind": null | "claims"}],
                 "unreviewed", "last_signoff",
                 "sources": [{"id", "pinned", "current",
                              "pin_kind": "baseline|review|dismiss",
                              "pinned_at", "changed", "changed_since",
                              "broken", "unverified", "moved_to"}]}],
     "sources": [{"id", "title", "url", "current", "versions",
                  "last_success", "last_change", "last_check",
                  "last_outcome", "consecutive_failures", "last_error",
                  "moved_to"}]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from watcher.config.model import Config
from watcher.redact import redact, redact_url
from watcher.results import Outcome, RunResult, SourceResult
from watcher.state import SourceState

if TYPE_CHECKING:  # the guide states: imported by the commands that show them
    from watcher.guides.freshness import GuideVerdict

CHECK_SCHEMA = "watcher.check/1"
STATUS_SCHEMA = "watcher.status/1"


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _url(url: str | None) -> str | None:
    return redact_url(url) if url else url


def check_result(run: RunResult) -> dict[str, Any]:
    counts = {str(o): run.count(o) for o in Outcome}
    return {
        "schema": CHECK_SCHEMA,
        "started": _time(run.started),
        "finished": _time(run.finished),
        "counts": {"checked": len(run.results), **counts},
        "guides_flagged": list(run.flagged_guides),
        "sources": [_source_result(r) for r in run.results],
        "interrupted": run.interrupted,
        "earlier": [
            {"id": c.source, "old_hash": c.old_hash, "new_hash": c.new_hash, "at": _time(c.at)}
            for c in run.earlier
        ],
    }


def _source_result(result: SourceResult) -> dict[str, Any]:
    data = asdict(result)
    data["id"] = data.pop("source")
    data["at"] = _time(result.at)
    data["flagged"] = list(result.flagged)
    data["final_url"] = redact_url(result.final_url) if result.final_url else result.final_url
    data["diff"] = asdict(result.diff.stats) if result.diff is not None else None
    return data


def status(
    config: Config, states: Mapping[str, SourceState], verdicts: Sequence[GuideVerdict]
) -> dict[str, Any]:
    titles = {g.id: g.title for g in config.guides}
    return {
        "schema": STATUS_SCHEMA,
        "guides": [_guide(v, titles[v.guide]) for v in verdicts],
        "sources": [_source_state(s.id, s.title, s.url, states[s.id]) for s in config.sources],
    }


def _guide(verdict: GuideVerdict, title: str) -> dict[str, Any]:
    return {
        "id": verdict.guide,
        "title": title,
        "state": verdict.state,
        "severity": verdict.severity,
        "reasons": [
            {
                "state": r.state,
                "source": r.source,
                "text": r.text,
                "action": r.action,
                "severity": r.severity,
                "kind": r.kind,
            }
            for r in verdict.reasons
        ],
        "unreviewed": verdict.unreviewed,
        "last_signoff": _time(verdict.last_signoff),
        "sources": [
            {
                "id": v.source,
                "pinned": v.pinned,
                "current": v.current,
                "pin_kind": v.pin_kind,
                "pinned_at": _time(v.pin_at),
                "changed": v.changed,
                "changed_since": _time(v.changed_since),
                "broken": v.broken,
                "unverified": v.unverified,
                "moved_to": _url(v.moved_to),
            }
            for v in verdict.sources
        ],
    }


def _source_state(source_id: str, title: str, url: str, state: SourceState) -> dict[str, Any]:
    check = state.last_check
    failed = check is not None and check.outcome == "failed"
    return {
        "id": source_id,
        "title": title,
        "url": redact_url(url),
        "current": state.current,
        "versions": len(state.versions),
        "last_success": _time(state.last_success),
        "last_change": _time(state.last_change),
        "last_check": _time(check.at if check else None),
        "last_outcome": check.outcome if check else None,
        "consecutive_failures": state.consecutive_failures,
        "last_error": redact(check.error) if failed and check and check.error else None,
        "moved_to": _url(state.moved_to),
    }
