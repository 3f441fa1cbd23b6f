"""The default noise filter: page stamps and counters that change on every visit.

Part of the normalize stage, applied to every source with no configuration:
``default_noise(normalize(text, source.ignore))``. Pure, no I/O.

What it removes, and only that:

- view and visit counters on a line of their own: ``Просмотров: 1 234``,
  ``Посещений сегодня: 57``, ``Views: 89``;
- labelled date stamps on a line of their own: ``Дата обновления:
  05.03.2025``, ``Опубликовано 12 марта 2025, 14:35``, ``Последнее
  изменение: 2025-03-05``, ``Updated: ...`` (several stamps and counters on
  one line, joined by ``|``, ``·`` or ``,``, go too);
- a line that is only a date with a clock time (``12.03.2025 14:35``): a
  timestamp, never a deadline;
- session and anti-forgery parameters in link targets (``sessid=``,
  ``csrf_token=``, ``_=1712345678``).

A date in running text stays: ``Полис действует до 31.12.2025`` or ``с 1
сентября 2025 г.`` is content, and a change of it is a change.
"""

from __future__ import annotations

import re

__all__ = ["default_noise"]

_MONTHS = r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
_DATE = (
    r"(?:\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?(?:\s*(?:г\.|года|г\b))?)"
)
_TIME = r"(?:\d{1,2}:\d{2}(?::\d{2})?)"
_WHEN = rf"(?:{_DATE}(?:\s*(?:,|в)?\s*{_TIME})?|{_TIME}\s*,?\s*{_DATE})"
_STAMP_LABEL = (
    r"(?:дата\s+(?:и\s+время\s+)?(?:обновления|изменения|публикации|размещения|создания|"
    r"последнего\s+(?:изменения|обновления))(?:\s+(?:страницы|материала|информации))?"
    r"|последн\w+\s+(?:изменени\w+|обновлени\w+|редакци\w+\s+страницы)"
    r"|(?:страница\s+|материал\s+|информация\s+)?(?:обновлен[оа]?|изменен[оа]?|"
    r"опубликован[оа]?|размещен[оа]?|актуализирован[оа]?)"
    r"|last\s+(?:updated|modified)|updated|published|posted|modified)"
)
_COUNTER_LABEL = (
    r"(?:(?:количество\s+)?просмотр(?:ов|ы)?|посещени(?:й|я)(?:\s+(?:сегодня|всего|за\s+\w+))?|"
    r"посетител(?:ей|и)(?:\s+(?:сегодня|всего|онлайн))?|прочитано|хиты|views?|visits?|hits)"
)
_NUMBER = r"\d{1,3}(?:[ \u00a0]\d{3})+|\d+"
_PIECE = (
    rf"(?:{_STAMP_LABEL}\s*:?\s*{_WHEN}"
    rf"|{_COUNTER_LABEL}\s*:?\s*(?:{_NUMBER})(?:\s*(?:раз|человек))?"
    rf"|{_WHEN})"
)
_SEPARATOR = r"\s*(?:[|·•,;/]|\s)\s*"
_NOISE_LINE = re.compile(
    rf"^(?:{_PIECE})(?:{_SEPARATOR}(?:{_PIECE}))*\.?$",
    re.IGNORECASE,
)
_LABEL_OR_TIME = re.compile(rf"{_STAMP_LABEL}|{_COUNTER_LABEL}|{_TIME}", re.IGNORECASE)
_LINK = re.compile(r"\[(?:https?://|/)[^\]\s]*\]")
_SESSION_PARAM = re.compile(
    r"(?<=[?&])(?:sessid|phpsessid|sid|csrf(?:_?token)?|_csrf|csrfmiddlewaretoken|"
    r"authenticity_token|bxajaxid|clear_cache|_)=[^&\]#]*&?",
    re.IGNORECASE,
)


def default_noise(text: str) -> str:
    """Drop stamp and counter lines and session parameters from normalized text.

    Idempotent; keeps the normalized form (lines joined by ``"\\n"``, no
    blank lines).
    """
    lines = (_clean_links(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line and not _is_noise(line))


def _is_noise(line: str) -> bool:
    """A stamp, a counter, or a timestamp: never bare dates, which may be deadlines."""
    return bool(_NOISE_LINE.match(line)) and bool(_LABEL_OR_TIME.search(line))


def _clean_links(line: str) -> str:
    if "[" not in line or "=" not in line:
        return line
    return _LINK.sub(_clean_link, line)


def _clean_link(match: re.Match[str]) -> str:
    target = _SESSION_PARAM.sub("", match.group())
    return re.sub(r"[?&]\]$", "]", target)
