"""Terminal output for the CLI: the only module that imports rich.

Everything here takes data and a console and draws it; nothing here
decides anything. On a terminal there is colour, a progress bar and
tables; when output is piped (cron, CI) it degrades to plain lines.

Text that comes from pages, servers or files goes through :func:`safe`
first: a control character or a bidi override is shown as an escape,
never sent to the editor's terminal to act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from watcher.redact import redact
from watcher.results import (
    BASELINE,
    CHANGED,
    FAILED,
    REVERTED,
    UNCHANGED,
    Diff,
    Line,
    RunResult,
    SourceResult,
)
from watcher.state import SourceState

if TYPE_CHECKING:  # the guide states: imported by the commands that show them
    from watcher.guides.freshness import GuideVerdict

STATE_STYLES = {
    "fresh": "green",
    "needs review": "bold yellow",
    "broken": "bold red",
    "unverified": "magenta",
    "overdue": "cyan",
}
OUTCOME_STYLES = {
    "changed": "bold yellow",
    "failed": "red",
    "baseline": "cyan",
    "unchanged": "green",
    "reverted": "dim",
}
SEVERITY_STYLES = {"major": "bold red", "minor": "yellow", "cosmetic": "dim"}


_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]")
"""Controls but tab and newline (terminal escapes, carriage returns), and the bidi
embeddings, overrides and isolates that make a line read in another order."""


def safe(text: str) -> str:
    """``text`` with control and bidi-control characters shown as ``\\x1b``, ``<U+202E>``."""
    return _UNSAFE.sub(_escaped, text) if _UNSAFE.search(text) else text


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


class Advance(Protocol):
    """A progress display: told when a source's request starts, and when it is done."""

    def started(self, source_id: str) -> None: ...

    def __call__(self, result: SourceResult) -> None: ...


class _NoProgress:
    def started(self, source_id: str) -> None:
        pass

    def __call__(self, result: SourceResult) -> None:
        pass


class _Bar:
    """The bar's text names the sources in flight, the oldest first, not the last done."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar, self.task = bar, task
        self.in_flight: dict[str, None] = {}

    def started(self, source_id: str) -> None:
        self.in_flight[source_id] = None
        self._show()

    def __call__(self, result: SourceResult) -> None:
        self.in_flight.pop(result.source, None)
        self.bar.update(self.task, advance=1)
        self._show()

    def _show(self) -> None:
        names = list(self.in_flight)
        more = f" (+{len(names) - 1} more)" if len(names) > 1 else ""
        self.bar.update(self.task, description=f"{names[0]}{more}" if names else "")


def make_console(*, stderr: bool = False, color: bool | None = None) -> Console:
    """A console that is plain (no colour, no markup widths) when piped."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True, no_color=color is False)


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


@contextmanager
def progress(console: Console, total: int) -> Iterator[Advance]:
    """A progress bar on a terminal; nothing at all otherwise."""
    if not console.is_terminal:
        yield _NoProgress()
        return
    columns = (
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        yield _Bar(bar, bar.add_task("", total=total))


# ---------------------------------------------------------------------------
# check


def check_summary(console: Console, run: RunResult, total: int | None = None) -> None:
    """The end-of-run summary: a table on a terminal, a few lines otherwise."""
    if console.is_terminal:
        _check_table(console, run)
    else:
        _check_plain(console, run)
    _earlier_lines(console, run)
    if run.interrupted:
        of = f" of {total}" if total is not None else ""
        console.print(
            f"watcher check: interrupted after {len(run.results)}{of} sources; what they "
            "found above is stored (the others were not checked)",
            markup=False,
        )


def _earlier_lines(console: Console, run: RunResult) -> None:
    """Changes an interrupted check stored and never reported."""
    if not run.earlier:
        return
    console.print("stored by an earlier check that was stopped before reporting them:")
    for change in run.earlier:
        command = f"watcher diff {change.source} --from {change.old_hash} --to {change.new_hash}"
        console.print(
            f"  {change.source}: changed: {change.old_hash} -> {change.new_hash} "
            f"(stored {when(change.at)} UTC; see `{command}`)",
            markup=False,
        )


def _counts(run: RunResult) -> str:
    parts = [f"{len(run.results)} checked"]
    parts += [f"{run.count(o)} {o}" for o in (UNCHANGED, CHANGED, BASELINE, FAILED)]
    if run.count(REVERTED):
        parts.append(f"{run.count(REVERTED)} reverted (flapping, not reported as changes)")
    flagged = len(set(run.flagged_guides) | set(_claim_guides(run)))
    parts.append(f"{flagged} guide{'' if flagged == 1 else 's'} flagged")
    return ", ".join(parts)


def _claim_guides(run: RunResult) -> dict[str, list[str]]:
    """Guides a claim of which is modified or missing, with the sources it quotes."""
    found: dict[str, list[str]] = {}
    for result in run.results:
        for claims in result.claims:
            if not claims.ok:
                found.setdefault(claims.guide, []).append(result.source)
    return found


def _check_table(console: Console, run: RunResult) -> None:
    table = Table(title="watcher check", title_justify="left")
    for column in ("source", "outcome", "detail"):
        table.add_column(column)
    for result in run.results:
        style = OUTCOME_STYLES.get(result.outcome, "")
        detail = safe("\n".join([_detail(result), *_signal_lines(result)]))
        table.add_row(result.source, Text(result.outcome, style=style), Text(detail))
    console.print(table)
    console.print(_counts(run))
    _flag_lines(console, run)


def _check_plain(console: Console, run: RunResult) -> None:
    console.print(f"watcher check: {_counts(run)}")
    for result in run.results:
        if (
            result.outcome in (CHANGED, REVERTED, FAILED)
            or result.newly_failing
            or result.recovered
        ):
            line = f"  {result.source}: {result.outcome}: {_detail(result)}"
            console.print(safe(line), markup=False)
        for line in _signal_lines(result):
            console.print(safe(f"    {line}"), markup=False)
    _flag_lines(console, run)


def _flag_lines(console: Console, run: RunResult) -> None:
    for guide in run.flagged_guides:
        sources = [r.source for r in run.results if guide in r.flagged]
        console.print(
            f"guide {guide} needs review: {', '.join(sources)} changed "
            f"(see `watcher diff {sources[0]}`)",
            markup=False,
        )
    for guide, sources in _claim_guides(run).items():
        if guide not in run.flagged_guides:
            console.print(
                f"guide {guide} needs review: a claim it quotes from {', '.join(sources)} is "
                f"modified or missing (see `watcher status`)",
                markup=False,
            )


def _detail(result: SourceResult) -> str:
    if result.outcome == FAILED:
        note = (
            f" [{result.consecutive_failures} in a row]" if result.consecutive_failures > 1 else ""
        )
        return f"{result.error}{note}"
    if result.outcome == CHANGED and result.diff is not None:
        stats = result.diff.stats
        severity = f" [{result.severity}]" if result.severity else ""
        return (
            f"{result.old_hash} -> {result.new_hash}: +{stats.lines_added} -{stats.lines_removed} "
            f"lines ({stats.changed_ratio:.0%} of words){severity}"
        )
    if result.outcome == REVERTED:
        return f"{result.old_hash} -> {result.new_hash}: back to a recent version, not a new change"
    detail = "304 not modified" if result.not_modified else (result.new_hash or "")
    if result.recovered:
        detail += " (recovered)"
    if result.rebased:
        detail += " (re-based after a rule change)"
    if result.unconfirmed:
        detail += " (a change was seen but did not hold on the confirming fetch)"
    return detail


def _signal_lines(result: SourceResult) -> list[str]:
    """Why a change matters, article by article, and each guide's claims."""
    lines = []
    if result.outcome == CHANGED:
        lines += [f"- {reason}" for reason in result.reasons[:_REASONS_SHOWN]]
        lines += [f"- {unit}" for unit in result.law]
    for claims in result.claims:
        if result.outcome == CHANGED or not claims.ok:
            lines.append(f"claims of {claims.guide}: {claims.summary}")
    return lines


_REASONS_SHOWN = 5


# ---------------------------------------------------------------------------
# status


def guide_table(
    console: Console, verdicts: Sequence[GuideVerdict], titles: Mapping[str, str]
) -> None:
    table = Table(title="guides", title_justify="left")
    for column in ("guide", "state", "reasons"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        state = Text(verdict.state, style=STATE_STYLES.get(verdict.state, ""))
        if verdict.severity:
            state.append(f"\n{verdict.severity}", style=SEVERITY_STYLES.get(verdict.severity, ""))
        lines = [f"{r.text}\n  -> {r.action}" for r in verdict.reasons]
        reasons = "\n".join([*lines, _baseline_note(verdict)]).strip()
        title = Text(safe(f"{verdict.guide}\n{titles.get(verdict.guide, '')}"))
        table.add_row(title, state, escape(safe(reasons)))
    console.print(table)


def _baseline_note(verdict: GuideVerdict) -> str:
    baseline = [v.source for v in verdict.sources if v.baseline_pin and not v.changed]
    if baseline:
        return f"baseline, not yet reviewed by an editor: {', '.join(baseline)}"
    return "" if verdict.reasons else f"reviewed {when(verdict.last_signoff)}"


def source_table(
    console: Console, states: Mapping[str, SourceState], titles: Mapping[str, str]
) -> None:
    table = Table(title="sources", title_justify="left")
    for column in ("source", "last success", "last change", "versions", "last error"):
        table.add_column(column, overflow="fold")
    for source_id, state in states.items():
        table.add_row(
            Text(safe(f"{source_id}\n{titles.get(source_id, '')}")),
            when(state.last_success),
            when(state.last_change),
            str(len(state.versions)),
            escape(safe(_error_cell(state))),
        )
    console.print(table)


def _error_cell(state: SourceState) -> str:
    check = state.last_check
    if check is None or check.outcome != FAILED:
        return ""
    count = state.consecutive_failures
    since = when(state.failing_since)
    return redact(f"[{check.kind}] {check.error} ({count} in a row since {since})")


# ---------------------------------------------------------------------------
# diff


def show_diff(
    console: Console,
    diff: Diff,
    header: str,
    note: Callable[[str], str | None] = lambda text: None,
) -> None:
    """A diff with word-level highlights: colour and reverse video on a terminal.

    ``note`` says what a changed line is when the assessment leaves it out
    ("volatile, ignored"); it is shown after the line, dimmed.
    """
    console.print(Text(safe(header), style="bold"))
    for hunk in diff.hunks:
        console.print(
            Text(
                f"@@ -{hunk.old_start},{hunk.old_count} +{hunk.new_start},{hunk.new_count} @@",
                style="cyan",
            )
        )
        for line in hunk.lines:
            text = _line_text(line)
            said = note(line.text) if line.tag != " " else None
            if said:
                text.append(f"   ({said})", style="dim italic")
            console.print(text)


def _line_text(line: Line) -> Text:
    style = {"-": "red", "+": "green"}.get(line.tag, "dim")
    text = Text(f"{line.tag} ", style=style)
    if not line.words:
        text.append(safe(line.text), style=style)
        return text
    for word in line.words:
        strong = word.op != "equal"
        text.append(safe(word.text), style=f"{style} reverse bold" if strong else style)
    return text
