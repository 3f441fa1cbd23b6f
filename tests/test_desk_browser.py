"""The editor desk in a real browser: Debian's Chromium driven by Playwright for Python.

A reader sends a report through the plain form; an editor logs in, sees
the guide in the queue with the report and a changed source, reads the
diff, accepts the report and signs the guide off; then ``watcher ci``
passes and ``snapshots/`` holds the sign-off under the editor's name.
With ``WATCHER_SCREENSHOTS=1`` the two screenshots of the docs' "Editor
desk" page are written to ``docs/img/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_cli
from tests.desk import (
    GUIDE,
    PASSWORD,
    build_demo,
    csrf_of,
    guide_url,
    login,
    served,
    token,
    update_demo_claims,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent.parent / "docs" / "img"
TITLE = "Medical insurance for foreigners in Russia (demo)"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def add_editor(config: Path, name: str = "Anna") -> None:
    done = run_cli("-c", str(config), "users", "add", name, "--role", "editor",
                   "--password-stdin", cwd=config.parent, input_text=PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr


def shoot(page: object, name: str) -> None:
    if os.environ.get("WATCHER_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]


def test_reader_reports_editor_accepts_and_signs_off(tmp_path: Path, browser: object) -> None:
    config = build_demo(tmp_path / "demo")
    add_editor(config)
    with served(config) as url:
        reader = browser.new_page()  # type: ignore[attr-defined]
        reader.goto(f"{url}/report?guide={guide_url(config)}")
        assert TITLE in reader.inner_text("main")
        reader.fill("#text", "The hotline number on the fund's page is 8 (800) 555-01-45 now.")
        reader.fill("#page", "Who to call")
        reader.get_by_role("button", name="Send the report").click()
        reader.wait_for_selector("#ref")
        ref = reader.inner_text("#ref")
        assert ref.startswith("R-")

        editor = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()  # type: ignore[attr-defined]
        editor.goto(f"{url}/")
        assert "/login" in editor.url
        editor.fill("#name", "Anna")
        editor.fill("#password", PASSWORD)
        editor.get_by_role("button", name="Log in").click()
        editor.wait_for_url(f"{url}/")
        queue = editor.inner_text("main")
        assert "Needs review (1)" in queue
        assert "Demo OMS fund: OMS policy for foreign citizens: changed" in queue
        assert ref in queue and "8 (800) 555-01-45 now." in queue
        shoot(editor, "desk-queue.png")

        editor.get_by_role("link", name=TITLE).first.click()
        editor.wait_for_url(f"**/guides/{GUIDE}")
        diff = "\n".join(editor.locator(".diff").all_inner_texts())
        assert "Телефон горячей линии Демо-ТФОМС" in diff and "10" in diff  # word-level diff
        facts = "\n".join(editor.locator(".facts").all_inner_texts())
        assert "8 (800) 555-01-23" in facts and "8 (800) 555-01-45" in facts
        assert ref in editor.inner_text("main")
        shoot(editor, "desk-guide.png")

        editor.get_by_role("button", name="Accept: the guide needs review").click()
        editor.wait_for_url("**done=accepted")
        assert f"reader report {ref}" in editor.inner_text("main")
        failing = run_cli("-c", str(config), "ci", cwd=config.parent)
        assert failing.returncode == 1 and f"reader report {ref}" in failing.stdout

        editor.fill("#note", "Hotline number and deadline updated in the guide")
        editor.get_by_role("button", name="Sign off the guide").click()
        editor.wait_for_url("**done=signoff")
        assert "Signed off" in editor.inner_text("main")
        assert "reviewed by Anna" in editor.inner_text("main")

    update_demo_claims(config)
    passed = run_cli("-c", str(config), "ci", cwd=config.parent)
    assert passed.returncode == 0, passed.stdout
    reviews = json.loads((config.parent / "snapshots/_reviews" / f"{GUIDE}.json").read_text())
    assert reviews["entries"][-1]["by"] == "Anna"
    assert reviews["entries"][-1]["note"] == "Hotline number and deadline updated in the guide"


def test_a_newcomer_signs_off_the_demos_flagged_guide(tmp_path: Path) -> None:
    """The docs' path: demo --keep, users add, serve -c, log in, sign off."""
    config = build_demo(tmp_path / "demo")
    assert run_cli("-c", str(config), "ci", cwd=tmp_path).returncode == 1
    add_editor(config, "newcomer")
    with served(config) as url, httpx.Client(base_url=url, timeout=30) as browser:
        assert login(browser, "newcomer").status_code == 303
        assert TITLE in browser.get("/").text
        signed = browser.post(
            f"/guides/{GUIDE}/signoff", data={"csrf": token(browser), "note": "read the diff"}
        )
        assert signed.status_code == 303
        form = browser.get("/login")
        assert csrf_of(form.text)
    update_demo_claims(config)
    assert run_cli("-c", str(config), "ci", cwd=tmp_path).returncode == 0
