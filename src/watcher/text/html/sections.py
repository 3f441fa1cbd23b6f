"""The links of one section of a page: what a guide lists under its "Sources" heading.

Links to other sites only (the official sources a guide cites); targets are
canonical as in the snapshot text (:mod:`watcher.text.html.links`).

The section starts at the first heading (``h1`` to ``h6``) whose text
matches a pattern and runs to the next heading of the same or a higher
level, like a reader sees it. Only ``http(s)`` links count, resolved
against the page URL (or its ``<base href>``), each once, in page order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from watcher.text.html.links import Resolver
from watcher.text.html.writer import collapse

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
    resolver = Resolver(_base(parser, base_url))
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


def _base(parser: LexborHTMLParser, page_url: str) -> str:
    """The page URL, or its ``<base href>`` resolved against it."""
    node = parser.css_first("base[href]")
    href = (node.attributes.get("href") or "").strip() if node is not None else ""
    try:
        joined = urljoin(page_url, href) if href else page_url
    except ValueError:
        return page_url
    return joined if joined.startswith(("http://", "https://")) else page_url
