"""Pure diffing: two normalized texts -> a :class:`~watcher.models.Diff`.

Texts are ``"\\n"``-joined lines without a trailing newline; the empty text
has no lines. The work is done in two levels, as ``PERF-NOTES.md`` asks:

1. Lines. :func:`~watcher.changes.matching.matching_blocks` trims the common prefix and suffix, then
   anchors on lines that occur once on each side (patience diff), and only
   inside small leftover regions runs :class:`difflib.SequenceMatcher`. A
   large region without unique anchors gets a Myers diff bounded by an edit
   budget; over the budget it degrades to "whole region replaced". No step
   can go quadratic on a large input.
2. Words, inside replaced blocks only. Removed and added lines are paired in
   order when similar enough, and each pair is diffed token by token
   (tokens are ``\\w+``, runs of whitespace, or one other character).

``changed_ratio`` is ``max(words_removed, words_added)`` divided by the
number of words in the old text (at least 1), capped to 1.0: replacing one
word of a hundred is 0.01, a baseline (empty old text) is 1.0. A "word" is
a ``\\w+`` token everywhere in this module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from watcher.changes.matching import Opcode, matching_blocks, opcodes
from watcher.results import Diff, DiffStats, Hunk, Line, WordOp

__all__ = ["apply_diff", "diff_texts", "render_unified"]

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_WORD = re.compile(r"\w+")

_PAIR_MAX_LINES = 2_000  # replaced blocks larger than this get no word detail
_PAIR_WINDOW = 8  # added lines tried as the counterpart of one removed line
_PAIR_MIN_SIMILARITY = 0.5
_HUGE_LINE_CHARS = 20_000  # longer lines get a coarse prefix/suffix word diff


# ----------------------------------------------------------------- public API


def diff_texts(old: str, new: str, *, context: int = 3) -> Diff:
    """Diff two texts line by line, with word detail inside changed lines."""
    if context < 0:
        raise ValueError(f"context must be >= 0, got {context}")
    a, b = _split(old), _split(new)
    ops = opcodes(matching_blocks(a, b), len(a), len(b))
    details = [_change_detail(a, b, op) for op in ops if op[0] != "equal"]
    hunks = tuple(_hunk(a, b, group, context) for group in _group(details, context))
    return Diff(hunks=hunks, stats=_stats(old, details))


def render_unified(diff: Diff, *, old_label: str = "old", new_label: str = "new") -> str:
    """Render ``diff`` as plain unified-diff text; empty string for no change."""
    if diff.empty:
        return ""
    out = [f"--- {old_label}", f"+++ {new_label}"]
    for hunk in diff.hunks:
        old_range = _unified_range(hunk.old_start, hunk.old_count)
        new_range = _unified_range(hunk.new_start, hunk.new_count)
        out.append(f"@@ -{old_range} +{new_range} @@")
        out.extend(line.tag + line.text for line in hunk.lines)
    return "\n".join(out) + "\n"


def apply_diff(old: str, diff: Diff) -> str:
    """Rebuild the new text from ``old`` and the hunks of ``diff``.

    Raises :class:`ValueError` if the hunks do not fit ``old`` (a caller bug:
    the diff was made from another text).
    """
    a = _split(old)
    out: list[str] = []
    pos = 0
    for hunk in diff.hunks:
        start = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        if start < pos:
            raise ValueError(f"hunk at old line {hunk.old_start} overlaps the previous one")
        out.extend(a[pos:start])
        pos = _apply_hunk(a, start, hunk, out)
    out.extend(a[pos:])
    return "\n".join(out)


def _split(text: str) -> list[str]:
    return text.split("\n") if text else []


# ------------------------------------------------------------ word detail

Pair = tuple[int, int, tuple[WordOp, ...], tuple[WordOp, ...]]  # old i, new j, words


@dataclass(frozen=True)
class _Change:
    """One non-equal opcode with the word ops of its paired lines, by index."""

    op: Opcode
    old_words: dict[int, tuple[WordOp, ...]]
    new_words: dict[int, tuple[WordOp, ...]]
    words_removed: int
    words_added: int


def _change_detail(a: Sequence[str], b: Sequence[str], op: Opcode) -> _Change:
    tag, i1, i2, j1, j2 = op
    pairs: list[Pair] = []
    if tag == "replace" and max(i2 - i1, j2 - j1) <= _PAIR_MAX_LINES:
        pairs = _pair_lines(a, b, op)
    paired_old = {i for i, *_ in pairs}
    paired_new = {j for _, j, *_ in pairs}
    removed = sum(_count_words(a[i]) for i in range(i1, i2) if i not in paired_old)
    added = sum(_count_words(b[j]) for j in range(j1, j2) if j not in paired_new)
    removed += sum(_count_words(w.text) for p in pairs for w in p[2] if w.op == "delete")
    added += sum(_count_words(w.text) for p in pairs for w in p[3] if w.op == "insert")
    old_words = {i: words for i, _, words, _ in pairs}
    new_words = {j: words for _, j, _, words in pairs}
    return _Change(op, old_words, new_words, removed, added)


def _pair_lines(a: Sequence[str], b: Sequence[str], op: Opcode) -> list[Pair]:
    """Pair removed with added lines in order, trying a few candidates each.

    A cheap upper bound on similarity screens candidates; full word diffs
    are limited to about two per removed line, so a rewritten page costs
    little more than an edited one.
    """
    _, i1, i2, j1, j2 = op
    cache = _TokenCache()
    budget = 2 * (i2 - i1) + _PAIR_WINDOW
    pairs: list[Pair] = []
    next_j = j1
    for i in range(i1, i2):
        for j in range(next_j, min(j2, next_j + _PAIR_WINDOW)):
            if budget <= 0:
                return pairs
            if not cache.may_be_similar(a[i], b[j]):
                continue
            budget -= 1
            words = _word_diff(a[i], b[j], cache)
            if words is not None:
                pairs.append((i, j, *words))
                next_j = j + 1
                break
    return pairs


class _TokenCache:
    """Tokens and token bags of the lines of one replaced block."""

    def __init__(self) -> None:
        self._tokens: dict[str, list[str]] = {}
        self._bags: dict[str, Counter[str]] = {}

    def tokens(self, line: str) -> list[str]:
        if line not in self._tokens:
            self._tokens[line] = _TOKEN.findall(line)
        return self._tokens[line]

    def bag(self, line: str) -> Counter[str]:
        if line not in self._bags:
            self._bags[line] = Counter(self.tokens(line))
        return self._bags[line]

    def may_be_similar(self, old: str, new: str) -> bool:
        """False only if the lines cannot reach the pairing similarity."""
        total = len(old) + len(new)
        if not total or 2 * min(len(old), len(new)) < _PAIR_MIN_SIMILARITY * total:
            return False
        if max(len(old), len(new)) > _HUGE_LINE_CHARS:
            return True  # the coarse word diff is cheaper than this bound
        old_bag, new_bag = self.bag(old), self.bag(new)
        shared = sum(min(n, new_bag[t]) * len(t) for t, n in old_bag.items() if t in new_bag)
        return 2 * shared >= _PAIR_MIN_SIMILARITY * total


def _word_diff(
    old: str, new: str, cache: _TokenCache
) -> tuple[tuple[WordOp, ...], tuple[WordOp, ...]] | None:
    """Word ops of both sides if the lines are similar enough, else None."""
    if max(len(old), len(new)) > _HUGE_LINE_CHARS:
        ops = _coarse_opcodes(old, new)
        old_tokens: Sequence[str] = old
        new_tokens: Sequence[str] = new
    else:
        old_tokens, new_tokens = cache.tokens(old), cache.tokens(new)
        ops = opcodes(matching_blocks(old_tokens, new_tokens), len(old_tokens), len(new_tokens))
    old_side = _side(old_tokens, ((tag, i1, i2) for tag, i1, i2, _, _ in ops), "delete")
    same = sum(len(word.text) for word in old_side if word.op == "equal")
    if 2 * same < _PAIR_MIN_SIMILARITY * (len(old) + len(new)):
        return None
    return old_side, _side(new_tokens, ((tag, j1, j2) for tag, _, _, j1, j2 in ops), "insert")


def _coarse_opcodes(old: str, new: str) -> list[Opcode]:
    """Character opcodes for huge lines: equal head, one changed middle, equal tail."""
    head = _snap_head(old, new, _common_prefix_len(old, new))
    limit = min(len(old), len(new)) - head
    tail = _snap_tail(old, new, min(_common_prefix_len(old[::-1], new[::-1]), limit))
    ops: list[Opcode] = [("equal", 0, head, 0, head)] if head else []
    old_end, new_end = len(old) - tail, len(new) - tail
    if old_end > head or new_end > head:
        ops.append(("replace", head, old_end, head, new_end))
    if tail:
        ops.append(("equal", old_end, len(old), new_end, len(new)))
    return ops


def _common_prefix_len(a: str, b: str) -> int:
    """Binary search on slices: runs in C, unlike a character loop."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _is_word_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _snap_head(old: str, new: str, head: int) -> int:
    """Move the end of an equal head back so that it does not split a word."""
    while _is_word_char(old, head - 1) and (_is_word_char(old, head) or _is_word_char(new, head)):
        head -= 1
    return head


def _snap_tail(old: str, new: str, tail: int) -> int:
    """Move the start of an equal tail forward so that it does not split a word."""
    while _is_word_char(old, len(old) - tail) and (
        _is_word_char(old, len(old) - tail - 1) or _is_word_char(new, len(new) - tail - 1)
    ):
        tail -= 1
    return tail


def _side(
    tokens: Sequence[str], ranges: Iterable[tuple[str, int, int]], change: str
) -> tuple[WordOp, ...]:
    """One side's word ops from ``(opcode tag, start, end)`` token ranges."""
    words: list[WordOp] = []
    for tag, start, end in ranges:
        if end > start:
            kind = "equal" if tag == "equal" else change
            text = tokens[start:end] if isinstance(tokens, str) else "".join(tokens[start:end])
            if words and words[-1].op == kind:
                text = words.pop().text + text
            words.append(WordOp(kind, text))
    return tuple(words)


def _count_words(text: str) -> int:
    return len(_WORD.findall(text))


# ------------------------------------------------------------ hunks, stats


def _group(details: list[_Change], context: int) -> Iterator[list[_Change]]:
    """Changes close enough (<= 2 * context equal lines apart) share a hunk."""
    group: list[_Change] = []
    for change in details:
        if group and change.op[1] - group[-1].op[2] > 2 * context:
            yield group
            group = []
        group.append(change)
    if group:
        yield group


def _hunk(a: Sequence[str], b: Sequence[str], group: list[_Change], context: int) -> Hunk:
    first, last = group[0].op, group[-1].op
    lead = min(context, first[1])
    trail = min(context, len(a) - last[2])
    i_start, j_start = first[1] - lead, first[3] - lead
    i_end, j_end = last[2] + trail, last[4] + trail
    lines = [Line(" ", a[i]) for i in range(i_start, first[1])]
    for index, change in enumerate(group):
        lines.extend(_changed_lines(a, b, change))
        gap_end = group[index + 1].op[1] if index + 1 < len(group) else i_end
        lines.extend(Line(" ", a[i]) for i in range(change.op[2], gap_end))
    old_count, new_count = i_end - i_start, j_end - j_start
    return Hunk(
        old_start=i_start + 1 if old_count else i_start,
        old_count=old_count,
        new_start=j_start + 1 if new_count else j_start,
        new_count=new_count,
        lines=tuple(lines),
    )


def _changed_lines(a: Sequence[str], b: Sequence[str], change: _Change) -> Iterator[Line]:
    _, i1, i2, j1, j2 = change.op
    for i in range(i1, i2):
        yield Line("-", a[i], change.old_words.get(i, ()))
    for j in range(j1, j2):
        yield Line("+", b[j], change.new_words.get(j, ()))


def _stats(old: str, details: list[_Change]) -> DiffStats:
    removed = sum(c.words_removed for c in details)
    added = sum(c.words_added for c in details)
    ratio = min(1.0, max(removed, added) / max(_count_words(old), 1)) if details else 0.0
    return DiffStats(
        lines_added=sum(c.op[4] - c.op[3] for c in details),
        lines_removed=sum(c.op[2] - c.op[1] for c in details),
        words_added=added,
        words_removed=removed,
        changed_ratio=ratio,
    )


def _unified_range(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


def _apply_hunk(a: Sequence[str], pos: int, hunk: Hunk, out: list[str]) -> int:
    """Append the hunk's new lines to ``out``; return the old position after it."""
    for line in hunk.lines:
        if line.tag == "+":
            out.append(line.text)
            continue
        if pos >= len(a) or a[pos] != line.text:
            raise ValueError(f"hunk does not match old line {pos + 1}: {line.text!r}")
        if line.tag == " ":
            out.append(line.text)
        pos += 1
    return pos
