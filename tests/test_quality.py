"""The quality gate: noise is named, real pages stay ok.

Response cases are table-driven from ``tests/data/quality/cases.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from watcher.text.markup import element_texts, strip_markup
from watcher.text.quality import OK, Verdict, assess_response, assess_text

DATA = Path(__file__).parent / "data" / "quality"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yaml").read_text(encoding="utf-8"))


def _assess(case: dict[str, Any]) -> Verdict:
    name = case["file"]
    return assess_response(
        url=case["url"],
        final_url=case.get("final_url", case["url"]),
        status=case.get("status", 200),
        headers=case.get("headers", {}),
        html_text=None if name is None else (DATA / name).read_text(encoding="utf-8"),
    )


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_response_cases(case: dict[str, Any]) -> None:
    verdict = _assess(case)
    assert verdict.kind == case["kind"], verdict.reason
    assert verdict.ok is (case["kind"] == "ok")
    assert str(case.get("reason", "")) in verdict.reason
    if not verdict.ok:
        assert verdict.reason


def test_every_page_file_has_a_case() -> None:
    used = {case["file"] for case in CASES}
    assert {path.name for path in DATA.glob("*.html")} <= used


def test_a_challenge_deep_in_a_big_page_is_not_read() -> None:
    page = (DATA / "law_text.html").read_text(encoding="utf-8")
    padded = page.replace(
        "</body>", "<p>Проверка браузера</p>" + "<p>текст</p>" * 20000 + "</body>"
    )
    url = "https://www.consultant-example.ru/document/cons_doc_LAW_107289/"
    verdict = assess_response(url=url, final_url=url, status=200, headers={}, html_text=padded)
    assert verdict == OK


@pytest.mark.parametrize(
    ("url", "final_url", "kind"),
    [
        ("https://a.ru/docs/x/", "https://a.ru/", "home-redirect"),
        ("https://a.ru/docs/x/", "https://a.ru", "home-redirect"),
        ("https://a.ru/docs/x/", "https://new-a.ru/index.html", "home-redirect"),
        ("http://a.ru/docs/x/", "https://a.ru/docs/x/", "ok"),
        ("https://a.ru/docs/x", "https://a.ru/docs/x/", "ok"),
        ("https://a.ru/docs/x/", "https://www.a.ru/docs/x/", "ok"),
        ("https://a.ru/docs/x/", "https://a.ru/docs/", "ok"),
        ("https://a.ru/", "https://a.ru/ru/", "ok"),
        ("https://a.ru/?page=docs", "https://a.ru/?page=docs", "ok"),
    ],
)
def test_home_redirect(url: str, final_url: str, kind: str) -> None:
    verdict = assess_response(url=url, final_url=final_url, status=200, headers={}, html_text=None)
    assert verdict.kind == kind


@pytest.mark.parametrize(
    ("text", "previous", "kind"),
    [
        ("", 5000, "empty"),
        ("  \n ", None, "empty"),
        ("x" * 100, None, "ok"),
        ("x" * 100, 499, "ok"),
        ("x" * 149, 500, "shrunk"),
        ("x" * 150, 500, "ok"),
        ("x" * 2999, 10000, "shrunk"),
        ("x" * 3000, 10000, "ok"),
        ("x" * 20000, 10000, "ok"),
    ],
)
def test_assess_text(text: str, previous: int | None, kind: str) -> None:
    assert assess_text(text=text, previous_size=previous).kind == kind


def test_shrunk_reason_gives_both_sizes() -> None:
    verdict = assess_text(text="x" * 120, previous_size=4000)
    assert not verdict.ok
    assert "120" in verdict.reason and "4000" in verdict.reason


def test_min_ratio_is_checked() -> None:
    assert assess_text(text="x" * 500, previous_size=1000, min_ratio=0.6).kind == "shrunk"
    with pytest.raises(ValueError):
        assess_text(text="x", previous_size=1000, min_ratio=0)


# -- the linear markup scans the gate and the decoder read pages with ---------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("a<b>c</b>d", "a c d"),
        ("<p>one<script>var x = '<p>';</script>two</p>", " one two "),
        ("<STYLE>p {}</STYLE >x<svg><text>y</text></svg>", " x "),
        ("a<!-- hidden <p> -->b", "a b"),
        ("a<script>never closed", "a never closed"),
        ("a < b and c > d", "a   d"),
        ("text with a lone < and nothing after", "text with a lone < and nothing after"),
        ("<!-- unclosed comment <b>x", " x"),
    ],
)
def test_strip_markup(markup: str, text: str) -> None:
    assert strip_markup(markup) == text
    assert strip_markup(markup.encode()) == text.encode()


def test_element_texts_reads_the_first_titles_and_stops_on_an_unclosed_one() -> None:
    page = "<title>One</title><h1 class=x>Head</h1><title>Two</title><title>never closed"
    assert list(element_texts(page, "title")) == ["One", "Two"]
    assert list(element_texts(page, "h1")) == ["Head"]
