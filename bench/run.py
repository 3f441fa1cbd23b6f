"""Benchmark watcher (and its peer urlwatch) against the simulated web of farm.py.

One command: ``/tmp/venv/bin/python bench/run.py`` (or any Python beside a
``watcher`` executable; else ``--watcher PATH``). For each size N it starts
a farm of N pages over H hosts, then for each tool and repeat, in a fresh
work directory:

- ``cold``:    first run, every page new;
- ``changed``: after the farm's version switch (10% of pages changed for
               real, 30% changed only in furniture/noise);
- ``steady``:  nothing changed (mostly 304s).

Each run is measured as a whole process tree (wall, CPU user+sys, peak RSS);
the medians over repeats go to a Markdown table (stdout and
``bench/results/latest.md``) and the raw runs to ``bench/results/latest.json``.
The politeness bound of a run is max over hosts of (that host's latency sum
/ per-host concurrency), from the farm's own counters for that very run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hotspots  # noqa: E402
from measure import Measured, run_measured  # noqa: E402
from tools import Tool, Urlwatch, Watcher, ensure_peer, find_watcher  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
SCENARIOS = ("cold", "changed", "steady")


@dataclass
class Row:
    """One measured run of one tool in one scenario."""

    tool: str
    n: int
    scenario: str
    repeat: int
    returncode: int
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    bound_s: float
    requests: int
    robots: int
    not_modified: int
    max_in_flight_per_host: int
    farm_cpu_s: float
    flagged: int = 0
    flagged_real: int = 0
    flagged_noise: int = 0
    flagged_other: int = 0
    real_changes: int = 0
    failed: int = 0
    stderr_tail: str = ""

    @property
    def wall_per_bound(self) -> float:
        return self.wall_s / self.bound_s if self.bound_s else float("nan")


# ---------------------------------------------------------------------------
# the farm


@dataclass
class FarmProcess:
    process: subprocess.Popen[str]
    control: str
    info: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.control + path, timeout=120) as response:
            return json.load(response)


@contextmanager
def farm(pages: int, hosts: int, page_kb: int, seed: int) -> Iterator[FarmProcess]:
    command = [
        sys.executable, str(BENCH_DIR / "farm.py"),
        "--pages", str(pages), "--hosts", str(hosts), "--page-kb", str(page_kb), "--seed", str(seed),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"the farm did not start: {line!r}")
        info = json.loads(line[len("READY ") :])
        yield FarmProcess(process, info["control"], info)
    finally:
        process.terminate()
        process.wait(timeout=30)


def bound_seconds(stats: dict[str, Any], per_host: int) -> float:
    return max(h["latency_sum"] for h in stats["hosts"]) / per_host


# ---------------------------------------------------------------------------
# one repeat of one tool


def run_scenarios(tool: Tool, site: FarmProcess, n: int, repeat: int, per_host: int) -> list[Row]:
    site.get("/reset")
    manifest = site.get("/manifest")
    truth = site.get("/truth?version=1")
    real, noise = set(truth["content"]), set(truth["furniture"])
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool.name}-{n}-") as tmp:
        work = Path(tmp)
        tool.prepare(work, manifest)
        for scenario in SCENARIOS:
            if scenario == "changed":
                site.get("/version?set=1")
            before = tool.state(work)
            site.get("/stats/reset")
            run = run_measured(tool.command(work), cwd=work, env=tool.env(work))
            stats = site.get("/stats")
            flagged = tool.flagged(work, before, run)
            row = _row(tool.name, n, scenario, repeat, run, stats, per_host)
            row.flagged, row.failed = len(flagged), tool.failed(work, run)
            if scenario == "changed":
                row.real_changes = len(real)
                row.flagged_real = len(flagged & real)
                row.flagged_noise = len(flagged & noise)
                row.flagged_other = len(flagged - real - noise)
            rows.append(row)
            _progress(row)
    return rows


def _row(
    tool: str, n: int, scenario: str, repeat: int, run: Measured, stats: dict[str, Any], per_host: int
) -> Row:
    hosts = stats["hosts"]
    return Row(
        tool=tool,
        n=n,
        scenario=scenario,
        repeat=repeat,
        returncode=run.returncode,
        wall_s=round(run.wall_s, 3),
        cpu_s=round(run.cpu_s, 3),
        user_s=round(run.user_s, 3),
        sys_s=round(run.sys_s, 3),
        peak_rss_mb=round(run.peak_rss_mb, 1),
        bound_s=round(bound_seconds(stats, per_host), 3),
        requests=sum(h["requests"] for h in hosts),
        robots=sum(h["robots"] for h in hosts),
        not_modified=sum(h["not_modified"] for h in hosts),
        max_in_flight_per_host=max(h["max_in_flight"] for h in hosts),
        farm_cpu_s=stats["farm_cpu_s"],
        stderr_tail="\n".join(run.stderr.strip().splitlines()[-5:]),
    )


def _progress(row: Row) -> None:
    print(
        f"  {row.tool:8} N={row.n:<5} {row.scenario:7} #{row.repeat} rc={row.returncode} "
        f"wall={row.wall_s:.2f}s cpu={row.cpu_s:.2f}s rss={row.peak_rss_mb:.0f}MB "
        f"bound={row.bound_s:.2f}s reqs={row.requests} 304={row.not_modified} "
        f"flagged={row.flagged} failed={row.failed}",
        file=sys.stderr,
        flush=True,
    )
    if row.returncode != 0 and row.stderr_tail:
        print("    " + row.stderr_tail.replace("\n", "\n    "), file=sys.stderr)


# ---------------------------------------------------------------------------
# the report


MEDIAN_FIELDS = (
    "wall_s", "cpu_s", "peak_rss_mb", "bound_s", "requests", "not_modified",
    "max_in_flight_per_host", "farm_cpu_s", "flagged", "flagged_real", "flagged_noise",
    "flagged_other", "real_changes", "failed",
)  # fmt: skip


def medians(rows: Sequence[Row]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int, str], list[Row]] = {}
    failures: dict[tuple[str, int, str], int] = {}
    for row in rows:
        key = (row.tool, row.n, row.scenario)
        if row.returncode == 0:
            groups.setdefault(key, []).append(row)
        else:  # a crashed run measures nothing; it is counted, not averaged
            failures[key] = failures.get(key, 0) + 1
    table = []
    for (tool, n, scenario), group in groups.items():
        entry: dict[str, Any] = {"tool": tool, "n": n, "scenario": scenario, "runs": len(group)}
        for name in MEDIAN_FIELDS:
            entry[name] = statistics.median(getattr(r, name) for r in group)
        entry["wall_per_bound"] = statistics.median(r.wall_per_bound for r in group)
        entry["cpu_ms_per_page"] = entry["cpu_s"] * 1000 / n
        entry["walls"] = [r.wall_s for r in group]
        entry["crashed_runs"] = failures.get((tool, n, scenario), 0)
        table.append(entry)
    return table


def markdown(table: Sequence[dict[str, Any]], machine: dict[str, Any], notes: Sequence[str]) -> str:
    out = [
        "# watcher benchmark",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']}, "
        f"Python {machine['python']}, {machine['platform']}; {machine['date']}. "
        f"{machine['watcher']}; peer: {machine['peer']}.",
        f"Farm: {machine['hosts']} hosts, latency 50-200 ms per request, per-host limit "
        f"{machine['per_host']}, concurrency {machine['concurrency']}, "
        f"{machine['repeats']} repeats, medians.",
        "",
        "| tool | N | scenario | wall s (median) | CPU s | CPU ms/page | peak RSS MB | bound s "
        "| wall/bound | requests | 304s | max in flight/host | flagged real/noise/other "
        "| failed | farm CPU s | runs |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for e in table:
        flags = (
            f"{e['flagged_real']:g}/{e['real_changes']:g} real, {e['flagged_noise']:g} noise, "
            f"{e['flagged_other']:g} other"
            if e["scenario"] == "changed"
            else f"{e['flagged']:g}"
        )
        out.append(
            f"| {e['tool']} | {e['n']} | {e['scenario']} | {e['wall_s']:.2f} | {e['cpu_s']:.2f} "
            f"| {e['cpu_ms_per_page']:.2f} | {e['peak_rss_mb']:.0f} | {e['bound_s']:.2f} "
            f"| {e['wall_per_bound']:.2f} | {e['requests']:g} | {e['not_modified']:g} "
            f"| {e['max_in_flight_per_host']:g} | {flags} | {e['failed']:g} | {e['farm_cpu_s']:.2f} "
            f"| {_runs(e)} |"
        )
    out += ["", *ratio_lines(table)]
    if notes:
        out += ["", "Notes:", "", *(f"- {note}" for note in notes)]
    return "\n".join(out) + "\n"


def _runs(entry: dict[str, Any]) -> str:
    crashed = entry["crashed_runs"]
    return f"{entry['runs']}" + (f" (+{crashed} crashed)" if crashed else "")


def ratio_lines(table: Sequence[dict[str, Any]]) -> list[str]:
    index = {(e["tool"], e["n"], e["scenario"]): e for e in table}
    lines = []
    for (tool, n, scenario), mine in index.items():
        peer = index.get(("urlwatch", n, scenario))
        if tool != "watcher" or peer is None:
            continue
        lines.append(
            f"| {n} | {scenario} | {mine['wall_s'] / peer['wall_s']:.2f} "
            f"| {peer['wall_s'] / mine['wall_s']:.1f}x | {mine['cpu_s'] / peer['cpu_s']:.2f} "
            f"| {mine['peak_rss_mb'] / peer['peak_rss_mb']:.2f} |"
        )
    if not lines:
        return []
    head = [
        "watcher / urlwatch (medians):",
        "",
        "| N | scenario | wall ratio | watcher faster by | CPU ratio | RSS ratio |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    return head + lines


def machine_info(args: argparse.Namespace, watcher: Path, peer: str) -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    version = subprocess.run([str(watcher), "--version"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": f"{mem_kb / 2**20:.0f} GiB RAM",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "watcher": " ".join(filter(None, [version.stdout.strip() or "?", args.label])),
        "peer": peer,
        "hosts": args.hosts,
        "per_host": args.per_host,
        "concurrency": args.concurrency,
        "repeats": args.repeats,
    }


# ---------------------------------------------------------------------------
# main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200,1000,10000", help="comma-separated page counts")
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="N=200, one repeat")
    parser.add_argument("--tools", default="watcher,urlwatch", help="subset of watcher,urlwatch")
    parser.add_argument("--watcher", help="watcher executable (default: beside this Python)")
    parser.add_argument("--label", default="", help="what watcher build this is (e.g. a commit)")
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", default="auto", help="watcher's workers: setting (auto, 0, 1...)")
    parser.add_argument("--page-kb", type=int, help="page size; default 60 (20 above N=1000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=str(BENCH_DIR / "results"), help="results directory")
    parser.add_argument("--profile", action="store_true", help="also py-spy one cold/changed/steady watcher sequence per size")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = "200", 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    wanted = set(args.tools.split(","))
    watcher = find_watcher(args.watcher)
    tools: list[Tool] = []
    notes: list[str] = []
    peer_version = "not run"
    if "watcher" in wanted:
        tools.append(Watcher(watcher, args.per_host, args.concurrency, args.workers))
    if "urlwatch" in wanted:
        executable, peer_version = ensure_peer()
        if executable is None:
            notes.append(peer_version)
            print(peer_version, file=sys.stderr)
        else:
            tools.append(Urlwatch(executable))
    machine = machine_info(args, watcher, peer_version)
    rows: list[Row] = []
    for n in sizes:
        page_kb = args.page_kb or (60 if n <= 1000 else 20)
        with farm(n, args.hosts, page_kb, args.seed) as site:
            print(f"N={n}: farm ready, mean page {site.info['mean_page_bytes']} B", file=sys.stderr)
            notes.append(f"N={n}: mean page size {site.info['mean_page_bytes'] / 1024:.0f} KB")
            for repeat in range(1, args.repeats + 1):
                for tool in tools:
                    rows += run_scenarios(tool, site, n, repeat, args.per_host)
            if args.profile and "watcher" in wanted:
                notes.append(profile_scenarios(site, watcher, n, args, Path(args.out)))
    if rows:  # --repeats 0 --profile only profiles
        write_results(Path(args.out), rows, machine, notes)
    else:
        print("\n".join(notes))
    return 0 if all(r.returncode == 0 for r in rows) else 1


def write_results(out: Path, rows: Sequence[Row], machine: dict[str, Any], notes: Sequence[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table = medians(rows)
    text = markdown(table, machine, notes)
    (out / "latest.md").write_text(text)
    raw = {"machine": machine, "medians": table, "runs": [asdict(r) for r in rows], "notes": list(notes)}
    (out / "latest.json").write_text(json.dumps(raw, ensure_ascii=False, indent=2) + "\n")
    print(text)


def profile_scenarios(site: FarmProcess, watcher: Path, n: int, args: argparse.Namespace, out: Path) -> str:
    """One extra cold, changed and steady sequence under py-spy: raw (collapsed) profiles and top tables."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        return "profile skipped: py-spy not found (pip install py-spy)"
    out.mkdir(parents=True, exist_ok=True)
    tool = Watcher(watcher, args.per_host, args.concurrency, args.workers)
    site.get("/reset")
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        tool.prepare(Path(tmp), site.get("/manifest"))
        for scenario in SCENARIOS:
            if scenario == "changed":
                site.get("/version?set=1")
            raw = out / f"profile-{scenario}-{n}.txt"
            record = [py_spy, "record", "--format", "raw", "--rate", "200", "--subprocesses", "-o", str(raw)]
            subprocess.run([*record, "--", *tool.command(Path(tmp))], capture_output=True, env=tool.env(Path(tmp)))
            title = f"# Top self time, one {scenario} watcher run, N={n}\n\n"
            (out / f"profile-{scenario}-{n}-top.md").write_text(title + hotspots.table(raw, 15))
    return f"py-spy profiles of one cold/changed/steady sequence at N={n}: {out.name}/profile-*-{n}.txt, -top.md"


if __name__ == "__main__":
    sys.exit(main())
