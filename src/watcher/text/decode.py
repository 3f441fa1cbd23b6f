"""Turn a response body into text: the decode stage.

The only module that imports charset_normalizer. The order follows the
WHATWG encoding sniffing algorithm, made more forgiving because official
Russian sites often declare one charset and send another:

1. a per-source ``encoding`` override wins over everything;
2. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
3. the charset of the HTTP ``Content-Type`` header;
4. a ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` in the first
   4 KB;
5. detection (UTF-8 validity first, then charset_normalizer restricted to
   the encodings these sites use).

A declaration is trusted only when it decodes cleanly and nothing is clearly
better: valid non-ASCII UTF-8 declared as a single-byte charset is UTF-8; a
page declared UTF-8 that is not is detected; a single-byte declaration whose
text reads as garbage (a Latin-1 header on a windows-1251 page, windows-1251
on a KOI8-R page) loses to detection. A UTF-8 page with a few stray
single-byte characters (a legacy include) keeps UTF-8 and decodes the stray
bytes as windows-1251 or windows-1252 instead of U+FFFD.
"""

from __future__ import annotations

import codecs
import re
from enum import Enum

import charset_normalizer

from watcher.errors import DecodeError
from watcher.text.markup import strip_markup

# WHATWG label -> canonical name, for the encodings that matter here.
# "iso-8859-1", "latin1" and "ascii" mean windows-1252, as in browsers.
_LABELS: dict[str, str] = {
    "utf-8": "utf-8 utf8 unicode-1-1-utf-8 unicode11utf8 unicode20utf8 x-unicode20utf8",
    "utf-16le": "utf-16le utf-16 ucs-2 unicode unicodefeff csunicode iso-10646-ucs-2",
    "utf-16be": "utf-16be unicodefffe",
    "windows-1251": "windows-1251 cp1251 win-1251 x-cp1251 win1251 windows1251",
    "koi8-r": "koi8-r koi8 koi koi8_r cskoi8r",
    "koi8-u": "koi8-u koi8-ru",
    "ibm866": "ibm866 866 cp866 csibm866",
    "iso-8859-5": "iso-8859-5 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988 cyrillic "
    "csisolatincyrillic iso-ir-144",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian maccyrillic",
    "windows-1252": "windows-1252 cp1252 x-cp1252 iso-8859-1 iso8859-1 iso88591 iso_8859-1 "
    "iso_8859-1:1987 latin1 l1 ascii us-ascii ansi_x3.4-1968 cp819 ibm819 csisolatin1 iso-ir-100",
    "windows-1250": "windows-1250 cp1250 x-cp1250",
    "iso-8859-2": "iso-8859-2 iso8859-2 iso88592 iso_8859-2 latin2 l2 csisolatin2",
    "iso-8859-15": "iso-8859-15 iso8859-15 iso885915 iso_8859-15 latin-9 l9",
}
_CANONICAL: dict[str, str] = {
    label: name for name, labels in _LABELS.items() for label in labels.split()
}

_CODECS: dict[str, str] = {
    "utf-8": "utf_8",
    "utf-16le": "utf_16_le",
    "utf-16be": "utf_16_be",
    "windows-1251": "cp1251",
    "koi8-r": "koi8_r",
    "koi8-u": "koi8_u",
    "ibm866": "cp866",
    "iso-8859-5": "iso8859_5",
    "x-mac-cyrillic": "mac_cyrillic",
    "windows-1252": "cp1252",
    "windows-1250": "cp1250",
    "iso-8859-2": "iso8859_2",
    "iso-8859-15": "iso8859_15",
}
_FROM_CODEC: dict[str, str] = {codec: name for name, codec in _CODECS.items()}

# What detection may choose between when nothing trustworthy is declared.
_DETECTABLE = (
    "windows-1251",
    "koi8-r",
    "ibm866",
    "iso-8859-5",
    "x-mac-cyrillic",
    "windows-1252",
    "windows-1250",
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
)
_BINARY_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive (docx, xlsx, ...)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\xd0\xcf\x11\xe0", "an MS Office document"),
)
_PRESCAN_BYTES = 4096
_DETECT_SAMPLE = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta\b[^<>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_TYPE_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
# Undefined in windows-1251 (0x98) or windows-1252; rare in any real text.
_UNDEFINED_BYTES = b"\x81\x8d\x8f\x90\x98\x9d"
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN_ACCENTED = re.compile("[\u00c0-\u017f]")
# Decoding with a declared charset "wins" unless its mess ratio is above this
# and detection found something at least this much less messy.
_MESS_ACCEPTABLE = 0.05
_MESS_MARGIN = 0.05
# A body is "mostly UTF-8" when valid multi-byte characters outnumber stray
# bytes this many times over (by chance, legacy text is rarely valid UTF-8).
_MOSTLY_UTF8 = 10


def _c1_controls(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes a single-byte codec leaves undefined as C1 controls (WHATWG)."""
    assert isinstance(error, UnicodeDecodeError)
    return "".join(map(chr, error.object[error.start : error.end])), error.end


def _stray_bytes_as(codec: str) -> None:
    """Register an error handler decoding invalid UTF-8 bytes with ``codec``."""

    def handler(error: UnicodeError) -> tuple[str, int]:
        assert isinstance(error, UnicodeDecodeError)
        return error.object[error.start : error.end].decode(codec, "watcher-c1"), error.end

    codecs.register_error(f"watcher-stray-{codec}", handler)


codecs.register_error("watcher-c1", _c1_controls)
_stray_bytes_as("cp1251")
_stray_bytes_as("cp1252")


class _Utf8(Enum):
    """How well a body decodes as UTF-8."""

    ASCII = "ascii"
    VALID = "valid"
    MOSTLY = "mostly"  # valid UTF-8 text with a few stray single-byte characters
    INVALID = "invalid"


def decode_body(
    body: bytes,
    *,
    header_charset: str | None,
    content_type: str = "",
    override: str | None = None,
) -> tuple[str, str]:
    """Return ``(text, encoding_name_used)`` for a response body.

    ``header_charset`` is the charset parameter of the HTTP ``Content-Type``
    (``content_type`` is searched for one when it is ``None``); ``override``
    is the source's configured ``encoding``. Unknown labels are ignored. The
    name returned is canonical (``"utf-8"``, ``"windows-1251"``,
    ``"koi8-r"``...); a leading BOM is removed from the text.

    Never fails on text-like bytes (the last resort is UTF-8 with U+FFFD
    replacements); raises :class:`DecodeError` when the body is binary.
    """
    forced = canonical_encoding(override)
    if forced is not None:
        return _decode(body, forced), forced
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom) :], name), name
    declared = _declared(body, header_charset, content_type)
    if declared in ("utf-16le", "utf-16be"):
        return _decode(body, declared), declared
    _reject_binary(body)
    name, errors = _choose(body, declared)
    return body.decode(_CODECS[name], errors).removeprefix("\ufeff"), name


def canonical_encoding(label: str | None) -> str | None:
    """Map an encoding label to its canonical name, or ``None`` if unknown."""
    if not label:
        return None
    return _CANONICAL.get(label.strip().strip("\"'").lower())


def _declared(body: bytes, header_charset: str | None, content_type: str) -> str | None:
    """The encoding the server or the page declares, if any is known."""
    if header_charset is None:
        match = _TYPE_CHARSET.search(content_type)
        header_charset = match.group(1) if match else None
    found = canonical_encoding(header_charset)
    if found is not None:
        return found
    meta = _prescan_meta(body)
    # A page cannot declare UTF-16 in itself: WHATWG reads that as UTF-8.
    return "utf-8" if meta in ("utf-16le", "utf-16be") else meta


def _prescan_meta(body: bytes) -> str | None:
    """The first known charset of a ``<meta>`` tag in the first 4 KB."""
    for match in _META_CHARSET.finditer(body[:_PRESCAN_BYTES]):
        found = canonical_encoding(match.group(1).decode("ascii", "replace"))
        if found is not None:
            return found
    return None


def _decode(body: bytes, name: str) -> str:
    """Decode with ``name`` without ever failing."""
    errors = "replace" if name.startswith("utf") else "watcher-c1"
    return body.decode(_CODECS[name], errors).removeprefix("\ufeff")


def _reject_binary(body: bytes) -> None:
    """Raise :class:`DecodeError` when the body is clearly not text."""
    for magic, what in _BINARY_MAGIC:
        if body.startswith(magic):
            raise DecodeError(
                f"the body is {what}, not text", hint="point the source at an HTML page"
            )
    head = body[:1024]
    if head.count(0) > max(4, len(head) // 20):
        raise DecodeError(
            "the body looks binary (NUL bytes)", hint="check the URL and the Content-Type"
        )


def _choose(body: bytes, declared: str | None) -> tuple[str, str]:
    """Return ``(encoding name, decode error handler)`` for an unmarked body."""
    verdict = _utf8_verdict(body)
    if verdict is _Utf8.ASCII:
        return declared or "utf-8", "strict"
    if verdict is _Utf8.VALID:
        return "utf-8", "strict"
    if verdict is _Utf8.MOSTLY:
        return "utf-8", _stray_handler(body)
    if declared is not None and declared != "utf-8" and not _implausible(body, declared):
        return declared, "watcher-c1"
    detected = _detect(body)
    return (detected, "watcher-c1") if detected else ("utf-8", "replace")


def _utf8_verdict(body: bytes) -> _Utf8:
    """Classify ``body`` as ASCII, valid UTF-8, mostly UTF-8, or not UTF-8."""
    if body.isascii():
        return _Utf8.ASCII
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        good = len(text) - len(text.encode("ascii", "ignore")) - bad
        return _Utf8.MOSTLY if good >= _MOSTLY_UTF8 * bad else _Utf8.INVALID
    return _Utf8.VALID


def _stray_handler(body: bytes) -> str:
    """Pick the single-byte codec for stray bytes from the script of the rest."""
    text = body.decode("utf-8", "ignore")
    cyrillic = len(_CYRILLIC.findall(text))
    return (
        "watcher-stray-cp1251"
        if cyrillic > len(_LATIN_ACCENTED.findall(text))
        else "watcher-stray-cp1252"
    )


def _text_sample(body: bytes) -> bytes:
    """The bytes of the page's text without markup, for detection.

    Bytes that some candidate codecs leave undefined are dropped: one stray
    byte must not rule the right encoding out.
    """
    sample = strip_markup(body[: _DETECT_SAMPLE * 4])[:_DETECT_SAMPLE]
    return sample.translate(None, _UNDEFINED_BYTES)


def _implausible(body: bytes, declared: str) -> bool:
    """True when detection reads the body clearly better than ``declared``."""
    sample = _text_sample(body)
    matches = _matches(sample, (declared, *(name for name in _DETECTABLE if name != declared)))
    if declared not in matches:
        return bool(matches)
    own = matches[declared]
    best = min(matches.values())
    return own > _MESS_ACCEPTABLE and own - best >= _MESS_MARGIN


def _detect(body: bytes) -> str | None:
    """The most plausible single-byte encoding of ``body``, if any."""
    sample = _text_sample(body)
    if sample.isascii():
        sample = body[:_DETECT_SAMPLE]
    matches = _matches(sample, _DETECTABLE)
    if not matches:
        return None
    # min() keeps the first of equally messy names: _DETECTABLE's preference.
    return min(matches, key=matches.__getitem__)


def _matches(sample: bytes, names: tuple[str, ...]) -> dict[str, float]:
    """Mess ratio (chaos) of each of ``names`` that charset_normalizer finds plausible.

    Encodings that decode the sample identically share one result; the
    returned mapping keeps the order of ``names``.
    """
    results = charset_normalizer.from_bytes(sample, cp_isolation=[_CODECS[n] for n in names])
    chaos: dict[str, float] = {}
    for match in results:
        for codec in match.could_be_from_charset:
            name = _FROM_CODEC.get(codec)
            if name is not None and name not in chaos:
                chaos[name] = match.chaos
    return {name: chaos[name] for name in names if name in chaos}
