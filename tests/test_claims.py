"""Claims a guide relies on: intact, moved, modified or missing."""

from __future__ import annotations

import pytest

from watcher.changes.claims import check_claims, summary
from watcher.results import ClaimResult, WordOp

OLD = "\n".join(
    [
        "# Полис ОМС",
        "Телефон горячей линии: 8 (800) 555-01-23",
        "Срок оформления: в течение 30 дней.",
        "Полис оформляется «временно проживающим»",
        "иностранным гражданам.",
        "Приём: пн-пт.",
    ]
)


def one(old: str | None, new: str, claim: str) -> ClaimResult:
    (result,) = check_claims(old, new, [claim])
    return result


def test_unchanged_text_keeps_every_claim_intact() -> None:
    results = check_claims(OLD, OLD, ["8 (800) 555-01-23", "в течение 30 дней", "Полис ОМС"])
    assert [r.status for r in results] == ["intact"] * 3
    assert [r.new_line for r in results] == [2, 3, 1]
    assert summary(results) == "all 3 claims intact"


def test_first_check_without_old_text() -> None:
    assert one(None, OLD, "в течение 30 дней").status == "intact"
    assert one(None, OLD, "полис для туристов").status == "missing"


@pytest.mark.parametrize(
    "claim",
    [
        "ПОЛИС ОМС",  # case
        'Полис  оформляется "временно проживающим" иностранным гражданам',  # quotes, line break
        "Приём: пн–пт.",  # en dash
        "Срок оформления: в\u00a0течение 30 дней",  # NBSP
    ],
)
def test_matching_tolerates_case_spacing_typography_and_line_breaks(claim: str) -> None:
    assert one(OLD, OLD, claim).status == "intact"


def test_yo_is_read_as_e() -> None:
    assert one(None, "Приём документов", "Прием документов").status == "intact"


def test_changed_phone_digits_are_modified_with_word_detail() -> None:
    result = one(OLD, OLD.replace("01-23", "01-45"), "8 (800) 555-01-23")
    assert result.status == "modified"
    assert result.found == "8 (800) 555-01-45"
    assert WordOp("delete", "23") in result.words and WordOp("insert", "45") in result.words
    assert result.old_line == result.new_line == 2


def test_changed_duration_is_modified_even_with_few_shared_letters() -> None:
    result = one(OLD, OLD.replace("30 дней", "10 рабочих дней"), "30 дней")
    assert result.status == "modified"
    assert result.found == "10 рабочих дней"


def test_number_inside_a_longer_number_is_not_intact() -> None:
    result = one(None, "Срок: 130 дней", "30 дней")
    assert result.status == "modified"
    assert result.found == "130 дней"


def test_claim_in_a_moved_line_is_moved() -> None:
    lines = OLD.split("\n")
    new = "\n".join([lines[2], *lines[:2], *lines[3:]])
    result = one(OLD, new, "в течение 30 дней")
    assert (result.status, result.old_line, result.new_line) == ("moved", 3, 1)
    assert summary([result]) == "all 1 claim present (1 moved)"


def test_claim_stays_intact_when_lines_are_inserted_around_it() -> None:
    new = "Новость дня\n" + OLD.replace("Приём: пн-пт.", "Приём: пн-сб.")
    assert one(OLD, new, "8 (800) 555-01-23").status == "intact"


def test_old_number_elsewhere_does_not_hide_an_edit_in_place() -> None:
    new = OLD.replace("01-23", "01-45") + "\nСтарый номер 8 (800) 555-01-23 не работает."
    assert one(OLD, new, "8 (800) 555-01-23").status == "modified"


def test_removed_claim_is_missing() -> None:
    new = OLD.replace("Срок оформления: в течение 30 дней.\n", "")
    result = one(OLD, new, "Срок оформления: в течение 30 дней")
    assert result.status == "missing"
    assert result.old_line == 3


def test_typo_in_a_long_claim_is_a_near_match() -> None:
    result = one(None, OLD, "Полис оформляется временно проживающим иностраным гражданам")
    assert result.status == "modified"
    assert result.score >= 80


def test_summary_names_the_claims_that_are_not_intact() -> None:
    new = OLD.replace("01-23", "01-45").replace("Приём: пн-пт.", "")
    results = check_claims(OLD, new, ["8 (800) 555-01-23", "Полис ОМС", "Приём: пн-пт"])
    assert summary(results[:2]) == "1 of 2 claims modified: «8 (800) 555-01-23»"
    assert summary(results) == (
        "2 of 3 claims not intact: 1 modified: «8 (800) 555-01-23»; 1 missing: «Приём: пн-пт»"
    )
    assert summary([]) == "no claims"


def test_a_near_match_reads_as_the_page_says_it() -> None:
    # The claim's number changed; the page has a heading just above the line.
    new = "## Горячая линия\nТелефон горячей линии фонда: 8 (800) 555-01-45 (звонок бесплатный)."
    result = one(new, new, "Телефон горячей линии фонда: 8 (800) 555-01-23")
    assert result.status == "modified"
    assert result.found == "Телефон горячей линии фонда: 8 (800) 555-01-45"
