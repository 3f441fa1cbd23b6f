"""The run lock across machines: a PostgreSQL advisory lock on the shared journal.

The project lock (:mod:`watcher.store.lock`) is an ``flock`` on a local
file: it keeps one machine's runs apart. Two maintainers' machines whose
``WATCHER_DB`` names one PostgreSQL database share the journal, so a
writing run also holds a session-level advisory lock in that database for
as long as it writes. The server releases it when the holder's connection
ends, so a killed run (or a machine that vanished) never leaves it behind.

The lock's connection names its holder (``application_name``), so a
second run can say who holds it, as the file lock does. SQLite needs none
of this: its file is local, and the file lock covers it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

from watcher.errors import LockedError

LOCK_KEY = (0x77617463, 1)
"""The advisory lock's two keys: "watc" and the project lock."""
POLL = 0.2
_TRY_LOCK = "SELECT pg_try_advisory_lock(CAST(:a AS integer), CAST(:b AS integer))"
_UNLOCK = "SELECT pg_advisory_unlock(CAST(:a AS integer), CAST(:b AS integer))"


@contextmanager
def database_lock(engine: Engine, command: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the journal's advisory lock (PostgreSQL); nothing to hold elsewhere."""
    if engine.dialect.name != "postgresql":
        yield
        return
    connection = engine.connect()
    try:
        _name_holder(connection, command)
        _acquire(connection, wait)
        try:
            yield
        finally:
            connection.execute(text(_UNLOCK), _keys())
            connection.commit()
    finally:
        # Never hand a connection that may still hold the lock back to the pool.
        connection.invalidate()
        connection.close()


def _keys() -> dict[str, int]:
    return {"a": LOCK_KEY[0], "b": LOCK_KEY[1]}


def _name_holder(connection: Connection, command: str) -> None:
    since = datetime.now(UTC).isoformat(timespec="seconds")
    name = f"watcher {command} pid {os.getpid()}@{socket.gethostname()} {since}"
    connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
    connection.commit()


def _acquire(connection: Connection, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        taken = connection.execute(text(_TRY_LOCK), _keys()).scalar()
        connection.commit()
        if taken:
            return
        if time.monotonic() >= deadline:
            raise LockedError(
                f"another watcher run holds the database lock: {_holder(connection)}",
                hint="wait for it to finish, or pass --wait SECONDS",
            )
        time.sleep(POLL)


def _holder(connection: Connection) -> str:
    query = text(
        "SELECT a.application_name, a.client_addr FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted "
        "AND CAST(l.classid AS bigint) = :a AND CAST(l.objid AS bigint) = :b AND l.objsubid = 2"
    )
    row = connection.execute(query, _keys()).first()
    connection.commit()
    if row is None:
        return "unknown holder"
    client = f" from {row.client_addr}" if row.client_addr else ""
    return f"{row.application_name or 'a session'}{client}"
