"""How much a change matters: cosmetic, minor or major, with reasons in words.

Pure, no I/O. :func:`assess` looks at a :class:`~watcher.models.Diff` the
way an editor would, asking "is my guide still right?":

major
    a claim the guide relies on is modified or missing; a fact (number,
    date, amount, phone, percentage, time limit, law or article reference)
    is added, removed or changed; an edition marker of a legal text (``ред.
    от ...``, ``утратил силу``, ``вступает в силу с ...``) appears or changes,
    and the new edition date is named; the wording of a requirement changes
    (``не``, ``необходимо``, ``только``...); an item is added to or removed
    from a list (documents to bring, conditions); or much of the text
    changes (a share of :data:`MAJOR_SHARE`, or a run of
    :data:`MAJOR_RUN` changed words).
minor
    a smaller rewording; lines only reordered; changes only in lines that
    match the source's ``minor:`` patterns.
cosmetic
    only punctuation, letter case or spacing changed.

List numbers (``2.`` becoming ``3.`` when an item is inserted above) and
link targets are not facts: the inserted item and the visible text are.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from watcher.changes import legal
from watcher.changes.facts import ChangedFact, changed_facts
from watcher.changes.volatility import shape
from watcher.changes.wording import same_reading, words_of
from watcher.results import SEVERITIES, ClaimResult, Diff, Severity, WordOp

__all__ = [
    "MAJOR_RUN",
    "MAJOR_SHARE",
    "SEVERITIES",
    "Significance",
    "assess",
    "at_least",
]

MAJOR_SHARE = 0.2
"""Share of the old text's words changed that makes a change major."""
MAJOR_RUN = 30
"""Changed words in one run (a paragraph added or removed) that make a change major."""
LOST_SHARE = 0.5
"""A page that lost this share of its words says so first: "the page lost 70% of its text"."""
REPLACED_SHARE = 0.8
"""A page whose words were this much removed and replaced holds a different document now."""

_FACT_NAMES = {
    "law": "law reference",
    "date": "date",
    "phone": "phone number",
    "money": "amount",
    "percent": "percentage",
    "duration": "time limit",
    "number": "number",
}
_MAX_FACT_REASONS = 8
_WORD = re.compile(r"\w+")
_ORDINAL = re.compile(r"^(?:- )?\d+(?:\.\d+)*[.)](?=\s)")
_LINK_TARGET = re.compile(r"\[(?:https?:|mailto:|tel:|/)[^\]]*\]")
_LIST_ITEM = re.compile(r"^(?:- |\d+(?:\.\d+)*[.)] |[а-яё]\) )")
_STRONG = (
    r"необходим\w*|обязан\w*|обязательн\w*|требу\w*|должн\w*|вправе|запрещ\w*|"
    r"допуска\w*|только|исключительно|бесплатн\w*|платн\w*"
)
_REQUIREMENT = re.compile(rf"\b(?:не|нет|ни|нельзя|без|лишь|{_STRONG})\b", re.IGNORECASE)
_STRONG_REQUIREMENT = re.compile(rf"\b(?:{_STRONG})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Significance:
    """The severity of a change and why, in plain words."""

    severity: Severity
    reasons: tuple[str, ...]
    changed_facts: tuple[ChangedFact, ...] = ()
    edition: str | None = None  # the new edition date of a legal text, if it changed
    template: int = 0  # changed lines left out as the site's template
    volatile: int = 0  # changed lines left out as volatile


def at_least(severity: Severity, minimum: Severity) -> bool:
    """True when ``severity`` is ``minimum`` or more severe."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)


@dataclass(frozen=True)
class _Change:
    """One changed line or pair of lines (edited in place), with word ops per side."""

    block: int
    old: str | None
    new: str | None
    old_words: tuple[WordOp, ...] = ()
    new_words: tuple[WordOp, ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(t for t in (self.old, self.new) if t is not None)


@dataclass
class _Verdict:
    """Reasons gathered by severity while assessing."""

    major: list[str] = field(default_factory=list)
    minor: list[str] = field(default_factory=list)


def assess(
    old: str,
    new: str,
    diff: Diff,
    *,
    claims: Sequence[ClaimResult] = (),
    minor: Sequence[re.Pattern[str]] = (),
    template: frozenset[str] = frozenset(),
    volatile: Collection[str] = (),
) -> Significance:
    """The severity of the change ``old`` -> ``new`` (whose diff is ``diff``).

    Changed lines that are the site's ``template`` (shared with other pages
    of the host) or of a ``volatile`` shape (see :mod:`watcher.changes.volatility`)
    are left out: a change made only of them is cosmetic, and never flags.
    """
    verdict = _Verdict(major=list(_claim_reasons(claims)))
    changes = list(_changes(diff))
    changes, moved = _without_moves(changes)
    changes, shared = _without(changes, lambda text: text in template)
    changes, churn = _without(changes, lambda text: shape(text) in volatile)
    kept, changes = _split(changes, minor)
    if moved:
        verdict.minor.append(f"{moved} line{'s' if moved > 1 else ''} reordered, no text changed")
    if shared:
        verdict.minor.append(
            f"{shared} changed line{'s are' if shared > 1 else ' is'} the site's template "
            "(shared with other pages of the site), not counted"
        )
    if churn:
        verdict.minor.append(
            f"{churn} changed line{'s are' if churn > 1 else ' is'} volatile "
            "(changed on several recent checks), ignored"
        )
    if kept:
        verdict.minor.append(f"{len(kept)} changed line(s) match the source's minor patterns")
    facts = _changed_facts(changes)
    verdict.major.extend(_fact_reasons(facts))
    edition = _edition(old, new, changes, verdict)
    verdict.major.extend(_wording_reasons(changes))
    severity = _scale(old, changes, verdict)
    if verdict.major:
        severity = Severity.MAJOR
    elif not changes and (moved or kept):
        severity = Severity.MINOR
    reasons = tuple(dict.fromkeys(verdict.major + verdict.minor)) or ("no text changed",)
    return Significance(severity, reasons, facts, edition, template=shared, volatile=churn)


# ---------------------------------------------------------------- the changes


def _changes(diff: Diff) -> Iterator[_Change]:
    """The changed lines of ``diff``, pairs of lines edited in place together."""
    block = 0
    for hunk in diff.hunks:
        removed: list[tuple[str, tuple[WordOp, ...]]] = []
        added: list[tuple[str, tuple[WordOp, ...]]] = []
        for line in (*hunk.lines, None):
            if line is not None and line.tag != " ":
                (removed if line.tag == "-" else added).append((line.text, line.words))
                continue
            if removed or added:
                block += 1
                yield from _block(block, removed, added)
                removed, added = [], []


def _block(
    block: int,
    removed: list[tuple[str, tuple[WordOp, ...]]],
    added: list[tuple[str, tuple[WordOp, ...]]],
) -> Iterator[_Change]:
    """Pair the lines with word detail in order; the others changed whole.

    A removed and an added line of the block with the same words (case,
    ``ё`` and punctuation aside) are one line edited in place, cosmetically.
    """
    paired_new = iter([(text, words) for text, words in added if words])
    lone_new = [text for text, words in added if not words]
    for text, words in removed:
        if words:
            new_text, new_words = next(paired_new)
            yield _Change(block, text, new_text, words, new_words)
            continue
        twin = next((t for t in lone_new if words_of(t) == words_of(text)), None)
        if twin is None:
            yield _Change(block, text, None, (WordOp("delete", text),))
            continue
        lone_new.remove(twin)
        yield _Change(block, text, twin, (WordOp("equal", text),), (WordOp("equal", twin),))
    for text in lone_new:
        yield _Change(block, None, text, (), (WordOp("insert", text),))


def _without_moves(changes: list[_Change]) -> tuple[list[_Change], int]:
    """Drop lines removed in one place and added unchanged in another."""
    gone = Counter(c.old for c in changes if c.old is not None and c.new is None)
    came = Counter(c.new for c in changes if c.new is not None and c.old is None)
    moved = gone & came
    left = {"-": Counter(moved), "+": Counter(moved)}
    rest = []
    for change in changes:
        side, text = _whole_line(change)
        if text is not None and left[side][text] > 0:
            left[side][text] -= 1
            continue
        rest.append(change)
    return rest, sum(moved.values())


def _whole_line(change: _Change) -> tuple[str, str | None]:
    """``("-", text)`` for a line removed whole, ``("+", text)`` for one added whole."""
    if change.new is None:
        return "-", change.old
    if change.old is None:
        return "+", change.new
    return "", None


def _without(changes: list[_Change], ignored: Callable[[str], bool]) -> tuple[list[_Change], int]:
    """The changes whose every line is not ``ignored``, and how many lines were."""
    rest = [c for c in changes if not all(ignored(text) for text in c.texts)]
    return rest, sum(len(c.texts) for c in changes) - sum(len(c.texts) for c in rest)


def _split(
    changes: list[_Change], patterns: Sequence[re.Pattern[str]]
) -> tuple[list[_Change], list[_Change]]:
    """Changes inside lines matching a ``minor:`` pattern, and the others."""
    kept = [c for c in changes if any(p.search(t) for p in patterns for t in c.texts)]
    return kept, [c for c in changes if c not in kept]


# ---------------------------------------------------------------------- rules


def _claim_reasons(claims: Sequence[ClaimResult]) -> Iterator[str]:
    for claim in claims:
        if claim.status == "modified":
            yield f"claim modified: «{claim.claim}» -> «{claim.found}»"
        elif claim.status == "missing":
            yield f"claim missing: «{claim.claim}»"


def _changed_facts(changes: Iterable[_Change]) -> tuple[ChangedFact, ...]:
    """Facts changed in place, and facts removed in one line and added in another."""
    in_place: list[ChangedFact] = []
    gone: list[ChangedFact] = []
    came: list[ChangedFact] = []
    for change in changes:
        for fact in changed_facts(_mask(change.old_words), _mask(change.new_words)):
            if change.old is not None and change.new is not None:
                in_place.append(fact)
            else:
                (gone if fact.new is None else came).append(fact)
    return tuple(in_place) + _pair_apart(gone, came)


def _pair_apart(gone: list[ChangedFact], came: list[ChangedFact]) -> tuple[ChangedFact, ...]:
    """Cancel facts moved unchanged between lines; pair the rest by kind."""
    came_left = list(came)
    out: list[ChangedFact] = []
    for fact in gone:
        same = next((c for c in came_left if (c.kind, c.new) == (fact.kind, fact.old)), None)
        if same is not None:
            came_left.remove(same)
        else:
            out.append(fact)
    paired: list[ChangedFact] = []
    for fact in out:
        match = next((c for c in came_left if c.kind == fact.kind), None)
        if match is not None:
            came_left.remove(match)
        paired.append(ChangedFact(fact.kind, fact.old, match.new if match else None))
    return tuple(paired) + tuple(came_left)


def _mask(words: Sequence[WordOp]) -> tuple[WordOp, ...]:
    """Blank out list numbers and link targets, keeping every op's length."""
    text = "".join(w.text for w in words)
    spans = [m.span() for m in _LINK_TARGET.finditer(text)]
    ordinal = _ORDINAL.match(text)
    if ordinal:
        spans.append(ordinal.span())
    if not spans:
        return tuple(words)
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    masked, out, pos = "".join(chars), [], 0
    for word in words:
        out.append(WordOp(word.op, masked[pos : pos + len(word.text)]))
        pos += len(word.text)
    return tuple(out)


def _fact_reasons(facts: Sequence[ChangedFact]) -> Iterator[str]:
    for fact in facts[:_MAX_FACT_REASONS]:
        name = _FACT_NAMES.get(fact.kind, fact.kind)
        if fact.old is not None and fact.new is not None:
            yield f"{name} changed: {fact.old} -> {fact.new}"
        elif fact.old is not None:
            yield f"{name} removed: {fact.old}"
        else:
            yield f"{name} added: {fact.new}"
    if len(facts) > _MAX_FACT_REASONS:
        yield f"and {len(facts) - _MAX_FACT_REASONS} more changed facts"


def _edition(old: str, new: str, changes: Sequence[_Change], verdict: _Verdict) -> str | None:
    """Edition markers added in changed lines, and the new edition date if it changed."""
    for change in changes:
        before = set(legal.edition_markers(change.old or ""))
        for marker in legal.edition_markers(change.new or ""):
            if marker not in before:
                verdict.major.append(f"edition marker: {marker}")
    was, now = legal.edition_date(old), legal.edition_date(new)
    if now is not None and now != was:
        verdict.major.insert(0, f"new edition of {now}")
        return now
    return None


def _wording_reasons(changes: Sequence[_Change]) -> Iterator[str]:
    """Requirement words edited in a line, or gained or lost by whole lines; list items."""
    whole: dict[str, Counter[str]] = {"delete": Counter(), "insert": Counter()}
    for change in changes:
        if change.old is not None and change.new is not None:
            yield from _edited_requirement(change)
            continue
        text = change.old or change.new or ""
        op, side = ("delete", "removed") if change.new is None else ("insert", "added")
        whole[op].update(m.group().lower() for m in _STRONG_REQUIREMENT.finditer(text))
        if _LIST_ITEM.match(text):
            yield f"list item {side}: «{_short(text)}»"
    for word in whole["delete"] - whole["insert"]:
        yield f"requirement wording changed: «{word}» removed"
    for word in whole["insert"] - whole["delete"]:
        yield f"requirement wording changed: «{word}» added"


def _edited_requirement(change: _Change) -> Iterator[str]:
    for word in change.old_words + change.new_words:
        found = _REQUIREMENT.search(word.text) if word.op != "equal" else None
        if found:
            sign = "removed" if word.op == "delete" else "added"
            yield f"requirement wording changed: «{found.group()}» {sign}"
            return


def _scale(old: str, changes: Sequence[_Change], verdict: _Verdict) -> Severity:
    """Severity from the amount of change; adds the reason that says how much."""
    if not changes:
        return Severity.COSMETIC
    if all(same_reading(c.old or "", c.new or "") for c in changes):
        verdict.minor.append("only punctuation, letter case, spacing or link spelling changed")
        return Severity.COSMETIC
    removed, added, run = _counts(changes)
    old_words = max(len(words_of(old)), 1)
    share = max(removed, added) / old_words
    words = max(removed, added)
    verdict.minor.append(
        f"{words} word{'s' if words != 1 else ''} changed ({share:.0%} of the text)"
    )
    lost = (removed - added) / old_words
    if lost >= LOST_SHARE:
        verdict.major.insert(0, f"the page lost {lost:.0%} of its text")
    elif removed / old_words >= REPLACED_SHARE and added >= removed * REPLACED_SHARE:
        verdict.major.insert(0, "the page now holds a different text (most of it replaced)")
    if run >= MAJOR_RUN:
        verdict.major.append(f"large change: {run} changed words in one run")
    elif share >= MAJOR_SHARE:
        verdict.major.append(f"large change: {share:.0%} of the text")
    return Severity.MAJOR if verdict.major else Severity.MINOR


def _counts(changes: Sequence[_Change]) -> tuple[int, int, int]:
    """Words removed, words added, and the longest run of changed words."""
    removed = added = run = 0
    whole: Counter[tuple[int, str]] = Counter()
    for change in changes:
        for word in change.old_words + change.new_words:
            count = len(_WORD.findall(word.text)) if word.op != "equal" else 0
            if word.op == "delete":
                removed += count
            elif word.op == "insert":
                added += count
            run = max(run, count)
            if change.old is None or change.new is None:
                whole[(change.block, word.op)] += count
    return removed, added, max(run, *whole.values(), 0)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
