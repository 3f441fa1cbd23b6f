"""The tools under test: watcher and its peer urlwatch, driven the same way.

Each tool gets the farm's manifest, writes its own configuration into a
fresh work directory, gives the command of one run, and after a run says
which pages it flagged as changed and how many failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from measure import Measured

Manifest = Mapping[str, Any]
BENCH_DIR = Path(__file__).resolve().parent
PEER_VENV = BENCH_DIR / ".venv-peer"
PEER_PACKAGES = ("urlwatch", "html2text")
USER_AGENT = "bench/0.1 (+http://127.0.0.1/bench)"


class Tool(Protocol):
    name: str

    def prepare(self, work: Path, manifest: Manifest) -> None: ...

    def command(self, work: Path) -> list[str]: ...

    def env(self, work: Path) -> dict[str, str]: ...

    def state(self, work: Path) -> dict[str, str]: ...

    def flagged(self, work: Path, before: Mapping[str, str], run: Measured) -> set[str]: ...

    def failed(self, work: Path, run: Measured) -> int: ...


# ---------------------------------------------------------------------------
# watcher


@dataclass
class Watcher:
    """``watcher --config DIR/sources.yaml check --quiet``."""

    executable: Path
    per_host: int = 2
    concurrency: int = 64
    workers: str = "auto"
    name: str = "watcher"

    def prepare(self, work: Path, manifest: Manifest) -> None:
        (work / "sources.yaml").write_text(
            watcher_config(manifest, self.per_host, self.concurrency, self.workers)
        )

    def command(self, work: Path) -> list[str]:
        return [str(self.executable), "--config", str(work / "sources.yaml"), "check", "--quiet"]

    def env(self, work: Path) -> dict[str, str]:
        return {**os.environ, "NO_COLOR": "1"}

    def state(self, work: Path) -> dict[str, str]:
        """Current version hash per source, from the committed state files."""
        return {sid: data["versions"][-1]["hash"] for sid, data in _states(work) if data.get("versions")}

    def flagged(self, work: Path, before: Mapping[str, str], run: Measured) -> set[str]:
        after = self.state(work)
        return {sid for sid, digest in after.items() if sid in before and before[sid] != digest}

    def failed(self, work: Path, run: Measured) -> int:
        return sum(1 for _sid, data in _states(work) if (data.get("last_check") or {}).get("outcome") == "failed")


def _states(work: Path) -> list[tuple[str, dict[str, Any]]]:
    states = []
    for path in sorted((work / "snapshots").glob("*/state.json")):
        states.append((path.parent.name, json.loads(path.read_text())))
    return states


def watcher_config(manifest: Manifest, per_host: int, concurrency: int, workers: str = "auto") -> str:
    """sources.yaml: one source per page, one guide per host (JSON strings are YAML)."""
    q = _quote
    lines = [
        "defaults:",
        f"  user_agent: {q(USER_AGENT)}",
        f"  per_host: {per_host}",
        f"  concurrency: {concurrency}",
        f"  workers: {workers}",
        "  timeout: 60s",
        "sources:",
    ]
    for page in manifest["pages"]:
        lines += [
            f"  - id: {page['id']}",
            f"    url: {q(page['url'])}",
            f"    title: {q(page['title'])}",
            f"    select: {q(manifest['select'])}",
            f"    ignore: [{', '.join(q(p) for p in manifest['ignore'])}]",
        ]
    lines.append("guides:")
    for host in range(len(manifest["hosts"])):
        ids = [p["id"] for p in manifest["pages"] if p["host"] == host]
        lines += [
            f"  - id: guide-{host:02d}",
            f"    title: {q(f'Guide backed by site {host + 1}')}",
            f"    url: https://guides.example.org/en/guide-{host:02d}",
            "    owner: Bench <bench@example.org>",
            f"    sources: [{', '.join(ids)}]",
        ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


# ---------------------------------------------------------------------------
# urlwatch


URLWATCH_CONFIG = """\
display:
  new: true
  error: true
  unchanged: false
  empty-diff: false
report:
  text:
    details: false
    footer: false
    line_length: 200
    minimal: false
  stdout:
    enabled: true
    color: false
  html: {diff: unified}
  markdown: {details: false, footer: false, minimal: false}
  email: {enabled: false}
"""


@dataclass
class Urlwatch:
    """``urlwatch --urls jobs.yaml --config cfg.yaml --cache cache.db`` (10 threads)."""

    executable: Path
    name: str = "urlwatch"

    def prepare(self, work: Path, manifest: Manifest) -> None:
        (work / "cfg.yaml").write_text(URLWATCH_CONFIG)
        (work / "jobs.yaml").write_text(urlwatch_jobs(manifest))
        (work / "home").mkdir(exist_ok=True)

    def command(self, work: Path) -> list[str]:
        return [
            str(self.executable),
            "--urls", str(work / "jobs.yaml"),
            "--config", str(work / "cfg.yaml"),
            "--cache", str(work / "cache.db"),
            "--hooks", str(work / "hooks.py"),
        ]  # fmt: skip

    def env(self, work: Path) -> dict[str, str]:
        home = str(work / "home")
        return {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home}

    def state(self, work: Path) -> dict[str, str]:
        return {}

    def flagged(self, work: Path, before: Mapping[str, str], run: Measured) -> set[str]:
        return set(re.findall(r"^(?:\d+\. )?CHANGED: (p\d+)", run.stdout, flags=re.MULTILINE))

    def failed(self, work: Path, run: Measured) -> int:
        errors = re.findall(r"^(?:\d+\. )?ERROR: (p\d+)", run.stdout, flags=re.MULTILINE)
        return len(set(errors))


def urlwatch_jobs(manifest: Manifest) -> str:
    """The equivalent job list: css select, html2text (the Python module), re.sub ignores."""
    q = _quote
    docs = []
    for page in manifest["pages"]:
        subs = "".join(f"\n  - re.sub: {{pattern: {q(p)}, repl: ''}}" for p in manifest["ignore"])
        docs.append(
            f"name: {page['id']}\nurl: {q(page['url'])}\n"
            f"headers: {{User-Agent: {q(USER_AGENT)}}}\n"
            f"filter:\n  - css: {q(manifest['select'])}\n  - html2text: pyhtml2text{subs}\n"
        )
    return "---\n".join(docs)


def ensure_peer(python: str = sys.executable) -> tuple[Path | None, str]:
    """urlwatch in bench/.venv-peer (created on first use); (executable, note)."""
    executable = PEER_VENV / "bin" / "urlwatch"
    if not executable.exists():
        steps: Sequence[list[str]] = (
            [python, "-m", "venv", str(PEER_VENV)],
            [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", *PEER_PACKAGES],
        )
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                return None, f"urlwatch install failed: {' '.join(step)}: {' / '.join(tail)}"
    version = subprocess.run([str(executable), "--version"], capture_output=True, text=True)
    return executable, version.stdout.strip() or version.stderr.strip()


def find_watcher(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    beside = Path(sys.executable).parent / "watcher"
    if beside.exists():
        return beside
    found = shutil.which("watcher")
    if found is None:
        raise SystemExit("no watcher executable beside this Python or on PATH; pass --watcher PATH")
    return Path(found)
