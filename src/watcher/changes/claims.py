"""Claims: the short quotes of a source that a guide relies on.

The only module that imports rapidfuzz. Pure, no I/O.

For each claim :func:`check_claims` answers one of:

``intact``    the claim is in the new text, where it was in the old one;
``moved``     the claim is in the new text, but somewhere else;
``modified``  no exact match, but a close one (shown as ``found`` with the
              word-level difference in ``words``);
``missing``   nothing close enough.

Matching works on a folded form of both texts: normalized (spaces, quotes,
dashes), lower case, ``ё`` read as ``е``, quotes dropped, and line breaks
read as spaces, so a claim may span two lines of the snapshot.

"Where it was" comes from the line diff of the two texts: an occurrence is
in place when its line is the old occurrence's line carried over (unchanged
or edited in place). When the old place now holds an edited version of the
claim, that edit is the ``modified`` match, found by aligning the old lines
with their new counterparts word by word; so ``30 дней`` becoming ``10
рабочих дней`` is ``modified`` even though the two share few characters.
Elsewhere a near match is the best fuzzy alignment scoring at least
:data:`THRESHOLD`. A claim is never ``intact`` or ``moved`` unless its
facts (numbers, phones, dates...) are all present unchanged: a claim with
one digit of a phone number changed is ``modified``.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from watcher.changes.diff import diff_texts
from watcher.changes.facts import find_facts
from watcher.results import ClaimResult, ClaimStatus, Diff, Line, WordOp
from watcher.text.normalize import normalize

__all__ = ["STATUSES", "THRESHOLD", "ClaimResult", "check_claims", "summary"]

STATUSES = tuple(ClaimStatus)
"""Every status a claim can have, best first."""
THRESHOLD = 80.0
"""Fuzzy alignment score (0-100) a near match elsewhere in the text must reach."""

_TRACE_FLOOR = 40.0  # an edited claim traced to its old place must keep this much
_QUOTES = "\"'"
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class _Folded:
    """A text folded for matching, with a map back to the normalized text."""

    text: str  # normalized text
    flat: str  # folded, on one line
    origin: tuple[int, ...]  # flat index -> index in ``text``
    line_starts: tuple[int, ...]  # index in ``text`` where each line starts

    def line_of(self, flat_index: int) -> int:
        """0-based line of the character at ``flat_index``."""
        return bisect_right(self.line_starts, self.origin[flat_index]) - 1

    def lines(self) -> list[str]:
        return self.text.split("\n")

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The ``text`` span of the flat span ``[start, end)``."""
        return self.origin[start], self.origin[end - 1] + 1


@dataclass(frozen=True)
class _Occurrence:
    start: int  # flat span
    end: int
    first_line: int  # 0-based
    last_line: int


def check_claims(
    old_text: str | None, new_text: str, claims: Sequence[str]
) -> tuple[ClaimResult, ...]:
    """The status of each claim in ``new_text``, compared with ``old_text``.

    Without ``old_text`` (a first check) a claim found exactly is ``intact``.
    """
    new = _fold(new_text)
    old = _fold(old_text) if old_text is not None else None
    diff = diff_texts(old.text, new.text, context=0) if old is not None else None
    return tuple(_check(claim, old, new, diff) for claim in claims)


def summary(results: Sequence[ClaimResult]) -> str:
    """One line for editors: ``all 3 claims intact``, ``1 of 3 claims modified: «…»``."""
    total = len(results)
    if not total:
        return "no claims"
    noun = "claim" if total == 1 else "claims"
    bad = [r for r in results if not r.ok]
    if not bad:
        moved = sum(r.status == "moved" for r in results)
        if not moved:
            return f"all {total} {noun} intact" if total > 1 else "1 claim intact"
        return f"all {total} {noun} present ({moved} moved)"
    parts = {
        status: ", ".join(f"«{r.claim}»" for r in bad if r.status == status)
        for status in ("modified", "missing")
    }
    if len({r.status for r in bad}) == 1:
        status = bad[0].status
        return f"{len(bad)} of {total} {noun} {status}: {parts[status]}"
    counts = {status: sum(r.status == status for r in bad) for status in parts}
    details = "; ".join(f"{counts[s]} {s}: {quotes}" for s, quotes in parts.items())
    return f"{len(bad)} of {total} {noun} not intact: {details}"


# ------------------------------------------------------------------- folding


def _fold_char(char: str) -> str:
    if char in _QUOTES:
        return ""
    return char.lower().replace("ё", "е")


def _fold_str(text: str) -> str:
    """The folded form of a short string (a claim, a token)."""
    return " ".join("".join(_fold_char(c) for c in normalize(text)).split())


def _fold(text: str) -> _Folded:
    """Fold a whole text, remembering where each folded character came from."""
    text = normalize(text)
    chars: list[str] = []
    origin: list[int] = []
    space = True  # no leading space
    for index, char in enumerate(text):
        if char.isspace():
            if not space:
                chars.append(" ")
                origin.append(index)
                space = True
            continue
        for folded in _fold_char(char):
            chars.append(folded)
            origin.append(index)
            space = False
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    return _Folded(text, "".join(chars), tuple(origin), tuple(starts))


# ------------------------------------------------------------------ checking


def _check(claim: str, old: _Folded | None, new: _Folded, diff: Diff | None) -> ClaimResult:
    key = _fold_str(claim)
    if not key:
        return ClaimResult(claim, ClaimStatus.MISSING)
    found_new = _occurrences(new, key)
    found_old = _occurrences(old, key) if old is not None else []
    old_line = found_old[0].first_line + 1 if found_old else None
    carried = _carried(old, found_old, diff) if old is not None and diff is not None else {}
    in_place = [o for o in found_new if o.first_line in carried.values()]
    if found_new and (old is None or not found_old or in_place):
        hit = (in_place or found_new)[0]
        return ClaimResult(
            claim, ClaimStatus.INTACT, old_line, hit.first_line + 1, _text(new, hit), (), 100
        )
    traced = _traced(claim, key, old, new, found_old, carried) if old is not None else None
    if found_new and (traced is None or _same_facts(claim, traced.found or "")):
        hit = found_new[0]
        return ClaimResult(
            claim, ClaimStatus.MOVED, old_line, hit.first_line + 1, _text(new, hit), (), 100
        )
    return traced or _near(claim, key, new, old_line)


def _occurrences(folded: _Folded, key: str) -> list[_Occurrence]:
    """Exact matches of ``key`` in the folded text, not inside a longer word."""
    head = r"(?<!\w)" if key[0].isalnum() or key[0] == "_" else ""
    tail = r"(?!\w)" if key[-1].isalnum() or key[-1] == "_" else ""
    pattern = re.compile(head + re.escape(key) + tail)
    return [
        _Occurrence(m.start(), m.end(), folded.line_of(m.start()), folded.line_of(m.end() - 1))
        for m in pattern.finditer(folded.flat)
    ]


def _text(folded: _Folded, hit: _Occurrence) -> str:
    start, end = folded.span(hit.start, hit.end)
    return folded.text[start:end].replace("\n", " ")


def _same_facts(claim: str, found: str) -> bool:
    """True when ``found`` quotes every fact of ``claim`` unchanged."""
    return [_fold_str(f.text) for f in find_facts(normalize(claim))] == [
        _fold_str(f.text) for f in find_facts(found)
    ]


# ------------------------------------------------------- where lines went


def _carried(old: _Folded, found_old: list[_Occurrence], diff: Diff) -> dict[int, int]:
    """Old line -> new line, for the lines of the old occurrences that survived."""
    lines = {o.first_line for o in found_old}
    mapping = {}
    for line in lines:
        target = _map_line(diff, line)
        if target is not None:
            mapping[line] = target
    return mapping


def _map_line(diff: Diff, line: int) -> int | None:
    """Where 0-based old ``line`` is in the new text: unchanged or edited in place."""
    shift = 0
    for hunk in diff.hunks:
        old_first = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        if line < old_first:
            break
        if line < old_first + hunk.old_count:
            return _map_in_hunk(hunk.lines, line - old_first, hunk.new_start, hunk.new_count)
        shift += hunk.new_count - hunk.old_count
    return line + shift


def _map_in_hunk(lines: Sequence[Line], offset: int, new_start: int, new_count: int) -> int | None:
    """The new line paired (edited in place) with the hunk's ``offset``-th old line.

    With no context, a hunk is one replaced block: its removed lines, then
    its added lines; paired lines carry word detail, paired in order.
    """
    removed = [i for i, line in enumerate(lines) if line.tag == "-"]
    added = [i for i, line in enumerate(lines) if line.tag == "+"]
    paired_old = [i for i in removed if lines[i].words]
    paired_new = [i for i in added if lines[i].words]
    target = removed[offset] if offset < len(removed) else None
    if target is None or target not in paired_old:
        return None
    new_index = paired_new[paired_old.index(target)]
    first_new = new_start - 1 if new_count else new_start
    return first_new + added.index(new_index)


# ------------------------------------------------------------- near matches


def _traced(
    claim: str,
    key: str,
    old: _Folded,
    new: _Folded,
    found_old: list[_Occurrence],
    carried: dict[int, int],
) -> ClaimResult | None:
    """The edited claim at its old place, by word alignment of old and new lines."""
    for hit in found_old:
        target = carried.get(hit.first_line)
        if target is None:
            continue
        span = hit.last_line - hit.first_line + 1
        old_window = "\n".join(old.lines()[hit.first_line : hit.first_line + span])
        new_window = "\n".join(new.lines()[target : target + span])
        start = old.span(hit.start, hit.end)[0] - old.line_starts[hit.first_line]
        end = old.span(hit.start, hit.end)[1] - old.line_starts[hit.first_line]
        found = _map_span(old_window, new_window, start, end)
        score = float(fuzz.ratio(key, _fold_str(found))) if found else 0.0
        if found and score >= _TRACE_FLOOR:
            words = _word_ops(claim, found)
            return ClaimResult(
                claim, ClaimStatus.MODIFIED, hit.first_line + 1, target + 1, found, words, score
            )
    return None


def _map_span(old: str, new: str, start: int, end: int) -> str:
    """The text of ``new`` that word alignment pairs with ``old[start:end]``."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    first, last = _token_range(old_tokens, start, end)
    matcher = difflib.SequenceMatcher(
        None, [_fold_str(t) for t in old_tokens], [_fold_str(t) for t in new_tokens], False
    )
    picked: list[int] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lo, hi = max(i1, first), min(i2, last)
            picked.extend(range(j1 + lo - i1, j1 + hi - i1))
        elif tag == "insert":
            if first < i1 < last:
                picked.extend(range(j1, j2))
        elif tag == "replace" and i1 < last and first < i2:
            picked.extend(range(j1, j2))
    if not picked:
        return ""
    return "".join(new_tokens[min(picked) : max(picked) + 1]).strip().replace("\n", " ")


def _token_range(tokens: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """Indices ``[first, last)`` of the tokens overlapping characters ``[start, end)``."""
    first = last = None
    pos = 0
    for index, token in enumerate(tokens):
        if pos < end and start < pos + len(token):
            first = index if first is None else first
            last = index + 1
        pos += len(token)
    return (first or 0), (last or 0)


def _near(claim: str, key: str, new: _Folded, old_line: int | None) -> ClaimResult:
    """The best fuzzy match of ``key`` in the new text, or ``missing``."""
    alignment = fuzz.partial_ratio_alignment(key, new.flat, score_cutoff=THRESHOLD)
    if alignment is None or not new.flat:
        return ClaimResult(claim, ClaimStatus.MISSING, old_line)
    start, end = _word_bounds(new.flat, alignment.dest_start, alignment.dest_end)
    start, end = _one_line(new, key, start, end)
    found = new.text[slice(*new.span(start, end))].replace("\n", " ")
    line = new.line_of(start) + 1
    score = float(fuzz.ratio(key, new.flat[start:end]))
    return ClaimResult(
        claim, ClaimStatus.MODIFIED, old_line, line, found, _word_ops(claim, found), score
    )


def _one_line(folded: _Folded, key: str, start: int, end: int) -> tuple[int, int]:
    """A near match that straddles lines, clipped to its main line when that reads closer.

    A fuzzy window as long as the claim can slide over a line break and
    pick up the end of a heading above; a claim may also span two lines.
    The clipped window wins only when it matches the claim better.
    """
    if folded.line_of(start) == folded.line_of(end - 1):
        return start, end
    spans: dict[int, list[int]] = {}
    for index in range(start, end):
        spans.setdefault(folded.line_of(index), []).append(index)
    best = max(spans.values(), key=len)
    clip = _word_bounds(folded.flat, best[0], best[-1] + 1)
    clipped = fuzz.ratio(key, folded.flat[slice(*clip)])
    return clip if clipped > fuzz.ratio(key, folded.flat[start:end]) else (start, end)


def _word_bounds(flat: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` so that it cuts no word nor number, and trim spaces."""
    while start > 0 and flat[start - 1].isalnum() and flat[start].isalnum():
        start -= 1
    while end < len(flat) and flat[end].isalnum() and flat[end - 1].isalnum():
        end += 1
    while end < len(flat) and _number_goes_on(flat, end):
        end += 1  # a number written on: 555-01-45, 01.12.2025
    while start < end and flat[start] == " ":
        start += 1
    while end > start and flat[end - 1] == " ":
        end -= 1
    return start, max(end, start + 1)


def _number_goes_on(flat: str, end: int) -> bool:
    """True when ``flat[end]`` continues the number that ends at ``end``."""
    before, here = flat[end - 1], flat[end]
    if here.isdigit():
        return before.isdigit() or (before in "-./" and end >= 2 and flat[end - 2].isdigit())
    return here in "-./" and before.isdigit() and end + 1 < len(flat) and flat[end + 1].isdigit()


def _word_ops(claim: str, found: str) -> tuple[WordOp, ...]:
    """Word-level difference from the claim to what was found (case-insensitive)."""
    old, new = _TOKEN.findall(normalize(claim)), _TOKEN.findall(found)
    matcher = difflib.SequenceMatcher(
        None, [_fold_str(t) for t in old], [_fold_str(t) for t in new], False
    )
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(ops, "equal", "".join(new[j1:j2]))
            continue
        _append(ops, "delete", "".join(old[i1:i2]))
        _append(ops, "insert", "".join(new[j1:j2]))
    return tuple(ops)


def _append(ops: list[WordOp], op: str, text: str) -> None:
    if not text:
        return
    if ops and ops[-1].op == op:
        ops[-1] = WordOp(op, ops[-1].text + text)
    else:
        ops.append(WordOp(op, text))
