"""Editor sign-offs, kept in ``snapshots/_reviews/<guide-id>.json``.

One file per guide, committed with the snapshots: a list of entries, each
saying who checked the guide against which version (content hash) of which
sources, when, and why. The pin of a source is the hash in the latest entry
that names it. Entries are only ever appended; the file is written
atomically with sorted keys and a fixed layout, so ``git diff`` shows a
sign-off as a few added lines and an unchanged history gives identical
bytes. (Source ids are slugs that cannot start with ``_``, so the folder
never collides with a source.)
"""

from __future__ import annotations

from pathlib import Path

from watcher.shapes import ShapeError
from watcher.state import GuideReviews, ReviewEntry, reviews_from_json
from watcher.store.files import read_json, shape_error, write_json
from watcher.store.reports import AcceptedReportStore

REVIEWS_DIR = "_reviews"


class ReviewStore:
    """Reads and appends ``snapshots/_reviews/*.json``.

    A guide's history is loaded with the reader reports accepted about it
    (``snapshots/_reports/``): a sign-off is what settles them.
    """

    def __init__(self, snapshots: Path) -> None:
        self.root = snapshots / REVIEWS_DIR
        self.accepted = AcceptedReportStore(snapshots)

    def path(self, guide_id: str) -> Path:
        return self.root / f"{guide_id}.json"

    def load(self, guide_id: str) -> GuideReviews:
        """A guide's sign-offs and accepted reports; a damaged file is a StateError naming it."""
        path = self.path(guide_id)
        data = read_json(path)
        reports = self.accepted.load(guide_id)
        if data is None:
            return GuideReviews(guide=guide_id, reports=reports)
        try:
            reviews = reviews_from_json(guide_id, data)
        except ShapeError as exc:
            raise shape_error(path, exc) from None
        reviews.reports = reports
        return reviews

    def append(self, guide_id: str, entry: ReviewEntry) -> GuideReviews:
        reviews = self.load(guide_id)
        reviews.entries.append(entry)
        self.save(reviews)
        return reviews

    def save(self, reviews: GuideReviews) -> None:
        write_json(self.path(reviews.guide), reviews.to_json())

    def rename_source(self, old: str, new: str) -> None:
        """Follow a source rename in every guide's history."""
        self.accepted.rename_source(old, new)
        for path in sorted(self.root.glob("*.json")):
            reviews = self.load(path.stem)
            renamed = [_renamed(entry, old, new) for entry in reviews.entries]
            if renamed != reviews.entries:
                self.save(GuideReviews(reviews.guide, renamed, reviews.reports))


def _renamed(entry: ReviewEntry, old: str, new: str) -> ReviewEntry:
    if old not in entry.sources:
        return entry
    sources = {new if key == old else key: value for key, value in entry.sources.items()}
    return ReviewEntry(entry.at, entry.by, entry.note, entry.kind, sources)
