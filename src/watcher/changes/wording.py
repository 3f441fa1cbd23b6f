"""How two lines are compared for a cosmetic change: words, and the documents links name.

Pure, no I/O. Used by :mod:`watcher.changes.significance`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from watcher.text.html.links import host_key

_WORD = re.compile(r"\w+")
_LINK_TARGET = re.compile(r"\[(?:https?:|mailto:|tel:|/)[^\]]*\]")


def words_of(text: str) -> list[str]:
    """The words of ``text`` as compared for a cosmetic change.

    Case, ``ё``/``е`` and punctuation aside, and digits joined across a
    hyphen or a space, so ``9-1-1`` reads as ``911`` and ``1 000`` as ``1000``.
    """
    joined = _DIGIT_GAP.sub("", text)
    return [w.lower().replace("ё", "е") for w in _WORD.findall(joined)]


def same_reading(old: str, new: str) -> bool:
    """The same words, and links to the same documents (see :func:`same_document`)."""
    if words_of(_LINK_TARGET.sub(" ", old)) != words_of(_LINK_TARGET.sub(" ", new)):
        return False
    before, after = _LINK_TARGET.findall(old), _LINK_TARGET.findall(new)
    return len(before) == len(after) and all(map(same_document, before, after))


def same_document(old: str, new: str) -> bool:
    """Two link targets naming one document.

    The same address up to scheme, ``www.`` and a trailing slash, where the
    new one keeps every parameter of the old one with its value: parameters
    only added (``?from=menu``, a tracker) do not make another document; a
    parameter changed or removed (``?id=5`` -> ``?id=6``) does.
    """
    a, b = urlsplit(old.strip(" []")), urlsplit(new.strip(" []"))
    if (host_key(a.netloc), a.path.rstrip("/")) != (host_key(b.netloc), b.path.rstrip("/")):
        return False
    return set(parse_qsl(a.query, keep_blank_values=True)) <= set(
        parse_qsl(b.query, keep_blank_values=True)
    )


_DIGIT_GAP = re.compile(r"(?<=\d)[-\s\u00a0\u202f](?=\d)")
