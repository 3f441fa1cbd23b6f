"""``watcher demo``: the story told on the bundled demo site (see :mod:`watcher.demo`), offline.

Three checks tell the story an editor cares about: a first check stores
baselines and flags nothing; a second one sees only page furniture change
(visit counters, today's date) and flags nothing; then two sources are
amended the way real amendments look: the demo fund's page (a new hotline
number, a longer deadline, one more document) and the demo law (a number
word replaced in one part of one article by an amending law, as 430-FZ
replaced «трех» with «пяти» in art. 16 of 326-FZ). The third check flags
exactly the guide citing them, names its claims that broke, the article
and part that changed and the amending law; the word-level diffs follow,
the law first.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from watcher.changes.diff import diff_texts
from watcher.check.reported import mark_reported, reported_in
from watcher.check.run import check_now
from watcher.cli import terminal
from watcher.demo.server import AMENDED, ORIGINAL, DemoSite, render_config
from watcher.errors import UsageError
from watcher.project import Project
from watcher.results import CHANGED, Diff, RunResult, utcnow

DEFAULT_PORT = 8765
DEMO_MARK = "# sources.yaml of the watcher DEMO project"
"""The first line of a demo project's sources.yaml: ``--keep`` may rebuild such a folder."""


def start_site(port: int | None, version: str = ORIGINAL, default: int = DEFAULT_PORT) -> DemoSite:
    """The demo site, serving: on ``port``, else on 8765 (so kept projects keep working).

    The address is bound with reuse, so 8765 is free again the moment the
    previous demo stopped (not after its connections' TIME_WAIT). A port
    asked for that cannot be had is a usage error; without one, a busy 8765
    falls back to any free port.
    """
    try:
        return _started(DemoSite(port=default if port is None else port), version)
    except OSError as exc:
        if port is not None:
            raise UsageError(
                f"cannot serve the demo site on 127.0.0.1:{port}: {exc.strerror or exc}",
                hint="stop whatever holds it, perhaps another `watcher demo --serve`, or choose "
                "another port with --port N and give `watcher demo --keep` the same N",
            ) from None
    return _started(DemoSite(port=0), version)


def _started(site: DemoSite, version: str) -> DemoSite:
    site.set_version(version)
    site.start()
    return site


def prepare(directory: Path) -> None:
    """A folder for ``--keep``: new, empty, or a demo project made before (rebuilt)."""
    config = directory / "sources.yaml"
    if directory.is_dir() and any(directory.iterdir()):
        if not config.is_file() or not config.read_text("utf-8").startswith(DEMO_MARK):
            raise UsageError(
                f"{directory} is not empty and holds no demo project",
                hint="give --keep a new or empty folder, or one `watcher demo --keep` made",
            )
        for name in ("snapshots", "reports", ".watcher"):
            shutil.rmtree(directory / name, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def run_demo(directory: Path, port: int | None, console: Console, *, keep: bool = False) -> None:
    """Build a demo project in ``directory`` and run the three checks."""
    prepare(directory)
    site = start_site(port)
    try:
        base_url = site.base_url
        config_path = directory / "sources.yaml"
        config_path.write_text(render_config(base_url), encoding="utf-8")
        project = Project.load(config_path)
        try:
            _story(project, site, console)
        finally:
            project.close()
    finally:
        site.stop()
    if keep:
        served_port = urlsplit(base_url).port
        serve = "watcher demo --serve" + (
            "" if served_port == DEFAULT_PORT else f" --port {served_port}"
        )
        console.print(
            f"\nThe demo project is in {directory}. Serve its site (it starts where this "
            "demo ended: amended), then try:",
            markup=False,
        )
        console.print(f"  {serve} &", markup=False)
        console.print(f"  watcher -c {config_path} check", markup=False)
        console.print(f"  watcher -c {config_path} status", markup=False)
        console.print(f"  watcher -c {config_path} diff demo-oms-fund", markup=False)


def _story(project: Project, site: DemoSite, console: Console) -> None:
    step = _Steps(console)
    step("1. First check: every source gets a baseline, nothing is flagged.")
    _check(project, console)
    step("2. Second check: only counters and dates changed. Noise must flag nothing.")
    _check(project, console)
    site.set_version(AMENDED)
    step(
        "3. Two sources are amended: the demo law (article 16, part 1.1: «трех» лет becomes "
        "«пяти» лет, by a demo amending law) and the demo fund's page (new hotline number, "
        "longer deadline, one more document). Third check:"
    )
    run = _check(project, console)
    step("4. Guide states (`watcher status`):")
    verdicts = project.verdicts(utcnow())
    terminal.guide_table(console, verdicts, {g.id: g.title for g in project.config.guides})
    changed = sorted((r for r in run.results if r.outcome == CHANGED), key=lambda r: not r.law)
    for number, result in enumerate(changed, start=5):
        step(f"{number}. What changed in {result.source} (`watcher diff {result.source}`):")
        _show_diff(project, console, result.source, result.old_hash, result.new_hash)


class _Steps:
    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, text: str) -> None:
        self.console.print()
        self.console.print(text, style="bold", markup=False)


def _check(project: Project, console: Console) -> RunResult:
    run = check_now(project, project.config.sources)
    terminal.check_summary(console, run)
    mark_reported(project, reported_in(run))
    if run.interrupted:
        raise KeyboardInterrupt
    return run


def _show_diff(
    project: Project, console: Console, source_id: str, old: str | None, new: str | None
) -> None:
    if old is None or new is None:
        return
    store = project.store
    diff = diff_texts(store.read_version(source_id, old), store.read_version(source_id, new))
    header = f"{source_id}: {old} -> {new}"
    if console.is_terminal:
        terminal.show_diff(console, diff, header)
    else:
        console.print(_marked_diff(diff, header), markup=False)


def _marked_diff(diff: Diff, header: str) -> str:
    """The word-level diff without colour: removed words [-so-], added ones {+so+}."""
    lines = [header]
    for hunk in diff.hunks:
        lines.append(f"@@ -{hunk.old_start},{hunk.old_count} +{hunk.new_start},{hunk.new_count} @@")
        for line in hunk.lines:
            words = "".join(_marked(word.op, word.text) for word in line.words)
            lines.append(f"{line.tag}{words or line.text}")
    return "\n".join(lines)


def _marked(op: str, text: str) -> str:
    if op == "delete" and text.strip():
        return f"[-{text}-]"
    if op == "insert" and text.strip():
        return f"{{+{text}+}}"
    return text


def serve(port: int | None) -> None:
    """Serve the demo site until interrupted (``watcher demo --serve``).

    It starts with the amended pages, where ``watcher demo --keep`` ends,
    so a kept project's first check finds nothing new.
    """
    site = start_site(DEFAULT_PORT if port is None else port, version=AMENDED)
    base_url = site.base_url
    print(f"Serving the watcher demo site at {base_url}/ (version: {AMENDED})", flush=True)
    print(f"  take the amendment back: curl {base_url}/_demo/original")
    print(f"  amend again:             curl {base_url}/_demo/amend")
    print("Use it with a project made by `watcher demo --keep DIR` (same port). Ctrl-C stops.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
