"""Facts that guides quote: phone numbers, dates, amounts, laws, numbers.

One detector, shared by the digest (changed facts are highlighted) and the
significance rules of the signal-quality work: a change that touches a
fact matters more than one that rewords a sentence. Pure, no I/O.

:func:`find_facts` returns non-overlapping :class:`Fact` spans of a text.
Kinds, most specific first (an overlap is won by the earlier kind):

========== ==========================================================
``law``    ``326-ФЗ``, ``№ 1234-р``, ``статья 10``, ``ст. 10``, ``ч. 2``, ``п. 3.1``
``date``   ``01.09.2025``, ``2025-09-01``, ``1 сентября 2025 г.``, ``1 сентября``
``phone``  ``8 (800) 555-01-23``, ``+7 495 952-93-21``; ``112``, ``103`` near a
           word such as "телефон", "звоните", "номер"
``money``  ``1 500 руб.``, ``2 000 ₽``, ``₽ 300``, ``15,50 рублей``
``percent`` ``15 %``, ``3,5 процента``
``duration`` ``30 дней``, ``10 рабочих дней``, ``3 месяца``, ``1 год``
``number`` any other number
========== ==========================================================

:func:`mark_ops` splits the word ops of one diff line at fact boundaries
and says which pieces belong to a fact the change touched.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

from watcher.results import WordOp

__all__ = [
    "FACT_KINDS",
    "NAMED_KINDS",
    "ChangedFact",
    "Fact",
    "MarkedOp",
    "changed_facts",
    "find_facts",
    "mark_ops",
    "touched_facts",
]

_NUM = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
# Numbers written as words, in every case and gender: 430-FZ amended 326-FZ by
# replacing «трех» with «пяти». Russian, English and French (not "un"/"une",
# which are articles, nor "семью", which is also "family").
_RU_WORDS = (
    r"одн(?:ого|ой|ому|им|ом|у|а|о|и|их|ими)|один"
    r"|дв(?:а|е|ух|ум|умя)|тр(?:и|[её]х|[её]м|емя)|четыр(?:е|[её]х|[её]м|ьмя)"
    r"|пят(?:ь|и|ью)|шест(?:ь|и|ью)|сем(?:ь|и)|вос(?:емь|ьми|емью|ьмью)|девят(?:ь|и|ью)"
    r"|десят(?:ь|и|ью)|(?:один|две|три|четыр|пят|шест|сем|восем|девят)надцат(?:ь|и|ью)"
    r"|двадцат(?:ь|и|ью)|тридцат(?:ь|и|ью)|сорок(?:а)?|(?:пят|шест|сем|восем)ь?десят(?:и)?"
    r"|пятидесят(?:и|ью)|шестидесят(?:и|ью)|семидесят(?:и|ью)|восьмидесят(?:и|ью)"
    r"|девяност(?:о|а)|сто|ста|двести|двухсот|триста|трехсот|трёхсот|четыреста|четырехсот"
    r"|(?:пят|шест|сем|восем|девят)ьсот|(?:пят|шест|сем|восьм|девят)исот"
    r"|тысяч(?:а|и|у|ей|ами|ах|ам)?|полтора|полторы|полутора"
    r"|дво(?:е|их)|тро(?:е|их)|четвер(?:о|ых)|пятер(?:о|ых)|шестер(?:о|ых)|десятер(?:о|ых)"
)
_EN_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundred|thousand|half"
)
_FR_WORDS = (
    r"deux|trois|quatre|cinq|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize"
    r"|vingt|trente|quarante|cinquante|soixante|cent|mille"
)
NUMBER_WORDS = rf"(?:{_RU_WORDS}|{_EN_WORDS}|{_FR_WORDS})"
"""Numbers written as words; a change of one is a change of a number."""
_MONTHS = r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
_SHORT_PHONE_CONTEXT = re.compile(
    r"телефон|тел\.|номер|звон|позвон|вызов|набер|набр|горяч|экстренн|скор|полици|пожар|"
    r"спасат|единой|call|phone|dial",
    re.IGNORECASE,
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "law",
        re.compile(
            r"(?<![\w-])\d+(?:-\d+)?-(?:ФЗ|ФКЗ|КЗ|ЗО|З)\b"
            r"|№\s?\d+(?:[-/.]?[\wа-яА-Я]+)*"
            r"|\b(?:стать[яиеюёй]|ст\.|част[ьиейю]|ч\.|пункт[аеуом]?|п\.|подпункт[аеуом]?|пп\.)"
            r"\s?\d+(?:\.\d+)*",
            re.IGNORECASE,
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:\d{4}|\d{2})\b"
            r"|\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"
            rf"|\b(?:0?[1-9]|[12]\d|3[01])\s(?:{_MONTHS})(?:\s\d{{4}}(?:\s?(?:года|г\.|г\b))?)?",
            re.IGNORECASE,
        ),
    ),
    (
        "phone",
        re.compile(r"(?<![\w+])(?:\+7|8)[\s-]?\(?\d{3,5}\)?[\s-]?\d{1,3}[\s-]?\d{2}[\s-]?\d{2}\b"),
    ),
    (
        "money",
        re.compile(
            rf"(?:{_NUM})\s?(?:₽|руб(?:лей|ля|ль)?\.?|р\.|коп(?:еек|ейки|ейка)?\.?|"
            rf"тыс\.\s?руб\.?|млн\.?\s?руб\.?|USD|EUR|долларов|евро)"
            rf"|₽\s?(?:{_NUM})",
            re.IGNORECASE,
        ),
    ),
    ("percent", re.compile(rf"(?:{_NUM})\s?(?:%|процент(?:ов|а)?\b)", re.IGNORECASE)),
    (
        "duration",
        re.compile(
            rf"(?:\b\d{{1,3}}(?:[.,]\d+)?|\b{NUMBER_WORDS})\s"
            r"(?:(?:рабоч|календарн)\w*\s|(?:business|working|calendar)\s|jours?\s(?=ouvr))?"
            r"(?:дн(?:ей|я)|день|сут(?:ок|ки)|недел[ьиюяе]\w*|месяц\w*|год(?:а|у)?\b|лет\b|"
            r"час(?:ов|а)?\b|минут\w*|days?\b|weeks?\b|months?\b|years?\b|hours?\b"
            r"|jours?\b|semaines?\b|mois\b|ans?\b|heures?\b)",
            re.IGNORECASE,
        ),
    ),
    ("short-phone", re.compile(r"(?<![\w.,])(?:112|10[1-4]|0[1-4])(?![\w.,]\d)\b")),
    ("number", re.compile(r"(?<![\w.,-])\d(?:-\d){2,}(?![\w-])")),  # 9-1-1 is 911
    ("number", re.compile(rf"(?<![\w.,])(?<!\w-)(?:{_NUM})(?![\w])")),
    ("number", re.compile(rf"\b{NUMBER_WORDS}\b", re.IGNORECASE)),
)

FACT_KINDS = ("law", "date", "phone", "money", "percent", "duration", "number")
"""Every kind :func:`find_facts` reports, most specific first."""
NAMED_KINDS = FACT_KINDS[:-1]
"""Every kind but plain numbers: what stands out in a wholly added or removed line."""

FACT_LABELS = {
    "law": "law reference",
    "date": "date",
    "phone": "phone",
    "money": "amount",
    "percent": "percentage",
    "duration": "time limit",
    "number": "number",
}
"""How each kind is named to editors."""


@dataclass(frozen=True)
class Fact:
    """A quoted fact in a text: ``text == source[start:end]``."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class MarkedOp:
    """A piece of a word op; ``fact`` is set if the piece is in a touched fact."""

    op: str
    text: str
    fact: Fact | None = None


@dataclass(frozen=True)
class ChangedFact:
    """A fact the change removed, added or replaced (``old`` -> ``new``)."""

    kind: str
    old: str | None
    new: str | None


def find_facts(text: str) -> tuple[Fact, ...]:
    """Every fact in ``text``, non-overlapping, in order of position."""
    chosen: list[Fact] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            fact = _fact(kind, text, match)
            if fact is not None and not any(_overlap(fact, other) for other in chosen):
                chosen.append(fact)
    return tuple(sorted(chosen, key=lambda f: f.start))


def _fact(kind: str, text: str, match: re.Match[str]) -> Fact | None:
    start, end = match.span()
    value = match.group().rstrip()
    if kind == "short-phone":
        before = text[max(0, start - 40) : start]
        after = text[end : end + 20]
        kind = "phone" if _SHORT_PHONE_CONTEXT.search(before + " " + after) else "number"
    return Fact(kind, start, start + len(value), value) if value else None


def _overlap(a: Fact, b: Fact) -> bool:
    return a.start < b.end and b.start < a.end


def touched_facts(
    words: Sequence[WordOp], change: str, kinds: Collection[str] = FACT_KINDS
) -> tuple[Fact, ...]:
    """Facts (of ``kinds``) of one side of a changed line that a ``change`` op overlaps.

    ``words`` are the word ops of one side (``equal`` plus ``delete`` for
    the old line or ``insert`` for the new one); a fact counts as touched
    when any of its characters is inside a changed op.
    """
    text = "".join(w.text for w in words)
    spans = _changed_spans(words, change)
    return tuple(
        f
        for f in find_facts(text)
        if f.kind in kinds and any(f.start < e and s < f.end for s, e in spans)
    )


def _changed_spans(words: Sequence[WordOp], change: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for word in words:
        if word.op == change:
            spans.append((pos, pos + len(word.text)))
        pos += len(word.text)
    return spans


def mark_ops(
    words: Sequence[WordOp], change: str, kinds: Collection[str] = FACT_KINDS
) -> tuple[MarkedOp, ...]:
    """Split ``words`` at the boundaries of touched facts and label each piece."""
    facts = touched_facts(words, change, kinds)
    pieces: list[MarkedOp] = []
    pos = 0
    for word in words:
        pieces.extend(_split(word, pos, facts))
        pos += len(word.text)
    return tuple(pieces)


def _split(word: WordOp, pos: int, facts: Sequence[Fact]) -> list[MarkedOp]:
    """Cut one word op at every fact boundary inside it."""
    end = pos + len(word.text)
    cuts = sorted({pos, end, *(b for f in facts for b in (f.start, f.end) if pos < b < end)})
    out = []
    for a, b in pairwise(cuts):
        fact = next((f for f in facts if f.start <= a and b <= f.end), None)
        out.append(MarkedOp(word.op, word.text[a - pos : b - pos], fact))
    return out


def changed_facts(
    old_words: Sequence[WordOp],
    new_words: Sequence[WordOp],
    kinds: Collection[str] = FACT_KINDS,
) -> tuple[ChangedFact, ...]:
    """Facts a line pair changed, old paired with new by kind in order.

    For a removed line without counterpart pass ``new_words=()``, and the
    other way round; a whole line is one op (``delete`` or ``insert``).
    """
    old = list(touched_facts(old_words, "delete", kinds))
    new = list(touched_facts(new_words, "insert", kinds))
    pairs: list[ChangedFact] = []
    for fact in old:
        match = next((n for n in new if n.kind == fact.kind), None)
        if match is not None:
            new.remove(match)
        pairs.append(ChangedFact(fact.kind, fact.text, match.text if match else None))
    pairs.extend(ChangedFact(n.kind, None, n.text) for n in new)
    return tuple(p for p in pairs if not _same(p))


def _same(fact: ChangedFact) -> bool:
    """The same value written alike, or the same digits written otherwise (9-1-1, 911)."""
    if fact.old == fact.new:
        return True
    if fact.old is None or fact.new is None or fact.kind not in ("phone", "number"):
        return False
    return _DIGITS.sub("", fact.old) == _DIGITS.sub("", fact.new) != ""


_DIGITS = re.compile(r"\D")
