"""``watcher ci``: the freshness gate for the guides' CI, and its outputs.

The gate reads only sources.yaml and the files committed under
``snapshots/`` (no network, no database), so it runs on a fresh clone.
Outputs: a human report, JUnit XML (one test case per guide), GitHub
Actions workflow annotations and step summary, and JSON
(``watcher.ci/1``).

``--min-severity`` narrows what *fails*, never what is flagged: a guide
whose changed sources are all below it stays "needs review" (``status``
says so), and its reasons are printed as warnings instead of failures. A
modified or missing claim is always major, so it always fails; a change
that could not be assessed (a version file missing) fails as before.
Guides with a claim problem are listed first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from watcher.changes.assessment import rank
from watcher.config.model import Config, Guide
from watcher.errors import UsageError
from watcher.guides.freshness import (
    AUDIT,
    BROKEN,
    INSECURE,
    MOVED,
    NEEDS_REVIEW,
    OVERDUE,
    UNREVIEWED,
    UNVERIFIED,
    GuideVerdict,
    Reason,
)
from watcher.results import Severity

CI_SCHEMA = "watcher.ci/1"
FAIL_ON_CHOICES = (BROKEN, NEEDS_REVIEW, UNVERIFIED, OVERDUE, UNREVIEWED, AUDIT)
DEFAULT_FAIL_ON = (BROKEN, NEEDS_REVIEW, UNVERIFIED)


def parse_fail_on(text: str) -> tuple[str, ...]:
    """``broken,needs-review`` -> states; unknown names are a usage error."""
    states = []
    for item in text.split(","):
        name = item.strip().replace("-", " ").replace("_", " ")
        if not name:
            continue
        if name not in FAIL_ON_CHOICES:
            choices = ", ".join(c.replace(" ", "-") for c in FAIL_ON_CHOICES)
            raise UsageError(
                f"unknown state {item.strip()!r} in --fail-on", hint=f"choose from {choices}"
            )
        states.append(name)
    return tuple(states)


@dataclass(frozen=True)
class GuideOutcome:
    """One guide under the gate: failed or passed, and why."""

    verdict: GuideVerdict
    title: str
    line: int
    failures: tuple[Reason, ...]
    warnings: tuple[Reason, ...]

    @property
    def failed(self) -> bool:
        return bool(self.failures)


@dataclass(frozen=True)
class CiResult:
    """The verdict of the gate over every guide."""

    at: datetime
    fail_on: tuple[str, ...]
    guides: tuple[GuideOutcome, ...]
    min_severity: Severity | None = None

    @property
    def failed(self) -> tuple[GuideOutcome, ...]:
        return tuple(g for g in self.guides if g.failed)

    @property
    def passed(self) -> bool:
        return not self.failed


def evaluate(
    config: Config,
    verdicts: Iterable[GuideVerdict],
    fail_on: tuple[str, ...],
    at: datetime,
    min_severity: Severity | None = None,
) -> CiResult:
    """Apply ``fail_on`` (and ``min_severity`` to changes) to every guide's verdict."""
    guides = {g.id: g for g in config.guides}
    outcomes = [
        _outcome(verdict, guides[verdict.guide], fail_on, min_severity) for verdict in verdicts
    ]
    outcomes.sort(key=lambda o: not o.verdict.claim_problems)  # stable: config order otherwise
    return CiResult(at=at, fail_on=fail_on, guides=tuple(outcomes), min_severity=min_severity)


def _outcome(
    verdict: GuideVerdict, guide: Guide, fail_on: tuple[str, ...], min_severity: Severity | None
) -> GuideOutcome:
    reasons = list(verdict.reasons)
    if verdict.unreviewed:
        reasons.append(_unreviewed_reason(verdict))
    failures = tuple(r for r in reasons if r.state in fail_on and _severe(r, min_severity))
    warnings = tuple(r for r in reasons if r not in failures and r.state in _WARN_STATES)
    return GuideOutcome(verdict, guide.title, guide.line, failures, warnings)


def _severe(reason: Reason, min_severity: Severity | None) -> bool:
    """Below ``min_severity`` only when assessed so: an unassessed change still fails."""
    if min_severity is None or reason.state != NEEDS_REVIEW or reason.severity is None:
        return True
    return rank(reason.severity) >= rank(min_severity)


_WARN_STATES = frozenset(
    {BROKEN, NEEDS_REVIEW, UNVERIFIED, OVERDUE, UNREVIEWED, MOVED, INSECURE, AUDIT}
)


def _unreviewed_reason(verdict: GuideVerdict) -> Reason:
    sources = ", ".join(v.source for v in verdict.sources if v.baseline_pin)
    text = f"pinned to first baselines, not yet reviewed by an editor: {sources}"
    action = f"`watcher review {verdict.guide} --by NAME --note TEXT`"
    return Reason(UNREVIEWED, None, text, action)


# ---------------------------------------------------------------------------
# outputs


def human_lines(result: CiResult) -> list[str]:
    """The report printed to the terminal or the CI log."""
    lines = []
    for outcome in result.guides:
        mark = "FAIL" if outcome.failed else "ok  "
        lines.append(f"{mark} {outcome.verdict.guide} [{outcome.verdict.state}] {outcome.title}")
        for reason in outcome.failures:
            lines += [f"     x {reason.text}", f"       next: {reason.action}"]
        for reason in outcome.warnings:
            lines += [f"     ! {reason.text}", f"       next: {reason.action}"]
    failed = len(result.failed)
    below = f"; changes below {result.min_severity} only warn" if result.min_severity else ""
    lines.append(
        f"watcher ci: {failed} of {len(result.guides)} guide(s) failing "
        f"(fail on: {', '.join(result.fail_on) or 'nothing'}{below})"
    )
    return lines


def junit_xml(result: CiResult) -> str:
    """JUnit XML: one test case per guide, named by its id."""
    suite = ET.Element(
        "testsuite",
        name="watcher",
        tests=str(len(result.guides)),
        failures=str(len(result.failed)),
        errors="0",
        timestamp=result.at.isoformat(timespec="seconds"),
    )
    for outcome in result.guides:
        case = ET.SubElement(
            suite, "testcase", name=outcome.verdict.guide, classname="watcher.guides"
        )
        if outcome.failed:
            first = outcome.failures[0]  # the state that failed the guide, not its overall state
            failure = ET.SubElement(
                case, "failure", message=f"{first.state}: {first.text}", type=first.state
            )
            failure.text = "\n".join(f"{r.text}\nnext: {r.action}" for r in outcome.failures)
        if outcome.warnings:
            ET.SubElement(case, "system-out").text = "\n".join(r.text for r in outcome.warnings)
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def github_annotations(result: CiResult, config_file: str) -> list[str]:
    """``::error``/``::warning`` workflow commands pointing at each guide's entry."""
    lines = []
    for outcome in result.guides:
        where = f"file={_escape_property(config_file)},line={outcome.line}"
        for level, reasons in (("error", outcome.failures), ("warning", outcome.warnings)):
            for reason in reasons:
                title = _escape_property(f"{outcome.verdict.guide}: {reason.state}")
                message = _escape_data(f"{reason.text}. Next: {reason.action}")
                lines.append(f"::{level} {where},title={title}::{message}")
    return lines


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def step_summary(result: CiResult) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``."""
    lines = ["## watcher: guide freshness", "", "| guide | state | reasons |", "|---|---|---|"]
    for outcome in result.guides:
        reasons = "<br>".join(_md(r.text) for r in outcome.failures + outcome.warnings) or "-"
        mark = ":x:" if outcome.failed else ":white_check_mark:"
        guide = f"{mark} `{outcome.verdict.guide}` {_md(outcome.title)}"
        lines.append(f"| {guide} | {outcome.verdict.state} | {reasons} |")
    lines += ["", f"{len(result.failed)} of {len(result.guides)} guide(s) failing.", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Neutralize Markdown and HTML in a table cell."""
    for char in "\\`*_[]<>|#!":
        text = text.replace(char, "\\" + char)
    return text


def to_json(result: CiResult) -> dict[str, Any]:
    return {
        "schema": CI_SCHEMA,
        "at": result.at.isoformat(),
        "passed": result.passed,
        "fail_on": list(result.fail_on),
        "min_severity": result.min_severity,
        "guides": [
            {
                "id": o.verdict.guide,
                "state": o.verdict.state,
                "severity": o.verdict.severity,
                "failed": o.failed,
                "failures": [_reason_json(r) for r in o.failures],
                "warnings": [_reason_json(r) for r in o.warnings],
            }
            for o in result.guides
        ],
    }


def _reason_json(reason: Reason) -> dict[str, Any]:
    return {
        "state": reason.state,
        "source": reason.source,
        "text": reason.text,
        "action": reason.action,
        "severity": reason.severity,
        "kind": reason.kind,
    }


def github_outputs(result: CiResult, config_path: Path) -> tuple[list[str], str | None]:
    """Annotations and the step summary, only when running under GitHub Actions."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return [], None
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
    try:
        config_file = str(config_path.resolve().relative_to(workspace.resolve()))
    except ValueError:
        config_file = str(config_path)
    return github_annotations(result, config_file), step_summary(result)
