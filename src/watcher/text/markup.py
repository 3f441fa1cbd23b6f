"""Linear scans over HTML markup, for the quality gate and the decoder.

The gate and charset detection only need a page's text without its tags,
scripts and comments, and the text of a few elements (``<title>``,
``<h1>``). Regular expressions such as ``<[^>]*>`` or ``<script.*?</script>``
do that in one line, but each attempt that fails scans to the end of the
input: ``<`` or ``<script`` repeated makes them quadratic (seconds on
64 KB). These scans find each delimiter once, from left to right, and
remember a delimiter that is not there any more, so every byte is looked at
a bounded number of times whatever the input. They work on ``str`` and on
``bytes`` alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, AnyStr, Final

HIDDEN_ELEMENTS: Final = ("script", "style", "template", "svg")
"""Elements whose content is never visible text."""

_OPEN: dict[type, re.Pattern[Any]] = {
    str: re.compile(r"<(script|style|template|svg)\b", re.IGNORECASE),
    bytes: re.compile(rb"<(script|style|template|svg)\b", re.IGNORECASE),
}
_CLOSE: dict[type, dict[str, re.Pattern[Any]]] = {
    str: {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in HIDDEN_ELEMENTS},
    bytes: {name: re.compile(rf"</{name}\s*>".encode(), re.IGNORECASE) for name in HIDDEN_ELEMENTS},
}


def _literal(kind: type[AnyStr], text: str) -> AnyStr:
    return text if kind is str else text.encode()  # type: ignore[return-value]


def strip_markup(text: AnyStr, *, hidden: bool = True) -> AnyStr:
    """``text`` with every tag and comment replaced by a space.

    With ``hidden``, the content of ``script``, ``style``, ``template`` and
    ``svg`` elements goes too. A tag without its closing ``>`` (or a hidden
    element without its end tag) is left as text, as a regular expression
    would leave it.
    """
    kind = type(text)
    lt, gt, space = _literal(kind, "<"), _literal(kind, ">"), _literal(kind, " ")
    comment_open, comment_close = _literal(kind, "<!--"), _literal(kind, "-->")
    opener = _OPEN[kind]
    closers = _CLOSE[kind]
    unclosed: set[str] = set()  # end tags known to be absent from here on
    pieces: list[AnyStr] = []
    position = 0
    while (start := text.find(lt, position)) >= 0:
        pieces.append(text[position:start])
        end = -1
        if text.startswith(comment_open, start) and "comment" not in unclosed:
            end = text.find(comment_close, start + 4)
            end = end + 3 if end >= 0 else _absent(unclosed, "comment")
        elif hidden and (match := opener.match(text, start)) is not None:
            end = _hidden_end(text, match, closers, unclosed)
        if end < 0:
            close = text.find(gt, start + 1)
            if close < 0:  # no tag closes after here: the rest is text
                position = start
                break
            end = close + 1
        pieces.append(space)
        position = end
    pieces.append(text[position:])
    return text[:0].join(pieces)


def _hidden_end(
    text: AnyStr,
    match: re.Match[AnyStr],
    closers: dict[str, re.Pattern[AnyStr]],
    unclosed: set[str],
) -> int:
    """Where a hidden element's end tag ends; -1 if it has none."""
    raw = match.group(1)
    name = (raw.decode("ascii") if isinstance(raw, bytes) else raw).lower()
    if name in unclosed:
        return -1
    close = closers[name].search(text, match.end())
    return close.end() if close is not None else _absent(unclosed, name)


def _absent(unclosed: set[str], name: str) -> int:
    unclosed.add(name)
    return -1


def element_texts(text: str, name: str, *, limit: int = 16) -> Iterator[str]:
    """The inner markup of the first ``limit`` ``<name>`` elements of ``text``."""
    opener = re.compile(rf"<{name}\b", re.IGNORECASE)
    closer = re.compile(rf"</{name}\s*>", re.IGNORECASE)
    position = 0
    for _ in range(limit):
        match = opener.search(text, position)
        if match is None:
            return
        start = text.find(">", match.end())
        if start < 0:
            return
        close = closer.search(text, start + 1)
        if close is None:
            return
        yield text[start + 1 : close.start()]
        position = close.end()
