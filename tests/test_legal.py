"""Law texts by unit: chapters, articles, parts, points, subpoints; editions."""

from __future__ import annotations

from watcher.changes.legal import (
    amending_laws,
    edition_date,
    edition_markers,
    law_changes,
    split_units,
)

LAW = "\n".join(
    [
        '# Федеральный закон от 29.11.2010 N 326-ФЗ (ред. от 25.12.2023) "Об ОМС"',
        "(В редакции федеральных законов от 14.06.2011 г. N 136-ФЗ; от 25.12.2023 г. N 625-ФЗ)",
        "## Глава 2. Субъекты обязательного медицинского страхования",
        "### Статья 10. Застрахованные лица",
        "Застрахованными лицами являются:",
        "1) работающие по трудовому договору;",
        "2) неработающие граждане:",
        "а) дети;",
        "б) пенсионеры;",
        "Статья 16. Права и обязанности застрахованных лиц",
        "1. Застрахованные лица имеют право на:",
        "1) бесплатное оказание медицинской помощи;",
        "2) выбор страховой медицинской организации;",
        "(в ред. Федерального закона от 01.12.2012 N 213-ФЗ)",
        "2. Застрахованные лица обязаны:",
        "1) предъявить полис;",
    ]
)


def test_units_and_their_labels() -> None:
    labels = [(u.kind, u.label) for u in split_units(LAW)]
    assert labels == [
        ("preamble", "Преамбула"),
        ("chapter", "Глава 2"),
        ("article", "Статья 10"),
        ("point", "Статья 10, пункт 1"),
        ("point", "Статья 10, пункт 2"),
        ("subpoint", 'Статья 10, пункт 2, подпункт "а"'),
        ("subpoint", 'Статья 10, пункт 2, подпункт "б"'),
        ("article", "Статья 16"),
        ("part", "Статья 16, часть 1"),
        ("point", "Статья 16, часть 1, пункт 1"),
        ("point", "Статья 16, часть 1, пункт 2"),
        ("part", "Статья 16, часть 2"),
        ("point", "Статья 16, часть 2, пункт 1"),
    ]


def test_unit_text_is_its_own_lines_with_notes() -> None:
    units = {u.label: u for u in split_units(LAW)}
    assert units["Статья 10"].title == "Застрахованные лица"
    assert units["Статья 10"].text.endswith("Застрахованными лицами являются:")
    assert units["Статья 16, часть 1, пункт 2"].text.endswith("N 213-ФЗ)")
    assert units["Статья 16, часть 1, пункт 2"].line == 13
    assert units["Статья 16"].parent == "Глава 2"


def test_changed_point_and_added_article_are_reported_by_citation() -> None:
    new = (
        LAW.replace("выбор страховой", "выбор и замену страховой")
        + "\n"
        + "\n".join(
            ["Статья 16.1. Полис", "1. Полис является документом.", "2. Полис электронный."]
        )
    )
    changes = law_changes(LAW, new)
    assert [c.label for c in changes.changed] == ["Статья 16, часть 1, пункт 2"]
    assert changes.added == ("Статья 16.1",)
    assert changes.describe()[:2] == (
        "Статья 16, часть 1, пункт 2 changed",
        "Статья 16.1 added",
    )


def test_removed_subpoint() -> None:
    changes = law_changes(LAW, LAW.replace("\nб) пенсионеры;", ""))
    assert changes.removed == ('Статья 10, пункт 2, подпункт "б"',)
    assert not changes.changed


def test_new_edition_and_amending_laws() -> None:
    new = LAW.replace("ред. от 25.12.2023", "ред. от 28.12.2024").replace(
        "N 625-ФЗ)", "N 625-ФЗ; от 28.12.2024 г. N 547-ФЗ)"
    )
    changes = law_changes(LAW, new)
    assert not changes.changed  # the preamble's edition lines are reported apart
    assert changes.edition_date == "28.12.2024"
    assert changes.old_edition_date == "25.12.2023"
    assert changes.new_amending_laws == ("от 28.12.2024 N 547-ФЗ",)
    assert changes.amending_laws == (
        "от 14.06.2011 N 136-ФЗ",
        "от 01.12.2012 N 213-ФЗ",
        "от 25.12.2023 N 625-ФЗ",
        "от 28.12.2024 N 547-ФЗ",
    )
    assert "new edition of 28.12.2024" in changes.describe()


def test_edition_date_falls_back_to_the_latest_amending_law() -> None:
    text = "Закон\n(В редакции Федерального закона от 05.04.2021 г. N 80-ФЗ)\nСтатья 1. Текст"
    assert edition_date(text) == "05.04.2021"
    assert amending_laws(text) == ("от 05.04.2021 N 80-ФЗ",)
    assert edition_date("Статья 1. Без редакций") is None


def test_edition_markers() -> None:
    text = "Статья 7 утратила силу. Настоящий закон вступает в силу с 1 января 2026 года."
    assert edition_markers(text) == ("утратила силу", "вступает в силу с 1 января 2026 года")


def test_identical_texts_have_no_changes() -> None:
    assert law_changes(LAW, LAW).empty
