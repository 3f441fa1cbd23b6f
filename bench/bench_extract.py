"""Micro-benchmark: decode + extract + normalize of a 60 KB and a 3 MB page.

Pages come from the benchmark farm's own generator (bench/pages.py:
fictional Russian/English OMS and legal pages with full furniture), so
the figures are reproducible without any third-party data.

    python bench/bench_extract.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages

from watcher.text.render import Body, render
from watcher.config import Source, make_source

REPEATS = {"60 KB": 200, "3 MB": 10}


def page_of(size: int) -> bytes:
    """One farm page of at least ``size`` bytes (article ~70%, like the farm's)."""
    book = pages.Phrasebook(seed=7)
    spec = pages.make_specs(1, 1, seed=7)[0]
    target = size
    while True:
        article = pages.build_article(book, spec, 7, int(target * 0.7), 0)
        data = pages.render(book, spec, article, pages.Furniture(0, spec.index, 7), target)
        if len(data) >= size:
            return data
        target = int(target * size / len(data)) + 1024


def measure(label: str, data: bytes, source: Source) -> str:
    body = Body(data, "text/html", None, "https://oms.example/page")
    times = []
    for _ in range(REPEATS[label]):
        started = time.perf_counter()
        render(source.text, body)
        times.append(time.perf_counter() - started)
    median = statistics.median(times) * 1000
    return f"| {label} ({len(data) / 1024:.0f} KiB) | {median:.2f} ms | {min(times) * 1000:.2f} ms |"


def main() -> None:
    source = make_source(id="bench", url="https://oms.example/page", title="bench", select=(pages.SELECT,))
    print("| page | median | best |\n|---|---:|---:|")
    print(measure("60 KB", page_of(60 * 1024), source))
    print(measure("3 MB", page_of(3 * 1024 * 1024), source))


if __name__ == "__main__":
    main()
