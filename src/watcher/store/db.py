"""The database journal: the only module that imports SQLAlchemy.

The journal records every fetch attempt, every version and every change,
and indexes them for ``history``, ``status`` and reports. It is not the
source of truth: ``snapshots/`` is, and :meth:`Journal.reconcile` brings
the journal in line with it (``watcher reindex`` rebuilds it from scratch).

An SQLite file next to the configuration is the default; any SQLAlchemy
URL works (``--db`` or ``WATCHER_DB``), PostgreSQL included.
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
    Text,
    TypeDecorator,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ..errors import StoreError
from .state import SourceState


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
    """Writes of one unit of work (one source of one check)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_fetch(self, **values: Any) -> None:
        self.session.add(FetchRow(**values))

    def add_change(self, **values: Any) -> None:
        self.session.add(ChangeRow(**values))

    def add_event(self, source: str | None, at: datetime, kind: str, detail: str) -> None:
        self.session.add(EventRow(source=source, at=at, kind=kind, detail=detail))

    def add_version(self, state: SourceState, position: int) -> None:
        """Record the version at ``position`` of the state (just appended)."""
        version = state.versions[position]
        self.session.add(
            VersionRow(source=state.source, hash=version.hash, seen=version.seen, position=position)
        )

    def sync_versions(self, state: SourceState) -> bool:
        """Make the versions table of one source equal to its state file."""
        query = select(VersionRow).where(VersionRow.source == state.source)
        rows = self.session.scalars(query.order_by(VersionRow.position)).all()
        wanted = [(v.hash, v.seen) for v in state.versions]
        if [(r.hash, r.seen) for r in rows] == wanted:
            return False
        self.session.execute(delete(VersionRow).where(VersionRow.source == state.source))
        for position, version in enumerate(state.versions):
            self.session.add(
                VersionRow(
                    source=state.source, hash=version.hash, seen=version.seen, position=position
                )
            )
        return True


def default_url(root: Path) -> str:
    """The SQLite file used when no URL is given: ``.watcher/watcher.db``."""
    return f"sqlite:///{root / '.watcher' / 'watcher.db'}"


class Journal:
    """The database journal of one project."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _engine(url)
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the database {url}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: committed on success, rolled back on any error."""
        session = Session(self.engine)
        try:
            yield Transaction(session)
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreError(f"database error: {exc}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def reconcile(self, states: Sequence[SourceState]) -> int:
        """Bring the versions table in line with the snapshots; return sources fixed."""
        with self.transaction() as tx:
            return sum(tx.sync_versions(state) for state in states)

    def rename_source(self, old: str, new: str, at: datetime) -> None:
        with self.transaction() as tx:
            for table in (FetchRow, VersionRow, ChangeRow, EventRow):
                tx.session.execute(update(table).where(table.source == old).values(source=new))
            tx.add_event(new, at, "rename", f"renamed from {old}")

    # reads -------------------------------------------------------------

    def versions(self, source: str) -> list[VersionRow]:
        with Session(self.engine) as session:
            query = select(VersionRow).where(VersionRow.source == source)
            return list(session.scalars(query.order_by(VersionRow.position)))

    def fetches(self, source: str, limit: int = 50) -> list[FetchRow]:
        with Session(self.engine) as session:
            query = select(FetchRow).where(FetchRow.source == source)
            return list(
                session.scalars(query.order_by(FetchRow.at.desc(), FetchRow.id.desc()).limit(limit))
            )

    def changes(self, source: str) -> list[ChangeRow]:
        with Session(self.engine) as session:
            query = select(ChangeRow).where(ChangeRow.source == source)
            return list(session.scalars(query.order_by(ChangeRow.at)))

    def count_fetches(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count(FetchRow.id))) or 0)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
