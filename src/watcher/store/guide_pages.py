"""The published guide pages as ``watcher audit`` last read them: ``snapshots/_guides/``.

Kept apart from the sources (guide ids are slugs, which cannot start with
``_``, so the folder never collides with a source)::

    snapshots/_guides/<guide-id>/
      audit.json              the last audit: when, the page's hash and when its
                              text last changed, the links it cites, the findings
      current.txt             the page's current text
      versions/<hash>.txt     every text the page has had, by content hash

Written like the sources' files: the version text first, then
``audit.json`` (the commit point), each atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watcher.store.files import atomic_write, read_json, write_json

GUIDES_DIR = "_guides"


class GuidePageStore:
    """Reads and writes ``snapshots/_guides/<guide-id>/``."""

    def __init__(self, snapshots: Path) -> None:
        self.root = snapshots / GUIDES_DIR

    def folder(self, guide_id: str) -> Path:
        return self.root / guide_id

    def load(self, guide_id: str) -> dict[str, Any] | None:
        """The last audit record of a guide, or None if it was never audited."""
        data = read_json(self.folder(guide_id) / "audit.json")
        return data if isinstance(data, dict) else None

    def read_text(self, guide_id: str, content_hash: str) -> str | None:
        path = self.folder(guide_id) / "versions" / f"{content_hash}.txt"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def save(
        self, guide_id: str, record: dict[str, Any], text: str | None = None, content_hash: str = ""
    ) -> None:
        """Store the page's text (if read) as version ``content_hash``, then the record."""
        folder = self.folder(guide_id)
        if text is not None and content_hash:
            data = text.encode("utf-8")
            version = folder / "versions" / f"{content_hash}.txt"
            if not version.is_file():
                atomic_write(version, data)
            atomic_write(folder / "current.txt", data)
        write_json(folder / "audit.json", record, durable=True)
