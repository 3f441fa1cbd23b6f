"""Tests of the normalize stage: typography folding and property tests."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watcher.text import normalize as stage
from watcher.text.normalize import NORMALIZER_VERSION, content_hash, normalize

VIEWS = re.compile(r"Просмотров: \d+")
DIGITS = re.compile(r"\d+")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("«Полис ОМС»", '"Полис ОМС"'),
        ("„Закон“ и “закон” ‟x″", '"Закон" и "закон" "x"'),
        ("‘a’ ‚b‛ 5′", "'a' 'b' 5'"),
        ("8 (495) 952‑93‑21", "8 (495) 952-93-21"),
        (
            "2020–2024 — тире ― bar ‒ fig ‐ hyph − minus",
            "2020-2024 - тире - bar - fig - hyph - minus",
        ),
        ("и т. д.…", "и т. д...."),
        ("Полис\u00a0ОМС", "Полис ОМС"),
        ("10\u202f000\u2009₽\u2007x\u3000y", "10 000 ₽ x y"),
        ("застра\u00adхованные", "застрахованные"),
        ("a\u200bb\u200cc\u200dd\u2060e\ufefff", "abcdef"),
        ("\ufeffСтатья 10", "Статья 10"),
        ("a\tb  \t c", "a b c"),
        ("  строка  \r\n\r\n\n  вторая\rтретья\n", "строка\nвторая\nтретья"),
        ("a\u2028b\u2029c\x0bd\x0ce\x85f", "a\nb\nc\nd\ne\nf"),
        ("е\u0301", "\u0435\u0301"),  # no precomposed Cyrillic е with acute: stays
        ("e\u0301", "\u00e9"),
        ("e\u00ad\u0301", "\u00e9"),  # removing the soft hyphen lets NFC compose
        ("Регистр НЕ меняется", "Регистр НЕ меняется"),
        ("", ""),
        ("\n \n\t\n", ""),
    ],
)
def test_typography_and_whitespace(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_ignore_removes_matches_and_empty_lines() -> None:
    text = "Полис ОМС\nПросмотров: 1523\nДата: 12.03.2024 Просмотров: 7 конец"
    assert normalize(text, (VIEWS,)) == "Полис ОМС\nДата: 12.03.2024 конец"


def test_ignore_is_multiline_and_sees_normalized_text() -> None:
    pattern = re.compile(r"^Обновлено .*$")
    text = "Статья 10\nОбновлено\u00a0 12 марта\nТекст"
    assert normalize(text, (pattern,)) == "Статья 10\nТекст"


def test_ignore_repeats_until_nothing_changes() -> None:
    assert normalize("aaabbb x", (re.compile("ab"),)) == "x"


def test_content_hash() -> None:
    digest = content_hash("Полис ОМС")
    assert len(digest) == 16
    assert int(digest, 16) >= 0
    assert digest == content_hash("Полис ОМС")
    assert digest != content_hash("Полис ОМС.")
    assert content_hash("\ud800") != content_hash("")  # lone surrogates do not crash


def test_version_is_an_int() -> None:
    assert isinstance(NORMALIZER_VERSION, int)


# Text biased towards what normalization touches.
NOISY = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            list("абвгдеёжзАБВ Zz09.,:\n\r\t-\"'")
            + list("\u00a0\u202f\u2007\u2009\u3000\u00ad\u200b\u200d\u2060\ufeff\u2028\x85")
            + list("«»„“”‟″‘’‚‛′‐‑‒–—―−…")
            + ["\u0301", "\u0308", "e", "\u1100", "\u1161", "\u11a8"]
        ),
        st.characters(),
    ),
    max_size=80,
)


@given(st.text())
def test_idempotent_on_any_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(NOISY)
def test_idempotent_on_noisy_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert "\r" not in once and "\t" not in once and "  " not in once
    assert not once.startswith((" ", "\n")) and not once.endswith((" ", "\n"))


@given(NOISY)
def test_idempotent_with_ignore(text: str) -> None:
    once = normalize(text, (DIGITS,))
    assert normalize(once, (DIGITS,)) == once
    assert not any(char.isdigit() and char.isascii() for char in once)


WORDS = st.lists(
    st.sampled_from(["Полис", "ОМС", "иностранным", "гражданам", "8", "(495)"]),
    min_size=1,
    max_size=8,
)
GAPS = st.sampled_from([" ", "  ", "\u00a0", " \u00ad", "\t", "\u202f", " \u200b", "\u2009 "])


@given(WORDS, st.data())
def test_whitespace_noise_gives_the_same_text(words: list[str], data: st.DataObject) -> None:
    noisy = "".join(word + data.draw(GAPS) for word in words)
    assert normalize(noisy) == normalize(" ".join(words))


@given(WORDS, st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_changed_counter_gives_the_same_text(words: list[str], before: int, after: int) -> None:
    body = " ".join(words)
    old = normalize(f"{body}\nПросмотров: {before}", (VIEWS,))
    new = normalize(f"{body}\nПросмотров:\u00a0{after}", (VIEWS,))
    assert old == new == normalize(body)


@given(WORDS, st.sampled_from(['"{}"', "«{}»", "„{}“", "“{}”"]))
def test_quote_style_gives_the_same_text(words: list[str], quotes: str) -> None:
    body = " ".join(words)
    assert normalize(quotes.format(body)) == normalize(f'"{body}"')


@given(st.text(min_size=1), st.text(min_size=1))
def test_hash_differs_for_different_text(a: str, b: str) -> None:
    assert (content_hash(a) == content_hash(b)) == (a == b)


_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U0010fffe\U0010ffff]"
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x1b[31mred\x1b[0m", "a[31mred[0m"),  # a terminal escape from a page
        ("nul\x00 bell\x07 del\x7f", "nul bell del"),
        ("csi\x9b1m", "csi1m"),  # C1: the 8-bit terminal escape
        ("feed\ufffe\uffff\U0001fffe reader", "feed reader"),
        ("tab\tand\nlines", "tab and\nlines"),
    ],
)
def test_controls_and_non_characters_are_removed(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_normalized_text_is_safe_for_terminals_and_xml(text: str) -> None:
    assert not _UNSAFE.search(normalize(text))


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_dropping_controls_is_one_pass_of_the_whole_class(text: str) -> None:
    # the fast path (BMP first, astral only when present) removes exactly what the class says
    assert stage._drop_controls(text) == _slow_drop(text)


@pytest.mark.parametrize("extra", ["\U0001fffe", "\U0010ffff", "\U0001f600", "\ufffe", "\x85"])
def test_dropping_controls_beyond_the_bmp(extra: str) -> None:
    text = f"Полис{extra}ОМС"
    assert stage._drop_controls(text) == _slow_drop(text)


def _slow_drop(text: str) -> str:
    """Both classes applied to every text, astral characters or not."""
    return stage._ASTRAL_NONCHARACTERS.sub("", stage._CONTROLS.sub("", text))
