"""The site's template changes in a digest: one item per host instead of one per page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from watcher.changes.assessment import rank
from watcher.config.model import Config
from watcher.report.model import OPEN, TEMPLATE_MIN_SOURCES, ChangeItem, GuideSection, TemplateItem


def group_templates(
    config: Config, sections: Sequence[GuideSection]
) -> tuple[list[GuideSection], tuple[TemplateItem, ...]]:
    """Take out the site's template changes: one item per host instead of one per page.

    A change made only of the site's template lines (learnt across the
    host's sources) is grouped by host, however many pages it touched; an
    identical open change on :data:`TEMPLATE_MIN_SOURCES` or more sources of
    a host is grouped too. A change that breaks a claim is never grouped
    away: it stays with its guide.
    """
    groups: dict[tuple[str, object], list[ChangeItem]] = defaultdict(list)
    for section in sections:
        for item in section.changes:
            if item.status == OPEN and not item.claim_problem:
                key = "template" if item.template_only else item.signature
                groups[(config.source(item.source.id).host, key)].append(item)
    templates = tuple(
        TemplateItem(host, tuple(sorted(items, key=lambda i: (i.source.id, i.guide))))
        for (host, key), items in groups.items()
        if key == "template" or len({i.source.id for i in items}) >= TEMPLATE_MIN_SOURCES
    )
    taken = {(i.guide, i.entry_id) for t in templates for i in t.items}
    kept = [
        replace(s, changes=tuple(i for i in s.changes if (i.guide, i.entry_id) not in taken))
        for s in sections
    ]
    ordered = sorted(templates, key=lambda t: (-rank(t.change.severity), t.host))
    return kept, tuple(ordered)
