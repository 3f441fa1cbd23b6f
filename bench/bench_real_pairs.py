"""Flag quality on real before/after page pairs (a benchmark, not a test).

Run from the repository root with the Python of a virtualenv where watcher
is installed (the ``watcher`` executable beside it is used; else pass
``--watcher PATH``)::

    .venv/bin/python bench/bench_real_pairs.py                 # site mode
    .venv/bin/python bench/bench_real_pairs.py --mode both --json /tmp/real.json
    .venv/bin/python bench/bench_real_pairs.py --pairs D-phl-01,D-cfb-12 --verbose
    .venv/bin/python bench/bench_real_pairs.py --data /tmp/probe --mode page --jobs 2

The data is a folder of real successive captures of web pages (default
``../shared/data/real_pairs`` beside the repository, ``--data`` for another
set with the same layout): ``<repo_slug>/<page_slug>/<date>_<commit>.html``
and ``pairs.csv`` (``pair_id, repo, ..., old_file, new_file, label,
what_changed, ...``) with labels ``noise``, ``substantive`` and ``minor``.
The pages are read from there and served from memory; nothing is copied
into the repository.

watcher runs exactly as a user runs it, only through its CLI (never
imported): a local HTTP server on 127.0.0.1 serves each page's current
version byte for byte as ``text/html`` (no charset: the page's own meta
tags decide; 404 for robots.txt), a temporary project has one source per
page (no select/exclude/ignore, ``retries: 0``) and one guide per source,
and per group of pairs:

    serve old versions -> watcher check -> watcher review --all
    serve new versions -> watcher check -> watcher ci --json

(``review`` is skipped when watcher refused every old version, an empty or
captcha page: there is nothing to sign off, and the new round is the
guide's first baseline. ``--jobs N`` runs N groups at once, each with its
own server and temporary project.)

A pair is *flagged* when the guide citing its page fails ``watcher ci``.
For each pair the guide's ci state, severity and reasons are kept, and the
first lines of ``watcher diff SOURCE`` of a flagged page.

Modes:

- ``site`` (default): one project per site (repository) with every page of
  the site as a source, so watcher sees several pages of one host (a
  site-wide template change can be recognised). For a pair dated
  t_old -> t_new, every other page of the site is served at its latest
  version dated <= t_old for the baseline and <= t_new for the new round
  (its earliest version when none is that early). Pairs whose whole site
  assignment (old files, new files) is the same run in one project.
- ``page``: every pair alone, in a project with only its page.

In projects of 3 or more pages, ``watcher report --format json`` is run too
and its "Site template changed" groups are recorded per pair
(``digest_template``): that grouping is the digest's, ``ci`` does not use it.

Output: per mode, flagged counts per label and one line per miss (noise
flagged, substantive not flagged); ``--verbose`` prints the misses' diffs,
``--json PATH`` writes everything (ci JSON per guide, check outcomes, the
``watcher diff`` of every flagged pair), ``--keep DIR`` keeps the projects.

Known limit: pages are served from 127.0.0.1, so relative links resolve to
``http://127.0.0.1:PORT/...``. Where a site switched a link from relative to
absolute between two captures, the diff shows a host change that on the
real site would be at most a scheme or trailing-slash change.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "real_pairs"
LABELS = ("substantive", "minor", "noise")
DIFF_LINES = 15
TEMPLATE_MIN_PAGES = 3  # watcher's digest groups a change seen on 3+ pages of a host
_FILE_NAME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}(?:T\d{4}(?:\d{2})?)?)_(?P<commit>[^.]+)\.html?$"
)


# ------------------------------------------------------------------ data


@dataclass(frozen=True)
class Version:
    """One capture of one page: ``<site>/<page>/<date>_<commit>.html``."""

    rel: str  # path relative to the data folder
    site: str
    page: str
    when: datetime
    commit: str


@dataclass
class Pair:
    pair_id: str
    site: str
    page: str
    old: Version
    new: Version
    label: str
    what_changed: str
    row: dict[str, str]


def _parse_when(text: str) -> datetime:
    for fmt in ("%Y-%m-%dT%H%M%S", "%Y-%m-%dT%H%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"unparsable version date {text!r}")


def _version(data: Path, rel: str) -> Version:
    parts = Path(rel).parts
    if len(parts) != 3:
        raise SystemExit(f"{rel}: expected <repo_slug>/<page_slug>/<date>_<commit>.html")
    match = _FILE_NAME.match(parts[2])
    if not match:
        raise SystemExit(f"{rel}: file name is not <date>_<commit>.html")
    if not (data / rel).is_file():
        raise SystemExit(f"{data / rel}: missing")
    return Version(rel, parts[0], parts[1], _parse_when(match["date"]), match["commit"])


def load(data: Path) -> tuple[list[Pair], dict[str, dict[str, list[Version]]]]:
    """The pairs of ``pairs.csv`` and every version on disk, per site and page, in time order."""
    with open(data / "pairs.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pairs = []
    for row in rows:
        old, new = _version(data, row["old_file"]), _version(data, row["new_file"])
        if (old.site, old.page) != (new.site, new.page):
            raise SystemExit(f"{row['pair_id']}: old and new files are of different pages")
        label = row["label"].strip()
        if label not in LABELS:
            raise SystemExit(f"{row['pair_id']}: unknown label {label!r}")
        pairs.append(
            Pair(row["pair_id"], old.site, old.page, old, new, label, row["what_changed"], row)
        )
    # Successor order from the pairs (old before new) breaks ties between versions of one date.
    follows: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        follows[p.new.rel].add(p.old.rel)
    sites: dict[str, dict[str, list[Version]]] = defaultdict(dict)
    for site_dir in sorted(d for d in data.iterdir() if d.is_dir()):
        for page_dir in sorted(d for d in site_dir.iterdir() if d.is_dir()):
            versions = [
                _version(data, f"{site_dir.name}/{page_dir.name}/{f.name}")
                for f in sorted(page_dir.iterdir())
                if f.is_file() and _FILE_NAME.match(f.name)
            ]
            sites[site_dir.name][page_dir.name] = _time_order(versions, follows)
    return pairs, sites


def _time_order(versions: list[Version], follows: dict[str, set[str]]) -> list[Version]:
    """By date; versions of one date by the pairs' old -> new chains, then by name."""

    def depth(v: Version, seen: frozenset[str] = frozenset()) -> int:
        same_day = {w.rel for w in versions if w.when == v.when}
        before = [r for r in follows.get(v.rel, ()) if r in same_day and r not in seen]
        by_rel = {w.rel: w for w in versions}
        return max((1 + depth(by_rel[r], seen | {v.rel}) for r in before), default=0)

    return sorted(versions, key=lambda v: (v.when, depth(v), v.rel))


def at_or_before(versions: list[Version], when: datetime) -> Version:
    """The latest version dated <= when, else the earliest."""
    early = [v for v in versions if v.when <= when]
    return early[-1] if early else versions[0]


def source_id(page: str) -> str:
    """A watcher slug (a-z, 0-9, -; at most 63 characters) from a page slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-") or "page"
    if len(slug) > 63:
        digest = hashlib.sha1(page.encode()).hexdigest()[:8]
        slug = slug[:54].rstrip("-") + "-" + digest
    return slug


# ------------------------------------------------------------------ groups


@dataclass
class Group:
    """One temporary project: its pages, what each serves per round, the pairs it decides."""

    name: str
    site: str
    old: dict[str, Version]  # page -> version served for the baseline
    new: dict[str, Version]  # page -> version served for the new round
    pairs: list[Pair] = field(default_factory=list)


def site_groups(pairs: list[Pair], sites: dict[str, dict[str, list[Version]]]) -> list[Group]:
    groups: dict[tuple[Any, ...], Group] = {}
    for p in pairs:
        old, new = {}, {}
        for page, versions in sites[p.site].items():
            if page == p.page:
                old[page], new[page] = p.old, p.new
            else:
                old[page] = at_or_before(versions, p.old.when)
                new[page] = at_or_before(versions, p.new.when)
        key = (
            p.site,
            frozenset((k, v.rel) for k, v in old.items()),
            frozenset((k, v.rel) for k, v in new.items()),
        )
        if key not in groups:
            groups[key] = Group("", p.site, old, new)
        groups[key].pairs.append(p)
    out = list(groups.values())
    for g in out:
        ids = [p.pair_id for p in g.pairs]
        g.name = f"site:{g.site}:" + (ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}")
    return out


def page_groups(pairs: list[Pair]) -> list[Group]:
    return [
        Group(f"page:{p.pair_id}", p.site, {p.page: p.old}, {p.page: p.new}, [p]) for p in pairs
    ]


# ------------------------------------------------------------------ server


class Site:
    """A loopback HTTP server; ``serve(mapping)`` switches what each /<page> returns."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self._lock = threading.Lock()
        self._bodies: dict[str, bytes] = {}
        self.requests: dict[str, int] = defaultdict(int)
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
                with site._lock:
                    body = site._bodies.get(path)
                    site.requests[path] += 1
                if body is None:  # robots.txt and anything unknown
                    payload = b"not found\n"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, page: str) -> str:
        return f"http://127.0.0.1:{self.port}/{page}"

    def serve(self, mapping: dict[str, Version]) -> None:
        bodies = {page: (self.data / v.rel).read_bytes() for page, v in mapping.items()}
        with self._lock:
            self._bodies = bodies

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ watcher


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def write_config(path: Path, site: Site, pages: list[str], timeout: str) -> dict[str, str]:
    """sources.yaml with one source and one guide per page; returns page -> source id."""
    ids: dict[str, str] = {}
    for page in pages:
        sid = source_id(page)
        while sid in ids.values():
            sid = source_id(sid + "-x")
        ids[page] = sid
    lines = [
        "defaults:",
        "  retries: 0",
        f"  timeout: {timeout}",
        "sources:",
    ]
    for page in pages:
        lines += [
            f"  - id: {ids[page]}",
            f"    url: {site.url(page)}",
            f"    title: {_yaml_str(page)}",
        ]
    lines.append("guides:")
    for page in pages:
        lines += [
            f"  - id: {ids[page]}",
            f"    title: {_yaml_str('Guide citing ' + page)}",
            f"    url: https://guides.example.org/{ids[page]}",
            '    owner: "Bench <bench@example.org>"',
            "    sources:",
            f"      - {ids[page]}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


@dataclass
class Run:
    args: list[str]
    code: int
    out: str
    err: str
    seconds: float


def watcher(exe: str, cfg: Path, *args: str) -> Run:
    cmd = [exe, "-c", str(cfg), *args]
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    env.pop("GITHUB_ACTIONS", None)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cfg.parent)
    return Run(list(args), proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def _json(run: Run) -> Any:
    try:
        return json.loads(run.out)
    except ValueError:
        raise SystemExit(
            f"watcher {' '.join(run.args)} exited {run.code} without JSON:\n{run.out}\n{run.err}"
        ) from None


def _check_summary(doc: Any) -> dict[str, Any]:
    """Per source, what ``check --json`` said (outcome, error), kept small."""
    out: dict[str, Any] = {}
    for item in doc.get("sources", []) if isinstance(doc, dict) else []:
        sid = item.get("id") or item.get("source")
        out[str(sid)] = {
            k: item[k]
            for k in (
                "outcome",
                "status",
                "error_kind",
                "error",
                "severity",
                "reasons",
                "old_hash",
                "new_hash",
                "unconfirmed",
            )
            if k in item
        }
    return out


def _require(group: Group, name: str, run: Run, codes: tuple[int, ...]) -> None:
    if run.code not in codes:
        raise SystemExit(f"{group.name}: watcher {name} exited {run.code}:\n{run.out}\n{run.err}")


def run_group(group: Group, site: Site, exe: str, timeout: str, keep: Path | None) -> list[dict]:
    pages = sorted(group.old)
    tmp = Path(tempfile.mkdtemp(prefix="bench-real-pairs-"))
    try:
        cfg = tmp / "sources.yaml"
        ids = write_config(cfg, site, pages, timeout)
        steps: dict[str, Run] = {}

        site.serve(group.old)
        steps["check-old"] = watcher(exe, cfg, "check", "--json")
        _require(group, "check-old", steps["check-old"], (0, 3))
        baselined = [
            sid
            for sid, item in _check_summary(_json(steps["check-old"])).items()
            if item.get("outcome") == "baseline"
        ]
        # An old version watcher refused (empty, captcha, error page) leaves no
        # snapshot to sign off: the guide stays unreviewed and the new round
        # is its first baseline, as for a user whose first check met an outage.
        if baselined:
            steps["review"] = watcher(
                exe, cfg, "review", "--all", "--by", "bench", "--note", "baseline"
            )
            _require(group, "review", steps["review"], (0,))
        site.serve(group.new)
        steps["check-new"] = watcher(exe, cfg, "check", "--json")
        _require(group, "check-new", steps["check-new"], (0, 3))
        steps["ci"] = watcher(exe, cfg, "ci", "--json")
        _require(group, "ci", steps["ci"], (0, 1))
        checks = {
            "old": _check_summary(_json(steps["check-old"])),
            "new": _check_summary(_json(steps["check-new"])),
        }
        for sid, item in checks["old"].items():
            if item.get("outcome") != "baseline":
                print(
                    f"  warning: {group.name}: baseline of {sid} was {item.get('outcome')}: "
                    f"{item.get('error')}",
                    file=sys.stderr,
                )
        ci = _json(steps["ci"])
        guides = {g.get("id") or g.get("guide"): g for g in ci.get("guides", [])}
        changed_pages = [p for p in pages if group.old[p].rel != group.new[p].rel]
        templates = digest_templates(exe, cfg, tmp) if len(pages) >= TEMPLATE_MIN_PAGES else None
        results = []
        for pair in group.pairs:
            sid = ids[pair.page]
            g = guides.get(sid)
            if g is None:
                raise SystemExit(f"{group.name}: guide {sid} missing from watcher ci --json")
            flagged = bool(g.get("failed"))
            diff_text = ""
            if flagged:
                diff_text = watcher(exe, cfg, "diff", sid, "--no-color").out
            results.append(
                {
                    "pair_id": pair.pair_id,
                    "label": pair.label,
                    "what_changed": pair.what_changed,
                    "mode_group": group.name,
                    "site": pair.site,
                    "page": pair.page,
                    "source": sid,
                    "old_file": pair.old.rel,
                    "new_file": pair.new.rel,
                    "project_pages": len(pages),
                    "other_pages_changed": [p for p in changed_pages if p != pair.page],
                    "flagged": flagged,
                    # None: not looked for (fewer pages than a template needs)
                    "digest_template": None
                    if templates is None
                    else next((t["host"] for t in templates if sid in t["sources"]), ""),
                    "state": g.get("state"),
                    "severity": _severity(g),
                    "reasons": _reasons(g),
                    "ci_guide": g,
                    "check_old": checks["old"].get(sid),
                    "check_new": checks["new"].get(sid),
                    "diff": diff_text,
                    "diff_head": "\n".join(diff_text.splitlines()[:DIFF_LINES]),
                }
            )
        if keep is not None:
            dest = keep / re.sub(r"[^A-Za-z0-9_.-]+", "_", group.name)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(tmp, dest)
        timings = {k: round(v.seconds, 2) for k, v in steps.items()}
        for r in results:
            r["timings"] = timings
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def digest_templates(exe: str, cfg: Path, tmp: Path) -> list[dict[str, Any]]:
    """The "Site template changed" groups of ``watcher report`` (digest only, not ci)."""
    out = tmp / "digest"
    run = watcher(exe, cfg, "report", "--format", "json", "--out", str(out))
    if run.code != 0:
        raise SystemExit(f"watcher report exited {run.code}:\n{run.out}\n{run.err}")
    found = sorted(out.glob("digest-*.json"))
    if not found:
        raise SystemExit(f"watcher report wrote no JSON digest:\n{run.out}")
    doc = json.loads(found[-1].read_text(encoding="utf-8"))
    return [
        {"host": t.get("host"), "sources": [s.get("id") for s in t.get("sources", [])]}
        for t in doc.get("templates", [])
    ]


def _reasons(guide: dict[str, Any]) -> list[str]:
    out = []
    for key in ("failures", "warnings"):
        for r in guide.get(key, []) or []:
            text = r.get("text") if isinstance(r, dict) else str(r)
            mark = "x" if key == "failures" else "!"
            out.append(f"{mark} {text}")
    return out


def _severity(guide: dict[str, Any]) -> str | None:
    sev = guide.get("severity")
    if sev:
        return str(sev)
    found = [
        r.get("severity")
        for key in ("failures", "warnings")
        for r in guide.get(key, []) or []
        if isinstance(r, dict) and r.get("severity")
    ]
    order = {"cosmetic": 0, "minor": 1, "major": 2}
    return max(found, key=lambda s: order.get(s, -1)) if found else None


# ------------------------------------------------------------------ report


def summary(results: list[dict]) -> dict[str, dict[str, int]]:
    out = {}
    for label in LABELS:
        rows = [r for r in results if r["label"] == label]
        out[label] = {"flagged": sum(r["flagged"] for r in rows), "total": len(rows)}
    return out


def is_miss(r: dict) -> bool:
    return (r["label"] == "noise" and r["flagged"]) or (
        r["label"] == "substantive" and not r["flagged"]
    )


_TARGET = re.compile(r" ?\[[^\]]*\]")
_STAMP = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|updated|обновлен|изменен|опубликован|version|верси|\d+\.\d+\.\d+",
    re.IGNORECASE,
)


def failure_class(r: dict) -> str:
    """What kind of miss this is, read off watcher's own diff and check (a heuristic)."""
    check = r.get("check_new") or {}
    if r["label"] != "noise":
        if check.get("outcome") == "failed":
            return f"the new version failed: {check.get('error_kind')}"
        if check.get("outcome") in ("unchanged", "reverted"):
            return "the change is not in the extracted text"
        return "changed, but assessed below minor (cosmetic, template or volatile)"
    if check.get("outcome") == "failed":
        return f"transient render or outage ({check.get('error_kind')})"
    lines = [
        line[1:]
        for line in (r.get("diff") or "").splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    if not lines:
        return "other (no diff lines)"
    bare = [_TARGET.sub("", line).strip() for line in lines]
    if len(set(bare)) * 2 <= len(bare) and all(
        b in bare[len(bare) // 2 :] for b in bare[: len(bare) // 2]
    ):
        return "link-target churn"
    if all(_STAMP.search(line) for line in lines):
        return "volatile stamp"
    if (
        sum(len(b) < 60 and line != b for b, line in zip(bare, lines, strict=True))
        >= len(lines) / 2
    ):
        return "site furniture in the content (short link lines)"
    return "other"


def print_mode(mode: str, results: list[dict], seconds: float, verbose: bool) -> None:
    s = summary(results)
    print(f"\n== mode {mode}: {len(results)} pairs, {seconds:.1f} s")
    print("| label | flagged | should |")
    print("|---|---|---|")
    should = {"substantive": "all", "minor": "either", "noise": "none"}
    for label in LABELS:
        print(f"| {label} | {s[label]['flagged']}/{s[label]['total']} | {should[label]} |")
    looked = [r for r in results if r["digest_template"] is not None]
    if looked:
        grouped = [r["pair_id"] for r in looked if r["digest_template"]]
        print(
            f"digest 'Site template changed' (not used by ci): {len(grouped)} of "
            f"{len(looked)} pairs in projects of 3+ pages grouped"
            + (f" ({', '.join(grouped)})" if grouped else "")
        )
    misses = [r for r in results if is_miss(r)]
    print(f"misses: {len(misses)}")
    for r in misses:
        kind = "noise flagged" if r["label"] == "noise" else "substantive missed"
        reasons = " / ".join(r["reasons"]) or "-"
        print(
            f"- {r['pair_id']} [{kind}: {failure_class(r)}] "
            f"severity={r['severity']} state={r['state']}"
        )
        print(f"    what changed: {r['what_changed']}")
        print(f"    watcher: {reasons}")
        if verbose:
            if r["diff"]:
                for line in r["diff"].splitlines():
                    cut = line if len(line) <= 400 else line[:400] + " [...]"
                    print(f"      | {cut}")
            else:
                print(f"      check (new round): {json.dumps(r['check_new'], ensure_ascii=False)}")


def run_groups(
    groups: list[Group], servers: list[Site], exe: str, timeout: str, keep: Path | None, mode: str
) -> list[dict]:
    """Every group, ``len(servers)`` at a time; each running group holds one server."""
    free: queue.Queue[Site] = queue.Queue()
    for server in servers:
        free.put(server)
    done = 0

    def one(g: Group) -> list[dict]:
        nonlocal done
        server = free.get()
        t0 = time.perf_counter()
        try:
            out = run_group(g, server, exe, timeout, keep)
        finally:
            free.put(server)
        with _PRINT_LOCK:
            done += 1
            print(
                f"  [{mode} {done}/{len(groups)}] {g.name}: {len(g.pairs)} pair(s), "
                f"{len(g.old)} page(s), {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
        return out

    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        return [r for rows in pool.map(one, groups) for r in rows]


_PRINT_LOCK = threading.Lock()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"folder with pairs.csv and <repo>/<page>/<date>_<commit>.html "
        f"(default: {DEFAULT_DATA})",
    )
    ap.add_argument("--pairs", default="", help="comma-separated pair ids (default: all)")
    ap.add_argument("--mode", choices=("site", "page", "both"), default="site")
    ap.add_argument("--verbose", action="store_true", help="print the diffs of misses")
    ap.add_argument("--json", type=Path, help="write every result here")
    ap.add_argument("--watcher", help="the watcher executable (default: beside this Python)")
    ap.add_argument("--timeout", default="20s", help="sources' fetch timeout (default 20s)")
    ap.add_argument("--keep", type=Path, help="copy each temporary project here")
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="groups run at once, each with its own server and project (default 1)",
    )
    args = ap.parse_args(argv)

    exe = args.watcher or str(Path(sys.executable).parent / "watcher")
    if not Path(exe).exists():
        exe = shutil.which("watcher") or ""
    if not exe:
        raise SystemExit("no watcher executable: install watcher or pass --watcher PATH")
    data = args.data.resolve()
    pairs, sites = load(data)
    if args.pairs:
        wanted = [p.strip() for p in args.pairs.split(",") if p.strip()]
        unknown = set(wanted) - {p.pair_id for p in pairs}
        if unknown:
            raise SystemExit(f"unknown pair ids: {', '.join(sorted(unknown))}")
        pairs = [p for p in pairs if p.pair_id in wanted]
    modes = ("site", "page") if args.mode == "both" else (args.mode,)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; data {data}; {len(pairs)} pairs; modes {', '.join(modes)}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)

    if args.jobs < 1:
        raise SystemExit("--jobs must be 1 or more")
    servers = [Site(data) for _ in range(args.jobs)]
    doc: dict[str, Any] = {"watcher": version, "data": str(data), "modes": {}}
    try:
        for mode in modes:
            groups = site_groups(pairs, sites) if mode == "site" else page_groups(pairs)
            start = time.perf_counter()
            results = run_groups(groups, servers, exe, args.timeout, args.keep, mode)
            order = {p.pair_id: i for i, p in enumerate(pairs)}
            results.sort(key=lambda r: order[r["pair_id"]])
            seconds = time.perf_counter() - start
            print_mode(mode, results, seconds, args.verbose)
            doc["modes"][mode] = {
                "seconds": round(seconds, 1),
                "groups": len(groups),
                "summary": summary(results),
                "misses": [r["pair_id"] for r in results if is_miss(r)],
                "pairs": results,
            }
    finally:
        for server in servers:
            server.close()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
