"""PDF sources: text extraction, furniture removal, failures said in words.

The fixtures are built by ``tests/data/pdf/make_fixtures.py`` (reportlab);
the tests themselves only read them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.errors import DecodeError
from watcher.text.pdf import join_pages, pdf_to_text

DATA = Path(__file__).parent / "data" / "pdf"


def _body(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_consultant_furniture_is_removed() -> None:
    result = pdf_to_text(_body("law_a.pdf"), url="https://example.ru/law.pdf")
    assert result.pages == 4
    for stamp in ("КонсультантПлюс", "Дата сохранения", "Страница", "www.consultant.ru", "326-ФЗ"):
        assert stamp not in result.text
    assert result.text.startswith("Статья 10. Застрахованные лица\n")
    assert result.text.endswith("в течение одного месяца со дня, когда эти изменения произошли.")


def test_repagination_and_a_new_save_date_give_the_same_text() -> None:
    a = pdf_to_text(_body("law_a.pdf"))
    b = pdf_to_text(_body("law_b.pdf"))
    assert (a.pages, b.pages) == (4, 2)
    assert a.text == b.text


def test_repeated_header_and_bare_page_numbers_are_removed() -> None:
    numbered = pdf_to_text(_body("numbered.pdf"))
    assert "Памятка" not in numbered.text
    assert "- 2 -" not in numbered.text
    assert numbered.text == pdf_to_text(_body("law_a.pdf")).text


def test_hyphenated_line_breaks_are_joined_even_across_pages() -> None:
    text = pdf_to_text(_body("law_a.pdf")).text
    assert "медицинского страхования; 3) замену" in text
    assert "персонифицированного учета" in text
    assert "медико-социальной" in text
    assert "страхо-" not in text


def test_metadata_in_iso() -> None:
    metadata = pdf_to_text(_body("law_a.pdf")).metadata
    assert metadata["title"] == "Федеральный закон N 326-ФЗ"
    assert metadata["author"] == "КонсультантПлюс"
    assert metadata["created"] == "2000-01-01T00:00:00+00:00"
    assert metadata["modified"] == "2000-01-01T00:00:00+00:00"


def test_a_pdf_locked_only_against_editing_opens() -> None:
    locked = pdf_to_text(_body("owner_locked.pdf"))
    assert locked.text == pdf_to_text(_body("law_a.pdf")).text


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("password", _body("user_locked.pdf"), "password-protected"),
        ("scan", _body("scan.pdf"), "no text layer (a scan)"),
        ("mojibake", _body("mojibake.pdf"), "Cyrillic read as Latin-1"),
        ("truncated", _body("law_a.pdf")[:3000], "corrupt"),
        ("garbage", b"%PDF-1.4\n" + bytes(range(256)) * 8, "corrupt"),
        ("html", b"<!doctype html><title>Not a PDF</title>", "not a PDF"),
    ],
)
def test_unusable_pdfs_raise_decode_error(name: str, body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        pdf_to_text(body, url=f"https://example.ru/{name}.pdf")
    assert message in str(caught.value)
    assert caught.value.url == f"https://example.ru/{name}.pdf"


def test_scan_error_says_what_to_do() -> None:
    with pytest.raises(DecodeError) as caught:
        pdf_to_text(_body("scan.pdf"))
    assert caught.value.hint == "watch its listing page instead"


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        pytest.param(
            ["Шапка\nпервая строка\n1", "Шапка\nвторая строка\n2", "Шапка\nтретья\n3"],
            "первая строка\nвторая строка\nтретья",
            id="header-and-numbers",
        ),
        pytest.param(
            ["Стр. 1 из 2\nтекст\n", "Стр. 2 из 2\nещё текст"],
            "текст\nещё текст",
            id="numbered-header-on-two-pages",
        ),
        pytest.param(
            ["Раздел 1\nтекст раздела\nконец", "Раздел 2\nдругой текст\nитог"],
            "Раздел 1\nтекст раздела\nконец\nРаздел 2\nдругой текст\nитог",
            id="two-pages-headings-differing-in-digits-stay",
        ),
        pytest.param(
            ["Лист 1\nа\nб", "Лист 2\nв\nг", "Лист 3\nд"],
            "а\nб\nв\nг\nд",
            id="three-pages-header-differing-in-digits-goes",
        ),
        pytest.param(
            ["а\nОбщий итог", "б\nОбщий итог", "в\nконец"],
            "а\nб\nв\nконец",
            id="footer-on-most-pages",
        ),
        pytest.param(
            ["а\nОбщий итог", "б", "в\nконец"],
            "а\nОбщий итог\nб\nв\nконец",
            id="footer-on-a-minority-stays",
        ),
        pytest.param(
            ["один\nдва\n15\nтри", "четыре\nпять"],
            "один\nдва\n15\nтри\nчетыре\nпять",
            id="a-number-inside-the-page-stays",
        ),
        pytest.param(
            ["сумма вычис-\nляется так", "Москва -\nстолица", "Санкт-\nПетербург"],
            "сумма вычисляется так\nМосква -\nстолица\nСанкт-\nПетербург",
            id="hyphenation-only-before-lowercase",
        ),
        pytest.param(["единственная страница\n7"], "единственная страница", id="one-page"),
    ],
)
def test_join_pages(pages: list[str], expected: str) -> None:
    assert join_pages(pages) == expected
