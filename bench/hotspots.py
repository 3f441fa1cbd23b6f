"""Top self-time functions from a py-spy ``--format raw`` (collapsed stacks) profile.

Run: ``python bench/hotspots.py bench/results/profile-cold-1000.txt [-n 10]``.
Each line of the profile is ``frame;frame;...;leaf COUNT``; the leaf is where
the sample was taken, so summing counts per leaf function gives self time.
Line numbers are dropped so one function is one row.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def self_time(profile: Path) -> tuple[Counter[str], int]:
    """Samples per leaf function, and the total number of samples."""
    counts: Counter[str] = Counter()
    total = 0
    for line in profile.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        leaf = _LINE.sub(")", stack.split(";")[-1])
        counts[_shorten(leaf)] += int(number)
        total += int(number)
    return counts, total


def _shorten(frame: str) -> str:
    """``fn (/long/path/site-packages/pkg/mod.py)`` -> ``fn (pkg/mod.py)``."""
    return re.sub(r"\((?:.*/(?:site-packages|lib/python3\.\d+|src)/)?([^)]*)\)", r"(\1)", frame)


def table(profile: Path, top: int) -> str:
    counts, total = self_time(profile)
    rows = ["| # | self % | samples | function |", "|---:|---:|---:|---|"]
    for rank, (name, count) in enumerate(counts.most_common(top), 1):
        rows.append(f"| {rank} | {100 * count / total:.1f} | {count} | `{name}` |")
    return "\n".join(rows) + f"\n\n{total} samples in all.\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    print(table(args.profile, args.n))


if __name__ == "__main__":
    main()
