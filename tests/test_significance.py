"""Severity and reasons of a change, and the default noise filter."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from watcher.changes.claims import check_claims
from watcher.changes.diff import diff_texts
from watcher.changes.significance import Significance, assess, at_least
from watcher.text.noise import default_noise
from watcher.text.normalize import normalize

PAGE = "\n".join(
    [
        "# Полис ОМС для иностранных граждан",
        "Телефон горячей линии: 8 (800) 555-01-23",
        "Срок оформления: в течение 30 дней.",
        "Документы:",
        "- паспорт;",
        "- вид на жительство;",
        "- СНИЛС.",
        "Полис выдаётся бесплатно в офисах страховой организации города.",
    ]
)


def judge(old: str, new: str, **kwargs: object) -> Significance:
    return assess(old, new, diff_texts(old, new), **kwargs)  # type: ignore[arg-type]


def test_no_change_is_cosmetic() -> None:
    assert judge(PAGE, PAGE) == Significance("cosmetic", ("no text changed",))


def test_changed_phone_is_major_and_named() -> None:
    result = judge(PAGE, PAGE.replace("01-23", "01-45"))
    assert result.severity == "major"
    assert result.reasons[0] == "phone number changed: 8 (800) 555-01-23 -> 8 (800) 555-01-45"


def test_changed_duration_is_major() -> None:
    result = judge(PAGE, PAGE.replace("30 дней", "10 рабочих дней"))
    assert result.severity == "major"
    assert "time limit changed: 30 дней -> 10 рабочих дней" in result.reasons


def test_modified_claim_is_major_and_comes_first() -> None:
    new = PAGE.replace("01-23", "01-45")
    claims = check_claims(PAGE, new, ["8 (800) 555-01-23"])
    result = judge(PAGE, new, claims=claims)
    assert result.reasons[0] == "claim modified: «8 (800) 555-01-23» -> «8 (800) 555-01-45»"


def test_reordered_lines_only_are_minor() -> None:
    lines = PAGE.split("\n")
    result = judge(PAGE, "\n".join([lines[0], *lines[4:7][::-1], *lines[1:4], lines[7]]))
    assert result.severity == "minor"
    assert result.reasons == ("3 lines reordered, no text changed",)


def test_punctuation_case_and_yo_are_cosmetic() -> None:
    new = PAGE.replace("- СНИЛС.", "- СНИЛС").replace("Полис выдаётся", "полис выдается")
    assert judge(PAGE, new).severity == "cosmetic"


def test_new_list_item_is_major() -> None:
    result = judge(PAGE, PAGE.replace("- СНИЛС.", "- СНИЛС;\n- миграционная карта."))
    assert result.severity == "major"
    assert "list item added: «- миграционная карта.»" in result.reasons


def test_requirement_word_edit_is_major() -> None:
    result = judge(PAGE, PAGE.replace("выдаётся бесплатно", "выдаётся"))
    assert result.severity == "major"
    assert "requirement wording changed: «бесплатно» removed" in result.reasons


def test_small_rewording_is_minor() -> None:
    result = judge(
        PAGE, PAGE.replace("в офисах страховой организации", "в офисе страховой компании")
    )
    assert result.severity == "minor"


def test_list_renumbering_and_link_targets_are_not_facts() -> None:
    old = "1. паспорт\n2. вид на жительство [https://a.example/doc/17]"
    new = "1. паспорт\n2. миграционная карта\n3. вид на жительство [https://a.example/doc/18]"
    assert judge(old, new).changed_facts == ()


def test_changes_inside_minor_patterns_are_minor() -> None:
    old, new = PAGE + "\nНовость: совещание в фонде", PAGE + "\nНовость: итоги 2024 года"
    assert judge(old, new).severity == "major"  # a number was added
    assert judge(old, new, minor=[re.compile(r"^Новость:")]).severity == "minor"


def test_large_rewrite_is_major() -> None:
    new = PAGE + "\n" + " ".join(["Новые правила обращения в фонд для всех категорий"] * 4)
    assert judge(PAGE, new).severity == "major"


def test_new_edition_of_a_law_is_major_and_named() -> None:
    old = "Федеральный закон N 326-ФЗ (ред. от 25.12.2023)\nСтатья 10. Застрахованные лица"
    new = old.replace("25.12.2023", "28.12.2024")
    result = judge(old, new)
    assert (result.severity, result.edition) == ("major", "28.12.2024")
    assert result.reasons[0] == "new edition of 28.12.2024"


def test_lost_force_marker_is_major() -> None:
    old = "Статья 5. Порядок\nТекст статьи."
    result = judge(old, old + "\nСтатья 6 утратила силу.")
    assert result.severity == "major"
    assert any(r.startswith("edition marker: утратила силу") for r in result.reasons)


def test_at_least_orders_severities() -> None:
    assert at_least("major", "minor") and at_least("minor", "minor")
    assert not at_least("cosmetic", "minor")


# ------------------------------------------------------------- noise filter


def test_noise_filter_drops_stamps_and_counters() -> None:
    text = "\n".join(
        [
            "# Полис ОМС",
            "Опубликовано: 12.02.2025 | Просмотров: 1 482",
            "Дата обновления: 05.03.2025",
            "Обновлено 5 марта 2025 г., 14:35",
            "Посещений сегодня: 312",
            "12.03.2025 14:35",
            "Views: 89",
            "Текст страницы.",
        ]
    )
    assert default_noise(text) == "# Полис ОМС\nТекст страницы."


def test_noise_filter_keeps_dates_in_text_and_bare_dates() -> None:
    text = (
        "Заявления принимаются до 31.12.2025.\nС 1 сентября 2025 г. полис электронный.\n31.12.2025"
    )
    assert default_noise(text) == text


def test_noise_filter_drops_session_parameters_from_links() -> None:
    line = (
        "Выход [https://a.example/?logout=yes&sessid=5c1e0f] Печать [https://a.example/p?sessid=1]"
    )
    assert (
        default_noise(line) == "Выход [https://a.example/?logout=yes] Печать [https://a.example/p]"
    )


def test_changed_deadline_still_flags_after_noise_filter() -> None:
    old = default_noise("Дата обновления: 01.02.2025\nПриём до 31.12.2025.")
    new = default_noise("Дата обновления: 03.03.2025\nПриём до 31.03.2026.")
    result = judge(old, new)
    assert result.severity == "major"
    assert result.reasons[0] == "date changed: 31.12.2025 -> 31.03.2026"


@given(st.text(alphabet="Опубликовано: 12.03.2025|Просмотров 45\n до[?&sessid=]ab", max_size=120))
def test_noise_filter_is_idempotent_and_keeps_normal_form(text: str) -> None:
    once = default_noise(normalize(text))
    assert default_noise(once) == once
    assert normalize(once) == once


def test_a_number_written_as_a_word_is_a_number() -> None:
    # 430-FZ of 28.11.2025 amended 326-FZ by replacing the word «трех» with «пяти».
    old = "1.1. Право на бесплатную помощь имеют лица, проживающие не менее трех лет."
    new = "1.1. Право на бесплатную помощь имеют лица, проживающие не менее пяти лет."
    result = assess(old, new, diff_texts(old, new))
    assert result.severity == "major"
    assert "time limit changed: трех лет -> пяти лет" in result.reasons
    english = assess(
        "valid for three years",
        "valid for five years",
        diff_texts("valid for three years", "valid for five years"),
    )
    assert english.severity == "major"


def test_the_same_number_written_otherwise_is_cosmetic() -> None:
    old, new = "Use the telephone only to call 9-1-1.", "Use the telephone only to call 911."
    result = assess(old, new, diff_texts(old, new))
    assert result.severity == "cosmetic"


def test_each_reason_is_given_once() -> None:
    old = "- Паспорт\n- Полис"
    new = "- Паспорт\n- Полис\n- Паспорт\n- Полис\n- СНИЛС"
    result = assess(old, new, diff_texts(old, new))
    assert len(result.reasons) == len(set(result.reasons))
