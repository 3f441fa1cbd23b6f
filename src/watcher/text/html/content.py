"""The page's main content, when no ``select`` says where it is.

A page is its own text plus the site around it: menus, banners, sidebars,
"related" lists, footers. Only the first is what a guide cites, and the
second changes on its own schedule. :func:`main_roots` finds the first in
two steps, stopping at the first that answers:

1. **Declared.** ``[itemprop=articleBody]``, a single ``<article>`` holding
   most of the page's text, ``<main>`` or ``[role=main]``.
2. **Scored.** Every paragraph-like block (``p``, ``pre``, ``td``, ``li``,
   ``dd``, ``blockquote``, a ``div`` with text of its own) gives its
   container points for its length and commas, half as many to the next
   container up and a third to the one above (the scheme of Mozilla's
   Readability); class and id names such as ``content``/``article`` or
   ``sidebar``/``comment`` add or take points, and a container's score is
   cut by its share of link text. The best container is the content, with
   its siblings that score close to it or are plain paragraphs.

A root must hold a fair share of the page's text (:data:`MIN_SHARE`);
otherwise there is no clear main content and the caller keeps the whole
page minus its structural furniture. Then, inside the roots,
:func:`drop_menus` removes section menus: lists whose items are only links
to other pages of the same site (a list of documents, PDFs and the like,
stays).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser, LexborNode

from watcher.text.html.links import Resolver

MIN_SHARE = 0.15
"""A main-content root holds at least this share of the page's text."""
MAX_LINK_DENSITY = 0.5
"""A declared article that is mostly link text is a list of teasers, not the page's text."""
NARROW_SHARE = 0.5
"""The declared content is narrowed to the scored part only when that holds this share of it."""
MIN_TEXT = 25
"""Blocks with less text than this give their containers no points."""
MIN_LEFT = 200
MIN_LEFT_SHARE = 0.03
"""Menus are kept when dropping them would leave less text than this (an index page)."""
SIBLING_SHARE = 0.2
"""Siblings of the best container scoring this share of it are content too."""

_PARAGRAPHS = "p, pre, td, li, dd, blockquote"
_DECLARED = '[itemprop="articleBody" i], [itemprop="mainContentOfPage" i]'
_POSITIVE = re.compile(
    r"article|body|content|entry|main|page|post|text|blog|story|document|docum|law|zakon"
    r"|статья|контент",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"comment|discuss|disqus|repl(?:y|ies)|respond|forum|meta|footer|footnote|sidebar|sponsor|share|social|widget|nav|menu|promo|related"
    r"|recommend|advert|banner|breadcrumb|pagination|pager|popup|modal|cookie|consent|subscribe"
    r"|newsletter|masthead|header|combx|skyscraper|tags?\b|rating|login|search",
    re.IGNORECASE,
)
_TAG_WEIGHTS = {
    "div": 5,
    "article": 10,
    "section": 3,
    "main": 10,
    "pre": 3,
    "td": 3,
    "blockquote": 3,
    "form": -3,
    "ol": -3,
    "ul": -3,
    "dl": -3,
    "dd": -3,
    "li": -3,
    "address": -3,
    "th": -5,
    "h1": -5,
    "h2": -5,
    "h3": -5,
}
_FILE_LINK = re.compile(
    r"\.(?:pdf|docx?|xlsx?|rtf|odt|ods|pptx?|zip|rar|7z|txt|csv|xml|jpe?g|png)(?:$|[?#])",
    re.IGNORECASE,
)


def main_roots(parser: LexborHTMLParser) -> list[LexborNode]:
    """The roots of the main content in document order, or ``[]`` if there is none clear."""
    body = parser.body
    if body is None:
        return []
    total = _length(body)
    if total == 0:
        return []
    _drop_comments(parser, total)
    declared = _declared(parser, total)
    scored = _scored(parser)
    if not declared:
        return scored
    inside = scored and all(any(_inside(root, d) for d in declared) for root in scored)
    narrow = declared[0].tag != "article" and inside
    size = sum(_length(d) for d in declared)
    if narrow and sum(_length(root) for root in scored) >= NARROW_SHARE * size:
        return scored  # the page's main area, narrowed to its text (an article is kept whole)
    return declared


def _drop_comments(parser: LexborHTMLParser, total: int) -> None:
    """Readers' comments under the text are not the page's: removed before choosing."""
    for node in reversed(parser.css(_COMMENTS)):
        names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _COMMENT_NAMES.search(names) and _length(node) < 0.5 * total:
            node.decompose()


_COMMENTS = '[id*="comment" i], [class*="comment" i], [id*="disqus" i], [class*="respon" i]'
_COMMENT_NAMES = re.compile(r"\bcomments?\b|commentlist|disqus|\bresponses\b", re.IGNORECASE)


def _inside(node: LexborNode, container: LexborNode) -> bool:
    """True when ``node`` is ``container`` or one of its descendants."""
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id == container.mem_id:
            return True
        current = current.parent
    return False


def _declared(parser: LexborHTMLParser, total: int) -> list[LexborNode]:
    """The content the page marks up as such, when it holds a fair share of the text.

    A page may mark several parts as its body (a summary and the full text,
    or the text split around a figure): every one with text is kept, in
    document order.
    """
    bodies = _outermost_of(parser.css(_DECLARED))
    bodies = [node for node in bodies if _length(node) >= MIN_TEXT]
    if sum(_length(node) for node in bodies) >= MIN_SHARE * total:
        return bodies
    articles = [(node, _length(node)) for node in parser.css("article")]
    articles = [(node, size) for node, size in articles if size >= MIN_SHARE * total]
    if len(articles) == 1 and _link_density(articles[0][0]) < MAX_LINK_DENSITY:
        return [articles[0][0]]  # (a list of teasers marked up as an article is not the text)
    for node in parser.css("main, [role=main]"):
        if _length(node) >= MIN_SHARE * total:
            return [node]
    return []


def _outermost_of(nodes: list[LexborNode]) -> list[LexborNode]:
    """``nodes`` (in document order) without those inside another of them."""
    kept: list[LexborNode] = []
    for node in nodes:
        if not any(_inside(node, outer) for outer in kept):
            kept.append(node)
    return kept


def _scored(parser: LexborHTMLParser) -> list[LexborNode]:
    """Readability's scheme: paragraphs vote for their containers."""
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    total = 0
    for paragraph in _paragraphs(parser):
        text = paragraph.text(deep=True)
        size = len(text.strip())
        if size < MIN_TEXT:
            continue
        total += size
        points = 1 + text.count(",") + min(size // 100, 3)
        container = paragraph.parent
        for divider in (1, 2, 3):
            if container is None or container.tag in ("body", "html"):
                break
            key = container.mem_id
            if key not in scores:
                scores[key] = _base_score(container)
                nodes[key] = container
            scores[key] += points / divider
            container = container.parent
    if not scores:
        return []
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:5]
    final = {key: scores[key] * (1 - _link_density(nodes[key])) for key in ranked}
    best_key = max(final, key=final.__getitem__)
    best = _block_container(nodes[best_key])
    if best.tag in ("body", "html"):
        return [best]
    roots = _with_siblings(best, final[best_key], scores, nodes)
    if sum(_length(root) for root in roots) < MIN_SHARE * total:
        return []
    return roots


def _block_container(node: LexborNode) -> LexborNode:
    """The nearest block that can hold content whole: never a table row or a list alone."""
    current = node
    while current.tag not in _CONTAINERS and current.parent is not None:
        current = current.parent
        if current.tag in ("body", "html"):
            break  # the content is the page itself
    return current


_CONTAINERS = frozenset({"div", "section", "article", "main", "td", "form", "center", "body"})


def _paragraphs(parser: LexborHTMLParser) -> Iterable[LexborNode]:
    yield from parser.css(_PARAGRAPHS)
    for div in parser.css("div"):
        own = div.text(deep=False)
        if len(own.strip()) >= 80:
            yield div


def _base_score(node: LexborNode) -> float:
    score = float(_TAG_WEIGHTS.get(node.tag or "", 0))
    names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    if names.strip():
        if _NEGATIVE.search(names):
            score -= 25
        if _POSITIVE.search(names):
            score += 25
    return score


def _with_siblings(
    best: LexborNode, score: float, scores: dict[int, float], nodes: dict[int, LexborNode]
) -> list[LexborNode]:
    """The best container and the siblings that read as part of it, in document order."""
    parent = best.parent
    if parent is None:
        return [best]
    threshold = max(10.0, score * SIBLING_SHARE)
    roots = []
    child = parent.child
    while child is not None:
        if child.mem_id == best.mem_id:
            roots.append(child)
        elif child.tag and child.tag != "-text":
            sibling = scores.get(child.mem_id, 0.0) * (1 - _link_density(child))
            if sibling >= threshold or _plain_paragraph(child):
                roots.append(child)
        child = child.next
    return roots


def _plain_paragraph(node: LexborNode) -> bool:
    if node.tag != "p":
        return False
    size = _length(node)
    return size > 80 and _link_density(node) < 0.25


def _length(node: LexborNode) -> int:
    return len(node.text(deep=True, separator=" ", strip=True))


def _link_density(node: LexborNode) -> float:
    size = _length(node)
    if size == 0:
        return 1.0
    linked = sum(_length(link) for link in node.css("a"))
    return min(1.0, linked / size)


def drop_menus(roots: Iterable[LexborNode], resolver: Resolver) -> None:
    """Remove section menus inside the content: lists of links to the site's own pages.

    A list whose items are each one short link (:data:`MENU_WORDS`) to another
    page of the site, or a block that is mostly such links ("related", tag
    lists), is the site's navigation; a list of documents (files, or pages
    named at length, like "Application for Senior Citizen Real Estate Tax
    Freeze") or of other sites' pages is content.
    """
    own: dict[int, int] = {}  # link -> length of its text, when it names an own page briefly
    for root in roots:
        for link in root.css("a"):
            if resolver.own_page(link.attributes.get("href") or ""):
                text = link.text(deep=True, separator=" ", strip=True)
                if len(text.split()) <= MENU_WORDS:
                    own[link.mem_id] = len(text)
        menus = [listing for listing in root.css("ul, ol") if _is_menu(listing, own)]
        menus += [
            block
            for block in root.css(_LINK_BLOCKS)
            if block.mem_id != root.mem_id and _is_link_block(block, own)
        ]
        left = _length(root) - sum(_length(menu) for menu in _outermost(menus))
        if left < max(MIN_LEFT, MIN_LEFT_SHARE * _length(root)):
            continue  # the page is a list of links (an index): that is its content
        for menu in reversed(menus):
            menu.decompose()


_LINK_BLOCKS = "div, section, aside, footer, header, table, p"
MENU_WORDS = 5
"""A menu names pages briefly; a longer link text names a document or a form."""
LINK_BLOCK_DENSITY = 0.6
"""A block whose text is at least this share of link text to the site's own pages is a menu."""


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """The nodes not inside another of them (their text is counted once)."""
    ids = {node.mem_id for node in nodes}
    outer = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in ids:
            parent = parent.parent
        if parent is None:
            outer.append(node)
    return outer


def _is_link_block(block: LexborNode, own: dict[int, int]) -> bool:
    links = block.css("a")
    if len(links) < 3:
        return False
    linked = sum(own.get(link.mem_id, 0) for link in links)
    size = _length(block) if linked else 0
    return size > 0 and linked >= LINK_BLOCK_DENSITY * size


def _is_menu(listing: LexborNode, own: dict[int, int]) -> bool:
    items = [child for child in listing.iter() if child.tag == "li"]
    if len(items) < 3:
        return False
    pages = 0
    for item in items:
        links = item.css("a")
        if len(links) != 1 or _length(links[0]) < _length(item) - 2:
            return False  # an item with text of its own, or several links: content
        pages += links[0].mem_id in own
    return pages >= 0.8 * len(items)
