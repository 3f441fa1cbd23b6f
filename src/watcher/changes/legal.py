"""Legal texts by structure: chapters, articles, parts, points, subpoints.

For sources marked ``structure: law`` (federal laws on kremlin.ru,
pravo.gov.ru, consultant.ru): editors cite articles, so changes are reported
per unit, ``Статья 10, часть 1, пункт 3 changed``, ``Статья 16.1 added``,
with the list of amending laws and the edition date. Pure, no I/O; the input
is snapshot text (one block per line, as the extract stage writes it).

A line starts a unit when it reads (after an optional ``#`` heading mark):

============ ============================== =================================
``chapter``  ``Глава 2. Права и обязанности`` ``Глава 2``
``article``  ``Статья 16.1. Полис``           ``Статья 16.1``
``part``     ``1. Застрахованные лица...``    ``Статья 10, часть 1`` (in an article)
``point``    ``3) иностранные граждане...``   ``Статья 10, часть 1, пункт 3``
``subpoint`` ``а) работающие...``             ``..., пункт 3, подпункт "а"``
============ ============================== =================================

Any other line belongs to the unit above it; lines before the first
chapter or article are the ``preamble`` (title, list of amending laws).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "LawChanges",
    "Unit",
    "UnitChange",
    "amending_laws",
    "edition_date",
    "edition_markers",
    "law_changes",
    "split_units",
]

_HEAD = r"^(?:#+\s*)?"
_CHAPTER = re.compile(_HEAD + r"Глава\s+(\d+(?:\.\d+)*)\.?\s*(.*)$", re.IGNORECASE)
_ARTICLE = re.compile(_HEAD + r"Статья\s+(\d+(?:\.\d+)*)\.?\s*(.*)$", re.IGNORECASE)
_PART = re.compile(r"^(\d+(?:\.\d+)*)\.\s+\S")
_POINT = re.compile(r"^(\d+(?:\.\d+)*)\)\s*\S")
_SUBPOINT = re.compile(r"^([а-яё](?:\.\d+)?)\)\s*\S")

_DATE = r"\d{1,2}\.\d{1,2}\.\d{4}"
_LAW_REF = re.compile(
    rf"от\s+({_DATE})(?:\s*г(?:ода|\.)?)?\s*(?:N|№)\s*(\d+(?:-\d+)?-(?:ФЗ|ФКЗ))", re.IGNORECASE
)
_EDITION_LINE = re.compile(r"\bв\s+ред(?:\.|акци)|^\s*[-;,]?\s*от\s+\d", re.IGNORECASE)
_EDITION_DATE = re.compile(rf"\bред\.\s*от\s+({_DATE})", re.IGNORECASE)
_MARKERS = re.compile(
    rf"\(?\bред\.\s*от\s+{_DATE}\)?"
    rf"|\bв\s+редакции\s+(?:федеральн\w+\s+закон\w+\s+)?от\s+{_DATE}"
    rf"|\(\s*в\s+ред\.\s+федеральн\w+\s+закон\w+\s+от\s+{_DATE}"
    r"|\bутрати?л[аио]?\s+сил[уы]|\bутративш\w+\s+сил[уы]"
    r"|\bвступа\w*\s+в\s+(?:законную\s+)?силу(?:\s+(?:с|со\s+дня)\s+[^.;,)]{1,40})?"
    r"|\bприостанов\w+\s+действ\w+",
    re.IGNORECASE,
)

_LEVELS = ("chapter", "article", "part", "point", "subpoint")
_NAMES = {"part": "часть", "point": "пункт", "subpoint": "подпункт"}


@dataclass(frozen=True)
class Unit:
    """One structural unit; ``text`` is its own lines, without its sub-units."""

    kind: str  # "preamble" or one of chapter/article/part/point/subpoint
    number: str
    label: str  # how editors cite it: "Статья 10, часть 1, пункт 3"
    title: str  # chapter and article titles; "" otherwise
    text: str
    line: int  # 1-based line of the snapshot text where it starts
    parent: str | None = None  # label of the enclosing unit


@dataclass(frozen=True)
class UnitChange:
    """A unit present in both versions whose own text changed."""

    label: str
    old: str
    new: str


@dataclass(frozen=True)
class LawChanges:
    """Changes of a law by unit, with its amending laws and edition date."""

    changed: tuple[UnitChange, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    amending_laws: tuple[str, ...] = ()  # the new list, oldest first
    new_amending_laws: tuple[str, ...] = ()  # those not in the old list
    edition_date: str | None = None  # of the new text
    old_edition_date: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed or self.new_amending_laws) and (
            self.edition_date == self.old_edition_date
        )

    def describe(self) -> tuple[str, ...]:
        """Plain lines for editors: ``Статья 10, часть 1 changed``, ``new edition: ...``."""
        lines = [f"{change.label} changed" for change in self.changed]
        lines += [f"{label} added" for label in self.added]
        lines += [f"{label} removed" for label in self.removed]
        if self.edition_date and self.edition_date != self.old_edition_date:
            lines.append(f"new edition of {self.edition_date}")
        lines += [f"amended by the law {law}" for law in self.new_amending_laws]
        return tuple(lines)


# ------------------------------------------------------------------ splitting


def split_units(text: str) -> tuple[Unit, ...]:
    """The units of a law text, in order; the preamble first if there is one."""
    builder = _Builder()
    for number, line in enumerate(text.split("\n"), start=1):
        builder.add(line, number)
    return builder.units()


@dataclass
class _Open:
    """A unit being read: its lines grow until the next unit starts."""

    kind: str
    number: str
    label: str
    title: str
    parent: str | None
    line: int
    lines: list[str]


class _Builder:
    """Walks the lines, keeping the number of the current unit at each level."""

    def __init__(self) -> None:
        self.path: dict[str, str] = {}
        self.open: list[_Open] = []

    def add(self, line: str, number: int) -> None:
        kind, value, title = _classify(line.strip(), self.path)
        if kind is None:
            if not self.open:
                self.open.append(_Open("preamble", "", "Преамбула", "", None, number, []))
            self.open[-1].lines.append(line)
            return
        level = _LEVELS.index(kind)
        for deeper in _LEVELS[level:]:
            self.path.pop(deeper, None)
        parent = self._label(level)
        self.path[kind] = value
        label = self._label(level + 1) or ""
        self.open.append(_Open(kind, value, label, title, parent, number, [line]))

    def _label(self, depth: int) -> str | None:
        """Label of the current unit down to level ``depth`` (exclusive)."""
        kinds = [k for k in _LEVELS[:depth] if k in self.path]
        if not kinds:
            return None
        if kinds[-1] == "chapter":
            return f"Глава {self.path['chapter']}"
        return ", ".join(_cite(k, self.path[k]) for k in kinds if k != "chapter")

    def units(self) -> tuple[Unit, ...]:
        return tuple(
            Unit(u.kind, u.number, u.label, u.title, "\n".join(u.lines), u.line, u.parent)
            for u in self.open
        )


def _cite(kind: str, value: str) -> str:
    if kind == "article":
        return f"Статья {value}"
    if kind == "subpoint":
        return f'подпункт "{value}"'
    return f"{_NAMES[kind]} {value}"


def _classify(line: str, path: dict[str, str]) -> tuple[str | None, str, str]:
    """``(kind, number, title)`` of a line starting a unit, else ``(None, "", "")``."""
    for kind, pattern in (("chapter", _CHAPTER), ("article", _ARTICLE)):
        match = pattern.match(line)
        if match:
            return kind, match.group(1), match.group(2).strip()
    if "article" not in path:
        return None, "", ""
    body = line[2:] if line.startswith("- ") else line
    for kind, pattern in (("part", _PART), ("point", _POINT)):
        match = pattern.match(body)
        if match:
            return kind, match.group(1), ""
    match = _SUBPOINT.match(body)
    if match and "point" in path:
        return "subpoint", match.group(1), ""
    return None, "", ""


# ------------------------------------------------------------------ comparing


def law_changes(old: str, new: str) -> LawChanges:
    """What changed between two versions of a law, unit by unit."""
    old_units, new_units = _by_label(split_units(old)), _by_label(split_units(new))
    added = _topmost([label for label in new_units if label not in old_units], new_units)
    removed = _topmost([label for label in old_units if label not in new_units], old_units)
    changed = tuple(
        UnitChange(label, old_units[label].text, unit.text)
        for label, unit in new_units.items()
        if label in old_units and _own_text(old_units[label]) != _own_text(unit)
    )
    old_laws, new_laws = amending_laws(old), amending_laws(new)
    return LawChanges(
        changed=changed,
        added=added,
        removed=removed,
        amending_laws=new_laws,
        new_amending_laws=tuple(law for law in new_laws if law not in old_laws),
        edition_date=edition_date(new),
        old_edition_date=edition_date(old),
    )


def _by_label(units: Sequence[Unit]) -> dict[str, Unit]:
    """Units by label; a repeated label (an appendix restarting numbers) gets `` (2)``."""
    out: dict[str, Unit] = {}
    for unit in units:
        label, n = unit.label, 1
        while label in out:
            n += 1
            label = f"{unit.label} ({n})"
        out[label] = unit
    return out


def _topmost(labels: list[str], units: dict[str, Unit]) -> tuple[str, ...]:
    """Drop the labels whose enclosing unit is in the list too."""
    chosen = set(labels)
    return tuple(label for label in labels if units[label].parent not in chosen)


def _own_text(unit: Unit) -> str:
    """The text compared for a change; the preamble's edition list is reported apart."""
    if unit.kind != "preamble":
        return unit.text
    lines = (line for line in unit.text.split("\n") if not _EDITION_LINE.search(line))
    return "\n".join(_MARKERS.sub("", line) for line in lines)


# ------------------------------------------------------------------- editions


def edition_markers(text: str) -> tuple[str, ...]:
    """Edition markers in ``text``: ``ред. от ...``, ``утратил силу``, ``вступает в силу с ...``."""
    return tuple(match.group().strip() for match in _MARKERS.finditer(text))


def amending_laws(text: str) -> tuple[str, ...]:
    """Laws named in edition notes (``В редакции ... от 14.06.2011 N 136-ФЗ``), oldest first."""
    found: dict[str, date] = {}
    for line in text.split("\n"):
        if not _EDITION_LINE.search(line):
            continue
        for match in _LAW_REF.finditer(line):
            when = _parse_date(match.group(1))
            if when is not None:
                found.setdefault(f"от {_canonical_date(when)} N {match.group(2)}", when)
    return tuple(sorted(found, key=lambda law: (found[law], law)))


def edition_date(text: str) -> str | None:
    """The edition of a law text: ``ред. от DATE``, else its latest amending law's date."""
    match = _EDITION_DATE.search(text)
    if match:
        when = _parse_date(match.group(1))
        if when is not None:
            return _canonical_date(when)
    laws = amending_laws(text)
    return laws[-1].split()[1] if laws else None


def _parse_date(text: str) -> date | None:
    day, month, year = (int(part) for part in text.split("."))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _canonical_date(when: date) -> str:
    return when.strftime("%d.%m.%Y")
