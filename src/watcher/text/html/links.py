"""The links of one section of a page: what a guide lists under its "Sources" heading.

The section starts at the first heading (``h1`` to ``h6``) whose text
matches a pattern and runs to the next heading of the same or a higher
level, like a reader sees it. Only ``http(s)`` links count, resolved
against the page URL (or its ``<base href>``), each once, in page order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from watcher.text.html import _base_url
from watcher.text.html.writer import Resolver, collapse

_HEADINGS = frozenset(f"h{level}" for level in range(1, 7))


@dataclass(frozen=True)
class Link:
    """One link of a section: its text and absolute target."""

    text: str
    url: str


def section_links(html: str, *, base_url: str, heading: re.Pattern[str]) -> tuple[Link, ...] | None:
    """The links under the first heading matching ``heading``; None when no heading does."""
    parser = LexborHTMLParser(html)
    root = parser.body or parser.root
    if root is None:
        return None
    resolver = Resolver(_base_url(parser, base_url))
    level: int | None = None
    links: dict[str, Link] = {}
    for node in root.traverse():
        if node.tag in _HEADINGS:
            if level is None and heading.search(collapse(node.text())):
                level = int(node.tag[1])
            elif level is not None and int(node.tag[1]) <= level:
                break
        elif level is not None and node.tag == "a":
            url = resolver.resolve(node.attributes.get("href") or "")
            if url and url.startswith(("http://", "https://")) and url not in links:
                links[url] = Link(collapse(node.text()), url)
    return tuple(links.values()) if level is not None else None
