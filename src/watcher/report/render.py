"""Render digests with jinja2: the only module that imports jinja2.

Templates are package data in ``report/templates/``. A user directory
(``reports: templates:`` in sources.yaml) is searched first, so any
template can be replaced; a replacement can extend the packaged one
through the ``default/`` prefix (as in datasette)::

    {% extends "default/digest.html" %}
    {% block intro %}<p>Our weekly check of official sources.</p>{% endblock %}

Autoescape is on for HTML and XML, and an undefined variable is an error.
The Markdown template is not HTML-escaped: everything from a page goes
through :func:`md_code` (inline code) or a fenced ``diff`` block, and
configuration text through :func:`md_text`, so a source cannot inject
links, images, headings or HTML into a comment.

The same Markdown template, rendered with plain filters (nothing escaped:
there is no markup to inject into), is the plain-text part of a mail
(:meth:`Renderer.plain`): Markdown reads as text, its escapes do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from watcher.changes import claims
from watcher.changes.facts import FACT_LABELS
from watcher.errors import ConfigError
from watcher.report.model import ChangeItem, Digest, HealthItem

MD_DIFF_LINES = 60
"""Diff lines per change in Markdown before the block is cut with a note."""

STATE_LABELS = {
    "needs review": "Needs review",
    "broken": "Broken source",
    "unverified": "Not checked recently",
    "overdue": "Sign-off overdue",
    "fresh": "Fresh",
}
PROBLEM_LABELS = {
    "broken": "Broken",
    "failing": "Failing",
    "never checked": "Never checked",
    "moved": "Moved",
}


def environment(
    user_templates: Path | None = None, packages: Sequence[str] = (), *, plain: bool = False
) -> Environment:
    """The jinja2 environment: user templates over the packaged ones.

    ``packages`` adds the ``templates/`` folder of other watcher packages (the
    editor desk's pages), below these, so their pages can import the digest's
    macros and extend its layout. ``plain``: the Markdown filters write text
    as it is (a mail's plain part).
    """
    package = PackageLoader("watcher.report", "templates")
    loaders: list[Any] = [PrefixLoader({"default": package}), package]
    loaders += [PackageLoader(name, "templates") for name in packages]
    if user_templates is not None:
        loaders.insert(0, FileSystemLoader(str(user_templates)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        when=when,
        day=day,
        md_text=plain_text if plain else md_text,
        md_code=plain_code if plain else md_code,
        md_diff=md_diff,
        web_url=web_url,
        fact_label=lambda kind: FACT_LABELS.get(kind, kind),
        state_label=lambda state: STATE_LABELS.get(state, state),
        problem_label=lambda problem: PROBLEM_LABELS.get(problem, problem),
        plural=plural,
        size=size,
        failed_checks=failed_checks,
        claims_summary=claims.summary,
    )
    return env


class Renderer:
    """Renders one digest in every text format."""

    def __init__(self, user_templates: Path | None = None, packages: Sequence[str] = ()) -> None:
        self.env = environment(user_templates, packages)
        self.plain_env = environment(user_templates, packages, plain=True)

    def render(self, name: str, *, plain: bool = False, **context: Any) -> str:
        env = self.plain_env if plain else self.env
        try:
            return env.get_template(name).render(**context)
        except TemplateError as exc:
            filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
            where = f" ({filename}:{line})" if filename else ""
            raise ConfigError(
                f"cannot render template {name}{where}: {exc}",
                hint="check the templates directory named in reports: templates:",
            ) from None

    def style(self) -> str:
        """The packaged digest page's stylesheet, for pages that share its look (the desk)."""
        template = self.env.get_template("default/digest.html")
        return "".join(template.blocks["style"](template.new_context({})))

    def html(self, digest: Digest, audience: str = "all") -> str:
        """The self-contained HTML page (also the e-mail body)."""
        return self.render("digest.html", digest=digest, audience=audience)

    def markdown(self, digest: Digest, audience: str = "all") -> str:
        """Markdown for an issue or pull-request comment."""
        return self.render("digest.md", digest=digest, audience=audience)

    def plain(self, digest: Digest, audience: str = "all") -> str:
        """The Markdown digest with its text unescaped: a mail's plain-text part."""
        return self.render("digest.md", plain=True, digest=digest, audience=audience)

    def entry_html(self, item: ChangeItem, digest: Digest) -> str:
        """The HTML fragment of one feed entry (escaped again in the feed)."""
        return self.render("feed_entry.html", item=item, digest=digest)

    def feed(self, entries: Sequence[Mapping[str, Any]], updated: datetime, link: str) -> str:
        return self.render("feed.xml", entries=entries, updated=updated, link=link)

    def index(self, digests: Iterable[Mapping[str, Any]], generated: datetime) -> str:
        return self.render("index.html", digests=list(digests), generated=generated)


# -- filters -------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def day(moment: datetime | None) -> str:
    return f"{moment:%d %b %Y}".lstrip("0") if moment else "never"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def failed_checks(item: HealthItem) -> str:
    """``2 of 3 failed checks`` while failing; ``5 failed checks in a row`` once broken."""
    if item.failures >= item.fail_after:
        return f"{plural(item.failures, 'failed check')} in a row"
    return f"{item.failures} of {item.fail_after} failed checks"


def size(item: ChangeItem) -> str:
    """How much changed, in words an editor can weigh."""
    stats = item.stats
    parts = []
    if stats.lines_removed:
        parts.append(plural(stats.lines_removed, "line") + " removed")
    if stats.lines_added:
        parts.append(plural(stats.lines_added, "line") + " added")
    words = max(stats.words_added, stats.words_removed)
    share = stats.changed_ratio * 100
    share_text = "under 1%" if 0 < share < 1 else f"{share:.0f}%"
    return f"{', '.join(parts) or 'no lines'} ({plural(words, 'word')}, {share_text} of the page)"


def web_url(url: str | None) -> str | None:
    """The URL if it may be a live link (http or https), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


_MD_INLINE = re.compile(r"([\\`*_\[\]<|~])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_BLOCK_START = re.compile(r"^([#>+=-])(?=\s|$|[#=-])")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def md_text(text: object) -> str:
    """Configuration text made inert in Markdown, and still readable as text.

    What could start markup is backslash-escaped: emphasis, code, links and
    images (``[``), HTML and autolinks (``<``), tables, entities, and a
    block marker at the start (a heading, a quote, a list). Parentheses and
    ``->`` stay as they are: without ``[`` and ``<`` they make no link.
    """
    flat = " ".join(str(text).split())
    flat = _MD_INLINE.sub(r"\\\1", flat)
    flat = _MD_ENTITY.sub(r"\\&", flat)
    flat = _MD_BLOCK_START.sub(r"\\\1", flat)
    flat = _MD_ORDERED.sub(r"\1\\\2", flat)
    return flat.replace("://", ":&#47;&#47;").replace("www.", "www&#46;")


def md_code(text: object) -> str:
    """Any text as one inline code span (inert in Markdown), backticks and all."""
    flat = " ".join(str(text).split()) or " "
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    if flat.startswith("`") or flat.endswith("`"):
        flat = f" {flat} "  # CommonMark strips one space each side
    return f"{fence}{flat}{fence}"


def plain_text(text: object) -> str:
    """Configuration text in a plain-text mail: as it is, on one line."""
    return " ".join(str(text).split())


def plain_code(text: object) -> str:
    """A command or quote in a plain-text mail: in backticks when it has none itself."""
    flat = plain_text(text)
    return flat if "`" in flat else f"`{flat}`"


def md_diff(item: ChangeItem, limit: int = MD_DIFF_LINES) -> str:
    """A fenced ``diff`` block of the change, cut after ``limit`` lines with a note."""
    lines: list[str] = []
    for block in item.blocks:
        if block.skipped_before:
            lines.append(f"@@ {plural(block.skipped_before, 'unchanged line')} @@")
        lines.extend(line.tag + line.text for line in block.lines)
    if item.skipped_after:
        lines.append(f"@@ {plural(item.skipped_after, 'unchanged line')} @@")
    hidden = max(0, len(lines) - limit) + item.omitted_lines
    body = "\n".join(lines[:limit])
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=0)
    fence = "`" * max(3, longest + 1)
    note = ""
    if hidden:
        note = f"\n\n*{plural(hidden, 'more line')} not shown; full diff:* {md_code(item.command)}"
    return f"{fence}diff\n{body}\n{fence}{note}"
