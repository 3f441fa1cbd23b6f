"""From a response body to snapshot text: the stages after the fetch.

"Render" means this and only this: body -> snapshot text. ``format`` (a
source's setting, else the content type, else the body's first bytes)
picks the extractor from :data:`EXTRACTORS`:

- html: decode -> quality gate on the page -> extract -> normalize;
- pdf: page-by-page text without running headers -> normalize;
- json: pretty-printed with sorted keys (reordering is not a change);
- text: decode -> normalize.

Normalizing includes the default noise filter (:mod:`watcher.text.noise`):
view counters and "updated"/"published" stamps never make a change, with
no configuration.

Every path ends with the quality gate on the text (empty, or far smaller
than the last good version). A response the gate rejects raises
:class:`~watcher.errors.QualityError`: it is source health, never a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from watcher.errors import (
    DecodeError,
    EmptyContentError,
    HTTPStatusError,
    SourceError,
)
from watcher.results import Fetched
from watcher.text import html as html_text
from watcher.text import normalize, quality
from watcher.text.decode import decode_body
from watcher.text.noise import default_noise
from watcher.text.rules import TextRules

EXTRACTOR_VERSION = 4  # 3: widgets dropped, every declared body part kept; 4: lists of acts kept

_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/json": "json",
    "text/json": "json",
    "text/plain": "text",
}


@dataclass(frozen=True)
class Body:
    """A stored or fetched body and what is known about it."""

    data: bytes
    content_type: str
    charset: str | None
    url: str


@dataclass(frozen=True)
class Rendered:
    """Snapshot text and what the document says about itself (PDF metadata)."""

    text: str
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


Extractor = Callable[[Body, TextRules, str | None], Rendered]
"""(body, rules, the body already decoded or None) -> text before normalizing."""


def body_format(rules: TextRules, body: Body) -> str:
    if rules.format != "auto":
        return rules.format
    if body.data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    return _TYPES.get(body.content_type, "html")


def render_fetched(rules: TextRules, fetched: Fetched, previous_size: int | None) -> Rendered:
    """Turn a fresh response into snapshot text, through both quality gates."""
    body = Body(fetched.body, fetched.content_type, fetched.charset, fetched.final_url)
    html = _check_response(rules, fetched, body)
    rendered = render(rules, body, html=html)
    _check_text(rules, rendered.text, previous_size, fetched)
    return rendered


def render(rules: TextRules, body: Body, *, html: str | None = None) -> Rendered:
    """Turn a body into snapshot text with today's rules (also used to re-base)."""
    if not body.data.strip():
        raise EmptyContentError("the response body is empty", url=body.url)
    extracted = EXTRACTORS[body_format(rules, body)](body, rules, html)
    return Rendered(_normalized(rules, extracted.text, body.url), extracted.metadata)


# -- the extractors, one per format -------------------------------------------------


def _html(body: Body, rules: TextRules, decoded: str | None) -> Rendered:
    text = decoded if decoded is not None else _decode(rules, body)
    return Rendered(
        html_text.extract_text(text, base_url=body.url, select=rules.select, exclude=rules.exclude)
    )


def _pdf(body: Body, rules: TextRules, decoded: str | None) -> Rendered:
    from watcher.text import pdf  # pypdf costs a tenth of a second to import; most runs see no PDF

    document = pdf.pdf_to_text(body.data, url=body.url)
    return Rendered(document.text, document.metadata)


def _json(body: Body, rules: TextRules, decoded: str | None) -> Rendered:
    text = decoded if decoded is not None else _decode(rules, body)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DecodeError(f"invalid JSON: {exc}", url=body.url) from exc
    return Rendered(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


def _plain(body: Body, rules: TextRules, decoded: str | None) -> Rendered:
    return Rendered(decoded if decoded is not None else _decode(rules, body))


EXTRACTORS: Mapping[str, Extractor] = MappingProxyType(
    {"html": _html, "pdf": _pdf, "json": _json, "text": _plain}
)


# -- decoding and the quality gates ---------------------------------------------


def _decode(rules: TextRules, body: Body) -> str:
    text, _encoding = decode_body(
        body.data,
        header_charset=body.charset,
        content_type=body.content_type,
        override=rules.encoding,
    )
    return text


def _check_response(rules: TextRules, fetched: Fetched, body: Body) -> str | None:
    """The gate before extraction; returns the decoded HTML it looked at."""
    html = _decode(rules, body) if body_format(rules, body) == "html" else None
    verdict = quality.assess_response(
        url=fetched.url,
        final_url=fetched.final_url,
        status=fetched.status,
        headers=fetched.headers,
        html_text=html,
    )
    if not verdict.ok:
        raise verdict.error(url=fetched.final_url, status=fetched.status)
    return html


def explain_status(rules: TextRules, url: str, error: HTTPStatusError) -> SourceError:
    """An HTTP error whose page is a challenge, login wall or maintenance says so."""
    if not error.body or error.status == 429:
        return error  # a 429 is rate limiting, whatever its page says
    body = Body(
        error.body,
        error.headers.get("content-type", "").split(";")[0].strip().lower(),
        None,
        error.url or url,
    )
    html = _decode(rules, body) if body_format(rules, body) == "html" else None
    verdict = quality.assess_response(
        url=url,
        final_url=body.url,
        status=error.status or 0,
        headers=error.headers,
        html_text=html,
    )
    if verdict.kind in _PAGE_KINDS:
        reason = f"{verdict.reason} (HTTP {error.status})"
        return verdict.error(url=body.url, status=error.status, reason=reason)
    return error


_PAGE_KINDS = frozenset({"blocked", "login", "maintenance"})


def _check_text(rules: TextRules, text: str, previous_size: int | None, fetched: Fetched) -> None:
    verdict = quality.assess_text(
        text=text, previous_size=previous_size, min_ratio=rules.min_size_ratio
    )
    if not verdict.ok:
        error = verdict.error(url=fetched.final_url, status=fetched.status)
        if verdict.kind == "shrunk":
            error.shrunk_text = text  # kept: the shrink becomes a change once it holds
        raise error


def _normalized(rules: TextRules, text: str, url: str) -> str:
    """Canonical text without the source's ``ignore`` matches nor the default noise."""
    result = default_noise(normalize.normalize(text, rules.ignore))
    if not result:
        raise EmptyContentError(
            "no text left after normalization", url=url, hint="check the source's `ignore` patterns"
        )
    return result


def rules_fingerprint(rules: TextRules) -> str:
    """Identifies the rules that turn a body into text; a change means re-base."""
    fields = {
        "select": rules.select,
        "exclude": rules.exclude,
        "ignore": [p.pattern for p in rules.ignore],
        "encoding": rules.encoding,
        "format": rules.format,
        "normalizer": normalize.NORMALIZER_VERSION,
        "extractor": EXTRACTOR_VERSION,
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:12]
