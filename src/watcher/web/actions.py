"""Every write the desk makes: the same library calls as the CLI, under the project lock.

Each action takes the project lock the way a CLI command does
(:func:`watcher.store.project_lock`), waiting up to ``desk: lock_wait`` for a
running check before giving up with :class:`~watcher.errors.LockedError`
("the project is busy"). Sign-offs call :func:`watcher.guides.review.sign_off`
(as ``watcher review``) and triage calls :mod:`watcher.guides.reports` (as
``watcher reports``), always under the logged-in account's name. With
``--commit``, each action is then committed to git with that account as
the author.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from watcher.check.run import run_check
from watcher.errors import LockedError
from watcher.guides import reports
from watcher.guides.review import SignOff, sign_off
from watcher.notify import alerts
from watcher.project import Project
from watcher.results import RunResult, utcnow
from watcher.store import project_lock
from watcher.store.desk import ReaderReport
from watcher.web import gitcommit

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who acts: the logged-in account."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class Done:
    """An action's result, and a git problem worth telling (the action itself stands)."""

    value: object
    git_warning: str | None = None


class Actions:
    """The desk's writes on one project."""

    def __init__(self, project: Project, *, lock_wait: float, commit: bool = False) -> None:
        self.project = project
        self.lock_wait = lock_wait
        self.commit = commit

    def _locked(self, what: str, actor: Actor, work: Callable[[], T], message: str) -> Done:
        try:
            with project_lock(self.project.root, f"serve: {what}", wait=self.lock_wait):
                value = work()
                warning = None
                if self.commit:
                    warning = gitcommit.commit(
                        self.project.store.root, message, actor.name, actor.email
                    )
        except LockedError as exc:
            raise LockedError(
                f"the project is busy: {exc.message.split(': ', 1)[-1]}",
                hint="a check is probably running; try again in a minute",
            ) from None
        return Done(value, warning)

    def sign_off(self, guide: str, actor: Actor, note: str, sources: Sequence[str] = ()) -> Done:
        def work() -> SignOff:
            return sign_off(
                self.project, guide, by=actor.name, note=note, now=utcnow(), sources=sources
            )

        return self._locked("review", actor, work, f"Sign off {guide}: {_line(note)}")

    def dismiss(self, guide: str, source: str, actor: Actor, note: str) -> Done:
        def work() -> SignOff:
            return sign_off(
                self.project,
                guide,
                by=actor.name,
                note=note,
                now=utcnow(),
                sources=(source,),
                dismiss=True,
            )

        message = f"Dismiss the change of {source} for {guide}: {_line(note)}"
        return self._locked("review --dismiss", actor, work, message)

    def accept(
        self,
        ref: str,
        actor: Actor,
        *,
        note: str = "",
        guide: str | None = None,
        source: str | None = None,
        claim: str | None = None,
    ) -> Done:
        def work() -> ReaderReport:
            return reports.accept(
                self.project,
                ref,
                by=actor.name,
                now=utcnow(),
                note=note,
                guide=guide,
                source=source,
                claim=claim,
            )

        return self._locked("reports accept", actor, work, f"Accept reader report {ref}")

    def reject(self, ref: str, actor: Actor, note: str) -> Done:
        def work() -> ReaderReport:
            return reports.reject(self.project, ref, by=actor.name, now=utcnow(), note=note)

        return self._locked("reports reject", actor, work, f"Reject reader report {ref}")

    def duplicate(self, ref: str, of: str, actor: Actor) -> Done:
        def work() -> ReaderReport:
            return reports.mark_duplicate(self.project, ref, of=of, by=actor.name, now=utcnow())

        return self._locked(
            "reports duplicate", actor, work, f"Reader report {ref} duplicates {of}"
        )

    def check_source(self, source_id: str, actor: Actor) -> Done:
        """A maintainer's check of one source, then the alerts a CLI check would send."""
        source = self.project.config.source(source_id)

        def work() -> RunResult:
            run = asyncio.run(run_check(self.project, [source]))
            if self.project.config.notify is not None:
                alerts.dispatch(self.project, utcnow())
            return run

        return self._locked("check", actor, work, f"Check {source_id}")

    def announce(self) -> None:
        """Send the alerts owed (a new report): skipped if busy, the next check sends them."""
        if self.project.config.notify is None:
            return
        try:
            with project_lock(self.project.root, "serve: alerts", wait=self.lock_wait):
                alerts.dispatch(self.project, utcnow())
        except LockedError:
            return


def _line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 72 else flat[:71] + "…"
