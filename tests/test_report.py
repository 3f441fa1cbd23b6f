"""``watcher report``: a digest over a scripted history, in every format.

The history is real: a local web server, real checks with a test clock, real
sign-offs; the outputs are parsed with a real HTML5 parser, a real feed
parser and a JSON Schema validator.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import html5lib
import jsonschema
import pytest
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.guides.review import sign_off
from watcher.project import Project
from watcher.report.digest import build_digest, load_history
from watcher.report.jsondoc import schema_path, to_json
from watcher.report.model import DISMISSED, OPEN, Digest
from watcher.report.render import Renderer, md_code, md_text

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SINCE = START + timedelta(days=1, hours=12)
AT = "2026-03-05T09:00"

CONFIG = """\
defaults:
  timeout: 2s
  fail_after: 3
sources:
  - id: fund
    url: {url}/fund
    title: Fund hotline page
  - id: law
    url: {url}/law
    title: Law 326-FZ
  - id: clinic
    url: {url}/clinic
    title: City clinic
  - id: forum
    url: {url}/forum
    title: Hostile forum page
  - id: office
    url: {url}/office
    title: Office address
  - id: calm
    url: {url}/calm
    title: Calm page
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Anna Editor <anna@example.org>
    sources: [fund, law, calm]
  - id: emergency
    title: Emergency numbers
    url: https://guides.example.org/emergency
    owner: Boris <boris@example.org>
    sources: [clinic, forum, office]
"""

HOSTILE = (
    "Справка: 8 (800) 100-00-01. "
    "&lt;script&gt;alert('x')&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; "
    "![pixel](http://evil.example/p.png) [click](javascript:alert(1)) # Heading "
    '<a href="javascript:alert(2)">Нажмите</a> <a href="http://evil.example/">evil</a>'
    "<script>document.write('live')</script>"
)


def page(text: str) -> Page:
    return Page(f"<html><body><main><p>{text}</p></main></body></html>")


class History:
    """A project and its clock; :func:`script` gives it its history."""

    def __init__(self, config_path: Path, site: WebSite, now: datetime) -> None:
        self.config_path = config_path
        self.site = site
        self.now = now
        self.project = Project.load(config_path)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def check(self, *only: str) -> None:
        sources = [s for s in self.project.config.sources if not only or s.id in only]
        asyncio.run(run_check(self.project, sources, clock=lambda: self.now))

    def digest(self) -> Digest:
        return build_digest(load_history(self.project), SINCE, self.now, generated=self.now)


def script(root: Path, site: WebSite) -> History:
    """Changes, a review, a dismissal, a failing source, a moved source."""
    site.routes.update(
        {
            "/fund": page("Горячая линия: 8 (800) 555-01-23. Срок: 5 рабочих дней."),
            "/law": page("Статья 10. Застрахованные лица"),
            "/clinic": page("Регистратура: +7 495 952-93-21"),
            "/forum": page("Справка: 8 (800) 100-00-00."),
            "/office": page("Адрес: ул. Ленина, 1"),
            "/calm": page("Ничего не меняется"),
        }
    )
    h = History(write_config(root, CONFIG.format(url=site.url)), site, START)
    h.check()
    h.advance(days=1)
    for guide in ("insurance", "emergency"):
        sign_off(h.project, guide, by="Anna", note="first read", now=h.now)
    h.advance(days=1)  # inside the period from here on
    site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-45. Срок: 10 рабочих дней.")
    site.routes["/law"] = page("Статья 10. Застрахованные лица (ред. от 01.02.2026)")
    site.routes["/forum"] = page(HOSTILE)
    site.routes["/clinic"] = Page("down", status=503)
    site.routes["/office"] = Page("", status=301, headers={"Location": "/office-new"})
    site.routes["/office-new"] = page("Адрес: ул. Ленина, 1")
    h.check()
    sign_off(
        h.project, "insurance", by="Anna", note="wording only", now=h.now,
        sources=["law"], dismiss=True,
    )  # fmt: skip
    for _ in range(2):
        h.advance(hours=6)
        h.check("clinic", "calm")
    h.project.close()
    return h


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The scripted history, built once; tests work on copies."""
    site = WebSite().start()
    try:
        yield script(tmp_path_factory.mktemp("scripted"), site)
    finally:
        site.stop()


@pytest.fixture
def history(scripted: History, tmp_path: Path) -> History:
    root = tmp_path / "project"
    shutil.copytree(scripted.config_path.parent, root)
    return History(root / "sources.yaml", scripted.site, scripted.now)


def visible_text(element: Any) -> str:
    """Text as seen on screen: without the visually hidden text alternatives."""
    if "vh" in (element.get("class") or "").split():
        return element.tail or ""
    inner = "".join(visible_text(child) for child in element)
    return (element.text or "") + inner + (element.tail or "")


def report(history: History, *args: str, env: dict[str, str] | None = None) -> str:
    result = run_cli(
        "-c", str(history.config_path), "report", "--since", "2026-03-03T21:00", "--at", AT,
        *args, cwd=history.config_path.parent, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


# -- the model --------------------------------------------------------------------


def test_digest_sections(history: History) -> None:
    digest = history.digest()
    assert [(a.guide.id, a.state) for a in digest.attention] == [
        ("insurance", "needs review"),
        ("emergency", "broken"),
    ]
    assert digest.attention[0].since == START + timedelta(days=2)
    assert "review insurance" in (digest.attention[0].command or "")
    changes = {(c.guide, c.source.id): c for c in digest.changes}
    assert set(changes) == {("insurance", "fund"), ("insurance", "law"), ("emergency", "forum")}
    fund = changes[("insurance", "fund")]
    assert fund.status == OPEN and fund.new_in_period
    assert fund.pinned.startswith("the version reviewed by Anna")
    facts = {(f.kind, f.old, f.new) for f in fund.facts}
    assert ("phone", "8 (800) 555-01-23", "8 (800) 555-01-45") in facts
    assert ("duration", "5 рабочих дней", "10 рабочих дней") in facts
    law = changes[("insurance", "law")]
    assert law.status == DISMISSED and law.dismissal is not None
    assert law.dismissal.note == "wording only"
    assert [(s.guide, s.kind) for s in digest.signoffs] == [("insurance", "dismiss")]
    health = {h.source.id: h for h in digest.health}
    assert health["clinic"].problem == "broken" and health["clinic"].failures == 3
    assert "503" in (health["clinic"].last_error or "")
    assert health["office"].problem == "moved"
    assert (health["office"].moved_to or "").endswith("/office-new")
    assert [q.source.id for q in digest.quiet] == ["calm"]
    assert digest.counts.open_changes == 2 and digest.counts.dismissed == 1


def test_owner_and_maintainer_views(history: History) -> None:
    digest = history.digest()
    anna = digest.for_guides(["insurance"])
    assert [a.guide.id for a in anna.attention] == ["insurance"]
    assert not anna.health
    assert {c.guide for c in anna.changes} == {"insurance"}
    ops = digest.health_only()
    assert not ops.attention and not ops.changes and ops.health


# -- HTML -------------------------------------------------------------------------


def test_html_sections_order_and_hostile_text(history: History) -> None:
    report(history, "--format", "html")
    html = (history.config_path.parent / "reports" / "digest-2026-03-05.html").read_text()
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    assert doc.get("lang") == "en"
    headings = [h.get("id") for h in doc.iter("h2")]
    assert headings == ["needs-you", "changes", "signoffs", "health", "quiet"]
    assert not list(doc.iter("script"))
    for element in doc.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib), element.tag
        assert "src" not in element.attrib
    allowed = {s.url for s in history.project.config.sources}
    allowed |= {g.url for g in history.project.config.guides}
    hrefs = {e.get("href") for e in doc.iter() if e.get("href") is not None}
    assert hrefs <= allowed
    style = "".join(e.text or "" for e in doc.iter("style"))
    assert "@import" not in style and "url(" not in style
    assert doc.find(".//link") is None
    text = "".join(doc.itertext())
    assert "<script>alert('x')</script>" in text  # shown as text, inert
    assert "javascript:alert(1)" in text and "evil [http://evil.example/]" in text
    assert "document.write" not in text  # a real <script> of the page is never content
    marks = [visible_text(m) for m in doc.iter("mark")]
    assert any("555-01-45" in m for m in marks)
    assert any("10 рабочих дней" in m for m in marks)
    diffs = [e for e in doc.iter("div") if e.get("class") == "diff"]
    dels = [d for diff in diffs for d in diff.iter("del")]
    assert dels and all(d.find("span") is not None for d in dels)  # a text alternative


def test_index_and_latest(history: History) -> None:
    report(history)
    reports = history.config_path.parent / "reports"
    latest = (reports / "latest.html").read_bytes()
    assert latest == (reports / "digest-2026-03-05.html").read_bytes()
    index = html5lib.parse((reports / "index.html").read_text(), namespaceHTMLElements=False)
    links = [a.get("href") for a in index.iter("a")]
    assert "digest-2026-03-05.html" in links


def test_a_second_digest_the_same_day_keeps_the_first(history: History) -> None:
    report(history)
    root = history.config_path.parent
    reports = root / "reports"
    first = (reports / "digest-2026-03-05.html").read_bytes()
    for _ in range(2):  # the same period twice: one digest, one name
        later = run_cli(
            "-c", str(history.config_path), "report", "--since", "2026-03-05T09:00",
            "--at", "2026-03-05T17:30", cwd=root,
        )  # fmt: skip
        assert later.returncode == 0, later.stderr
    assert (reports / "digest-2026-03-05.html").read_bytes() == first
    second = (reports / "digest-2026-03-05-1730.html").read_bytes()
    assert (reports / "latest.html").read_bytes() == second
    assert sorted(p.name for p in reports.glob("digest-*.html")) == [
        "digest-2026-03-05-1730.html",
        "digest-2026-03-05.html",
    ]
    index = html5lib.parse((reports / "index.html").read_text(), namespaceHTMLElements=False)
    links = [a.get("href") for a in index.iter("a")]
    assert links.index("digest-2026-03-05-1730.html") < links.index("digest-2026-03-05.html")
    state = json.loads((reports / ".report-state.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in state["digests"]] == ["digest-2026-03-05-1730", "digest-2026-03-05"]


def test_user_template_extends_the_packaged_one(history: History, tmp_path: Path) -> None:
    templates = history.config_path.parent / "templates"
    templates.mkdir()
    (templates / "digest.html").write_text(
        '{% extends "default/digest.html" %}{% block intro %}<p id="ours">Weekly check'
        "</p>{% endblock %}",
        encoding="utf-8",
    )
    text = history.config_path.read_text() + "reports:\n  templates: templates\n"
    history.config_path.write_text(text, encoding="utf-8")
    report(history, "--format", "html")
    html = (history.config_path.parent / "reports" / "latest.html").read_text()
    assert '<p id="ours">Weekly check</p>' in html
    assert 'id="needs-you"' in html


# -- Markdown -----------------------------------------------------------------------


def _outside_fences(markdown: str) -> str:
    return re.sub(r"^(`{3,})diff\n.*?^\1$", "", markdown, flags=re.S | re.M)


def test_markdown_order_and_neutralized_text(history: History) -> None:
    report(history, "--format", "md")
    markdown = (history.config_path.parent / "reports" / "digest-2026-03-05.md").read_text()
    order = ["### What needs you", "### What changed", "### Sign-offs", "### Source health"]
    positions = [markdown.index(title) for title in order]
    assert positions == sorted(positions)
    assert "```diff" in markdown
    prose = re.sub(r"(`+).*?\1", "", _outside_fences(markdown))  # and outside code spans
    for markup in (r"(?<!\\)<", r"(?<!\\)\]\(", r"(?<!\\)!\["):
        assert re.search(markup, prose) is None, markup  # HTML, links, images: escaped
    assert "javascript:" not in prose


def test_markdown_filters() -> None:
    assert md_text("[x](javascript:alert(1)) <b>") == r"\[x\](javascript:alert(1)) \<b>"
    assert md_text("1. a -> b") == r"1\. a -> b"
    assert md_text("# not a heading") == r"\# not a heading"
    assert md_text("Tom &amp; Jerry") == r"Tom \&amp; Jerry"
    assert "://" not in md_text("see https://evil.example")
    assert md_code("a ``b`` c") == "```a ``b`` c```"
    assert md_code("`x") == "`` `x ``"


# -- JSON -----------------------------------------------------------------------------


def test_json_validates_against_its_schema(history: History) -> None:
    report(history, "--format", "json")
    data = json.loads(
        (history.config_path.parent / "reports" / "digest-2026-03-05.json").read_text()
    )
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(data, schema, format_checker=checker)
    assert data["schema"] == "watcher.digest/1"
    assert {c["id"] for g in data["guides"] for c in g["changes"]} >= {
        c.entry_id for c in history.digest().changes
    }


def test_json_of_an_empty_digest_validates(tmp_path: Path, site: WebSite) -> None:
    site.routes["/p"] = page("Тихо")
    config = f"sources:\n  - {{id: p, url: {site.url}/p, title: P}}\n"
    project = Project.load(write_config(tmp_path, config))
    asyncio.run(run_check(project, project.config.sources, clock=lambda: START))
    digest = build_digest(load_history(project), START, START, generated=START)
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(json.dumps(to_json(digest), default=str)), schema)
    assert not digest.needs_attention


# -- Atom -------------------------------------------------------------------------------


def _feed(history: History) -> Any:
    return feedparser.parse((history.config_path.parent / "reports" / "feed.xml").read_bytes())


def test_atom_feed_entries_and_stable_ids(history: History) -> None:
    report(history, "--format", "atom")
    first = _feed(history)
    assert not first.bozo, first.get("bozo_exception")
    assert first.version == "atom10"
    ids = sorted(e.id for e in first.entries)
    expected = sorted(f"tag:watcher,2026:{c.entry_id}" for c in history.digest().changes)
    assert ids == expected
    titles = [e.title for e in first.entries]
    assert "Medical insurance: Fund hotline page changed [major], 4 Mar 2026" in titles
    assert any("change dismissed" in title for title in titles)
    assert len(set(titles)) == len(titles)  # guide, source, severity and day tell them apart
    selfs = [link.href for link in first.feed.links if link.rel == "self"]
    assert selfs and selfs[0].endswith("feed.xml")
    content = next(e for e in first.entries if "forum" in e.id).content[0].value
    assert "<script>" not in content and "&lt;script&gt;" in content
    feed_bytes = (history.config_path.parent / "reports" / "feed.xml").read_bytes()
    report(history, "--format", "atom")
    assert sorted(e.id for e in _feed(history).entries) == ids
    assert (history.config_path.parent / "reports" / "feed.xml").read_bytes() == feed_bytes


def test_feed_keeps_past_entries(history: History) -> None:
    report(history, "--format", "atom")
    before = {e.id for e in _feed(history).entries}
    history.advance(days=1)
    sign_off(history.project, "insurance", by="Anna", note="updated", now=history.now)
    history.site.routes["/fund"] = page("Горячая линия: 8 (800) 555-01-99. Срок: 10 рабочих дней.")
    history.advance(hours=1)
    history.check("fund")
    report(history, "--format", "atom", "--at", "2026-03-06T12:00")
    after = {e.id for e in _feed(history).entries}
    assert before < after


# -- reproducibility and periods ---------------------------------------------------------


def test_same_state_period_and_time_give_the_same_bytes(history: History, tmp_path: Path) -> None:
    report(history, "--out", str(tmp_path / "a"))
    report(history, "--out", str(tmp_path / "b"))
    for name in ("digest-2026-03-05.html", "digest-2026-03-05.md", "digest-2026-03-05.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_since_last_starts_where_the_previous_digest_ended(history: History) -> None:
    report(history, "--format", "json")
    result = run_cli(
        "-c", str(history.config_path), "report", "--since", "last", "--at", "2026-03-06",
        "--format", "json", cwd=history.config_path.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(
        (history.config_path.parent / "reports" / "digest-2026-03-06.json").read_text()
    )
    assert data["since"] == "2026-03-05T09:00:00+00:00"


def test_bad_options_exit_2(history: History) -> None:
    for args in (("--format", "pdf"), ("--since", "yesterday")):
        result = run_cli(
            "-c", str(history.config_path), "report", *args, cwd=history.config_path.parent
        )
        assert result.returncode == 2, result.stderr


def test_renderer_is_strict() -> None:
    renderer = Renderer()
    with pytest.raises(Exception, match="undefined"):
        renderer.render("digest.html")


def _tree(markdown: str) -> SyntaxTreeNode:
    return SyntaxTreeNode(MarkdownIt("commonmark").enable("table").parse(markdown))


def _text(node: SyntaxTreeNode) -> str:
    """The text a reader sees in a node (code spans included)."""
    if node.type in ("text", "code_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return "\n"
    return "".join(_text(child) for child in node.children)


def test_markdown_has_the_structure_a_commonmark_parser_sees(history: History) -> None:
    report(history, "--format", "md")
    markdown = (history.config_path.parent / "reports" / "digest-2026-03-05.md").read_text()
    tree = _tree(markdown)
    blocks = tree.children
    needs_you = next(i for i, b in enumerate(blocks) if _text(b) == "What needs you")
    attention = next(b for b in blocks[needs_you:] if b.type == "bullet_list")
    for item in attention.children:
        guide_line, reasons = item.children[0], item.children[1]
        assert guide_line.type == "paragraph" and "(owner: " in _text(guide_line)
        assert reasons.type == "bullet_list" and len(reasons.children) >= 2
        assert all(_text(reason) not in _text(guide_line) for reason in reasons.children)
    paragraphs = [_text(node) for node in tree.walk() if node.type == "paragraph"]
    why = [p for p in paragraphs if p.startswith("Why ")]
    dismissed = [p for p in paragraphs if p.startswith("Dismissed by Anna")]
    assert why and dismissed
    assert not any("Dismissed by" in p for p in why)
    assert any(" -> " in p for p in why)  # an arrow, not an entity
    assert "Anna Editor <anna@example.org>" in _text(tree)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    for injected in ("<script", "<img", "<a "):
        assert injected not in html  # the hostile page's markup stays text


def test_the_mail_plain_part_reads_as_text(history: History) -> None:
    plain = Renderer().plain(history.digest())
    assert "Anna Editor <anna@example.org>" in plain
    assert " -> " in plain
    for escape in ("&lt;", "&gt;", "&#47;", "\\(", "\\<", "\\["):
        assert escape not in plain


def test_source_health_never_says_more_failures_than_the_threshold(history: History) -> None:
    history.advance(hours=6)
    history.check("clinic")  # a fourth failure in a row, past fail_after: 3
    digest = history.digest()
    (clinic,) = [h for h in digest.health if h.source.id == "clinic"]
    assert (clinic.problem, clinic.failures, clinic.fail_after) == ("broken", 4, 3)
    renderer = Renderer()
    for text in (renderer.html(digest), renderer.markdown(digest)):
        assert "4 of 3" not in text
        assert "4 failed checks in a row" in text


def test_an_owners_digest_counts_only_their_guides(history: History) -> None:
    digest = history.digest()
    assert digest.counts.failing >= 1  # the clinic, cited by the emergency guide only
    anna = digest.for_guides(["insurance"])
    assert anna.counts.failing == 0
    assert dict(anna.counts.guides) == {
        state: sum(1 for a in anna.attention if a.state == state)
        + (len(anna.fresh_guides) if state == "fresh" else 0)
        for state, _ in digest.counts.guides
    }
    assert sum(count for _, count in anna.counts.guides) == 1
    assert anna.counts.quiet == len(anna.quiet)
    assert "**0** failing" in Renderer().markdown(anna, "editors")
    boris = digest.for_guides(["emergency"])
    assert boris.counts.failing == digest.counts.failing
