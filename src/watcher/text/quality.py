"""Quality gate: is this response the page, or noise standing in for it?

Before a response may become a snapshot it is classified. Anything not
``ok`` is recorded as the source's health (blocked, login wall, outage,
soft 404...) and never as a content change. Pure: no I/O.

:func:`assess_response` runs before extraction, on the HTTP exchange;
:func:`assess_text` runs after normalization, on the text itself.

The page is read cheaply with regular expressions over its first 64 Ki characters
(title, h1, forms, scripts, visible text), which is enough for the
signatures of challenge and error pages. False positives matter as much
as misses: a law that *mentions* "404" or "капча", or a fund's page with a
login box in its header, must stay ``ok``. So a phrase only counts where
it is decisive (the title or an h1), or on a small page, where it is the
page's main message; vendor markers (Cloudflare, DDoS-Guard, Qrator...)
and captcha widgets likewise only count on a small page.
"""

from __future__ import annotations

from collections.abc import Mapping

from watcher.text.page import MIN_PREVIOUS, OK, Exchange, Verdict, read_page
from watcher.text.signatures import CHECKS

__all__ = ["OK", "Verdict", "assess_response", "assess_text"]


def assess_response(
    *,
    url: str,
    final_url: str,
    status: int,
    headers: Mapping[str, str],
    html_text: str | None,
) -> Verdict:
    """Classify a response before extraction.

    ``html_text`` is the decoded body of an HTML response, or None for
    other types (PDF, plain text), which get only the checks of status,
    headers and redirect. The first check that recognises the response
    decides (see :data:`CHECKS`).
    """
    exchange = Exchange(
        url=url,
        final_url=final_url or url,
        status=status,
        headers={key.lower(): value for key, value in headers.items()},
        page=None if html_text is None else read_page(html_text),
    )
    for check in CHECKS:
        verdict = check(exchange)
        if verdict is not None:
            return verdict
    return OK


def assess_text(*, text: str, previous_size: int | None, min_ratio: float = 0.3) -> Verdict:
    """Classify the extracted, normalized text against the last good version.

    ``previous_size`` is the length (characters) of the last good text; a
    text below ``min_ratio`` of it is "shrunk" (a partial or broken page),
    judged only when the previous text had at least :data:`MIN_PREVIOUS`
    characters.
    """
    if not 0 < min_ratio <= 1:
        raise ValueError(f"min_ratio must be in (0, 1], not {min_ratio}")
    if not text.strip():
        return Verdict("empty", "no text left after extraction")
    size = len(text)
    if previous_size is None or previous_size < MIN_PREVIOUS:
        return OK
    if size < min_ratio * previous_size:
        return Verdict(
            "shrunk",
            f"text shrank to {size} characters from {previous_size}"
            f" (below {min_ratio:.0%} of the last good version): likely a partial page",
        )
    return OK
