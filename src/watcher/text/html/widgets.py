"""Page widgets: small blocks that change on their own schedule, never the page's text.

Share buttons and their counts, weather and quote tickers, advertising
slots, and "related" / "most read" / "popular" lists are recognised by the
words of their ``class`` or ``id`` (``share-bar``, ``weather``,
``news_ticker``, ``ad-slot``, ``related-posts``, ``most-read``), and a
list of links by its heading ("Most read", "Самое читаемое", "Читайте
также", "Les plus lus", "Meistgelesen"): the names sites give them
everywhere, not any one site's. They are removed before the main content
is chosen, so a widget placed inside the text does not show as a change
of it.

Each kind has its own guard, so a block of content that happens to carry
such a name stays:

- a widget is short (:data:`WIDGET_MAX_TEXT`) and holds no contact link
  (``tel:``, ``mailto:``);
- a "related" list is mostly link text (:data:`LIST_LINK_DENSITY`), its
  links name pages, not documents (a list of related forms and PDFs is
  content, and so is a list of laws, decrees and orders, whatever their
  addresses look like: at least half of its links name an act), and it is
  no larger than :data:`LIST_MAX_TEXT`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["drop_widgets"]

WIDGET_MAX_TEXT = 400
"""A share bar, a weather box or an ad slot is short; a longer block is content."""
LIST_MAX_TEXT = 2000
"""A "related" list longer than this is the page's own list."""
LIST_LINK_DENSITY = 0.6
"""A "related" list is at least this share of link text."""

_SPLIT = re.compile(r"[^a-z0-9]+")
# Words of class and id names (split at -, _ and case), compared whole.
_WIDGET_WORDS = frozenset(
    {
        "share",
        "shares",
        "sharing",
        "sharebar",
        "sharethis",
        "addthis",
        "sharer",
        "weather",
        "ticker",
        "marquee",
        "ad",
        "ads",
        "adv",
        "advert",
        "adverts",
        "advertisement",
        "advertising",
        "adsense",
        "adslot",
        "adunit",
        "adblock",
        "sponsored",
    }
)
_LIST_WORDS = frozenset(
    {"related", "recommended", "recommendations", "popular", "trending", "mostread"}
)
_LIST_PAIRS = frozenset({("most", "read"), ("most", "viewed"), ("most", "popular")})
_FILE_LINK = re.compile(
    r"\.(?:pdf|docx?|xlsx?|rtf|odt|ods|pptx?|zip|rar|7z|txt|csv|xml)(?:$|[?#])", re.IGNORECASE
)
# Link text naming a legal or regulatory act ("Федеральный закон № 326-ФЗ", "Приказ
# Минздрава № 108н", "Decree No. 1940"): such a list is the page's references.
_ACT = re.compile(
    r"(?:закон|кодекс|постановлени|приказ|распоряжени|указ\b|регламент|положени[ея]\b"
    r"|\d+-ФЗ\b|№\s*\d|\b(?:law|act|decree|order|regulation|directive|statute|ordinance)\b"
    r"|\bno\.\s*\d|\bloi\b|décret|arrêté|\bley\b|decreto|gesetz|verordnung)",
    re.IGNORECASE,
)
# Elements whose names hold a widget word somewhere (lexbor narrows, words decide).
_NAME_PARTS = (
    *("share", "sharing", "addthis", "weather", "ticker", "marquee", "ad", "sponsor"),
    *("related", "recommend", "popular", "trending", "most"),
)
_NAMED = ", ".join(f'[class*="{part}" i], [id*="{part}" i]' for part in _NAME_PARTS)
# The page itself, and table parts: a "ticker" column of a table of shares is data.
_NEVER = frozenset(
    {"html", "body", "main", "article", "table", "thead", "tbody", "tfoot", "tr", "td", "th"}
)


# Headings of lists of other articles, in the languages of the stamps (lower case).
_LIST_HEADING = re.compile(
    r"^(?:most\s+(?:read|popular|viewed|shared)|popular(?:\s+(?:now|stories|articles))?|trending"
    r"|related(?:\s+(?:stories|articles|news|posts|content))?|read\s+(?:also|more|next)"
    r"|more\s+(?:stories|news|from\s+\w+)|you\s+may\s+also\s+like|recommended(?:\s+for\s+you)?"
    r"|самое\s+(?:читаемое|популярное|обсуждаемое)|популярное|читайте\s+также|по\s+теме"
    r"|другие\s+новости|похожие\s+(?:новости|статьи|материалы)|рекомендуем"
    r"|les\s+plus\s+(?:lus|partagés|commentés)|à\s+lire\s+aussi|sur\s+le\s+même\s+sujet"
    r"|meistgelesen|mehr\s+zum\s+thema|das\s+könnte\s+sie\s+auch\s+interessieren"
    r"|lo\s+más\s+(?:leído|visto)|te\s+puede\s+interesar|mais\s+lidas|leia\s+também)\W*$",
    re.IGNORECASE,
)
_HEADINGS = "h2, h3, h4, h5, h6"


def drop_widgets(parser: LexborHTMLParser) -> None:
    """Remove share bars, weather and quote tickers, ad slots and "related" lists."""
    _decompose([node for node in _named(parser) if _is_widget(node)])
    _decompose(_headed_lists(parser))


def _decompose(nodes: list[LexborNode]) -> None:
    """Remove ``nodes`` (in document order) last-first: nested ones go before their container."""
    for node in reversed(nodes):
        node.decompose()


def _headed_lists(parser: LexborHTMLParser) -> list[LexborNode]:
    """Blocks made of a "most read" (or "related") heading and a list of links to pages."""
    found = []
    for heading in parser.css(_HEADINGS):
        if not _LIST_HEADING.match(heading.text(deep=True, separator=" ", strip=True)):
            continue
        block = heading.parent
        if block is not None and block.tag not in _NEVER and _is_page_list(block):
            found.append(block)
    return found


def _named(parser: LexborHTMLParser) -> Iterator[LexborNode]:
    for node in parser.css(_NAMED):
        if node.tag not in _NEVER:
            yield node


def _words(node: LexborNode) -> list[str]:
    names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    names = re.sub(r"([a-z])([A-Z])", r"\1 \2", names)  # camelCase -> camel case
    return [word for word in _SPLIT.split(names.lower()) if word]


def _is_widget(node: LexborNode) -> bool:
    words = _words(node)
    if not words:
        return False
    if _WIDGET_WORDS.intersection(words):
        return _text_size(node) <= WIDGET_MAX_TEXT and not _contact_links(node)
    if _LIST_WORDS.intersection(words) or _LIST_PAIRS.intersection(pairwise(words)):
        return _is_page_list(node)
    return False


def _is_page_list(node: LexborNode) -> bool:
    size = _text_size(node)
    if size == 0 or size > LIST_MAX_TEXT:
        return False
    links = node.css("a[href]")
    if _names_documents(links):
        return False
    linked = sum(_text_size(link) for link in links)
    return linked >= LIST_LINK_DENSITY * size and not _contact_links(node)


def _names_documents(links: list[LexborNode]) -> bool:
    """A link to a file, or most links naming an act: a list of the page's references."""
    if any(_FILE_LINK.search(link.attributes.get("href") or "") for link in links):
        return True
    acts = sum(bool(_ACT.search(link.text(deep=True, separator=" "))) for link in links)
    return bool(links) and 2 * acts >= len(links)


def _contact_links(node: LexborNode) -> bool:
    return bool(node.css('a[href^="tel:" i], a[href^="mailto:" i]'))


def _text_size(node: LexborNode) -> int:
    return len(node.text(deep=True, separator=" ", strip=True))
