"""PDF sources: body -> text without page furniture. The only module importing pypdf.

A law or an order published as PDF changes rarely, but its export changes
often: ConsultantPlus stamps every page with "Документ предоставлен
КонсультантПлюс", "Дата сохранения: 01.03.2025" and "Страница 3 из 12",
and a new edition re-paginates everything. So the text is read page by
page and the *running furniture* is removed before pages are joined:

* known stamps, wherever they stand (:data:`_STAMPS`);
* lines repeating at the top or bottom of most pages, compared with their
  digits folded ("Страница 3 из 12" ~ "Страница 4 из 12");
* a bare page number ("7", "- 7 -") as the first or last line of a page.

Then lines broken by hyphenation are joined ("страхо-" + "вания" ->
"страхования") when a lowercase letter follows. The cost: a compound
word broken at its own hyphen ("медико-" + "социальной") loses the hyphen;
that is stable from one fetch to the next, so it never shows as a change.

Lines stay as the PDF lays them out; a change that re-wraps a paragraph
shows as several changed lines (the word-level diff still pins it down).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError

from watcher.errors import DecodeError

_ZONE = 4
"""How many lines at each end of a page count as its header / footer zone."""

_UNREADABLE_SHARE = 0.05
"""Above this share of control, private-use or U+FFFD characters the text is garbage."""

# pypdf raises far more than its own tree on malformed files.
_PARSE_FAILURES: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    RecursionError,
    OverflowError,
    ZeroDivisionError,
    NotImplementedError,
    zlib.error,
    struct.error,
)

_STAMPS = re.compile(
    r"""
    документ\ предоставлен\ консультантплюс
    | дата\ сохранения:?\ \d{1,2}\.\d{1,2}\.\d{2,4}
    | (консультантплюс\ )?(надежная\ правовая\ поддержка\ )?www\.consultant\.ru
      (\ страница\ \d+\ из\ \d+)?
    | консультантплюс(\ надежная\ правовая\ поддержка)?
    | (страница|стр\.|page)\ ?\d+(\ ?(из|of|/)\ ?\d+)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_PAGE_NUMBER = re.compile(r"[-–—]?\s*\d{1,4}\s*[-–—]?|\d{1,4}\s*/\s*\d{1,4}")
_DIGITS = re.compile(r"\d+")
_HYPHEN_END = re.compile(r"(?<=[^\W\d_])[-\u2010\u00ad]$")
_UNREADABLE = re.compile(r"[\x00-\x08\x0b-\x1f\ue000-\uf8ff\ufffd]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN1_LETTERS = re.compile(r"[\u00c0-\u00ff]")

_METADATA_TEXT = ("title", "author", "subject", "creator", "producer")
_METADATA_DATES = {"created": "creation_date", "modified": "modification_date"}

NO_TEXT_HINT = "watch its listing page instead"


@dataclass(frozen=True)
class PdfText:
    """The text of a PDF and what the file says about itself.

    ``text`` has one line of the PDF per line, pages joined, running
    furniture removed. ``metadata`` holds ``title``, ``author``,
    ``subject``, ``creator``, ``producer``, ``created`` and ``modified``
    (ISO 8601) when the file has them.
    """

    text: str
    pages: int
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def pdf_to_text(body: bytes, *, url: str = "") -> PdfText:
    """Extract the text of a PDF ``body``.

    Raises :class:`~watcher.errors.DecodeError` when the body is not a
    PDF, is corrupt, needs a password, or has no usable text layer.
    """
    reader = _open(body, url)
    pages = _page_texts(reader, url)
    text = join_pages(pages)
    _check_text(text, url)
    return PdfText(text=text, pages=len(pages), metadata=_metadata(reader))


def join_pages(pages: Sequence[str]) -> str:
    """Join page texts into one text without their running headers and footers."""
    split = [_lines(page) for page in pages]
    running = _running_lines(split)
    kept = (line for lines in split for line in _strip_furniture(lines, running))
    return "\n".join(_dehyphenate(kept))


# ---------------------------------------------------------------------------
# reading


def _open(body: bytes, url: str) -> PdfReader:
    if b"%PDF-" not in body[:1024]:
        raise DecodeError("the body is not a PDF (no %PDF- header)", url=url)
    try:
        reader = PdfReader(io.BytesIO(body))
    except _PARSE_FAILURES as exc:
        raise _corrupt(exc, url) from exc
    if reader.is_encrypted:
        _decrypt(reader, url)
    return reader


def _decrypt(reader: PdfReader, url: str) -> None:
    """Open a PDF locked only against editing (empty user password), as viewers do."""
    try:
        opened = reader.decrypt("")
    except DependencyError as exc:
        raise DecodeError(
            f"the PDF is encrypted with a cipher watcher cannot open: {exc}",
            url=url,
            hint="install the `cryptography` package",
        ) from exc
    except _PARSE_FAILURES as exc:
        raise _corrupt(exc, url) from exc
    if opened == PasswordType.NOT_DECRYPTED:
        raise DecodeError(
            "the PDF is password-protected",
            url=url,
            hint="watch the page that links to it instead",
        )


def _page_texts(reader: PdfReader, url: str) -> list[str]:
    try:
        return [page.extract_text() or "" for page in reader.pages]
    except _PARSE_FAILURES as exc:
        raise _corrupt(exc, url) from exc


def _corrupt(exc: BaseException, url: str) -> DecodeError:
    detail = str(exc) or type(exc).__name__
    return DecodeError(f"the PDF is corrupt or unsupported: {detail}", url=url)


def _check_text(text: str, url: str) -> None:
    if not text:
        raise DecodeError("the PDF has no text layer (a scan)", url=url, hint=NO_TEXT_HINT)
    letters = sum(1 for char in text if not char.isspace())
    bad = len(_UNREADABLE.findall(text))
    if bad > _UNREADABLE_SHARE * letters:
        raise _unreadable(f"{bad} of {letters} characters are not text", url)
    if not _CYRILLIC.search(text) and len(_LATIN1_LETTERS.findall(text)) > 0.3 * letters:
        raise _unreadable("Cyrillic read as Latin-1 letters, as in 'Ïðèêàç'", url)


def _unreadable(detail: str, url: str) -> DecodeError:
    return DecodeError(
        f"the PDF's text layer is unreadable ({detail}: fonts without a Unicode map)",
        url=url,
        hint=NO_TEXT_HINT,
    )


# ---------------------------------------------------------------------------
# furniture


def _lines(page: str) -> list[str]:
    """Page text as stripped, space-collapsed, non-blank lines, known stamps dropped."""
    lines = (" ".join(line.split()) for line in page.splitlines())
    return [line for line in lines if line and not _STAMPS.fullmatch(line)]


def _keys(line: str) -> tuple[str, str]:
    """How a line is compared across pages: as is, and with its digits folded.

    Both ignore case. A folded key starts with ``#`` so the two never collide.
    """
    exact = line.casefold()
    return exact, "#" + _DIGITS.sub("#", exact)


def _running_lines(pages: Sequence[Sequence[str]]) -> frozenset[str]:
    """Keys of lines found at the same edge (top or bottom) of most pages.

    A line repeated verbatim counts from two pages on; one that repeats
    only with other digits ("Лист 3", "Лист 4") needs three pages, so the
    "Раздел 1" and "Раздел 2" opening the two pages of a short document stay.
    """
    seen: Counter[tuple[str, str]] = Counter()
    for lines in pages:
        for edge, zone in (("top", lines[:_ZONE]), ("bottom", lines[-_ZONE:])):
            seen.update({(edge, key) for line in zone for key in _keys(line)})
    return frozenset(
        key
        for (_, key), count in seen.items()
        if count * 2 > len(pages) and count >= (3 if key.startswith("#") else 2)
    )


def _strip_furniture(lines: Sequence[str], running: frozenset[str]) -> list[str]:
    last = len(lines) - 1
    return [
        line for index, line in enumerate(lines) if not _is_furniture(line, index, last, running)
    ]


def _is_furniture(line: str, index: int, last: int, running: frozenset[str]) -> bool:
    at_edge = index in (0, last)
    in_zone = index < _ZONE or index > last - _ZONE
    if at_edge and _PAGE_NUMBER.fullmatch(line):
        return True
    if not in_zone or _PAGE_NUMBER.fullmatch(line):
        return False
    return any(key in running for key in _keys(line))


def _dehyphenate(lines: Iterable[str]) -> list[str]:
    """Join ``страхо-`` + ``вания``: a letter, a hyphen, then a lowercase letter."""
    joined: list[str] = []
    for line in lines:
        if joined and _HYPHEN_END.search(joined[-1]) and _starts_lowercase(line):
            joined[-1] = joined[-1][:-1] + line
        else:
            joined.append(line)
    return joined


def _starts_lowercase(line: str) -> bool:
    return line[:1].islower()


# ---------------------------------------------------------------------------
# metadata


def _metadata(reader: PdfReader) -> Mapping[str, str]:
    try:
        info = reader.metadata
    except _PARSE_FAILURES:
        return MappingProxyType({})
    found: dict[str, str] = {}
    for name in _METADATA_TEXT:
        value = _attribute(info, name)
        if isinstance(value, str) and value.strip():
            found[name] = " ".join(value.split())
    for name, attribute in _METADATA_DATES.items():
        moment = _attribute(info, attribute)
        if isinstance(moment, datetime):
            found[name] = moment.isoformat()
    return MappingProxyType(found)


def _attribute(info: object, name: str) -> object:
    """One metadata field, or None when missing or malformed (pypdf raises then)."""
    if info is None:
        return None
    try:
        return getattr(info, name, None)
    except _PARSE_FAILURES:
        return None
