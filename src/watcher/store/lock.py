"""The project lock: one writer at a time.

A writing command holds an exclusive ``flock`` on ``.watcher/lock`` next to
the configuration for the duration of its writes. The kernel releases the
lock when the holder dies, so a lock left by a killed process is never
stale; the file's text says who holds it, for the error message.

A holder that ended cleanly may also leave a *seal* there: what it made of
the project (see :meth:`watcher.project.Project.reconcile`). Only a clean
exit writes one, and every holder starts by overwriting the file, so a
seal proves that no write was interrupted since it was made.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.errors import LockedError


def lock_path(root: Path) -> Path:
    return root / ".watcher" / "lock"


@dataclass
class _Hold:
    """This process's hold of one project's lock."""

    previous_seal: Any
    seal: Any = None


_HELD: dict[Path, _Hold] = {}


@contextmanager
def project_lock(root: Path, command: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the project lock; wait up to ``wait`` seconds, else LockedError."""
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait)
        hold = _HELD[Path(root)] = _Hold(_previous_seal(fd))
        try:
            _write_holder(fd, command)
            yield
            if hold.seal is not None:  # a clean end: no exception came through
                _write_holder(fd, command, seal=hold.seal)
        finally:
            del _HELD[Path(root)]
    finally:
        os.close(fd)


def last_seal(root: Path) -> Any:
    """The seal the previous holder left, if this process holds the lock (else None)."""
    hold = _HELD.get(Path(root))
    return hold.previous_seal if hold is not None else None


def seal(root: Path, value: Any) -> None:
    """Leave ``value`` for the next holder if this hold ends cleanly (nothing unless held)."""
    hold = _HELD.get(Path(root))
    if hold is not None:
        hold.seal = value


def reseal(root: Path, value: Any) -> None:
    """Move a seal already left to ``value``: the clean run wrote more after sealing."""
    hold = _HELD.get(Path(root))
    if hold is not None and hold.seal is not None:
        hold.seal = value


def _previous_seal(fd: int) -> Any:
    try:
        data = json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
    except ValueError:
        return None
    return data.get("seal") if isinstance(data, dict) else None


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


def _write_holder(fd: int, command: str, seal: Any = None) -> None:
    holder: dict[str, Any] = {
        "pid": os.getpid(),
        "command": command,
        "argv": sys.argv[1:],
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if seal is not None:
        holder["seal"] = seal
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)


def _holder(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown holder"
    return f"pid {data.get('pid')}, `watcher {data.get('command')}`, since {data.get('since')}"
