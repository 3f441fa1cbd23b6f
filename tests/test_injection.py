"""A page cannot drive the editor's terminal, spoof a line's order, or break the feed.

Pages carry what they like: terminal escapes, NUL, non-characters, bidi
overrides. Normalization drops controls and non-characters from snapshot
text; terminal output shows control and bidi-control characters as escapes;
``feed.xml`` stays valid XML; the plain-text e-mail carries no control.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import feedparser
import pytest

from tests.conftest import run_cli, write_config
from tests.test_report_email import Inbox, add_notify
from tests.test_report_email import smtp as smtp
from tests.webserver import Page, WebSite
from watcher.cli.terminal import safe

HOSTILE = "\x1b[2J\x1b]0;pwned\x07 NUL\x00 \ufffe\uffff \u202eevil\u202c \x9b31m"


def page(hotline: str) -> Page:
    return Page(
        "<html><body><main><h1>Полис ОМС</h1>"
        f"<p>Горячая линия: {hotline} {HOSTILE}</p>"
        "<p>Срок оформления полиса: 5 рабочих дней.</p></main></body></html>"
    )


CONFIG = """\
defaults: {{timeout: 2s, retries: 0}}
sources:
  - {{id: fund, url: '{url}/fund', title: "Fund \\x1b[31m page"}}
guides:
  - id: insurance
    title: "Medical \\x07insurance \\u202e"
    url: https://guides.example.org/insurance
    owner: anna@example.org
    sources: [fund]
"""


@pytest.fixture
def root(tmp_path: Path, site: WebSite) -> Path:
    site.routes["/fund"] = page("8 (800) 555-01-23")
    write_config(tmp_path, CONFIG.format(url=site.url))
    assert run_cli("check", cwd=tmp_path).returncode == 0
    site.routes["/fund"] = page("8 (800) 555-01-45")
    assert run_cli("check", cwd=tmp_path).returncode == 0
    return tmp_path


def _versions(root: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in (root / "snapshots" / "fund").glob("*.txt")]


def test_snapshot_text_keeps_no_control_nor_non_character(root: Path) -> None:
    for text in _versions(root):
        assert not any(c in text for c in "\x1b\x00\x07\ufffe\uffff\x9b"), repr(text)
        assert "\u202e" in text  # bidi characters are text: kept, shown escaped


@pytest.mark.parametrize("color", [[], ["--color"]], ids=["piped", "colour"])
def test_diff_sends_no_escape_of_the_page_to_the_terminal(root: Path, color: list[str]) -> None:
    shown = run_cli("diff", "fund", *color, cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert "555-01-45" in shown.stdout
    assert "\u202e" not in shown.stdout and "<U+202E>" in shown.stdout
    assert "\x1b[2J" not in shown.stdout and "\x1b]0;" not in shown.stdout


def test_status_shows_titles_with_their_controls_escaped(root: Path) -> None:
    shown = run_cli("status", cwd=root)
    assert "\x07" not in shown.stdout and "\u202e" not in shown.stdout
    assert "Medical \\x07insurance <U+202E>" in shown.stdout


def test_the_feed_stays_valid_xml(root: Path) -> None:
    made = run_cli("report", "--format", "atom", cwd=root)
    assert made.returncode == 0, made.stderr
    data = (root / "reports" / "feed.xml").read_bytes()
    ElementTree.fromstring(data)  # raises on a character XML forbids
    feed = feedparser.parse(data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.entries


def test_the_plain_text_mail_carries_no_control(root: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    add_notify(root / "sources.yaml", port)
    sent = run_cli("report", "--email", cwd=root)
    assert sent.returncode == 0, sent.stderr
    [(_, mail)] = [m for m in inbox.messages if "anna@example.org" in m[0]]
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "555-01-45" in text
    assert not any(c in text for c in "\x1b\x07\x00\u202e")
    assert "\x07" not in str(mail["Subject"])


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("line\rover", "line\\x0dover"),
        ("\u202eevil\u202c", "<U+202E>evil<U+202C>"),
        ("\u2067isolate\u2069", "<U+2067>isolate<U+2069>"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("Полис ОМС", "Полис ОМС"),
    ],
)
def test_safe(raw: str, shown: str) -> None:
    assert safe(raw) == shown
