"""Turn an HTML page into the plain text that matters: the extract stage.

The only package that imports selectolax. The page is parsed once with
lexbor, invisible elements and page furniture are removed with CSS queries,
and the content is walked once, iteratively (any nesting depth is fine),
writing one block per line:

- ``# `` to ``###### `` before headings, ``- `` or ``1. `` before list items;
- a table row is one line, its cells joined by `` | `` (a row whose cells
  hold headings, lists, quotes, ``<pre>`` or tables is written block by
  block instead: that is layout, not data);
- ``<pre>`` keeps its lines, ``<br>`` breaks a line, ``<hr>`` is dropped;
- a link keeps its target, resolved against the page URL, so a changed link
  shows in a diff: ``Полис ОМС [https://mgfoms.ru/oms]``. ``javascript:``
  and same-page ``#fragment`` targets are dropped, ``mailto:``/``tel:`` are
  kept; a target equal to the link text is not repeated;
- images are dropped, except the ``alt`` text of a link that has no text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from watcher.errors import EmptyContentError, ExtractError, SelectorError
from watcher.text.html.content import drop_menus, main_roots
from watcher.text.html.links import Resolver, uniform_params
from watcher.text.html.widgets import drop_widgets
from watcher.text.html.writer import Writer

_INVISIBLE = ", ".join(
    (
        '[hidden], [aria-hidden="true" i], input[type="hidden" i], dialog:not([open])',
        '[style*="display:none" i], [style*="display: none" i]',
        '[style*="visibility:hidden" i], [style*="visibility: hidden" i]',
    )
)
# Text that is never the page's: consent managers (by their well-known names
# and by structure) and form messages that only show when a field is wrong.
# Matched by name only when small, so a page *about* cookies keeps its text.
_INERT = ", ".join(
    (
        "#onetrust-consent-sdk, #onetrust-banner-sdk, #CybotCookiebotDialog, #usercentrics-root",
        "#didomi-host, #cmplz-cookiebanner-container, #cookie-law-info-bar, #cookie-notice",
        ".cc-window, .cc-banner, .klaro, .qc-cmp2-container, #qc-cmp2-container",
        '[id*="cookie" i], [class*="cookie" i], [id*="consent" i], [class*="consent" i]',
        '[id*="gdpr" i], [class*="gdpr" i], [aria-label*="cookie" i]',
        "[data-valmsg-for], .invalid-feedback, .field-validation-valid, .field-validation-error",
        'form [class*="error" i], form [class*="invalid" i], form [class*="validat" i]',
        "form [role=alert], form [aria-live]",
    )
)
_META = "footer time, [role=contentinfo] time"
_META_BLOCKS = frozenset({"p", "div", "li", "span", "small", "section"})
META_MAX_TEXT = 300
"""Longer footer blocks are the site's own furniture, not one page's stamp."""
_NO_TEXT = "script, style, noscript, template, svg, math, object, embed"
INERT_MAX_TEXT = 1500
"""Larger elements matched by name are kept: content, not a banner or a message."""
# A header/footer inside an article or section belongs to it (ARIA): kept, and so
# is an aside inside the article or main content (a contact box, a note).
_SECTIONING = ("article", "aside", "main", "nav", "section")
_FURNITURE = ", ".join(
    [
        "nav, [role=navigation], [role=banner], [role=contentinfo]",
        "aside:not(article aside):not(main aside):not([role=main] aside)",
        *(
            tag + "".join(f":not({outer} {tag})" for outer in _SECTIONING)
            for tag in ("header", "footer")
        ),
    ]
)


def _resolver(parser: LexborHTMLParser, page_url: str) -> Resolver:
    """How this page's links are written: its base, its own site, its navigation state."""
    base = _attribute(parser, "base[href]", "href")
    base_url = _joined(page_url, base) if base else page_url
    site = [
        _joined(page_url, url)
        for url in (
            _attribute(parser, 'link[rel="canonical" i]', "href"),
            _attribute(parser, 'meta[property="og:url" i]', "content"),
        )
        if url
    ]
    queried = [a.attributes.get("href") or "" for a in parser.css('a[href*="?"]')]
    return Resolver(base_url, site_urls=site, dropped_params=uniform_params(queried))


def _joined(page_url: str, href: str) -> str:
    """``href`` resolved against the page; the page's own URL if that fails."""
    try:
        joined = urljoin(page_url, href)
    except ValueError:
        return page_url
    return joined if joined.startswith(("http://", "https://")) else page_url


def _attribute(parser: LexborHTMLParser, selector: str, name: str) -> str | None:
    node = parser.css_first(selector)
    value = node.attributes.get(name) if node is not None else None
    return value.strip() if value else None


def extract_text(
    html: str,
    *,
    base_url: str,
    select: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> str:
    """Return the page's text, one block per line, without a trailing newline.

    Without ``select``: the page's main content (:mod:`watcher.text.html.content`)
    without widgets (:mod:`watcher.text.html.widgets`) and section menus;
    when no main content stands out, the text of ``<body>`` minus page
    furniture (nav, asides outside the content, the
    page's own header and footer, ARIA banner/navigation/contentinfo). With
    ``select``: the text of every element any selector matches, in document
    order, each once (a match inside another is part of it); furniture is
    then kept. Elements matching ``exclude``, invisible (``hidden``,
    ``aria-hidden``, inline ``display:none``, closed dialogs) and inert
    elements (consent banners, form error messages) and non-text elements
    are always removed, before ``select``.

    Raises :class:`SelectorError` when a ``select`` selector matches nothing
    or a selector is invalid, and :class:`EmptyContentError` when no text is
    left.
    """
    _check_depth(html)
    parser = LexborHTMLParser(html)
    _remove(parser, exclude)
    if not select:
        drop_widgets(parser)
    resolver = _resolver(parser, base_url)
    meta: list[str] = []
    if not select:
        meta = _page_meta(parser, resolver)
        _decompose(parser.css(_FURNITURE))
    roots = _roots(parser, select)
    if not select:
        drop_menus(roots, resolver)
    writer = Writer(resolver)
    for root in roots:
        writer.walk(root)
    seen = set(writer.lines)
    text = "\n".join([*writer.lines, *(line for line in meta if line not in seen)])
    if not text.strip():
        raise EmptyContentError(
            "the page has no text after extraction",
            hint="the page may be built by JavaScript, or `select`/`exclude` removes everything",
        )
    return text


MAX_DEPTH = 10_000
"""Elements nested deeper than this are no page a person reads (browsers stop far sooner)."""
_MANY_TAGS = 10_000
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset(  # void elements, and those whose end tag may be left out
    (
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "td",
        "tr",
    )
)


def _check_depth(html: str) -> None:
    """Refuse a page nested so deep that parsing it would take quadratic time.

    An HTML parser checks its stack of open elements for every tag, so a
    hostile page of 100 000 nested elements costs minutes. Only a page
    with very many tags is scanned (one linear pass over its tags).
    """
    if html.count("<") < _MANY_TAGS:
        return
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, selfclosing = match.groups()
        if selfclosing or name.lower() in _VOID:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise ExtractError(
                f"the page nests its elements more than {MAX_DEPTH} deep",
                hint="no readable page does that; if this one is real, use `select`",
            )


@lru_cache(maxsize=4096)
def is_valid_selector(selector: str) -> bool:
    """True when lexbor accepts ``selector`` as a CSS selector (for config checks).

    Cached: a parser per call costs ~0.1 ms, and sources of one site share selectors.
    """
    try:
        LexborHTMLParser("<p></p>").css(selector)
    except (SelectolaxError, ValueError):
        return False
    return True


def _css(parser: LexborHTMLParser, selector: str) -> list[LexborNode]:
    """Nodes matching ``selector``; an invalid selector is a :class:`SelectorError`."""
    try:
        return parser.css(selector)
    except (SelectolaxError, ValueError) as error:
        raise SelectorError(
            f"invalid CSS selector {selector!r}: {error}",
            hint="fix `select`/`exclude` in sources.yaml",
        ) from None


def _remove(parser: LexborHTMLParser, exclude: tuple[str, ...]) -> None:
    """Remove non-text, inert and invisible elements and ``exclude`` matches."""
    for selector in exclude:
        _css(parser, selector)  # name the invalid one, if any
    _decompose(parser.css(_NO_TEXT))  # first: scripts and styles are no one's text, nor length
    _decompose(
        node
        for node in parser.css(_INERT)
        if len(node.text(deep=True, strip=True)) < INERT_MAX_TEXT
    )
    _decompose(parser.css(", ".join([_INVISIBLE, *exclude])))


def _decompose(nodes: Iterable[LexborNode]) -> None:
    """Remove ``nodes`` (in document order) last-first: a nested one goes before its
    container, so no handle ever dangles."""
    for node in reversed(list(nodes)):
        node.decompose()


def _page_meta(parser: LexborHTMLParser, resolver: Resolver) -> list[str]:
    """The page's own stamp and owner line when the site puts it in its footer.

    ``This content was last updated on <time>...</time> by <a>Department</a>``
    belongs to the page, not the site: a short footer block holding a
    ``<time>`` element is kept (the noise filter then drops its date), so a
    change of the office responsible for the page is seen.
    """
    blocks: dict[int, LexborNode] = {}
    for stamp in parser.css(_META):
        block = stamp.parent
        while block is not None and block.tag not in _META_BLOCKS:
            block = block.parent
        if block is not None and len(block.text(deep=True, strip=True)) < META_MAX_TEXT:
            blocks.setdefault(block.mem_id, block)
    writer = Writer(resolver)
    for block in blocks.values():
        writer.walk(block)
    return writer.lines


def _roots(parser: LexborHTMLParser, select: tuple[str, ...]) -> list[LexborNode]:
    """The elements to write: ``<body>``, or the outermost matches of ``select``."""
    if not select:
        main = main_roots(parser)
        if main:
            return main
        root = parser.body or parser.root
        return [root] if root is not None else []
    for selector in select:
        if not _css(parser, selector):
            raise SelectorError(
                f"select {selector!r} matched nothing",
                hint="the page layout may have changed; update `select` in sources.yaml",
            )
    matches = parser.css(", ".join(select))
    ids = {node.mem_id for node in matches}
    return [node for node in matches if not _has_ancestor_in(node, ids)]


def _has_ancestor_in(node: LexborNode, ids: set[int]) -> bool:
    """True when an ancestor of ``node`` is one of ``ids``."""
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
    return False
