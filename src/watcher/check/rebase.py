"""Re-basing after a rule change: stored raw bodies re-rendered with today's rules.

A change of ``select``/``exclude``/``ignore``/``encoding``/``format`` (or of
the extractor or normalizer) must not flag guides by itself: every stored
version is rebuilt from its raw body, and pins follow the recorded hash
mapping (:meth:`~watcher.state.SourceState.resolve`).
"""

from __future__ import annotations

from datetime import datetime

from watcher.config.model import Source
from watcher.errors import SourceError, StoreError
from watcher.state import Rebase, SourceState, Version
from watcher.store import SnapshotStore
from watcher.text import normalize
from watcher.text.render import Body, render, rules_fingerprint


def rebase(store: SnapshotStore, source: Source, state: SourceState, now: datetime) -> bool:
    """Re-extract stored raw bodies if the rules changed; True if hashes moved."""
    fingerprint = rules_fingerprint(source.text)
    if state.rules == fingerprint:
        return False
    previous, state.rules = state.rules, fingerprint
    if not state.versions:
        return False
    mapping = _rebuild_versions(store, source, state)
    if mapping:
        state.rebases.append(
            Rebase(at=now, rules_from=previous, rules_to=fingerprint, hashes=mapping)
        )
    return bool(mapping)


def _rebuild_versions(store: SnapshotStore, source: Source, state: SourceState) -> dict[str, str]:
    mapping: dict[str, str] = {}
    rebuilt: list[Version] = []
    for version in state.versions:
        new_hash = _rebuild_one(store, source, version)
        if new_hash != version.hash:
            mapping[version.hash] = new_hash
            version.hash = new_hash
        if rebuilt and rebuilt[-1].hash == version.hash:
            continue
        rebuilt.append(version)
    state.versions = rebuilt
    return mapping


def _rebuild_one(store: SnapshotStore, source: Source, version: Version) -> str:
    if version.raw is None:
        return version.hash
    try:
        data = store.read_raw(source.id, version.raw)
        body = Body(data, version.content_type, version.charset, version.final_url)
        text = render(source.text, body).text
    except (SourceError, StoreError, RecursionError):  # a raw body missing or unreadable:
        return version.hash  # the version keeps its text; it never blocks the check
    new_hash = normalize.content_hash(text)
    store.write_version(source.id, new_hash, text)
    return new_hash
