"""Site templates: the lines many pages of one host share (menus, headers, footers, banners).

watcher checks many pages of the same site. A line that occurs identically
on several of them is the site's, not a page's: a menu item, a breadcrumb,
a banner, a footer link. It is learnt from the stored versions of the
host's sources (the last :data:`HISTORY` versions of each, so a template
line that just left the pages is still known), and kept out of the text
that flags guides: a change made only of such lines is recorded and
shown once per host in the digest ("the site's template changed on HOST"),
never a guide flag.

A line is the template of a source when at least :data:`SHARED_BY` other
sources of its host hold it (one other, on a host of two sources); with a
single source on a host there is no template and nothing changes. Only
short lines can be template (a menu item, a heading, a banner, a link:
:data:`MAX_TEXT` characters of visible text): a paragraph two pages share
is content, and so is its change. A line holding a fact (a phone number,
a date, an amount, a time limit, a law reference) is never template: a
hotline number changed on every page of a fund's site is a change for the
guides that cite it. Claims are checked on
the whole text, template or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from watcher.changes.facts import NAMED_KINDS, find_facts
from watcher.config.model import Config, Source
from watcher.errors import StoreError
from watcher.state import SourceState

SHARED_BY = 2
"""Other sources of the host that must hold a line for it to be the site's."""
HISTORY = 5
"""Versions of each source looked at (the current one and those before it)."""
MAX_TEXT = 120
"""Longer lines (link targets aside) are paragraphs, never the site's template."""


class VersionReader(Protocol):
    def read_version(self, source_id: str, content_hash: str) -> str: ...


class SiteTemplates:
    """The template lines of every source, learnt per host on first use."""

    def __init__(
        self, config: Config, states: Mapping[str, SourceState], versions: VersionReader
    ) -> None:
        self._config = config
        self._states = states
        self._versions = versions
        self._peers: dict[str, list[str]] | None = None
        self._holders: dict[str, dict[str, set[str]]] = {}
        self._shared: dict[tuple[str, int], list[str]] = {}
        self._lines: dict[str, frozenset[str]] = {}

    def lines_for(self, source: Source) -> frozenset[str]:
        """The lines of ``source``'s host that are the site's template, not the page's."""
        if source.id not in self._lines:
            self._lines[source.id] = self._learn(source)
        return self._lines[source.id]

    def _learn(self, source: Source) -> frozenset[str]:
        peers = self._host_sources(source.host)
        if len(peers) < 2:
            return frozenset()
        holders = self._host(source.host, peers)
        need = min(SHARED_BY, len(peers) - 1)
        return frozenset(
            line
            for line in self._candidates(source.host, need)
            if len(holders[line]) - (source.id in holders[line]) >= need
        )

    def _host_sources(self, host: str) -> list[str]:
        """The ids of ``host``'s configured sources (the index is built once, not per page)."""
        if self._peers is None:
            self._peers = {}
            for other in self._config.sources:
                self._peers.setdefault(other.host, []).append(other.id)
        return self._peers.get(host, [])

    def _candidates(self, host: str, need: int) -> list[str]:
        """The host's furniture lines held by at least ``need`` sources (found once per host).

        Only these can be another page's template: the per-page test then
        looks at a few shared lines, not at every line of the site.
        """
        key = (host, need)
        if key not in self._shared:
            self._shared[key] = [
                line
                for line, sources in self._holders[host].items()
                if len(sources) >= need and _furniture(line)
            ]
        return self._shared[key]

    def _host(self, host: str, peers: list[str]) -> dict[str, set[str]]:
        """Line -> the sources of ``host`` holding it in one of their recent versions."""
        if host not in self._holders:
            holders: dict[str, set[str]] = {}
            for source_id in peers:
                for line in self._recent_lines(source_id):
                    holders.setdefault(line, set()).add(source_id)
            self._holders[host] = holders
        return self._holders[host]

    def _recent_lines(self, source_id: str) -> set[str]:
        state = self._states.get(source_id)
        if state is None:
            return set()
        lines: set[str] = set()
        for content_hash in dict.fromkeys(v.hash for v in reversed(state.versions[-HISTORY:])):
            try:
                lines.update(self._versions.read_version(source_id, content_hash).split("\n"))
            except StoreError:
                continue  # a missing version file: the others still teach the template
        return lines


def _furniture(line: str) -> bool:
    """Short, and without a fact an editor could quote."""
    visible = _TARGET.sub("", line)
    if len(visible) > MAX_TEXT:
        return False
    return not any(fact.kind in NAMED_KINDS for fact in find_facts(visible))


_TARGET = re.compile(r" ?\[(?:https?:|mailto:|tel:|/)[^\]]*\]")
