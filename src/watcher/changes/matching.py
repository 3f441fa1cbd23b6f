"""Line matching for :mod:`watcher.changes.diff`: blocks of equal lines, never quadratic.

:func:`matching_blocks` trims the common prefix and suffix, then anchors on
lines that occur once on each side (patience diff), and only inside small
leftover regions runs :class:`difflib.SequenceMatcher`. A large region
without unique anchors gets a Myers diff bounded by an edit budget; over
the budget it degrades to "whole region replaced".
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

# Budgets keeping every step far from quadratic blow-ups.
_SEQUENCE_MATCHER_CELLS = 40_000  # len(a) * len(b) of a region; ~5 ms worst case
_MYERS_MAX_EDITS = 400  # edit distance tried on large regions without anchors
_WORK_PER_ITEM = 32  # patience passes over each item before the rest is "replaced"

Block = tuple[int, int, int]  # (i, j, size): a[i:i+size] == b[j:j+size]
Opcode = tuple[str, int, int, int, int]  # like SequenceMatcher.get_opcodes()
Region = tuple[int, int, int, int]  # (alo, ahi, blo, bhi)


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[Block]:
    """Blocks of ``a`` equal to ``b``, increasing in both, never overlapping."""
    blocks: list[Block] = []
    regions: list[Region] = [(0, len(a), 0, len(b))]
    budget = _WORK_PER_ITEM * (len(a) + len(b))
    while regions and budget > 0:
        region = regions.pop()
        budget -= region[1] - region[0] + region[3] - region[2]
        found, subregions = _match_region(a, b, region)
        blocks.extend(found)
        regions.extend(subregions)
    blocks.sort()
    return blocks


def _match_region(
    a: Sequence[str], b: Sequence[str], region: Region
) -> tuple[list[Block], list[Region]]:
    """Match one region: returns final blocks and regions still to match."""
    alo, ahi, blo, bhi = region
    head = _common_head(a, b, region)
    tail = _common_tail(a, b, (alo + head, ahi, blo + head, bhi))
    blocks = [(alo, blo, head)] if head else []
    if tail:
        blocks.append((ahi - tail, bhi - tail, tail))
    inner = (alo + head, ahi - tail, blo + head, bhi - tail)
    if inner[0] == inner[1] or inner[2] == inner[3]:
        return blocks, []
    anchors = _unique_anchors(a, b, inner)
    if anchors:
        return blocks + [(i, j, 1) for i, j in anchors], _between(anchors, inner)
    return blocks + _match_without_anchors(a, b, inner), []


def _common_head(a: Sequence[str], b: Sequence[str], region: Region) -> int:
    alo, ahi, blo, bhi = region
    limit = min(ahi - alo, bhi - blo)
    n = 0
    while n < limit and a[alo + n] == b[blo + n]:
        n += 1
    return n


def _common_tail(a: Sequence[str], b: Sequence[str], region: Region) -> int:
    alo, ahi, blo, bhi = region
    limit = min(ahi - alo, bhi - blo)
    n = 0
    while n < limit and a[ahi - 1 - n] == b[bhi - 1 - n]:
        n += 1
    return n


def _unique_anchors(a: Sequence[str], b: Sequence[str], region: Region) -> list[tuple[int, int]]:
    """Patience anchors: the longest in-order run of lines unique on both sides."""
    alo, ahi, blo, bhi = region
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1 and count_a[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if a[i] in where_b]
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest subsequence of ``pairs`` (sorted by i) increasing in j."""
    tops: list[int] = []  # smallest j ending an increasing run of each length
    top_index: list[int] = []
    back: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tops, j)
        back.append(top_index[k - 1] if k else -1)
        if k == len(tops):
            tops.append(j)
            top_index.append(index)
        else:
            tops[k] = j
            top_index[k] = index
    chain: list[tuple[int, int]] = []
    index = top_index[-1] if top_index else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


def _between(anchors: list[tuple[int, int]], region: Region) -> list[Region]:
    """The regions before, between and after the anchors."""
    alo, ahi, blo, bhi = region
    corners = [(alo - 1, blo - 1), *anchors, (ahi, bhi)]
    return [
        (i0 + 1, i1, j0 + 1, j1)
        for (i0, j0), (i1, j1) in pairwise(corners)
        if i1 > i0 + 1 or j1 > j0 + 1
    ]


def _match_without_anchors(a: Sequence[str], b: Sequence[str], region: Region) -> list[Block]:
    alo, ahi, blo, bhi = region
    if (ahi - alo) * (bhi - blo) <= _SEQUENCE_MATCHER_CELLS:
        matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
        return [(alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks() if n]
    matches = _myers(a[alo:ahi], b[blo:bhi], _MYERS_MAX_EDITS)
    return [(alo + i, blo + j, 1) for i, j in matches or ()]


def _myers(a: Sequence[str], b: Sequence[str], max_edits: int) -> list[tuple[int, int]] | None:
    """Matched index pairs of a shortest edit script, or None over the budget."""
    n, m = len(a), len(b)
    offset = max_edits + 1
    v = [0] * (2 * offset + 1)
    trace: list[list[int]] = []
    for d in range(max_edits + 1):
        trace.append(v[:])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]
            else:
                x = v[offset + k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            v[offset + k] = x
            if x >= n and y >= m:
                return _myers_backtrack(trace, offset, n, m)
    return None


def _myers_backtrack(trace: list[list[int]], offset: int, x: int, y: int) -> list[tuple[int, int]]:
    """Walk the saved ``v`` rows back from (x, y), collecting diagonal moves."""
    matches: list[tuple[int, int]] = []
    for d in range(len(trace) - 1, -1, -1):
        v, k = trace[d], x - y
        if d == 0:
            prev_k = 0
        elif k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
            prev_k = k + 1
        else:
            prev_k = k - 1
        prev_x = v[offset + prev_k] if d else 0
        prev_y = prev_x - prev_k
        start_x = prev_x if d == 0 or prev_k == k + 1 else prev_x + 1
        start_y = start_x - k
        matches.extend((start_x + s, start_y + s) for s in range(x - start_x - 1, -1, -1))
        x, y = prev_x, prev_y
    return matches[::-1]


def opcodes(blocks: list[Block], n: int, m: int) -> list[Opcode]:
    """SequenceMatcher-style opcodes; adjacent blocks are merged."""
    ops: list[Opcode] = []
    i = j = 0
    for bi, bj, size in [*blocks, (n, m, 0)]:
        if bi > i or bj > j:
            tag = "replace" if bi > i and bj > j else "delete" if bi > i else "insert"
            ops.append((tag, i, bi, j, bj))
        if size and ops and ops[-1][0] == "equal":
            _, ei, _, ej, _ = ops.pop()
            ops.append(("equal", ei, bi + size, ej, bj + size))
        elif size:
            ops.append(("equal", bi, bi + size, bj, bj + size))
        i, j = bi + size, bj + size
    return ops
