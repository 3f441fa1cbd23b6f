"""The journal's grouped commits: a check's rows go in a few transactions, none lost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.store import default_url
from watcher.store.db import GROUP_UNITS, Journal

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def add_fetch(journal: Journal, source: str, *, deferred: bool = True) -> None:
    with journal.transaction(deferred=deferred) as tx:
        tx.add_fetch(
            source=source, at=AT, outcome="unchanged", url="https://example.org", final_url=None,
            status=304, duration_ms=100, bytes=0, error_kind=None, error=None, content_hash=None,
        )  # fmt: skip


def test_grouped_rows_are_committed_at_the_end_and_every_group_of_units(tmp_path: Path) -> None:
    journal = Journal(default_url(tmp_path))
    reader = Journal(default_url(tmp_path))  # another connection sees only what is committed
    with journal.grouped():
        for n in range(GROUP_UNITS - 1):
            add_fetch(journal, f"s{n}")
        assert reader.count_fetches() == 0
        add_fetch(journal, "last-of-the-group")
        assert reader.count_fetches() == GROUP_UNITS
        add_fetch(journal, "next")
        assert reader.count_fetches() == GROUP_UNITS
    assert reader.count_fetches() == GROUP_UNITS + 1


def test_a_unit_that_raises_leaves_no_rows_and_the_others_stay(tmp_path: Path) -> None:
    journal = Journal(default_url(tmp_path))
    with pytest.raises(RuntimeError), journal.grouped():
        add_fetch(journal, "before")
        with journal.transaction(deferred=True) as tx:
            tx.add_event("broken", AT, "test", "half a unit")
            raise RuntimeError("the unit failed")
    assert journal.count_fetches() == 1  # the unit before the error was committed
    assert [row.source for row in journal.fetches("before")] == ["before"]


def test_outside_a_group_and_for_reads_a_unit_commits_at_once(tmp_path: Path) -> None:
    journal = Journal(default_url(tmp_path))
    add_fetch(journal, "alone")  # deferred, but no group: its own transaction
    with journal.grouped():
        add_fetch(journal, "waits")
        add_fetch(journal, "now", deferred=False)  # a unit that reads runs at once
        assert {r.source for r in (*journal.fetches("alone"), *journal.fetches("now"))} == {
            "alone",
            "now",
        }
        assert journal.fetches("waits") == []
    assert len(journal.fetches("waits")) == 1
