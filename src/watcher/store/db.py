"""The database journal: the only module that imports SQLAlchemy.

The journal records every fetch attempt, every version and every change,
and indexes them for ``history``, ``status`` and reports. It is not the
source of truth: ``snapshots/`` is, and :meth:`Journal.reconcile` brings
the journal in line with it (``watcher reindex`` rebuilds it from scratch).

An SQLite file next to the configuration is the default; any SQLAlchemy
URL works (``--db`` or ``WATCHER_DB``), PostgreSQL included. A database
that cannot be reached or opened is a :class:`~watcher.errors.DatabaseError`
(exit 5), its URL shown with the password redacted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from watcher.errors import DatabaseError, StoreError, UsageError
from watcher.redact import redact_url
from watcher.state import SourceState
from watcher.store.dblock import database_lock


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC, whatever the backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class FetchRow(Base):
    """One fetch attempt of one source."""

    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))


class VersionRow(Base):
    """One distinct version of one source."""

    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    seen: Mapped[datetime] = mapped_column(UTCDateTime)
    position: Mapped[int] = mapped_column(Integer)


class ChangeRow(Base):
    """A detected change between two versions."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    old_hash: Mapped[str] = mapped_column(String(64))
    new_hash: Mapped[str] = mapped_column(String(64))
    lines_added: Mapped[int] = mapped_column(Integer, default=0)
    lines_removed: Mapped[int] = mapped_column(Integer, default=0)
    changed_ratio: Mapped[float] = mapped_column(Float, default=0.0)


class EventRow(Base):
    """Anything else worth keeping: re-bases, renames, reindexes."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class Transaction:
    """Writes of one unit of work (one source of one check).

    Rows are plain Core inserts, gathered per table and sent at commit as
    one ``executemany`` each: a check writes a few rows for each of a
    thousand sources, and the ORM's unit of work would cost more than the
    fetch. A *deferred* unit (``connection`` None) only gathers rows; its
    group sends them (see :meth:`Journal.grouped`).
    """

    def __init__(self, connection: Connection | None) -> None:
        self._connection = connection
        self._pending: dict[Table, list[dict[str, Any]]] = {}

    @property
    def connection(self) -> Connection:
        assert self._connection is not None, "a deferred unit only adds rows"
        return self._connection

    def _add(self, table: Table, values: dict[str, Any]) -> None:
        self._pending.setdefault(table, []).append(values)

    def add_fetch(self, **values: Any) -> None:
        self._add(_FETCHES, values)

    def add_change(self, **values: Any) -> None:
        self._add(_CHANGES, values)

    def add_event(self, source: str | None, at: datetime, kind: str, detail: str) -> None:
        self._add(_EVENTS, {"source": source, "at": at, "kind": kind, "detail": detail})

    def add_version(self, state: SourceState, position: int) -> None:
        """Record the version at ``position`` of the state (just appended)."""
        version = state.versions[position]
        self._add(_VERSIONS, _version_row(state.source, version.hash, version.seen, position))

    def sync_versions(self, state: SourceState) -> bool:
        """Make the versions table of one source equal to its state file."""
        self.flush()
        query = select(_VERSIONS.c.hash, _VERSIONS.c.seen).where(_VERSIONS.c.source == state.source)
        rows = self.connection.execute(query.order_by(_VERSIONS.c.position)).all()
        return self._replace_versions(state, [(r.hash, r.seen) for r in rows])

    def sync_all_versions(self, states: Sequence[SourceState]) -> int:
        """:meth:`sync_versions` for many sources, reading the table once."""
        self.flush()
        columns = _VERSIONS.c
        query = select(columns.source, columns.hash, columns.seen)
        stored: dict[str, list[tuple[str, datetime]]] = {}
        for row in self.connection.execute(query.order_by(columns.source, columns.position)):
            stored.setdefault(row.source, []).append((row.hash, row.seen))
        return sum(self._replace_versions(state, stored.get(state.source, [])) for state in states)

    def _replace_versions(self, state: SourceState, stored: list[tuple[str, datetime]]) -> bool:
        if stored == [(v.hash, v.seen) for v in state.versions]:
            return False
        self.connection.execute(delete(_VERSIONS).where(_VERSIONS.c.source == state.source))
        for position, version in enumerate(state.versions):
            self._add(_VERSIONS, _version_row(state.source, version.hash, version.seen, position))
        return True

    def rename(self, old: str, new: str) -> None:
        """Move every row of source ``old`` to ``new``."""
        self.flush()
        for table in (_FETCHES, _VERSIONS, _CHANGES, _EVENTS):
            self.connection.execute(update(table).where(table.c.source == old).values(source=new))

    def flush(self) -> None:
        """Send the gathered rows (done at commit, and before any read or rewrite)."""
        for table, rows in self._pending.items():
            self.connection.execute(insert(table), rows)
        self._pending.clear()

    def send(self, connection: Connection) -> None:
        """Send a deferred unit's rows within ``connection``'s transaction."""
        self._connection = connection
        self.flush()


def _version_row(source: str, hash_: str, seen: datetime, position: int) -> dict[str, Any]:
    return {"source": source, "hash": hash_, "seen": seen, "position": position}


_FETCHES: Table = FetchRow.__table__  # type: ignore[assignment]
_VERSIONS: Table = VersionRow.__table__  # type: ignore[assignment]
_CHANGES: Table = ChangeRow.__table__  # type: ignore[assignment]
_EVENTS: Table = EventRow.__table__  # type: ignore[assignment]


class Journal:
    """The database journal of one project."""

    def __init__(self, url: str) -> None:
        from watcher.store import desk  # noqa: F401  (registers the desk's tables)

        self._group: list[Transaction] | None = None
        self.url = url
        self.engine = _engine(url)
        with _translated(url), self._connect() as connection:
            try:
                with connection.begin():
                    Base.metadata.create_all(connection)
            except SQLAlchemyError as exc:
                raise _open_error(url, exc) from exc

    def close(self) -> None:
        self.engine.dispose()

    def healthy(self) -> bool:
        """False when SQLite finds the file damaged (``PRAGMA quick_check``)."""
        if self.engine.dialect.name != "sqlite":
            return True
        try:
            with self.engine.connect() as connection:
                answer = connection.exec_driver_sql("PRAGMA quick_check").scalar()
        except SQLAlchemyError:
            return False
        return answer == "ok"

    @contextmanager
    def lock(self, command: str, wait: float = 0.0) -> Iterator[None]:
        """The run lock in the database itself, for machines sharing it (PostgreSQL)."""
        with _translated(self.url), database_lock(self.engine, command, wait):
            yield

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """Commit the deferred units of this block together, :data:`GROUP_UNITS` at a time.

        A check commits one transaction per source; grouped, a thousand
        sources cost a few dozen commits. What a unit wrote to ``snapshots/``
        is committed before its rows are: a kill loses the rows of the group
        in flight (fetch attempts; the versions index is rebuilt from
        ``snapshots/`` by the next run), never a file.
        """
        self._group = []
        try:
            yield
        finally:
            group, self._group = self._group, None
            self._send(group)

    def _send(self, group: list[Transaction]) -> None:
        if not group:
            return
        with _translated(self.url), self._connect() as connection, connection.begin():
            for unit in group:
                unit.send(connection)

    @contextmanager
    def transaction(self, *, deferred: bool = False) -> Iterator[Transaction]:
        """One transaction: committed on success, rolled back on any error.

        ``deferred`` (rows only, no reads) inside :meth:`grouped`: the rows
        wait for the group's commit; a unit that raises leaves none.
        """
        if deferred and self._group is not None:
            unit = Transaction(None)
            yield unit
            self._group.append(unit)
            if len(self._group) >= GROUP_UNITS:
                group, self._group = self._group, []
                self._send(group)
            return
        with _translated(self.url), self._connect() as connection, connection.begin():
            tx = Transaction(connection)
            yield tx
            tx.flush()

    def _connect(self) -> Connection:
        """A connection; failing to get one means the server is unreachable (exit 6),
        or, for SQLite, that its file cannot be opened (a damaged file: reindex)."""
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            if sqlite_path(self.url) is not None:
                raise _open_error(self.url, exc) from exc
            raise _unreachable(self.url, exc) from exc

    def reconcile(self, states: Sequence[SourceState]) -> int:
        """Bring the versions table in line with the snapshots; return sources fixed."""
        with self.transaction() as tx:
            return tx.sync_all_versions(states)

    def rename_source(self, old: str, new: str, at: datetime) -> None:
        with self.transaction() as tx:
            tx.rename(old, new)
            tx.add_event(new, at, "rename", f"renamed from {old}")

    # reads -------------------------------------------------------------

    def versions(self, source: str) -> list[VersionRow]:
        with _translated(self.url), Session(self.engine) as session:
            query = select(VersionRow).where(VersionRow.source == source)
            return list(session.scalars(query.order_by(VersionRow.position)))

    def fetches(self, source: str, limit: int = 50) -> list[FetchRow]:
        with _translated(self.url), Session(self.engine) as session:
            query = select(FetchRow).where(FetchRow.source == source)
            return list(
                session.scalars(query.order_by(FetchRow.at.desc(), FetchRow.id.desc()).limit(limit))
            )

    def changes(self, source: str) -> list[ChangeRow]:
        with _translated(self.url), Session(self.engine) as session:
            query = select(ChangeRow).where(ChangeRow.source == source)
            return list(session.scalars(query.order_by(ChangeRow.at)))

    def count_fetches(self) -> int:
        with _translated(self.url), Session(self.engine) as session:
            return int(session.scalar(select(func.count(FetchRow.id))) or 0)


CONNECT_TIMEOUT = 10
"""Seconds a PostgreSQL connection may take before the database counts as unreachable."""


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """SQLAlchemy's errors as watcher's: a lost connection is a DatabaseError (exit 6)."""
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated:  # the server went away mid-run
            raise _unreachable(url, exc) from exc
        raise StoreError(f"database error in {redact_url(url)}: {_reason(exc)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"database error in {redact_url(url)}: {_reason(exc)}") from exc


def _unreachable(url: str, exc: SQLAlchemyError) -> DatabaseError:
    return DatabaseError(
        f"cannot reach the database {redact_url(url)}: {_reason(exc)}",
        hint="check that the server runs and accepts this user, or the --db / WATCHER_DB URL",
    )


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own words, on one line, without SQLAlchemy's SQL and parameters."""
    cause = getattr(exc, "orig", None) or exc
    return " ".join(str(cause).split()) or type(cause).__name__


GROUP_UNITS = 64
"""Deferred units committed together by :meth:`Journal.grouped`."""


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL; None for another database."""
    prefix = "sqlite:///"
    return Path(url.removeprefix(prefix)) if url.startswith(prefix) else None


def _open_error(url: str, exc: SQLAlchemyError) -> StoreError:
    """The database cannot be opened; a damaged SQLite file is rebuilt by ``reindex``."""
    orig = getattr(exc, "orig", None)
    detail = str(orig) if orig is not None else str(exc).split("\n")[0]
    hint = None
    if sqlite_path(url) is not None and ("not a database" in detail or "malformed" in detail):
        hint = "the database file is damaged: `watcher reindex` rebuilds it from snapshots/"
    return StoreError(f"cannot open the database {redact_url(url)}: {detail}", hint=hint)


def _engine(url: str) -> Engine:
    shown = redact_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, **_connect_args(url))
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UsageError(
            f"invalid database URL {shown}",
            hint="use an SQLAlchemy URL such as postgresql+psycopg://user@host/watcher",
        ) from exc
    except ImportError as exc:
        raise DatabaseError(
            f"cannot open the database {shown}: its driver is not installed ({exc.name})",
            hint="for PostgreSQL: pip install 'guide-watcher[postgres]'",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _connect_args(url: str) -> dict[str, Any]:
    if url.startswith(("postgresql", "postgres")):
        return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}}
    return {}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
