"""Micro-benchmark: what storing a new source and re-checking one cost on this disk.

A new source (the cold run) writes its first version's text, its raw body
and its state; a re-check (the steady run) writes its state again; the
journal gets one fetch row per source, in one transaction per source or
grouped as a check does. Each is done for N sources in a fresh temporary
folder, through the store's own API, and the CPU time (user + system: on a
virtual disk the kernel's part dominates) is reported per source, median
of the repeats.

    python bench/bench_store.py [N] [REPEATS]

Run it with two installed builds to compare their layouts.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from watcher.state import SourceState, Version
from watcher.store import SnapshotStore, default_url
from watcher.store.db import Journal
from watcher.text.normalize import content_hash

TEXT = "Полис ОМС для иностранных граждан: горячая линия 8 (800) 555-01-23.\n" * 120
BODY = ("<html><body><main>" + TEXT.replace("\n", "<br>") + "</main></body></html>").encode()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_round(n: int) -> tuple[float, float]:
    """(ms per new source, ms per re-check) for ``n`` sources."""
    root = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        store = SnapshotStore(root / "snapshots", hasher=content_hash)
        now = datetime.now(UTC)
        states = []
        started = cpu()
        for i in range(n):
            text = f"{TEXT}{i}"
            digest = content_hash(text)
            state = SourceState(source=f"s{i}", url=f"https://example.org/{i}")
            store.write_version(state.source, digest, text)
            raw = store.write_raw(state.source, digest, BODY, "text/html")
            state.versions.append(Version(hash=digest, seen=now, raw=raw))
            store.save_state(state)
            states.append(state)
        new = (cpu() - started) * 1000 / n
        started = cpu()
        for state in states:
            state.last_success = now
            store.save_state(state)
        again = (cpu() - started) * 1000 / n
        return new, again
    finally:
        shutil.rmtree(root, ignore_errors=True)


def journal_round(n: int, grouped: bool) -> float:
    """ms of CPU per source for one fetch row each, committed per source or grouped."""
    root = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        journal = Journal(default_url(root))
        now = datetime.now(UTC)
        started = cpu()
        with journal.grouped() if grouped else _nothing():
            for i in range(n):
                with journal.transaction(deferred=True) as tx:
                    tx.add_fetch(
                        source=f"s{i}", at=now, outcome="unchanged", url="https://example.org",
                        final_url=None, status=304, duration_ms=120, bytes=0, error_kind=None,
                        error=None, content_hash=None,
                    )  # fmt: skip
        spent = (cpu() - started) * 1000 / n
        journal.close()
        return spent
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rounds = [one_round(n) for _ in range(repeats)]
    new = statistics.median(r[0] for r in rounds)
    again = statistics.median(r[1] for r in rounds)
    print(f"| new source (version, raw body, state) | {new:.2f} ms CPU |")
    print(f"| re-check (state only) | {again:.2f} ms CPU |")
    print(f"({n} sources, median of {repeats}; rounds: {[f'{a:.2f}/{b:.2f}' for a, b in rounds]})")
    for grouped in (False, True):
        spent = statistics.median(journal_round(n, grouped) for _ in range(repeats))
        how = "grouped (a check)" if grouped else "one transaction per source"
        print(f"| journal fetch row, {how} | {spent:.2f} ms CPU |")


if __name__ == "__main__":
    main()
