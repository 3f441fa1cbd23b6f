"""The project lock: one writer at a time.

A writing command holds an exclusive ``flock`` on ``.watcher/lock`` next to
the configuration for the duration of its writes. The kernel releases the
lock when the holder dies, so a lock left by a killed process is never
stale; the file's text only says who holds it, for the error message.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from watcher.errors import LockedError


def lock_path(root: Path) -> Path:
    return root / ".watcher" / "lock"


@contextmanager
def project_lock(root: Path, command: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the project lock; wait up to ``wait`` seconds, else LockedError."""
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait)
        _write_holder(fd, command)
        yield
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockedError(
                    f"another watcher run holds the project lock: {_holder(path)}",
                    hint="wait for it to finish, or pass --wait SECONDS",
                ) from None
            time.sleep(0.2)


def _write_holder(fd: int, command: str) -> None:
    holder = {
        "pid": os.getpid(),
        "command": command,
        "argv": sys.argv[1:],
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)


def _holder(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown holder"
    return f"pid {data.get('pid')}, `watcher {data.get('command')}`, since {data.get('since')}"
