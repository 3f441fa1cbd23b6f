"""Whole-process measurement of one command: wall, CPU of the tree, peak tree RSS.

- wall: monotonic time from spawn to exit;
- CPU: user+sys from ``getrusage(RUSAGE_CHILDREN)`` deltas around the run
  (covers the child and every descendant it waited for);
- peak RSS: /proc polled every ~20 ms, the RSS of the child and all its
  descendants summed, the maximum kept (a poll can miss a spike shorter than
  the interval, so this is a close lower bound).
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Measured:
    """What one run of a command cost."""

    returncode: int
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(
    command: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> Measured:
    """Run ``command`` to completion and measure it (stdout/stderr captured)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    poller = _RssPoller(process.pid)
    poller.start()
    stdout, stderr = process.communicate()
    wall = time.monotonic() - started
    poller.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    return Measured(
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=user + system,
        user_s=user,
        sys_s=system,
        peak_rss_mb=poller.peak_bytes / 2**20,
        stdout=stdout,
        stderr=stderr,
    )


class _RssPoller(threading.Thread):
    """Samples the summed RSS of a process tree until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_bytes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss(self.root))
            self._done.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and its descendants (0 once it is gone)."""
    return sum(_rss(pid) for pid in _tree(root))


def _tree(root: int) -> list[int]:
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        queue.extend(_children(pid))
    return pids


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children.extend(int(child) for child in handle.read().split())
    except OSError:
        pass
    return children


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0
