"""Render the demo's digest and, where Chromium is installed, screenshot it.

    python bench/screenshot_digest.py [OUT.png]

Builds the demo project (``watcher demo --keep``) in a temporary folder,
runs ``watcher report`` there and, if ``/usr/bin/chromium`` exists, takes a
headless full-page screenshot (default ``bench/out/digest.png``) so a human
can look at the page as an editor sees it. Prints the paths it produced.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_OUT = Path(__file__).parent / "out" / "digest.png"
WINDOW = "1200,2400"


def watcher(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "watcher", *args], check=True, capture_output=True)


def build_digest(work: Path) -> Path:
    """The demo project's latest.html, freshly built in ``work``."""
    project = work / "demo"
    watcher("demo", "--keep", str(project))
    watcher("-c", str(project / "sources.yaml"), "report")
    return project / "reports" / "latest.html"


def screenshot(page: Path, out: Path, work: Path) -> bool:
    """Headless Chromium screenshot of ``page``; False when Chromium is missing."""
    if not CHROMIUM.exists():
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={work / 'chromium'}",
        f"--screenshot={out}",
        f"--window-size={WINDOW}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return True


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else DEFAULT_OUT
    with tempfile.TemporaryDirectory(prefix="watcher-digest-") as tmp:
        work = Path(tmp)
        page = build_digest(work)
        kept = out.with_suffix(".html")
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, kept)
        print(f"digest: {kept}")
        if screenshot(kept, out, work):
            print(f"screenshot: {out}")
        else:
            print(f"no screenshot: {CHROMIUM} is not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
