"""Tests of the extract stage: table-driven cases in tests/data/extract/*.yaml."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from watcher.errors import EmptyContentError, ExtractError, SelectorError
from watcher.text.html import extract_text, is_valid_selector

CASES = sorted((Path(__file__).parent / "data" / "extract").glob("*.yaml"))


def load_case(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(case, dict)
    unknown = set(case) - {"description", "html", "base_url", "select", "exclude", "expected"}
    assert not unknown, f"{path.name}: unknown keys {unknown}"
    return case


def run_case(case: dict[str, Any]) -> str:
    return extract_text(
        case["html"],
        base_url=case.get("base_url", "https://example.org/"),
        select=tuple(case.get("select", ())),
        exclude=tuple(case.get("exclude", ())),
    )


def test_there_are_cases() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_extract_case(path: Path) -> None:
    case = load_case(path)
    assert run_case(case) == case["expected"].rstrip("\n")


def test_changed_link_target_changes_the_text() -> None:
    folder = Path(__file__).parent / "data" / "extract"
    before = run_case(load_case(folder / "links_base_href.yaml"))
    after = run_case(load_case(folder / "link_changed_target.yaml"))
    assert before != after
    assert before.replace("2024", "2025") == after


def test_select_matching_nothing_is_a_selector_error() -> None:
    html = "<body><div id='content'><p>Полис ОМС</p></div></body>"
    with pytest.raises(SelectorError) as caught:
        extract_text(html, base_url="https://www.mgfoms.ru/", select=("#content", "#missing"))
    assert "'#missing' matched nothing" in str(caught.value)
    assert caught.value.hint is not None and "select" in caught.value.hint


def test_invalid_selector_is_a_selector_error() -> None:
    with pytest.raises(SelectorError):
        extract_text("<p>x</p>", base_url="https://x.ru/", exclude=("p[[",))
    assert not is_valid_selector("p[[")
    assert is_valid_selector("#content > p.note")


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><head><title>Заголовок</title></head><body>  \n </body></html>",
        "<body><script>var x = 'только скрипт';</script><nav>Меню</nav></body>",
        "<body><p hidden>скрыто</p></body>",
    ],
)
def test_page_without_text_is_an_empty_content_error(html: str) -> None:
    with pytest.raises(EmptyContentError):
        extract_text(html, base_url="https://www.mgfoms.ru/")


def test_selected_text_removed_by_exclude_is_empty() -> None:
    html = "<body><div id='c'><p class='x'>Просмотров: 5</p></div></body>"
    with pytest.raises(EmptyContentError):
        extract_text(html, base_url="https://x.ru/", select=("#c",), exclude=(".x",))


def test_deep_nesting_does_not_crash() -> None:
    depth = 5000
    html = "<body>" + "<div>" * depth + "Глубоко" + "</div>" * depth + "</body>"
    assert extract_text(html, base_url="https://x.ru/") == "Глубоко"


def test_deep_inline_and_list_nesting_does_not_crash() -> None:
    depth = 5000
    html = "<ul>" + "<li><span>п" * depth + "</span></li>" * depth + "</ul>"
    text = extract_text(html, base_url="https://x.ru/")
    assert text.count("п") == depth


@pytest.mark.parametrize(
    "html",
    [
        "<<<>>>&&&<p",
        "<table><tr><td><table><tr><td>x",
        "</p></div></body></html>текст",
        "<a href='http://[::1'>битая ссылка</a>",
        "<ol start='abc'><li>x</li></ol><ol start='-2'><li>y</li></ol>",
        "<pre>\n\n</pre><p>\x00\ufffd</p>",
        "<select><option>Москва</option></select>ок",
    ],
)
def test_malformed_html_never_crashes(html: str) -> None:
    with contextlib.suppress(EmptyContentError):
        extract_text(html, base_url="https://x.ru/")


def test_select_on_a_table_row_keeps_the_cells_on_one_line() -> None:
    html = "<table><tr id='r'><td>Приём</td><td>500</td></tr></table>"
    assert extract_text(html, base_url="https://x.ru/", select=("#r",)) == "Приём | 500"


def test_an_element_skipped_by_default_can_be_selected() -> None:
    html = "<html><head><title>Полис ОМС — МГФОМС</title></head><body><p>Текст</p></body></html>"
    assert extract_text(html, base_url="https://x.ru/", select=("title",)) == "Полис ОМС — МГФОМС"


def test_a_page_nested_absurdly_deep_is_refused_at_once() -> None:
    # 100 000 nested elements would cost a parser minutes (its open-element
    # stack is checked on every tag); no page a person reads does that.
    html = "<html><body>" + "<div>" * 100_000 + "<p>Текст</p>" + "</div>" * 100_000
    with pytest.raises(ExtractError, match="more than 10000 deep"):
        extract_text(html + "</body></html>", base_url="https://example.org/")
    shallow = "<html><body>" + "<div>" * 500 + "<p>Текст</p>" + "</div>" * 500 + "</body></html>"
    assert extract_text(shallow, base_url="https://example.org/") == "Текст"
