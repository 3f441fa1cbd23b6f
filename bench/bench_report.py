"""Benchmark: ``watcher report`` over a year of daily history for 1 000 sources.

Builds a synthetic project in a temporary folder with watcher's own store
API (no network): 1 000 sources checked daily for 365 days, each changing
about once a month (so ~12 versions each, ~12 000 changes), 10 guides of
100 sources each, half of them reviewed mid-year. Then runs
``watcher report`` over the whole year as a separate process and prints its
wall time, CPU time and peak RSS.

    python bench/bench_report.py [--sources 1000] [--days 365]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import run_measured

from watcher.text.normalize import content_hash
from watcher.project import Project
from watcher.state import CheckOutcome, Version
from watcher.state import REVIEW, ReviewEntry

END = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def write_config(root: Path, sources: int, guides: int) -> None:
    lines = ["sources:"]
    lines += [
        f"  - {{id: s{n}, url: 'https://oms{n % 20}.example/p{n}', title: Source {n}}}"
        for n in range(sources)
    ]
    lines.append("guides:")
    per = sources // guides
    for g in range(guides):
        cited = ", ".join(f"s{n}" for n in range(g * per, (g + 1) * per))
        lines.append(
            f"  - {{id: g{g}, title: Guide {g}, url: 'https://guides.example/{g}', "
            f"owner: 'editor{g}@guides.example', sources: [{cited}]}}"
        )
    (root / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def text_for(source: int, edition: int) -> str:
    lines = [f"Статья {k}. Положение {source}-{k} о полисе ОМС для иностранных граждан." for k in range(60)]
    lines[edition % 60] = f"Телефон горячей линии: 8 (800) 555-{source % 100:02d}-{edition:02d}"
    return "\n".join(lines)


def build(root: Path, sources: int, days: int, rng: random.Random) -> None:
    project = Project.load(root / "sources.yaml")
    start = END - timedelta(days=days)
    for n in range(sources):
        state = project.store.load_state(f"s{n}")
        change_days = sorted(rng.sample(range(1, days), k=max(1, days // 30)))
        for edition, day in enumerate([0, *change_days]):
            text = text_for(n, edition)
            digest = content_hash(text)
            project.store.write_version(state.source, digest, text)
            state.versions.append(Version(hash=digest, seen=start + timedelta(days=day)))
        state.last_check = CheckOutcome(at=END, outcome="unchanged", status=200)
        state.last_success = END
        state.last_change = state.versions[-1].seen
        project.store.save_state(state)
    for g in range(0, 10, 2):
        guide = project.config.guide(f"g{g}")
        pins = {sid: _middle(project, sid) for sid in guide.source_ids}
        at = END - timedelta(days=days // 2)
        entry = ReviewEntry(at=at, by="Editor", note="mid-year review", kind=REVIEW, sources=pins)
        project.reviews.append(guide.id, entry)


def _middle(project: Project, source_id: str) -> str:
    versions = project.store.load_state(source_id).versions
    return versions[len(versions) // 2].hash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--profile", metavar="FILE", help="also py-spy the report run into FILE (raw)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        write_config(root, args.sources, 10)
        started = time.perf_counter()
        build(root, args.sources, args.days, random.Random(11))
        print(f"built {args.sources} sources x {args.days} days of history in {time.perf_counter() - started:.1f} s")
        watcher = Path(sys.executable).parent / "watcher"
        since = (END - timedelta(days=args.days)).strftime("%Y-%m-%d")
        command = [str(watcher), "-c", str(root / "sources.yaml"), "report", "--since", since,
                   "--at", END.strftime("%Y-%m-%dT%H:%M"), "--format", "html,md,json,atom"]
        result = run_measured(command)
        if args.profile:
            record = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", args.profile, "--"]
            subprocess.run([*record, *command], capture_output=True, check=False)
        print("| sources | days | wall s | CPU s | peak RSS MB |\n|---:|---:|---:|---:|---:|")
        print(f"| {args.sources} | {args.days} | {result.wall_s:.2f} | {result.cpu_s:.2f} | {result.peak_rss_mb:.0f} |")
        if result.returncode != 0:
            print(f"watcher report exited {result.returncode}: {result.stderr}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
