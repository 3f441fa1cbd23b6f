"""``watcher audit``: the published guides against sources.yaml.

For each guide with a published ``url``, the page is fetched like a source
(the same client: politeness, robots.txt, retries, the private-address
guard), through the quality gate (a challenge page or a soft 404 is a
failure, never a reading), and the links under its "Sources" heading are
compared with the sources ``sources.yaml`` maps to the guide:

- a link the page cites that no source watches;
- a source mapped to the guide that the page does not cite;
- a cited link that is dead (404, 410, a soft 404) or redirects elsewhere;
- when the page's own text last changed: a guide page changed after its
  last sign-off is when its claims should be re-read.

Each audit is stored in ``snapshots/_guides/<guide>/``
(:class:`~watcher.store.guide_pages.GuidePageStore`) with the page's text,
so ``status``, ``ci`` and the digest show the findings offline, as
warnings (``ci --fail-on audit`` makes them fail). The records and the
findings in words are here; :mod:`watcher.guides.audit_run` fetches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from watcher.config.model import Config, Guide
from watcher.fetch.policy import same_page
from watcher.guides.freshness import AUDIT, GuideVerdict, Reason

AUDIT_SCHEMA = "watcher.audit/1"
SOURCES_HEADING = re.compile(r"^\s*(?:\d+\s+)?(?:sources|источники)\b", re.IGNORECASE)
"""The heading of a guide's sources section: "Sources", "4 sources", "Источники"."""


class LinkStatus(StrEnum):
    """What became of one link the guide cites."""

    OK = "ok"
    DEAD = "dead"
    REDIRECTED = "redirected"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class CitedLink:
    """One official link of a guide's sources section, checked."""

    text: str
    url: str
    status: LinkStatus
    source: str | None = None  # the watched source it is, if any
    detail: str = ""  # why it is dead or unchecked; where it redirects

    def describe(self) -> str:
        return f"{self.url} («{self.text}»)" if self.text else self.url


@dataclass(frozen=True)
class GuideAudit:
    """One guide's published page against sources.yaml, as last audited."""

    guide: str
    url: str
    at: datetime
    error: str | None = None
    cited: tuple[CitedLink, ...] = ()
    not_cited: tuple[str, ...] = ()
    page_hash: str | None = None
    page_first_seen: datetime | None = None
    page_changed: datetime | None = None  # None: unchanged since first read

    @property
    def not_watched(self) -> tuple[CitedLink, ...]:
        return tuple(link for link in self.cited if link.source is None)

    def with_status(self, status: LinkStatus) -> tuple[CitedLink, ...]:
        return tuple(link for link in self.cited if link.status == status)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("at", "page_first_seen", "page_changed"):
            data[key] = data[key].isoformat() if data[key] else None
        return {"schema": AUDIT_SCHEMA, **data}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GuideAudit:
        times = {
            key: datetime.fromisoformat(data[key]) if data.get(key) else None
            for key in ("page_first_seen", "page_changed")
        }
        cited = tuple(
            CitedLink(**{**link, "status": LinkStatus(link["status"])})
            for link in data.get("cited", ())
        )
        return cls(
            guide=data["guide"],
            url=data["url"],
            at=datetime.fromisoformat(data["at"]),
            error=data.get("error"),
            cited=cited,
            not_cited=tuple(data.get("not_cited", ())),
            page_hash=data.get("page_hash"),
            **times,
        )


def match_sources(config: Config, guide: Guide, links: Iterable[CitedLink]) -> GuideAudit:
    """Name the watched source of each link; list the guide's sources no link is."""
    by_page = [(s.id, s.url) for s in config.sources]
    cited = tuple(
        replace(link, source=next((sid for sid, url in by_page if _is(link, url)), None))
        for link in links
    )
    found = {link.source for link in cited}
    not_cited = tuple(sid for sid in guide.source_ids if sid not in found)
    return GuideAudit(guide.id, guide.url, datetime.min, cited=cited, not_cited=not_cited)


def _is(link: CitedLink, source_url: str) -> bool:
    """The link is the source's page, directly or after its redirects."""
    moved = link.detail if link.status == LinkStatus.REDIRECTED else None
    return same_page(link.url, source_url) or (moved is not None and same_page(moved, source_url))


# -- findings in words ------------------------------------------------------------


def audit_reasons(
    config: Config, audit: GuideAudit, last_signoff: datetime | None
) -> tuple[Reason, ...]:
    """The audit's findings as warnings of the guide (state ``audit``)."""
    gid = audit.guide
    if audit.error:
        text = f"audit could not read the published guide {audit.url}: {audit.error}"
        return (Reason(AUDIT, None, text, f"check the guide's url, then `watcher audit {gid}`"),)
    reasons = []
    for link in audit.not_watched:
        text = f"the published guide cites {link.describe()}, which sources.yaml does not watch"
        action = f"add it as a source of guide {gid} in sources.yaml, or correct the guide's link"
        reasons.append(Reason(AUDIT, None, text, action))
    for sid in audit.not_cited:
        url = config.source(sid).url if sid in {s.id for s in config.sources} else "?"
        text = (
            f"sources.yaml maps {sid} to this guide, but the published guide does not cite it "
            f"({url})"
        )
        action = f"remove {sid} from guide {gid} in sources.yaml, or cite it in the guide"
        reasons.append(Reason(AUDIT, sid, text, action))
    for link in audit.with_status(LinkStatus.DEAD):
        text = f"the published guide cites a dead link: {link.describe()}: {link.detail}"
        reasons.append(Reason(AUDIT, link.source, text, "replace the link in the guide"))
    for link in audit.with_status(LinkStatus.REDIRECTED):
        text = f"the published guide cites {link.describe()}, which redirects to {link.detail}"
        action = "update the link in the guide" + (
            f" and the url of {link.source} in sources.yaml" if link.source else ""
        )
        reasons.append(Reason(AUDIT, link.source, text, action))
    changed = audit.page_changed
    if changed is not None and (last_signoff is None or changed > last_signoff):
        text = (
            f"the published guide changed on {changed:%Y-%m-%d %H:%M} UTC, after its last "
            "sign-off: re-read its claims in sources.yaml"
        )
        action = f"check the claims of {gid}, then `watcher review {gid} --by NAME --note TEXT`"
        reasons.append(Reason(AUDIT, None, text, action))
    return tuple(reasons)


def with_audits(
    config: Config,
    verdicts: Iterable[GuideVerdict],
    audits: Mapping[str, GuideAudit],
) -> list[GuideVerdict]:
    """Each verdict with its guide's audit findings added (warnings: the state stays)."""
    result = []
    for verdict in verdicts:
        audit = audits.get(verdict.guide)
        if audit is not None:
            extra = audit_reasons(config, audit, verdict.last_signoff)
            verdict = replace(verdict, reasons=verdict.reasons + extra)
        result.append(verdict)
    return result
