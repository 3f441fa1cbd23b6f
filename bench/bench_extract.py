"""Micro-benchmark: CPU time of decode + extract + normalize of a 60 KB and a 3 MB page.

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
    """Median and best time of one render of ``data`` with ``source``'s text rules."""
    body = Body(data, "text/html", None, "https://oms.example/page")
    times = []
    for _ in range(REPEATS[label]):
        started = time.process_time()
        render(source.text, body)
        times.append(time.process_time() - started)
    median = statistics.median(times) * 1000
    how = "select" if source.text.select else "no select (main content)"
    size = f"{len(data) / 1024:.0f} KiB"
    return f"| {label} ({size}), {how} | {median:.2f} ms | {min(times) * 1000:.2f} ms |"


def main() -> None:
    url = "https://oms.example/page"
    selected = make_source(id="bench", url=url, title="bench", select=(pages.SELECT,))
    whole = make_source(id="bench", url=url, title="bench")
    print("| page | median | best |\n|---|---:|---:|")
    for label, size in (("60 KB", 60 * 1024), ("3 MB", 3 * 1024 * 1024)):
        data = page_of(size)
        print(measure(label, data, selected))
        print(measure(label, data, whole))


if __name__ == "__main__":
    main()
