"""Walk a parsed page once and write one block per line (see :mod:`watcher.text.html`)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from watcher.text.html.links import Resolver

# Elements whose content is never text a reader sees.
SKIPPED = (
    "script", "style", "noscript", "svg", "math", "template", "iframe", "object", "embed", "head",
    "title", "meta", "link", "base", "input", "select", "textarea", "video", "audio", "canvas",
    "map", "-comment",
)  # fmt: skip
_BLOCKS = (
    "address", "article", "aside", "body", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup",
    "hr", "html", "legend", "main", "menu", "nav", "option", "optgroup", "p", "section", "summary",
    "tbody", "thead", "tfoot", "frameset", "noframes",
)  # fmt: skip
# Blocks that make a table row layout rather than data.
_ROW_BREAKERS = ("table", "blockquote", "dl")
_HEADINGS = {f"h{level}": "#" * level + " " for level in range(1, 7)}

_Action = Callable[[LexborNode], None]
_Handler = tuple[_Action, _Action]


def _nothing(node: LexborNode) -> None:
    """Do nothing (the actions of the sentinel handlers below)."""


_BLOCK: _Handler = (_nothing, _nothing)  # a plain block: a line of its own
_SKIP: _Handler = (_nothing, _nothing)  # not walked at all


def collapse(text: str) -> str:
    """Whitespace runs to one space, stripped."""
    return " ".join(text.split())


class _Link:
    """An open ``<a>``: its target and where its text starts."""

    __slots__ = ("alt", "flushes", "href", "start", "target")

    def __init__(self, target: str | None, href: str, flushes: int, start: int) -> None:
        self.target = target
        self.href = href
        self.flushes = flushes
        self.start = start
        self.alt = ""


def _spells(text: str, target: str, href: str) -> bool:
    """True when the link text is its own address (``https://x.ru/``, ``info@x.ru``)."""
    if not text:
        return False
    bare = text.rstrip("/")
    if bare in (target.rstrip("/"), target.partition(":")[2], href.rstrip("/")):
        return True
    return "://" in text and (urlsplit(text).path.rstrip("/") or "/") == (target.rstrip("/") or "/")


class _Row:
    """An open table row: the lines written so far and which cell wrote which."""

    __slots__ = ("cell_start", "cells", "layout", "outer_lines")

    def __init__(self, outer_lines: list[str]) -> None:
        self.outer_lines = outer_lines
        self.cells: list[tuple[int, int]] = []
        self.cell_start: int | None = None
        self.layout = False

    def line(self, lines: list[str]) -> str | None:
        """The row as one line, or ``None`` when it must stay block by block."""
        cells = self.cells
        if self.layout or not cells:
            return None
        if len(cells) == len(lines) and all(end - start == 1 for start, end in cells):
            return " | ".join(lines)  # the usual case: one line per cell
        if sum(end - start for start, end in cells) != len(lines):
            return None  # text outside the cells (malformed markup): keep it all
        return collapse(" | ".join(" ".join(lines[start:end]) for start, end in cells))


class Writer:
    """Accumulates the lines of text while walking the tree."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""
        self.flushes = 0
        self.pre = 0
        self.links: list[_Link] = []
        self.rows: list[_Row] = []
        self.handlers = self._handlers()

    def _handlers(self) -> dict[str | None, _Handler]:
        """What to do on entering and leaving each element that is not inline."""
        table: dict[str | None, _Handler] = dict.fromkeys(_BLOCKS, _BLOCK)
        table.update(dict.fromkeys(SKIPPED, _SKIP))
        table.update(dict.fromkeys(_HEADINGS, (self.open_heading, self.close_marked)))
        table.update(dict.fromkeys(_ROW_BREAKERS, (self.open_row_breaker, self.end_line)))
        table.update(dict.fromkeys(("ul", "ol"), (self.open_list, self.close_list)))
        table.update(dict.fromkeys(("td", "th"), (self.open_cell, self.close_cell)))
        table.update(
            li=(self.open_item, self.close_marked),
            tr=(self.open_row, self.close_row),
            pre=(self.open_pre, self.close_pre),
            br=(self.on_br, _nothing),
            a=(self.open_link, self.close_link),
            img=(self.on_img, _nothing),
        )
        return table

    def walk(self, root: LexborNode) -> None:
        """Write the text of ``root`` and everything under it, then end the line."""
        handler = self.handlers.get(root.tag, _BLOCK)
        if handler is _SKIP:
            handler = _BLOCK  # selected on purpose (say, <title>): written as a block
        self.end_line(root)
        handler[0](root)
        self._walk_children(root)
        handler[1](root)
        self.end_line(root)

    def _walk_children(self, root: LexborNode) -> None:
        """Walk under ``root`` depth-first with an explicit stack (the hot loop)."""
        buf, handlers, flush = self.buf, self.handlers, self.flush
        block, skip = _BLOCK, _SKIP
        stack: list[tuple[LexborNode, _Handler | None]] = [(root, None)]
        node = root.first_child
        while True:
            if node is None:
                parent, handler = stack.pop()
                if not stack:
                    return
                if handler is block:
                    if buf:
                        flush()
                elif handler is not None:
                    handler[1](parent)
                node = parent.next
                continue
            tag = node.tag
            if tag == "-text":
                text = node.text_content
                # Whitespace at the start of a line is dropped right away.
                if text and (buf or not text.isspace()):
                    buf.append(text)
                node = node.next
                continue
            handler = handlers.get(tag)
            if handler is skip:
                node = node.next
                continue
            if handler is block:
                if buf:
                    flush()
            elif handler is not None:
                handler[0](node)
            stack.append((node, handler))
            node = node.first_child

    # Lines ---------------------------------------------------------------

    def flush(self) -> None:
        """Write the pending text as a line (as lines, inside ``<pre>``)."""
        raw = "".join(self.buf)
        self.buf.clear()
        self.flushes += 1
        if self.pre:
            self._write_pre(raw)
            return
        line = " ".join(raw.split())
        if line:
            if self.prefix:
                line = self.prefix + line
                self.prefix = ""
            self.lines.append(line)

    def _write_pre(self, raw: str) -> None:
        """Write preformatted text line by line, without blank lines."""
        for line in raw.split("\n"):
            if line.strip():
                self.lines.append(self.prefix + line.rstrip())
                self.prefix = ""

    def end_line(self, node: LexborNode) -> None:
        """A block boundary: end the current line."""
        if self.buf:
            self.flush()

    def on_br(self, node: LexborNode) -> None:
        """A line break (kept as such inside ``<pre>``)."""
        if self.pre:
            self.buf.append("\n")
        elif self.buf:
            self.flush()

    def open_row_breaker(self, node: LexborNode) -> None:
        """A block that turns an enclosing table row into layout."""
        if self.buf:
            self.flush()
        if self.rows:
            self.rows[-1].layout = True

    # Headings and lists --------------------------------------------------

    def open_heading(self, node: LexborNode) -> None:
        """Start a heading: ``## `` before its text."""
        self.open_row_breaker(node)
        self.prefix += _HEADINGS[node.tag or "h1"]

    def open_item(self, node: LexborNode) -> None:
        """Start a list item with ``- ``.

        Ordered lists get the same marker: their numbers are presentation,
        and numbering them here would turn one inserted item into a change
        of every item after it. Numbers written in the text itself (legal
        points such as "1)" or "а)") are kept as they are.
        """
        self.open_row_breaker(node)
        self.prefix = "- "

    def close_marked(self, node: LexborNode) -> None:
        """End a heading or list item; an empty one leaves no marker behind."""
        if self.buf:
            self.flush()
        self.prefix = ""

    def open_list(self, node: LexborNode) -> None:
        """Start a list."""
        self.open_row_breaker(node)

    def close_list(self, node: LexborNode) -> None:
        """End a list."""
        self.end_line(node)

    # Tables --------------------------------------------------------------

    def open_row(self, node: LexborNode) -> None:
        """Start a table row: its lines are collected apart until it ends."""
        if self.buf:
            self.flush()
        self.rows.append(_Row(self.lines))
        self.lines = []

    def close_row(self, node: LexborNode) -> None:
        """End a table row: one line of cells, or its lines as they are."""
        if self.buf:
            self.flush()
        if not self.rows:
            return
        row = self.rows.pop()
        lines, self.lines = self.lines, row.outer_lines
        line = row.line(lines)
        if line is None:
            self.lines.extend(lines)
        elif line.strip(" |"):
            self.lines.append(line)

    def open_cell(self, node: LexborNode) -> None:
        """Start a table cell."""
        if self.buf:
            self.flush()
        if self.rows:
            self.rows[-1].cell_start = len(self.lines)

    def close_cell(self, node: LexborNode) -> None:
        """End a table cell, remembering the lines it wrote."""
        if self.buf:
            self.flush()
        if self.rows:
            row = self.rows[-1]
            if row.cell_start is not None:
                row.cells.append((row.cell_start, len(self.lines)))
                row.cell_start = None

    # Preformatted text ---------------------------------------------------

    def open_pre(self, node: LexborNode) -> None:
        """Start preformatted text: its lines are kept."""
        self.open_row_breaker(node)
        self.pre += 1

    def close_pre(self, node: LexborNode) -> None:
        """End preformatted text."""
        self.end_line(node)
        self.pre -= 1

    # Links and images ----------------------------------------------------

    def open_link(self, node: LexborNode) -> None:
        """Start a link; remember its target and where its text begins."""
        href = (node.attributes.get("href") or "").strip()
        target = self.resolver.resolve(href) if href else None
        self.links.append(_Link(target, href, self.flushes, len(self.buf)))

    def close_link(self, node: LexborNode) -> None:
        """End a link: write `` [target]`` after its text when it adds something."""
        if not self.links:
            return
        link = self.links.pop()
        target = link.target
        if link.flushes != self.flushes:
            # The link's text spans lines: it is neither empty nor the target.
            if target:
                self.buf.append(f" [{target}]")
            return
        raw = "".join(self.buf[link.start :])
        text = collapse(raw)
        if not text and link.alt:
            text = link.alt
            self.buf.append(f" {text}")
        if target and not _spells(text, target, link.href):
            # Keep a space that ended the link text after the target instead.
            spacing = " " if raw[-1:].isspace() else ""
            self.buf.append(f" [{target}]{spacing}")

    def on_img(self, node: LexborNode) -> None:
        """An image: only the ``alt`` of a link's first image is kept."""
        if self.links and not self.links[-1].alt:
            self.links[-1].alt = collapse(node.attributes.get("alt") or "")
