"""The page as the quality gate sees it: a verdict, and the response read cheaply.

The page is read over its first :data:`SCAN_CHARS` characters (title, h1,
forms, scripts, visible text), which is enough for the signatures of
challenge and error pages (:mod:`watcher.text.signatures`), with linear
scans (:mod:`watcher.text.markup`): a hostile page costs no more than a
plain one.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from watcher.errors import QualityError
from watcher.text.markup import element_texts, strip_markup

Problem = Literal[
    "blocked",
    "login",
    "soft-404",
    "not-found",
    "maintenance",
    "http-error",
    "home-redirect",
    "shrunk",
    "js-shell",
    "empty",
]
"""What the gate found instead of the page (each is an :data:`~watcher.errors.ErrorKind`)."""
Kind = Literal["ok"] | Problem

SCAN_CHARS: Final = 64 * 1024
"""Only this many characters of a page are scanned: signatures sit at its top."""

SMALL_TEXT: Final = 2000
"""A page with less visible text than this is small: its phrases are its message."""

TINY_TEXT: Final = 400
"""Below this, a page is a bare widget (a captcha, a script that sets a cookie)."""

MIN_PREVIOUS: Final = 500
"""Shrinkage is judged only against a previous text at least this long."""


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: ``kind`` is a stable word, ``reason`` says why in English."""

    kind: Kind
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def error(self, *, url: str, status: int | None, reason: str | None = None) -> QualityError:
        """The failure this verdict stands for (not for an ``ok`` verdict)."""
        assert self.kind != "ok", "an ok verdict is not a failure"
        return QualityError(self.kind, reason or self.reason, url=url, status=status)


OK: Final = Verdict("ok")


# ---------------------------------------------------------------------------
# the page, read cheaply


@dataclass(frozen=True)
class Page:
    markup: str  # the scanned window, lowercased
    heads: str  # title and h1 texts, one per line
    text: str  # visible text of the window, spaces collapsed
    complete: bool  # the whole page fits in the window

    @property
    def small(self) -> bool:
        return self.complete and len(self.text) < SMALL_TEXT

    @property
    def tiny(self) -> bool:
        return self.complete and len(self.text) < TINY_TEXT


def read_page(html_text: str) -> Page:
    """The window of ``html_text`` the gate reads, in time linear in its length."""
    window = html_text[:SCAN_CHARS]
    heads = [*element_texts(window, "title"), *element_texts(window, "h1")]
    return Page(
        markup=window.lower(),
        heads="\n".join(_plain(head) for head in heads),
        text=_plain(window),
        complete=len(html_text) <= SCAN_CHARS,
    )


def _plain(fragment: str) -> str:
    """Tags, comments and scripts dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(strip_markup(fragment)).split())


# ---------------------------------------------------------------------------
# the exchange


@dataclass(frozen=True)
class Exchange:
    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]  # keys lowercased
    page: Page | None  # None when the body is not HTML


Check = Callable[[Exchange], Verdict | None]
