"""What a change means for the guides: claims, severity and law units, from two texts.

Pure, no I/O: the one place where the signal modules meet. Given the
version an editor verified (or the previous one) and the current one,
:func:`assess_texts` answers "is my guide still right?":

- the guide's claims (:mod:`watcher.changes.claims`), checked even when nothing
  changed, so "page changed, all 3 claims intact" can be said;
- the severity and its reasons (:mod:`watcher.changes.significance`), with the
  source's ``minor:`` patterns; a modified or missing claim is ``major``;
- for ``structure: law`` sources, the changes per article
  (:mod:`watcher.changes.legal`) and the new edition date.

:func:`assess_versions` caches results by content hashes (never by texts,
which may be megabytes): ``status``, ``ci`` and ``report`` ask about the
same pinned/current pair for every guide citing a source.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from watcher.changes import claims as claim_check
from watcher.changes.diff import diff_texts
from watcher.changes.facts import ChangedFact
from watcher.changes.legal import law_changes
from watcher.changes.rules import SignalRules
from watcher.changes.significance import SEVERITIES, assess
from watcher.results import ClaimResult, Diff, GuideClaims, Severity

__all__ = ["SEVERITIES", "Assessment", "GuideClaims", "assess_texts", "assess_versions", "rank"]

CACHE_SIZE = 512
"""Assessments kept by (source, hashes, claims, rules); each is a few hundred bytes."""


@dataclass(frozen=True)
class Assessment:
    """A change (or no change) seen from the guides citing a source.

    ``severity`` is None when the two texts are equal and every claim holds.
    """

    severity: Severity | None
    reasons: tuple[str, ...] = ()
    claims: tuple[ClaimResult, ...] = ()
    law: tuple[str, ...] = ()
    edition: str | None = None
    facts: tuple[ChangedFact, ...] = ()
    template: int = 0
    """Changed lines left out as the site's template (shared with other pages of the host)."""
    volatile: int = 0
    """Changed lines left out as volatile for the source (learnt from its history)."""

    @property
    def template_only(self) -> bool:
        """Only the site's template changed: shown once per host, never a guide flag."""
        return self.severity == Severity.COSMETIC and self.template > 0 and not self.claims_broken

    @property
    def claims_broken(self) -> bool:
        return bool(self.claim_problems)

    @property
    def claim_problems(self) -> tuple[ClaimResult, ...]:
        """Claims modified or missing: the guide quotes something the page no longer says."""
        return tuple(result for result in self.claims if not result.ok)

    @property
    def claims_summary(self) -> str | None:
        """``all 3 claims intact``, ``1 of 3 claims modified: «...»``; None without claims."""
        return claim_check.summary(self.claims) if self.claims else None


def rank(severity: Severity | None) -> int:
    """Order of severities, for sorting: -1 for none, then cosmetic, minor, major."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def assess_texts(
    rules: SignalRules,
    old: str | None,
    new: str,
    claims: Sequence[str] = (),
    *,
    diff: Diff | None = None,
    template: frozenset[str] = frozenset(),
    volatile: Sequence[str] = (),
) -> Assessment:
    """Assess ``old`` -> ``new`` under a source's ``rules`` for a guide quoting ``claims``.

    Without ``old`` (a first baseline) only the claims are checked.
    """
    results = claim_check.check_claims(old, new, claims) if claims else ()
    if old is None or old == new:
        return _unchanged(results)
    diff = diff or diff_texts(old, new)
    significance = assess(
        old, new, diff, claims=results, minor=rules.minor, template=template, volatile=volatile
    )
    law = law_changes(old, new).describe() if rules.structure == "law" else ()
    law = tuple(unit for unit in law if unit not in significance.reasons)  # each reason once
    return Assessment(
        severity=significance.severity,
        reasons=significance.reasons,
        claims=results,
        law=law,
        edition=significance.edition,
        facts=significance.changed_facts,
        template=significance.template,
        volatile=significance.volatile,
    )


_CACHE: OrderedDict[tuple[object, ...], Assessment] = OrderedDict()


def assess_versions(
    source_id: str,
    rules: SignalRules,
    old_hash: str,
    new_hash: str,
    claims: Sequence[str],
    read: Callable[[str], str],
    *,
    template: frozenset[str] = frozenset(),
    volatile: Sequence[str] = (),
) -> Assessment:
    """:func:`assess_texts` of two stored versions, ``read`` giving a hash's text.

    Cached by the hashes, the claims and the source's rules (``minor``,
    ``structure``); ``read`` is only called on a miss.
    """
    key = _key(source_id, rules, old_hash, new_hash, claims, template, volatile)
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    new = read(new_hash)
    old = new if old_hash == new_hash else read(old_hash)
    found = assess_texts(rules, old, new, claims, template=template, volatile=volatile)
    _store(key, found)
    return found


def remember(
    source_id: str,
    rules: SignalRules,
    old_hash: str,
    new_hash: str,
    claims: Sequence[str],
    assessment: Assessment,
    *,
    template: frozenset[str] = frozenset(),
    volatile: Sequence[str] = (),
) -> None:
    """Keep an assessment made from the texts, for :func:`assess_versions` of the same hashes.

    A check assesses its change (previous -> current), then each citing
    guide's pinned -> current; when the pin is the previous version, the
    second is the first, and is not computed again.
    """
    _store(_key(source_id, rules, old_hash, new_hash, claims, template, volatile), assessment)


def _key(
    source_id: str,
    rules: SignalRules,
    old_hash: str,
    new_hash: str,
    claims: Sequence[str],
    template: frozenset[str],
    volatile: Sequence[str],
) -> tuple[object, ...]:
    return (source_id, old_hash, new_hash, tuple(claims), rules, template, tuple(volatile))


def _store(key: tuple[object, ...], assessment: Assessment) -> None:
    _CACHE[key] = assessment
    _CACHE.move_to_end(key)
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)


def _unchanged(results: tuple[ClaimResult, ...]) -> Assessment:
    """No text changed; a claim not found at all is still a problem of the guide."""
    problems = [r for r in results if not r.ok]
    if not problems:
        return Assessment(None, (), results)
    reasons = tuple(f"claim {r.status}: «{r.claim}»" for r in problems)
    return Assessment(Severity.MAJOR, reasons, results)
