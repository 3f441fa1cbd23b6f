"""Benchmark for ``watcher.changes.diff`` (not a test): prints times and peak memory.

Run: ``python bench/bench_diff.py``. Builds two synthetic ~3 MB Russian
legal-like texts with ~300 changed lines, then a few pathological inputs.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable

from watcher.changes.diff import apply_diff, diff_texts
from watcher.results import Diff

VOCABULARY = (
    "федеральный закон орган власти субъекта российской федерации в соответствии с "
    "настоящим кодексом порядок установленный правительством заявление гражданина "
    "срок не позднее рабочих дней со дня получения документов уполномоченный "
    "организация обязана предоставить сведения о доходах имуществе обязательствах"
)
WORDS = VOCABULARY.split()


def legal_text(rng: random.Random, target_bytes: int) -> list[str]:
    """Articles with parts and points, until the text reaches ``target_bytes``."""
    lines: list[str] = []
    size = article = 0
    while size < target_bytes:
        article += 1
        block = [f"Статья {article}. " + sentence(rng, 4, 9)]
        for part in range(1, rng.randint(2, 6)):
            block.append(f"{part}. " + sentence(rng, 20, 60))
            block += [f"{point}) " + sentence(rng, 8, 25) for point in range(1, rng.randint(1, 5))]
        block.append("Утратил силу.")  # a very common repeated line
        lines += block
        size += sum(len(line.encode()) + 1 for line in block)
    return lines


def sentence(rng: random.Random, low: int, high: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))
    return text[0].upper() + text[1:] + ";"


def edit(rng: random.Random, lines: list[str], changes: int) -> list[str]:
    """Change a word in some lines, insert and delete a few others."""
    new = list(lines)
    for index in sorted(rng.sample(range(len(new)), changes), reverse=True):
        kind = rng.random()
        if kind < 0.7:
            words = new[index].split(" ")
            words[rng.randrange(len(words))] = rng.choice(WORDS)
            new[index] = " ".join(words)
        elif kind < 0.85:
            new.insert(index, "Дополнить пунктом: " + sentence(rng, 10, 30))
        else:
            del new[index]
    return new


def measure(
    name: str, old: str, new: str, func: Callable[[str, str], object] | None = None
) -> None:
    """Time a run (best of 3), then measure peak memory in a separate traced run."""
    call = func or (lambda a, b: diff_texts(a, b))
    elapsed = min(_timed(call, old, new) for _ in range(3))
    tracemalloc.start()
    result = call(old, new)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    summary = _summary(old, new, result) if isinstance(result, Diff) else ""
    print(f"{name:44s} {elapsed * 1000:8.1f} ms  peak {peak / 1e6:6.1f} MB  {summary}")


def _timed(call: Callable[[str, str], object], old: str, new: str) -> float:
    start = time.perf_counter()
    call(old, new)
    return time.perf_counter() - start


def _summary(old: str, new: str, diff: Diff) -> str:
    stats = diff.stats
    return (
        f"hunks={len(diff.hunks)} -{stats.lines_removed}/+{stats.lines_added} lines "
        f"-{stats.words_removed}/+{stats.words_added} words "
        f"ratio={stats.changed_ratio:.4f} apply_ok={apply_diff(old, diff) == new}"
    )


def main() -> None:
    rng = random.Random(2026)
    lines = legal_text(rng, 3_000_000)
    old = "\n".join(lines)
    new = "\n".join(edit(rng, lines, 300))
    print(f"legal text: {len(old.encode()) / 1e6:.1f} MB, {len(lines)} lines")
    measure("3 MB legal, ~300 changed lines", old, new)
    measure("  (difflib.unified_diff, for comparison)", old, new, _unified)
    measure("3 MB legal, identical", old, old)
    measure("baseline: empty -> 3 MB", "", new)
    measure("3 MB -> empty", old, "")
    shuffled = list(lines)
    rng.shuffle(shuffled)
    measure("3 MB legal vs the same lines shuffled", old, "\n".join(shuffled))

    same = ["Утратил силу."] * 20_000
    changed = [*same[:10_000], "Изложить в новой редакции.", *same[10_001:]]
    measure("20 000 identical lines, one changed", "\n".join(same), "\n".join(changed))
    ends = ["Начало", *same, "Конец"]
    ends_new = ["Начало!", *same[:9_000], *same[9_001:], "Конец!"]
    measure("20 000 identical lines, edits at both ends", "\n".join(ends), "\n".join(ends_new))
    noise_a = [rng.choice("абв") for _ in range(20_000)]
    noise_b = [rng.choice("абв") for _ in range(20_000)]
    measure("20 000 lines from a 3-line alphabet", "\n".join(noise_a), "\n".join(noise_b))

    giant = " ".join(sentence(rng, 20, 60) for _ in range(3_000))[:1_000_000]
    middle = len(giant) // 2
    measure(
        "1 MB single line, one word changed", giant, giant[:middle] + "ИЗМЕНЕНО" + giant[middle:]
    )
    measure("1 MB single line vs another", giant, giant[::-1])


def _unified(old: str, new: str) -> object:
    import difflib

    return list(difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm=""))


if __name__ == "__main__":
    main()
