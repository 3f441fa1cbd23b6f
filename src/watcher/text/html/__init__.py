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

from functools import lru_cache
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from watcher.errors import EmptyContentError, SelectorError
from watcher.text.html.links import Resolver, uniform_params
from watcher.text.html.writer import Writer

_INVISIBLE = '[hidden], [aria-hidden="true" i], input[type="hidden" i]'
# A header/footer inside an article or section belongs to it (ARIA): kept.
_SECTIONING = ("article", "aside", "main", "nav", "section")
_FURNITURE = ", ".join(
    [
        "nav, aside, [role=navigation], [role=banner], [role=contentinfo]",
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

    Without ``select``: the text of ``<body>`` minus page furniture (nav,
    aside, the page's own header and footer, ARIA banner/navigation/
    contentinfo). With ``select``: the text of every element any selector
    matches, in document order, each once (a match inside another is part
    of it); furniture is then kept. Elements matching ``exclude`` and
    invisible or non-text elements are always removed, before ``select``.

    Raises :class:`SelectorError` when a ``select`` selector matches nothing
    or a selector is invalid, and :class:`EmptyContentError` when no text is
    left.
    """
    parser = LexborHTMLParser(html)
    _remove(parser, select, exclude)
    writer = Writer(_resolver(parser, base_url))
    for root in _roots(parser, select):
        writer.walk(root)
    text = "\n".join(writer.lines)
    if not text.strip():
        raise EmptyContentError(
            "the page has no text after extraction",
            hint="the page may be built by JavaScript, or `select`/`exclude` removes everything",
        )
    return text


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


def _remove(parser: LexborHTMLParser, select: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Remove invisible elements, ``exclude`` matches and (without ``select``) furniture."""
    for selector in exclude:
        _css(parser, selector)  # name the invalid one, if any
    selectors = [_INVISIBLE, *exclude] if select else [_INVISIBLE, _FURNITURE, *exclude]
    # Matches come in document order: removing them last-first removes a
    # nested match before its container, so no handle ever dangles.
    for node in reversed(parser.css(", ".join(selectors))):
        node.decompose()


def _roots(parser: LexborHTMLParser, select: tuple[str, ...]) -> list[LexborNode]:
    """The elements to write: ``<body>``, or the outermost matches of ``select``."""
    if not select:
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
