"""Tests for watcher.changes.diff: hand cases, rendering, properties, pathological inputs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.changes.diff import apply_diff, diff_texts, render_unified
from watcher.results import Diff, DiffStats, Line, WordOp

CONTACTS = [
    "Контакты",
    "Адрес: Санкт-Петербург, Невский пр., д. 1",
    "Приёмная: 8 (812) 952-93-20",
    "Телефон: 8 (812) 952-93-21",
    "Часы работы: 9:00-18:00",
    "Почта: info@example.ru",
]


def text(lines: list[str]) -> str:
    return "\n".join(lines)


def replaced(lines: list[str], index: int, line: str) -> list[str]:
    return [*lines[:index], line, *lines[index + 1 :]]


# ------------------------------------------------------------------ hand cases


def test_changed_phone_number_pairs_lines_and_shows_token_change() -> None:
    new = replaced(CONTACTS, 3, "Телефон: 8 (812) 952-93-22")
    diff = diff_texts(text(CONTACTS), text(new), context=2)

    assert len(diff.hunks) == 1
    hunk = diff.hunks[0]
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (2, 5, 2, 5)
    assert [line.tag for line in hunk.lines] == [" ", " ", "-", "+", " ", " "]
    assert hunk.lines[0] == Line(" ", CONTACTS[1])
    assert hunk.lines[2].words == (
        WordOp("equal", "Телефон: 8 (812) 952-93-"),
        WordOp("delete", "21"),
    )
    assert hunk.lines[3].words == (
        WordOp("equal", "Телефон: 8 (812) 952-93-"),
        WordOp("insert", "22"),
    )


def test_insert_only() -> None:
    new = [*CONTACTS[:2], "Факс: 8 (812) 952-93-99", *CONTACTS[2:]]
    diff = diff_texts(text(CONTACTS), text(new), context=1)

    (hunk,) = diff.hunks
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (2, 2, 2, 3)
    assert hunk.lines == (
        Line(" ", CONTACTS[1]),
        Line("+", "Факс: 8 (812) 952-93-99"),
        Line(" ", CONTACTS[2]),
    )
    assert diff.stats.lines_added == 1
    assert diff.stats.lines_removed == 0


def test_delete_only() -> None:
    new = CONTACTS[:2] + CONTACTS[3:]
    diff = diff_texts(text(CONTACTS), text(new), context=0)

    (hunk,) = diff.hunks
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (3, 1, 2, 0)
    assert hunk.lines == (Line("-", CONTACTS[2]),)
    # "Приёмная", "8", "812", "952", "93", "20" of 30 words in the old text.
    assert diff.stats == DiffStats(lines_removed=1, words_removed=6, changed_ratio=6 / 30)


def test_baseline_from_empty_and_to_empty() -> None:
    baseline = diff_texts("", text(CONTACTS))
    (hunk,) = baseline.hunks
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (0, 0, 1, 6)
    assert all(line.tag == "+" and not line.words for line in hunk.lines)
    assert baseline.stats.changed_ratio == 1.0
    assert apply_diff("", baseline) == text(CONTACTS)

    gone = diff_texts(text(CONTACTS), "")
    assert gone.stats.lines_removed == 6
    assert apply_diff(text(CONTACTS), gone) == ""
    assert diff_texts("", "").empty


def test_identical_texts_have_no_hunks() -> None:
    diff = diff_texts(text(CONTACTS), text(CONTACTS))
    assert diff == Diff(hunks=())
    assert render_unified(diff) == ""


def test_stats_small_case() -> None:
    old = "Срок подачи заявления 10 дней.\nОплата: 500 рублей."
    new = "Срок подачи заявления 30 рабочих дней.\nОплата: 500 рублей.\nЛьготы отменены."
    stats = diff_texts(old, new).stats

    # Paired line: "10" -> "30 рабочих"; unpaired added line: 2 words.
    assert stats == DiffStats(
        lines_added=2,
        lines_removed=1,
        words_added=4,
        words_removed=1,
        changed_ratio=4 / 8,
    )


def test_dissimilar_lines_are_not_paired() -> None:
    diff = diff_texts("Статья 5 утратила силу.", "Настоящий закон вступает в силу с 1 марта.")
    assert all(not line.words for line in diff.hunks[0].lines)


def test_distant_changes_make_separate_hunks() -> None:
    old = [f"Пункт {n}." for n in range(1, 21)]
    new = replaced(replaced(old, 2, "Пункт 3 изменён."), 16, "Пункт 17 изменён.")
    diff = diff_texts(text(old), text(new), context=3)
    assert [(h.old_start, h.old_count) for h in diff.hunks] == [(1, 6), (14, 7)]
    assert len(diff_texts(text(old), text(new), context=7).hunks) == 1


# ------------------------------------------------------------------- rendering


def test_render_unified_exact_text() -> None:
    new = replaced(CONTACTS, 3, "Телефон: 8 (812) 952-93-22")
    new.append("Сайт: example.ru")
    diff = diff_texts(text(CONTACTS), text(new), context=1)

    assert render_unified(diff, old_label="a/contacts.txt", new_label="b/contacts.txt") == (
        "--- a/contacts.txt\n"
        "+++ b/contacts.txt\n"
        "@@ -3,4 +3,5 @@\n"
        " Приёмная: 8 (812) 952-93-20\n"
        "-Телефон: 8 (812) 952-93-21\n"
        "+Телефон: 8 (812) 952-93-22\n"
        " Часы работы: 9:00-18:00\n"
        " Почта: info@example.ru\n"
        "+Сайт: example.ru\n"
    )


def test_render_unified_single_line_ranges() -> None:
    rendered = render_unified(diff_texts("", "Новая строка"))
    assert rendered == "--- old\n+++ new\n@@ -0,0 +1 @@\n+Новая строка\n"


# --------------------------------------------------------------------- properties

LINES = st.lists(
    st.sampled_from(["", "а", "б", "Статья 1.", "Статья 1 утратила силу."]), max_size=30
)


@given(LINES)
def test_diff_of_a_text_with_itself_is_empty(lines: list[str]) -> None:
    assert diff_texts(text(lines), text(lines)).empty


@given(LINES, LINES, st.integers(min_value=0, max_value=4))
def test_apply_diff_rebuilds_new(old: list[str], new: list[str], context: int) -> None:
    diff = diff_texts(text(old), text(new), context=context)
    assert apply_diff(text(old), diff) == text(new)
    assert diff.stats.lines_added == sum(line.tag == "+" for h in diff.hunks for line in h.lines)
    assert diff.stats.lines_removed == sum(line.tag == "-" for h in diff.hunks for line in h.lines)


WORDY = st.lists(
    st.lists(
        st.sampled_from(["закон", "Статья", "1", "2", " ", ", ", "-", "силу"]), max_size=8
    ).map("".join),
    max_size=12,
)


@settings(max_examples=200)
@given(WORDY, WORDY)
def test_word_ops_rebuild_their_line(old: list[str], new: list[str]) -> None:
    diff = diff_texts(text(old), text(new))
    assert apply_diff(text(old), diff) == text(new)
    for hunk in diff.hunks:
        for line in hunk.lines:
            if line.words:
                assert "".join(word.text for word in line.words) == line.text
                allowed = {"-": {"equal", "delete"}, "+": {"equal", "insert"}}[line.tag]
                assert {word.op for word in line.words} <= allowed


# ------------------------------------------------------------------ pathological


def test_thousands_of_identical_lines_with_a_change_in_the_middle() -> None:
    old = ["Утратил силу."] * 5_000
    new = replaced(old, 2_500, "Изложить в новой редакции.")
    diff = diff_texts(text(old), text(new))
    (hunk,) = diff.hunks
    assert hunk.old_start == 2_498
    assert apply_diff(text(old), diff) == text(new)


def test_identical_lines_with_edits_at_both_ends() -> None:
    old = ["Начало", *["Утратил силу."] * 5_000, "Конец"]
    new = ["Начало!", *["Утратил силу."] * 4_999, "Конец!"]
    diff = diff_texts(text(old), text(new))
    assert diff.stats.lines_removed == 3
    assert diff.stats.lines_added == 2
    assert apply_diff(text(old), diff) == text(new)


def test_many_repeats_without_anchors_still_apply() -> None:
    old = ["а", "б", "в"] * 2_000
    new = ["б", "в", "а"] * 2_000
    assert apply_diff(text(old), diff_texts(text(old), text(new))) == text(new)


def test_giant_single_line() -> None:
    giant = "Статья 1. " + "Граждане имеют право на обращение, " * 30_000
    cut = giant.index(" ", 500_000) + 1
    changed = giant[:cut] + "ИЗМЕНЕНО " + giant[cut:]
    diff = diff_texts(giant, changed)
    assert apply_diff(giant, diff) == changed
    removed, added = diff.hunks[0].lines
    assert "".join(word.text for word in removed.words) == giant
    assert "".join(word.text for word in added.words) == changed
    assert [word.text for word in added.words if word.op == "insert"] == ["ИЗМЕНЕНО "]
