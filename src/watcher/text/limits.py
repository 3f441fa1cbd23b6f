"""What a hostile body may cost the render stage, and how it fails when it costs more.

Rendering runs on what a server sent, so every limit of the machine is a
limit a page can hit: nesting that exhausts the parsers' recursion, a body
too big to hold, one gigantic line that the later stages (diff, facts,
significance) would chew on for seconds, a body that takes too long or
kills the worker process rendering it (:mod:`watcher.text.workers`). Each
becomes the source's failure with a class and words; none ends the run.
"""

from __future__ import annotations

from typing import Final

from watcher.errors import ExtractError, TimeoutError_, TooLargeError
from watcher.results import Fetched
from watcher.text.render import Rendered, render_fetched
from watcher.text.rules import TextRules

MAX_LINE: Final = 512 * 1024
"""Characters of the longest line of snapshot text; past it the page is ``too-large``.

Extracted pages break into paragraphs; a line this long is a hostile or
broken body that every later stage (diff, facts, significance) would
spend seconds on.
"""


def render_guarded(rules: TextRules, fetched: Fetched, previous_size: int | None) -> Rendered:
    """:func:`render_fetched`, with the limits of a hostile body said as the source's failure.

    A document nested too deep for the parsers (``RecursionError``), one
    too big to hold (``MemoryError``) or a text with a line over
    :data:`MAX_LINE` characters fails this source; it never ends the run.
    """
    url = fetched.final_url or fetched.url
    try:
        rendered = render_fetched(rules, fetched, previous_size)
    except RecursionError:
        raise ExtractError(
            "the document is nested too deeply to read",
            url=url,
            hint="not a page watcher can read; check the URL",
        ) from None
    except MemoryError:
        raise TooLargeError("the document is too large to render in memory", url=url) from None
    longest = max(map(len, rendered.text.split("\n")), default=0)
    if longest > MAX_LINE:
        raise TooLargeError(
            f"a line of {longest} characters in the text (more than {MAX_LINE})",
            url=url,
            hint="not a page watcher can compare; check the URL or `format`",
        )
    return rendered


def render_timeout(fetched: Fetched, deadline: float | None) -> TimeoutError_:
    return TimeoutError_(
        f"rendering the page took longer than {deadline or 0:g}s (timeout)",
        url=fetched.final_url or fetched.url,
        hint="the page is too complex to extract; raise `timeout` if it is genuine",
    )


def render_crash(fetched: Fetched, returncode: int | None) -> ExtractError:
    how = f"signal {-returncode}" if returncode is not None and returncode < 0 else returncode
    return ExtractError(
        f"rendering the page killed its worker process (exit {how})",
        url=fetched.final_url or fetched.url,
        hint="the body is hostile or too big to extract; check the URL",
    )
