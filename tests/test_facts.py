"""The one detector of facts guides quote (phones, dates, amounts, laws, numbers)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from watcher.changes.diff import diff_texts
from watcher.changes.facts import ChangedFact, changed_facts, find_facts, mark_ops, touched_facts
from watcher.results import WordOp

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "report" / "facts.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_find_facts_table(case: dict[str, Any]) -> None:
    found = find_facts(case["text"])
    assert [[f.kind, f.text] for f in found] == case["facts"]
    for fact in found:
        assert case["text"][fact.start : fact.end] == fact.text


@given(st.text(max_size=200))
def test_facts_never_overlap_and_match_their_text(text: str) -> None:
    found = find_facts(text)
    for fact in found:
        assert text[fact.start : fact.end] == fact.text
    for a, b in pairwise(found):
        assert a.end <= b.start


def _paired(old: str, new: str) -> tuple[tuple[WordOp, ...], tuple[WordOp, ...]]:
    lines = [line for hunk in diff_texts(old, new).hunks for line in hunk.lines]
    return lines[0].words, lines[1].words


def test_changed_phone_is_one_fact_on_each_side() -> None:
    old, new = _paired("Горячая линия: 8 (800) 555-01-23", "Горячая линия: 8 (800) 555-01-45")
    assert changed_facts(old, new) == (
        ChangedFact("phone", "8 (800) 555-01-23", "8 (800) 555-01-45"),
    )
    marked = mark_ops(new, "insert")
    in_fact = "".join(p.text for p in marked if p.fact is not None)
    assert in_fact == "8 (800) 555-01-45"
    assert [p.op for p in marked if p.fact is not None][-1] == "insert"
    assert "".join(p.text for p in marked) == "Горячая линия: 8 (800) 555-01-45"


def test_untouched_facts_are_not_marked() -> None:
    old, new = _paired(
        "Телефон 8 (800) 555-01-23, срок 5 рабочих дней",
        "Телефон 8 (800) 555-01-23, срок 10 рабочих дней",
    )
    assert [f.kind for f in touched_facts(new, "insert")] == ["duration"]
    assert changed_facts(old, new) == (
        ChangedFact("duration", "5 рабочих дней", "10 рабочих дней"),
    )


def test_a_whole_added_line_brings_new_facts() -> None:
    added = (WordOp("insert", "Новый срок: 01.03.2026"),)
    assert changed_facts((), added) == (ChangedFact("date", None, "01.03.2026"),)


def test_rewording_around_a_fact_changes_no_fact() -> None:
    old, new = _paired(
        "Звоните: 8 (800) 555-01-23 днём", "Звоните: 8 (800) 555-01-23 круглосуточно"
    )
    assert changed_facts(old, new) == ()
