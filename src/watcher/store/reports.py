"""Accepted reader reports, kept in ``snapshots/_reports/<guide-id>.json``.

What ``watcher ci`` needs to fail a guide for a reader's report, and
nothing more: the report's reference, its summary, who accepted it and
when, and the source or claim it is about. No contact and no address:
those are personal data and stay in the database (:mod:`watcher.store.desk`).
One file per guide, entries only ever appended, written atomically with
sorted keys like the sign-offs beside it.
"""

from __future__ import annotations

from pathlib import Path

from watcher.state import AcceptedReport
from watcher.store.files import read_json, write_json

REPORTS_DIR = "_reports"
REPORTS_SCHEMA = "watcher.reports/1"


class AcceptedReportStore:
    """Reads and appends ``snapshots/_reports/*.json``."""

    def __init__(self, snapshots: Path) -> None:
        self.root = snapshots / REPORTS_DIR

    def path(self, guide_id: str) -> Path:
        return self.root / f"{guide_id}.json"

    def load(self, guide_id: str) -> list[AcceptedReport]:
        data = read_json(self.path(guide_id))
        if data is None:
            return []
        return [AcceptedReport.from_json(item) for item in data.get("reports", [])]

    def append(self, guide_id: str, report: AcceptedReport) -> None:
        reports = [r for r in self.load(guide_id) if r.ref != report.ref]
        self.save(guide_id, [*reports, report])

    def remove(self, guide_id: str, ref: str) -> None:
        """Withdraw an accepted report (it was triaged again)."""
        reports = self.load(guide_id)
        kept = [r for r in reports if r.ref != ref]
        if kept != reports:
            self.save(guide_id, kept)

    def save(self, guide_id: str, reports: list[AcceptedReport]) -> None:
        data = {
            "schema": REPORTS_SCHEMA,
            "guide": guide_id,
            "reports": [report.to_json() for report in reports],
        }
        write_json(self.path(guide_id), data)

    def rename_source(self, old: str, new: str) -> None:
        """Follow a source rename in every guide's accepted reports."""
        for path in sorted(self.root.glob("*.json")):
            reports = self.load(path.stem)
            if any(r.source == old for r in reports):
                renamed = [
                    AcceptedReport(r.ref, r.summary, r.accepted_at, r.accepted_by, new, r.claim)
                    if r.source == old
                    else r
                    for r in reports
                ]
                self.save(path.stem, renamed)
