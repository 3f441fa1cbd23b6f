"""Which stored changes were reported: none is lost to an interrupted check.

A check stores a change (``state.json``) before anyone has been told of
it. The change stays in its source's ``unreported`` list until the command
that stored it has reported it (printed its summary, or logged it under
``watcher run``). A check stopped in between (Ctrl-C, a kill, cron's
timeout) leaves it there, and the next check reports it as a change an
earlier check stored: a cron ``--quiet`` mail still mentions it.
"""

from __future__ import annotations

from collections.abc import Iterable

from watcher.project import Project
from watcher.results import CHANGED, RunResult, StoredChange
from watcher.state import SourceState


def pending(project: Project) -> tuple[StoredChange, ...]:
    """Every change stored but not reported yet, oldest first."""
    found = [
        change
        for state in project.store.readable_states(s.id for s in project.config.sources)
        for content_hash in state.unreported
        if (change := _change(state, content_hash)) is not None
    ]
    return tuple(sorted(found, key=lambda change: (change.at, change.source)))


def _change(state: SourceState, content_hash: str) -> StoredChange | None:
    content_hash = state.resolve(content_hash)  # re-based since: today's hash
    hashes = [v.hash for v in state.versions]
    if content_hash not in hashes:
        return None
    index = len(hashes) - 1 - hashes[::-1].index(content_hash)
    old = hashes[index - 1] if index > 0 else None
    return StoredChange(state.source, old, content_hash, state.versions[index].seen)


def reported_in(run: RunResult) -> set[str]:
    """The sources whose stored changes ``run`` reports: its changes and the earlier ones."""
    changed = {r.source for r in run.results if r.outcome == CHANGED}
    return changed | {change.source for change in run.earlier}


def mark_reported(project: Project, source_ids: Iterable[str]) -> int:
    """Forget the unreported changes of these sources, once reported; return how many."""
    cleared = 0
    for state in project.store.readable_states(sorted(set(source_ids))):
        if state.unreported:
            cleared += len(state.unreported)
            state.unreported = []
            project.store.save_state(state)
    if cleared:
        project.reseal()
    return cleared
