"""The default noise filter: page stamps and counters that change on every visit.

Part of the normalize stage, applied to every source with no configuration:
``default_noise(normalize(text, source.ignore))``. Pure, no I/O.

What it removes, and only that:

- view and visit counters on a line of their own: ``Просмотров: 1 234``,
  ``Посещений сегодня: 57``, ``Views: 89``;
- labelled date stamps, in Russian, English, French, Portuguese, Spanish and
  German, with numeric (``05.03.2025``, ``03/06/2025``, ``2025-03-05``) or
  written dates (``12 марта 2025``, ``October 14, 2016``, ``14 octobre
  2016``): a line that is only stamps and counters goes (``Дата
  обновления: 05.03.2025``, ``Опубликовано 12 марта 2025, 14:35``), and a
  stamp inside a longer line loses its date (``This content was last
  updated on October 6, 2016 by the Department of Health`` keeps "by the
  Department of Health", which is the page's own content);
- a line that is only a date with a clock time (``12.03.2025 14:35``), or
  a date with a weekday (``Пятница, 5 марта 2027``, ``Thursday, February
  02, 2017``, ``1 декабря 2026 г., вторник``): today's date, never a
  deadline;
- relative times, alone or as a stamp's date (``5 minutes ago``, ``2 часа
  назад``, ``il y a 3 heures``, ``Updated 5 minutes ago``, ``Вчера,
  14:35``): they change with the clock, not with the page;
- engagement counters on a line of their own, label before or after the
  count (``Share 1.2K Tweet 87``, ``Комментарии (12)``, ``12 comments``,
  ``Сейчас на сайте: 34 посетителя``);
- quote tickers (``USD 92,50 ₽ ▲ EUR 99,10 ₽ ▼``: codes and amounts with
  a rise or fall), short weather lines (``Москва +3 °C, облачно``: a
  temperature and the sky) and lines labelled as advertising
  (``Реклама. ...``, ``Advertisement: ...``);
- an application version on a line of its own or at the end of a footer
  line (``Версия 2.14.1``, ``7.5.0.4``), and the years of a copyright
  notice (``© 2001-2025``);
- session and anti-forgery parameters in link targets (``sessid=``,
  ``csrf_token=``, ``_=1712345678``).

A date in running text stays: ``Полис действует до 31.12.2025`` or ``с 1
сентября 2025 г.`` is content, and a change of it is a change.
"""

from __future__ import annotations

import re

__all__ = ["default_noise"]

_MONTHS = (
    r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
    r"|январь|февраль|март|апрель|май|июнь|июль|август|сентябрь|октябрь|ноябрь|декабрь"
    r"|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    r"|janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre"
    r"|novembre|décembre|decembre"
    r"|janeiro|fevereiro|março|marco|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|septiembre|octubre|noviembre|diciembre"
    r"|januar|februar|märz|juni|juli|oktober|dezember"
)
_WEEKDAYS = (
    r"понедельник|вторник|среда|среду|четверг|пятница|пятницу|суббота|субботу|воскресенье"
    r"|пн|вт|ср|чт|пт|сб|вс"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|segunda-feira|terça-feira|quarta-feira|quinta-feira|sexta-feira|sábado|domingo"
    r"|lunes|martes|miércoles|jueves|viernes"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
)
_YEAR = r"(?:\s*(?:г\.|года|г\b))?"
_DATE = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    rf"|\d{{1,2}}(?:er)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?(?:,?\s+(?:de\s+)?\d{{4}}{_YEAR})?"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_DAY_DATE = rf"(?:(?:{_WEEKDAYS})\.?,?\s+)?{_DATE}(?:,?\s+(?:{_WEEKDAYS})\b\.?)?"
_TIME = r"(?:\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s*(?:[ap]\.?m\.?|uhr))?)"
_AT = r"(?:,|в|at|à|às|um|a las)"
_RELATIVE_DAY = (
    r"(?:сегодня|вчера|позавчера|today|yesterday|aujourd'hui|hier|hoy|ayer|hoje|ontem|heute"
    r"|gestern)"
)
_AGO = (
    r"(?:(?:\d+|an?|one)\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?"
    r"|years?|[smhdw])\.?\s+ago"
    r"|(?:\d+\s*(?:секунд\w*|сек|минут\w*|мин|час\w*|ч|дн\w*|день|недел\w*|месяц\w*"
    r"|год\w*|лет)|секунду|минуту|час|день|неделю|месяц|год)\.?\s+назад"
    r"|il\s+y\s+a\s+(?:\d+|une?)\s+(?:secondes?|minutes?|min|heures?|h|jours?|semaines?|mois|ans?)"
    r"|hace\s+(?:\d+|una?)\s+(?:segundos?|minutos?|min|horas?|h|días?|semanas?|mes(?:es)?|años?)"
    r"|há\s+(?:\d+|uma?)\s+(?:segundos?|minutos?|min|horas?|h|dias?|semanas?|mês|meses|anos?)"
    r"|vor\s+(?:\d+|einer?|einem)\s+(?:sekunden?|minuten?|min|stunden?|std|tag(?:en)?|wochen?"
    r"|monat(?:en)?|jahr(?:en)?)"
    r"|just\s+now|только\s+что|à\s+l'instant|gerade\s+eben|agora\s+mesmo|ahora\s+mismo)"
)
_WHEN = (
    rf"(?:{_DAY_DATE}(?:\s*{_AT}?\s*{_TIME})?|{_TIME}\s*,?\s*{_DAY_DATE}"
    rf"|{_RELATIVE_DAY}\s*{_AT}?\s*{_TIME}|{_AGO})"
)
_STAMP_LABEL = (
    r"(?:дата\s+(?:и\s+время\s+)?(?:обновления|изменения|публикации|размещения|создания|"
    r"последнего\s+(?:изменения|обновления))(?:\s+(?:страницы|материала|информации))?"
    r"|последн\w+\s+(?:изменени\w+|обновлени\w+|редакци\w+\s+страницы)"
    r"|(?:(?:страница|материал|информация)(?:\s+на\s+странице)?\s+)?(?:обновлен[оа]?|изменен[оа]?|"
    r"опубликован[оа]?|размещен[оа]?|актуализирован[оа]?)"
    r"|(?:(?:this|the)\s+(?:page|content|article|information|document)\s+(?:was|has\s+been)\s+)?"
    r"(?:last\s+)?(?:updated|modified|reviewed|revised|published|posted)"
    r"|last\s+(?:update|modification|review|revision)|date\s+(?:of\s+)?(?:last\s+)?"
    r"(?:update|modification|publication)"
    r"|(?:dernière\s+)?mise\s+à\s+jour|mis\s+à\s+jour|modifié|publié|actualisé"
    r"|(?:última\s+)?(?:atualização|actualización|modificação|modificación)"
    r"|atualizad[oa]|actualizad[oa]|publicad[oa]"
    r"|(?:zuletzt\s+)?(?:aktualisiert|geändert)|stand)"
)
_STAMP_LINK = r"(?:\s*(?:on|:|-|–|—|le|em|el|am|в|от))?\s*"
_COUNTER_LABEL = (
    r"(?:(?:количество\s+)?просмотр(?:ов|ы)?|посещени(?:й|я)(?:\s+(?:сегодня|всего|за\s+\w+))?|"
    r"посетител(?:ей|и)(?:\s+(?:сегодня|всего|онлайн))?|прочитано|хиты|views?|visits?|hits|"
    r"vues|visites|visualizações|visitas)"
)
_NUMBER = r"\d{1,3}(?:[ \u00a0,]\d{3})+|\d+"
# Counts of a page's readers and reactions: they move with every visit.
_ENGAGEMENT = (
    r"(?:shares?|sharing|tweets?|retweets?|likes?|comments?|replies|repl(?:y|ies)|reactions?"
    r"|reposts?|readers?|followers?|subscribers?|reviews?|users?\s+online"
    r"|(?:now\s+|currently\s+)?online|visitors?(?:\s+online)?"
    r"|комментари\w*|лайк\w*|нравится|репост\w*|поделил\w*|поделиться"
    r"|подписчик\w*|читател\w*|отзыв\w*|посетител\w*|просмотр\w*"
    r"|(?:сейчас\s+)?(?:на\s+сайте|онлайн)"
    r"|commentaires?|partages?|j'aime|comentários?|comentarios?|compartilhamentos?"
    r"|kommentare?|teilen|gefällt\s+mir)"
)
_COUNT = rf"\(?(?:{_NUMBER})(?:[.,]\d+)?\s*(?:[kmкм]\b|тыс\.?|млн\.?)?\)?"
_TODAY_LABEL = r"(?:сегодня|today|aujourd'hui|hoje|hoy|heute)"
_PIECE = (
    rf"(?:{_STAMP_LABEL}{_STAMP_LINK}{_WHEN}"
    rf"|{_COUNTER_LABEL}\s*:?\s*(?:{_NUMBER})(?:\s*(?:раз|человек|times))?"
    rf"|{_ENGAGEMENT}\s*:?\s*{_COUNT}(?:\s*{_ENGAGEMENT})?|{_COUNT}\s*{_ENGAGEMENT}"
    rf"|{_TODAY_LABEL}\s*:?\s*{_WHEN}"
    r"|(?:©|\(c\)|copyright)\s*\d{4}(?:\s*[-–—]\s*\d{4})?"
    rf"|{_WHEN})"
)
_SEPARATOR = r"\s*(?:[|·•,;/.]|\s)\s*"
_NOISE_LINE = re.compile(
    rf"^(?:{_PIECE})(?:{_SEPARATOR}(?:{_PIECE}))*\.?$",
    re.IGNORECASE,
)
_LABEL_OR_TIME = re.compile(
    rf"{_STAMP_LABEL}|{_COUNTER_LABEL}|{_ENGAGEMENT}|{_TIME}|{_TODAY_LABEL}|{_AGO}|©"
    rf"|\b(?:{_WEEKDAYS})\b",
    re.IGNORECASE,
)
# Quote tickers: codes or currency signs with amounts, and a rise or fall shown.
_CURRENCY = r"[$€£¥₽₴₸]"
_MOVE = r"(?:[▲▼△▽↑↓⬆⬇]|[+−-]\s?\d+(?:[.,]\d+)?\s?%)"
_QUOTE = rf"(?:[A-Z]{{2,6}}|{_CURRENCY})\s*:?\s*[+−-]?\d[\d\u00a0 .,]*\s*{_CURRENCY}?\s*{_MOVE}?"
_TICKER_LINE = re.compile(rf"^{_QUOTE}(?:\s*[|·•,;/]?\s*{_QUOTE})*$")
_HAS_MOVE = re.compile(_MOVE)
# Weather: a short line with a temperature and the sky (never a storage temperature): the
# sky word ends the line or a clause ("облачно, ветер 3 м/с"), so "+2 °C, ясно указанная ..."
# (clearly stated) is a sentence, not the weather.
_WEATHER_LINE = re.compile(
    r"^(?=.{0,80}$)[^\d]{0,40}[+−-]?\d{1,2}(?:[.,]\d)?\s*°\s*[CF]?\b[,.]?\s*"
    r"(?:облачно|ясно|пасмурно|малооблачно|переменная\s+облачность|снег|дождь|ливень|туман|гроза"
    r"|метель|sunny|cloudy|partly\s+cloudy|clear|overcast|rain|showers|snow|fog|storm|windy"
    r"|ensoleillé|nuageux|couvert|pluie|neige|brouillard|soleado|nublado|lluvia|nieve|niebla"
    r"|ensolarado|chuva|neve|sonnig|bewölkt|regen|schnee|nebel|heiter)"
    r"(?:\s*[,.;:|·]\s*.{0,30})?$",
    re.IGNORECASE,
)
# Advertising: the label alone, the label then a short advertisement ("Реклама. Зимние шины
# ...", "Advertisement: ..."), or the label with an advertiser's marking (erid, ИНН). Never
# "Реклама — информация, ..." or "Реклама: запрещена ...": a definition or a rule about it.
_AD_LABEL = r"(?:реклама|на\s+правах\s+рекламы)"
_AD_LABEL_OTHER = (
    r"(?:advertisement|advertising|sponsored(?:\s+content)?|anzeige|werbung|publicité"
    r"|publicidad|publicidade)"
)
_AD_LINE = re.compile(
    rf"^(?:(?:{_AD_LABEL}|{_AD_LABEL_OTHER})\W*$"
    rf"|{_AD_LABEL}\s*[.|·]\s*.{{0,80}}$"
    rf"|{_AD_LABEL_OTHER}\s*[.:|·—–-]\s*.{{0,80}}$"
    rf"|{_AD_LABEL}\b.*\b(?:erid|инн|огрн)\b)",
    re.IGNORECASE,
)
_INLINE_STAMP = re.compile(rf"(\b{_STAMP_LABEL}){_STAMP_LINK}{_WHEN}", re.IGNORECASE)
# Only after a comma ("By Jane Doe, 2 hours ago"): "не более 1 года назад" is a deadline.
_BYLINE_AGO = re.compile(rf",\s*\b{_AGO}$|^{_AGO},?\s*", re.IGNORECASE)
_BYLINE_SEPARATOR = re.compile(r"\s+[·•]\s+")  # never " | ": table cells
MAX_BYLINE = 100
"""A line this short is a byline or a meta line ("By A. Author, 2 hours ago · 12 comments"):
its relative time and counters are masked."""
_VERSION_LABEL = r"(?:верси[яи]|version|versão|versión|ver\.|build|сборка|релиз|release)"
_VERSION_LINE = re.compile(
    rf"^(?:{_VERSION_LABEL}\s*:?\s*(?:v\.?\s?)?\d+(?:\.\d+)+\S*|v\.?\s?\d+(?:\.\d+){{2,}}"
    r"|\d+(?:\.\d+){3,})$",
    re.IGNORECASE,
)
_VERSION_TAIL = re.compile(
    rf"(?:^|(?<=[\s.|·•,;]))\s*{_VERSION_LABEL}\s*:?\s*(?:v\.?\s?)?\d+(?:\.\d+)+\S*$",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(r"((?:©|\(c\)|copyright)\s*)\d{4}(?:\s*[-–—]\s*\d{4})?", re.IGNORECASE)
_LINK = re.compile(r"\[(?:https?://|/)[^\]\s]*\]")
_SESSION_PARAM = re.compile(
    r"(?<=[?&])(?:sessid|phpsessid|sid|csrf(?:_?token)?|_csrf|csrfmiddlewaretoken|"
    r"authenticity_token|bxajaxid|clear_cache|_)=[^&\]#]*&?",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s{2,}")


def default_noise(text: str) -> str:
    """Drop stamp and counter lines, dates of stamps and session parameters.

    Idempotent; keeps the normalized form (lines joined by ``"\\n"``, no
    blank lines).
    """
    lines = (_clean_line(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line and not _is_noise(line))


def _is_noise(line: str) -> bool:
    """A stamp, a counter, a timestamp, today's date, a version, a ticker, the weather
    or an advertisement: never bare dates."""
    if len(line) > MAX_STAMP_LINE:
        return False
    if _VERSION_LINE.match(line) or _AD_LINE.match(line) or _WEATHER_LINE.match(line):
        return True
    if _TICKER_LINE.match(line) and _HAS_MOVE.search(line):
        return True
    return bool(_NOISE_LINE.match(line)) and bool(_LABEL_OR_TIME.search(line))


def _clean_line(line: str) -> str:
    """A stamp's date, a trailing version and copyright years taken out of one line.

    Only short lines that hold a digit and a hint word are looked at: stamps
    sit in page meta lines, never inside a paragraph of a law, and the
    patterns cost far more than the hints.
    """
    if "[" in line and "=" in line:
        line = _LINK.sub(_clean_link, line)
    if len(line) > MAX_STAMP_LINE or not _HAS_DIGIT.search(line):
        return line
    if not _HINT.search(line.lower()) or _NOISE_LINE.match(line):
        return line  # no stamp; or wholly noise: dropped as a line, not masked
    cleaned = _INLINE_STAMP.sub(r"\1", line)
    if len(cleaned) <= MAX_BYLINE:
        cleaned = _BYLINE_AGO.sub("", _without_noise_parts(cleaned))
    cleaned = _VERSION_TAIL.sub("", cleaned)
    cleaned = _COPYRIGHT.sub(r"\1", cleaned)
    if cleaned == line:
        return line
    return _SPACES.sub(" ", cleaned).strip()


def _without_noise_parts(line: str) -> str:
    """A meta line without its parts that are noise alone (``Jane Doe · 2 hours ago · 5 likes``)."""
    separator = _BYLINE_SEPARATOR.search(line)
    if separator is None:
        return line
    parts = _BYLINE_SEPARATOR.split(line)
    kept = [part for part in parts if not _is_noise(part)]
    return line if len(kept) == len(parts) else separator.group().join(kept)


MAX_STAMP_LINE = 300
"""Longer lines are paragraphs: a date in one is content, never a page stamp."""
_HAS_DIGIT = re.compile(r"\d")
_HINT = re.compile(
    "|".join(
        (
            "обнов",
            "измен",
            "опублик",
            "размещ",
            "актуал",
            "последн",
            "дата",
            "updat",
            "modif",
            "review",
            "revis",
            "publi",
            "post",
            "mise",
            "mis ",
            "actualis",
            "atualiz",
            "actualiz",
            "aktualis",
            "geänd",
            "stand",
            "верси",
            "version",
            "versão",
            "versión",
            "ver.",
            "build",
            "сборк",
            "релиз",
            "release",
            "©",
            " ago",
            "назад",
            "il y a",
            "hace ",
            "há ",
            "vor ",
            "(c)",
            "copyright",
        )
    )
)
"""Words every stamp label, version label or copyright notice holds (lower case)."""


def _clean_link(match: re.Match[str]) -> str:
    target = _SESSION_PARAM.sub("", match.group())
    return re.sub(r"[?&]\]$", "]", target)
