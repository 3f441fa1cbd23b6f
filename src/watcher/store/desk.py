"""The editor desk's tables in the database journal: reader reports and accounts.

Readers' reports (with the contact e-mail a reader may leave: personal
data, erased after ``desk: contact_retention``) and the desk's accounts
(a password *hash* only) live here, never under ``snapshots/``. What CI
needs of an accepted report is committed apart, without personal data
(:mod:`watcher.store.reports`). The tables share the journal's metadata, so
opening a :class:`~watcher.store.db.Journal` creates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from watcher.errors import DeskError, StoreError, UnknownIdError
from watcher.state import REPORT_STATUSES, ROLES, ReportStatus, Role
from watcher.store.db import Base, Journal, UTCDateTime

__all__ = [
    "REPORT_STATUSES",
    "ROLES",
    "Account",
    "DeskStore",
    "ReaderReport",
    "ReportStatus",
    "Role",
]


class ReportRow(Base):
    """One reader's report, as received and as triaged."""

    __tablename__ = "reader_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    guide: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    claim: Mapped[str | None] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[str | None] = mapped_column(String(16))


class AccountRow(Base):
    """One desk account: an editor or a maintainer."""

    __tablename__ = "desk_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class ReaderReport:
    """A reader's report as stored (``contact`` is None once erased or never given)."""

    ref: str
    guide: str
    text: str
    status: ReportStatus
    received_at: datetime
    source: str | None = None
    claim: str | None = None
    page: str | None = None
    contact: str | None = None
    triaged_at: datetime | None = None
    triaged_by: str | None = None
    note: str | None = None
    duplicate_of: str | None = None

    @classmethod
    def of(cls, row: ReportRow) -> ReaderReport:
        return cls(
            ref=row.ref,
            guide=row.guide,
            text=row.text,
            status=row.status,  # type: ignore[arg-type]
            received_at=row.received_at,
            source=row.source,
            claim=row.claim,
            page=row.page,
            contact=row.contact,
            triaged_at=row.triaged_at,
            triaged_by=row.triaged_by,
            note=row.note,
            duplicate_of=row.duplicate_of,
        )


@dataclass(frozen=True)
class Account:
    """A desk account; the password exists only as its hash."""

    name: str
    role: Role
    password_hash: str
    created_at: datetime
    email: str | None = None


class DeskStore:
    """Reads and writes the desk's tables of one project's journal."""

    def __init__(self, journal: Journal) -> None:
        self.engine = journal.engine

    # reports -----------------------------------------------------------

    def add_report(self, report: ReaderReport) -> ReaderReport:
        row = ReportRow(**_report_values(report))
        with self._session() as session:
            session.add(row)
            session.commit()
        return report

    def report(self, ref: str) -> ReaderReport:
        with self._session() as session:
            row = session.scalar(select(ReportRow).where(ReportRow.ref == ref.strip().upper()))
            if row is None:
                raise UnknownIdError(
                    f"unknown report {ref!r}", hint="`watcher reports list --all` shows every one"
                )
            return ReaderReport.of(row)

    def reports(
        self, statuses: tuple[str, ...] = (), guide: str | None = None, limit: int = 500
    ) -> list[ReaderReport]:
        """Reports, oldest first, narrowed to some statuses and one guide."""
        query = select(ReportRow)
        if statuses:
            query = query.where(ReportRow.status.in_(statuses))
        if guide is not None:
            query = query.where(ReportRow.guide == guide)
        query = query.order_by(ReportRow.received_at, ReportRow.id).limit(limit)
        with self._session() as session:
            return [ReaderReport.of(row) for row in session.scalars(query)]

    def save_triage(self, report: ReaderReport) -> None:
        """Store a report's new status, link and note (its text never changes)."""
        values = _report_values(report)
        for fixed in ("ref", "text", "received_at", "contact", "page"):
            values.pop(fixed)
        with self._session() as session:
            session.execute(update(ReportRow).where(ReportRow.ref == report.ref).values(**values))
            session.commit()

    def erase_contacts(self, received_before: datetime) -> int:
        """Forget the contact of every report received before the cut-off; how many."""
        query = (
            update(ReportRow)
            .where(ReportRow.received_at < received_before, ReportRow.contact.is_not(None))
            .values(contact=None)
        )
        with self._session() as session:
            count = session.execute(query).rowcount  # type: ignore[attr-defined]
            session.commit()
        return int(count or 0)

    # accounts ----------------------------------------------------------

    def add_account(self, account: Account, *, replace: bool = False) -> None:
        with self._session() as session:
            existing = session.scalar(select(AccountRow).where(AccountRow.name == account.name))
            if existing is not None and not replace:
                raise DeskError(
                    f"an account named {account.name!r} exists",
                    hint="pass --replace to set a new password or role",
                )
            if existing is not None:
                session.delete(existing)
                session.flush()
            session.add(AccountRow(**_account_values(account)))
            try:
                session.commit()
            except IntegrityError as exc:
                raise DeskError(f"an account named {account.name!r} exists") from exc

    def account(self, name: str) -> Account | None:
        with self._session() as session:
            row = session.scalar(select(AccountRow).where(AccountRow.name == name))
            return None if row is None else _account(row)

    def accounts(self) -> list[Account]:
        with self._session() as session:
            rows = session.scalars(select(AccountRow).order_by(AccountRow.name))
            return [_account(row) for row in rows]

    def remove_account(self, name: str) -> bool:
        with self._session() as session:
            row = session.scalar(select(AccountRow).where(AccountRow.name == name))
            if row is None:
                return False
            session.delete(row)
            session.commit()
            return True

    def _session(self) -> _GuardedSession:
        return _GuardedSession(self.engine)


class _GuardedSession(Session):
    """A session whose database errors become :class:`StoreError` on the way out."""

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        super().__exit__(kind, error, traceback)
        if isinstance(error, SQLAlchemyError):
            raise StoreError(f"database error: {error}") from error


def _report_values(report: ReaderReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in ReaderReport.__dataclass_fields__}


def _account_values(account: Account) -> dict[str, Any]:
    return {name: getattr(account, name) for name in Account.__dataclass_fields__}


def _account(row: AccountRow) -> Account:
    return Account(row.name, row.role, row.password_hash, row.created_at, row.email)  # type: ignore[arg-type]
