"""The ``sources:`` and ``guides:`` lists: one entry -> one record."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import yaml

from watcher.config import settings
from watcher.config.model import Defaults, Guide, GuideSource, Source
from watcher.config.nodes import At, as_list, as_map, each, note, noted, read_fields
from watcher.config.sections import HostSettings
from watcher.config.values import (
    read_claims,
    read_duration,
    read_owner,
    read_slug,
    read_str,
    read_text,
    read_url,
)
from watcher.errors import ConfigError
from watcher.fetch.policy import FetchPolicy

_REQUIRED = ("id", "url", "title")
_SOURCE_FIELDS = {
    "id": read_slug,
    "url": read_url,
    "title": read_text,
    **{name: settings.BY_NAME[name].read for name in settings.PER_SOURCE},
}
_GUIDE_FIELDS = {
    "id": read_slug,
    "title": read_text,
    "url": read_url,
    "owner": read_owner,
    "review_every": read_duration,
}


def sources_list(at: At, defaults: Defaults, hosts: HostSettings) -> tuple[Source, ...]:
    """Every source; with problems noted (one pass), the ones that could be read."""
    items = as_list(at)
    if not items:
        raise at.error("at least one source is required")
    sources = tuple(each(items, lambda item: _source(item, defaults, hosts)))
    check_unique(items, [s.id for s in sources], [s.line for s in sources])
    return sources


def entry_ids(at: At | None) -> set[str]:
    """The ids written in a list of entries, readable or not (so a guide citing a
    source with a bad setting is not also told that the source is unknown)."""
    if at is None or not isinstance(at.node, yaml.SequenceNode):
        return set()
    ids = set()
    for node in at.node.value:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if getattr(key, "value", None) == "id" and isinstance(value, yaml.ScalarNode):
                    ids.add(str(value.value))
    return ids


def _source(at: At, defaults: Defaults, hosts: HostSettings) -> Source | None:
    """A source's settings: its own, else its host's (``hosts:``), else ``defaults:``."""
    before = noted()
    mapping = as_map(at, list(_SOURCE_FIELDS))
    values = read_fields(mapping, _SOURCE_FIELDS)
    if noted() > before:
        return None  # its problems are noted; a required key may be a misspelled one
    for name in _REQUIRED:
        mapping.require(name)
    return settings.make_source(**_resolved(values, defaults, hosts), line=at.line)


def page_policy(url: str, defaults: Defaults, hosts: HostSettings) -> FetchPolicy:
    """How a page that is not a source is fetched: ``defaults:`` and its host's settings."""
    return settings.make_source("page", url, "page", **_resolved({}, defaults, hosts, url)).fetch


def _resolved(
    values: dict[str, Any], defaults: Defaults, hosts: HostSettings, url: str | None = None
) -> dict[str, Any]:
    inherited = {name: getattr(defaults, name) for name in settings.INHERITED}
    host = dict(_host_settings(hosts, url or values["url"]))
    headers = _merge_headers(defaults.headers, host.pop("headers", {}))
    headers = _merge_headers(headers, values.pop("headers", {}))
    return {**inherited, **host, **values, "headers": headers}


def _host_settings(hosts: HostSettings, url: str) -> Mapping[str, Any]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return hosts.get(parts.netloc.lower()) or hosts.get(host) or {}


def _merge_headers(base: Mapping[str, str], override: Mapping[str, str]) -> Mapping[str, str]:
    """Header names are case-insensitive: an override replaces any spelling."""
    replaced = {name.lower() for name in override}
    kept = {name: value for name, value in base.items() if name.lower() not in replaced}
    return MappingProxyType({**kept, **override})


def check_unique(items: list[At], ids: Iterable[str], lines: Iterable[int]) -> None:
    """Note every id given twice, at the entry that repeats it."""
    by_line = {item.line: item for item in items}
    seen: dict[str, int] = {}
    for ident, line in zip(ids, lines, strict=True):
        if ident in seen:
            where = as_map(by_line[line], None).require("id")
            note(
                where.error(f"duplicate id {ident!r}", hint=f"first defined at line {seen[ident]}")
            )
            continue
        seen[ident] = line


def guides_list(
    at: At | None, sources: Mapping[str, Source], written: Collection[str] = ()
) -> tuple[Guide, ...]:
    """Every guide; ``written``: source ids given, readable or not."""
    if at is None or at.kind == "null":
        return ()
    items = as_list(at)
    known = set(written) | set(sources)
    guides = tuple(each(items, lambda item: _guide(item, sources, known)))
    check_unique(items, [g.id for g in guides], [g.line for g in guides])
    return guides


def _guide(at: At, sources: Mapping[str, Source], known: set[str]) -> Guide | None:
    before = noted()
    mapping = as_map(at, [*_GUIDE_FIELDS, "sources"])
    values = read_fields(mapping, _GUIDE_FIELDS)
    if noted() > before:
        return None
    for name in (*_REQUIRED, "owner"):
        mapping.require(name)
    cited = _guide_sources(mapping.require("sources"), sources, known)
    values.setdefault("review_every", settings.default("review_every"))
    if noted() > before:
        return None
    return Guide(**values, sources=cited, line=at.line)


def _guide_sources(
    at: At, sources: Mapping[str, Source], known: set[str]
) -> tuple[GuideSource, ...]:
    items = as_list(at)
    if not items:
        raise at.error("a guide must cite at least one source")
    cited: dict[str, GuideSource] = {}
    for item in items:
        try:
            where, ident, claims = _guide_source_id(item)
            _check_cited(where, ident, known, cited)
        except ConfigError as exc:
            note(exc)
            continue
        if ident in sources:
            cited[ident] = GuideSource(ident, line=item.line, claims=claims)
    return tuple(cited.values())


def _guide_source_id(at: At) -> tuple[At, str, tuple[str, ...]]:
    """A cited source is an id string or a mapping ``{source: ID, claims: [...]}``."""
    if isinstance(at.node, yaml.MappingNode):
        mapping = as_map(at, ("source", "claims"))
        where = mapping.require("source")
        claims_at = mapping.get("claims")
        claims = read_claims(claims_at) if claims_at is not None else ()
        return where, read_str(where), claims
    if at.kind != "str":
        raise at.expected("a source id or a mapping with 'source'")
    return at, read_str(at), ()


def _check_cited(
    at: At, ident: str, sources: Collection[str], cited: Mapping[str, GuideSource]
) -> None:
    if ident in cited:
        raise at.error(f"source {ident!r} is listed twice", f"first at line {cited[ident].line}")
    if ident not in sources:
        close = difflib.get_close_matches(ident, list(sources), n=3)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else None
        raise at.error(f"unknown source {ident!r}", hint or "define it under sources:")
