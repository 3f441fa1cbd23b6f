"""Canonical text and its hash: the normalize stage. Pure functions, no I/O.

Two fetches of an unchanged page must normalize to the same text, so the
noise of the web is folded away here: Unicode composition, the many spaces
and invisible characters, typographic quotes and dashes, line endings, and
whatever the source's ``ignore`` patterns match (counters, dates). Letter
case and everything else a reader could see as a change are kept.

Bump :data:`NORMALIZER_VERSION` whenever the output changes for the same
input: stored snapshots are then re-normalized instead of showing a change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

NORMALIZER_VERSION = 6  # 2: the default noise filter (noise.py); 3: controls dropped;
# 4: relative times, engagement counters, tickers, weather and ad lines; 5: a weather line's
# sky word ends it or a clause; 6: a relative time masked after a comma only, ad lines
# without definitions

_IGNORE_ROUNDS = 5

# Tab and every Unicode space separator (category Zs).
_SPACES = (
    "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
_INVISIBLE = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"  # soft hyphen, zero-widths, marks, BOM
)
_DOUBLE_QUOTES = "«»„“”‟″"
_SINGLE_QUOTES = "‘’‚‛′"
_DASHES = "‐‑‒–—―−"  # hyphen, non-breaking hyphen, figure/en/em dash, bar, minus sign


def _fold_pairs() -> tuple[tuple[str, str], ...]:
    """The character folding applied to every text: spaces, invisibles, typography."""
    table = dict.fromkeys(_SPACES, " ")
    table.update(dict.fromkeys(_INVISIBLE, ""))
    table.update(dict.fromkeys(_DOUBLE_QUOTES, '"'))
    table.update(dict.fromkeys(_SINGLE_QUOTES, "'"))
    table.update(dict.fromkeys(_DASHES, "-"))
    table["…"] = "..."
    return tuple(table.items())


# One str.replace per folded character present: each is a fast scan in C,
# many times faster on Cyrillic text than str.translate with a dict.
_FOLD = _fold_pairs()


def normalize(text: str, ignore: tuple[re.Pattern[str], ...] = ()) -> str:
    """Return the canonical form of ``text``.

    - control characters (C0 and C1, but tab and line breaks), surrogates
      and non-characters (U+FFFE, U+FFFF...) are removed, as are invisible
      characters (soft hyphen, zero-width space/joiners, word
      joiner, direction marks, BOM); every Unicode space (NBSP,
      narrow NBSP, figure space...) and tab becomes a space;
    - « » „ “ ” ‟ ″ become ``"``, ‘ ’ ‚ ‛ ′ become ``'``, the dashes
      ‐ ‑ ‒ – — ― and the minus sign − become ``-``, … becomes ``...``;
    - the text is in Unicode NFC;
    - lines end at LF (CRLF, CR and the other Unicode line breaks count);
      within a line, whitespace runs become one space; lines are stripped
      and blank lines dropped;
    - every match of an ``ignore`` pattern is removed (patterns run with
      ``re.MULTILINE`` on the text normalized as above, repeatedly until
      nothing changes, at most 5 rounds), then lines are re-collapsed.

    Lines are joined with ``"\\n"``; there is no trailing newline. Case is
    kept. Deterministic and idempotent: ``normalize(normalize(t, p), p) ==
    normalize(t, p)`` (for ``ignore`` patterns whose removals settle within
    the 5 rounds, which any pattern that cannot build new matches does).
    """
    text = _canonical(_drop_controls(text))
    if ignore:
        text = _apply_ignore(text, tuple(_multiline(pattern) for pattern in ignore))
    return text


def content_hash(text: str) -> str:
    """First 16 hex digits of the SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# C0 and C1 controls but tab and the line breaks (splitlines() reads \r, \x0b, \x0c,
# \x1c-\x1e and \x85 as ends of lines), surrogates and the non-characters (U+FDD0-FDEF,
# U+xFFFE, U+xFFFF): never text, some terminal escapes, all invalid in XML.
# Two patterns: a class holding astral characters is checked ten times slower per
# character, and astral characters are rare, so that one runs only when there are some.
_CONTROLS = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_ASTRAL_NONCHARACTERS = re.compile(
    "["
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)


def _drop_controls(text: str) -> str:
    """``text`` without control characters (but tab and line breaks) nor non-characters."""
    if _CONTROLS.search(text):
        text = _CONTROLS.sub("", text)
    if _ASTRAL.search(text):
        text = _ASTRAL_NONCHARACTERS.sub("", text)
    return text


def _canonical(text: str) -> str:
    """Fold characters, compose, and collapse whitespace line by line."""
    # NFC after folding: removing an invisible can bring a base letter and
    # a combining mark together, which only a later NFC composes.
    for char, replacement in _FOLD:
        if char in text:
            text = text.replace(char, replacement)
    text = unicodedata.normalize("NFC", text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _multiline(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` with ``re.MULTILINE`` (compiled patterns are cached by re)."""
    if pattern.flags & re.MULTILINE:
        return pattern
    return re.compile(pattern.pattern, pattern.flags | re.MULTILINE)


def _apply_ignore(text: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    """Remove every match of ``patterns`` until a fixpoint (bounded)."""
    for _ in range(_IGNORE_ROUNDS):
        removed = 0
        for pattern in patterns:
            text, count = pattern.subn("", text)
            removed += count
        if not removed:  # canonical text with nothing removed stays as it is
            break
        text = _canonical(text)
    return text
