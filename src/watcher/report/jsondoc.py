"""The JSON digest, ``watcher.digest/1``, and its JSON Schema.

The document holds everything the digest shows (see :mod:`.digest`); its
JSON Schema (draft 2020-12) ships with the package as
``watcher/report/schema/digest-1.schema.json`` (:func:`schema_path`).
Within version 1, fields are only ever added, never renamed, retyped or
removed. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from watcher.report.model import ChangeItem, Digest

SCHEMA_FILE = "digest-1.schema.json"


def schema_path() -> Traversable:
    """The packaged JSON Schema of ``watcher.digest/1``."""
    return files("watcher.report") / "schema" / SCHEMA_FILE


def to_json(digest: Digest) -> dict[str, Any]:
    """The digest as plain JSON data."""
    data = asdict(digest)
    data["counts"]["guides"] = dict(digest.counts.guides)
    data["guides"] = [
        {**section_data, "changes": [_change(item) for item in section.changes]}
        for section_data, section in zip(data["guides"], digest.guides, strict=True)
    ]
    data["templates"] = [
        {
            "host": template.host,
            "sources": [asdict(source) for source in template.sources],
            "guides": list(template.guides),
            "changes": [item.entry_id for item in template.items],
            "change": _change(template.change),
        }
        for template in digest.templates
    ]
    data["needs_attention"] = digest.needs_attention
    return {"schema": digest.schema, **{k: v for k, v in data.items() if k != "schema"}}


def _change(item: ChangeItem) -> dict[str, Any]:
    data = asdict(item)
    data["id"] = item.entry_id
    data["command"] = item.command
    for block_data, block in zip(data["blocks"], item.blocks, strict=True):
        for line_data, line in zip(block_data["lines"], block.lines, strict=True):
            line_data["text"] = line.text
    return data


def dumps(digest: Digest) -> str:
    """Stable JSON text: sorted keys, two-space indent, UTF-8 kept readable."""
    text = json.dumps(to_json(digest), ensure_ascii=False, indent=2, sort_keys=True, default=_time)
    return text + "\n"


def _time(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
