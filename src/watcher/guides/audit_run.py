"""Run ``watcher audit``: fetch each published guide and the links it cites.

The guide page goes through the same stages as a source up to its text
(fetch, the quality gate, extract, normalize), and its text is stored in
``snapshots/_guides/<guide>/`` so a change of the page is seen. Each
official link of its sources section (a link to another site) is fetched
with the settings of the source it is, else with ``defaults:`` and its
host's settings: a 404, 410 or soft 404 is dead, a redirect to another
page is reported, any other failure leaves the link unchecked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from watcher.config import page_policy_for
from watcher.config.model import Config, Guide
from watcher.errors import HTTPStatusError, SourceError
from watcher.fetch.client import Fetcher, Transport
from watcher.fetch.policy import same_page
from watcher.guides.audit import SOURCES_HEADING, CitedLink, GuideAudit, LinkStatus, match_sources
from watcher.results import Clock, Fetched, utcnow
from watcher.store.guide_pages import GuidePageStore
from watcher.text import normalize, quality
from watcher.text.decode import decode_body
from watcher.text.html.sections import Link, section_links
from watcher.text.render import render_fetched
from watcher.text.rules import TextRules

PAGE_RULES = TextRules(
    select=(), exclude=(), ignore=(), encoding=None, format="html", min_size_ratio=0.3
)
_DEAD_KINDS = frozenset({"soft-404", "not-found", "home-redirect"})


async def audit_guides(
    config: Config,
    pages: GuidePageStore,
    guides: Sequence[Guide],
    *,
    clock: Clock = utcnow,
    transport: Transport | None = None,
) -> list[GuideAudit]:
    """Audit ``guides`` concurrently; store and return each one's record."""
    async with Fetcher(concurrency=config.defaults.concurrency, transport=transport) as fetcher:
        runs = (_audit(config, guide, fetcher, pages, clock) for guide in guides)
        return list(await asyncio.gather(*runs))


async def _audit(
    config: Config, guide: Guide, fetcher: Fetcher, pages: GuidePageStore, clock: Clock
) -> GuideAudit:
    data = pages.load(guide.id)
    previous = GuideAudit.from_json(data) if data else None
    now = clock()
    try:
        fetched = await fetcher.fetch(guide.url, page_policy_for(config, guide.url))
        text, links = _read(fetched, _previous_size(pages, previous))
    except SourceError as exc:
        audit = GuideAudit(guide.id, guide.url, now, error=str(exc))
        audit = _carry_page(audit, previous, None)
        pages.save(guide.id, audit.to_json())
        return audit
    if links is None:
        audit = GuideAudit(
            guide.id, guide.url, now, error="no sources section (a heading such as 'Sources')"
        )
    else:
        own = (urlsplit(fetched.final_url).hostname or "").removeprefix("www.")
        official = [link for link in links if _host(link.url) != own]
        checked = await asyncio.gather(*(_check(config, fetcher, link) for link in official))
        audit = replace(match_sources(config, guide, checked), at=now)
    audit = _carry_page(audit, previous, normalize.content_hash(text))
    pages.save(guide.id, audit.to_json(), text, audit.page_hash or "")
    return audit


def _read(fetched: Fetched, previous_size: int | None) -> tuple[str, tuple[Link, ...] | None]:
    """The page's text (through the quality gate) and the links of its sources section."""
    text = render_fetched(PAGE_RULES, fetched, previous_size).text
    html, _encoding = decode_body(
        fetched.body, header_charset=fetched.charset, content_type=fetched.content_type
    )
    return text, section_links(html, base_url=fetched.final_url, heading=SOURCES_HEADING)


def _previous_size(pages: GuidePageStore, previous: GuideAudit | None) -> int | None:
    if previous is None or previous.page_hash is None:
        return None
    text = pages.read_text(previous.guide, previous.page_hash)
    return len(text) if text is not None else None


def _carry_page(
    audit: GuideAudit, previous: GuideAudit | None, page_hash: str | None
) -> GuideAudit:
    """The page's hash, first sight and last change, from this reading and the last one."""
    first = previous.page_first_seen if previous else None
    changed = previous.page_changed if previous else None
    old_hash = previous.page_hash if previous else None
    if page_hash is None:
        return replace(audit, page_hash=old_hash, page_first_seen=first, page_changed=changed)
    if old_hash is not None and old_hash != page_hash:
        changed = audit.at
    first = first or audit.at
    return replace(audit, page_hash=page_hash, page_first_seen=first, page_changed=changed)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


async def _check(config: Config, fetcher: Fetcher, link: Link) -> CitedLink:
    """Fetch one cited link: ok, dead, redirected elsewhere, or unchecked (and why)."""
    source = next((s for s in config.sources if same_page(s.url, link.url)), None)
    policy = source.fetch if source is not None else page_policy_for(config, link.url)
    try:
        fetched = await fetcher.fetch(link.url, policy)
    except HTTPStatusError as exc:
        status = LinkStatus.DEAD if exc.status in (404, 410) else LinkStatus.UNCHECKED
        return CitedLink(link.text, link.url, status, detail=exc.message)
    except SourceError as exc:
        return CitedLink(link.text, link.url, LinkStatus.UNCHECKED, detail=exc.message)
    verdict = _gate(fetched)
    if verdict is not None:
        return CitedLink(link.text, link.url, LinkStatus.DEAD, detail=verdict)
    if not same_page(link.url, fetched.final_url):
        return CitedLink(link.text, link.url, LinkStatus.REDIRECTED, detail=fetched.final_url)
    return CitedLink(link.text, link.url, LinkStatus.OK)


def _gate(fetched: Fetched) -> str | None:
    """Why a fetched link is not the page (a soft 404, a redirect home), if it is not."""
    html = None
    if fetched.content_type in ("text/html", "application/xhtml+xml", ""):
        html, _encoding = decode_body(
            fetched.body, header_charset=fetched.charset, content_type=fetched.content_type
        )
    verdict = quality.assess_response(
        url=fetched.url,
        final_url=fetched.final_url,
        status=fetched.status,
        headers=fetched.headers,
        html_text=html,
    )
    return verdict.reason or verdict.kind if verdict.kind in _DEAD_KINDS else None
