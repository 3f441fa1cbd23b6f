"""Synthetic before/after pairs from real pages: noise that must not flag, changes that must.

Writes, into OUT, pairs in the layout ``bench_real_pairs.py --data`` reads
(``<base>/<class>/<date>_<commit>.html`` and ``pairs.csv``), then score them::

    .venv/bin/python bench/probe_pairs.py /tmp/probe
    .venv/bin/python bench/bench_real_pairs.py --data /tmp/probe --mode page --jobs 2

The base pages are real pages nobody on the project wrote, read at run time
from ``../shared/data`` beside the repository (nothing is copied into it):
six articles of ``readability_testpages`` and two official pages of
``real_pairs``. Each class is one mutation of every base page:

- noise (label ``noise``): a widget or a clock that changes between two
  visits (today's date, exchange rates, weather, a view counter, relative
  times, "most read" and "related" lists, a cookie banner, a site alert, a
  captcha, maintenance or empty page before or after, a comments count,
  "N online", an "updated" stamp, an ad, share counts, reflowed whitespace,
  nbsp and dash typography, a news ticker), placed where sites put it (the
  top of the page, after the title, after the last paragraph, the end);
- the same widgets placed inside the text (classes ending ``@in``: after
  the middle paragraph of running text);
- substantive (label ``substantive``): a number changed, a sentence added,
  a paragraph removed, a phone number changed, first at the middle
  paragraph of the page whatever it is (``s-*``), then in a paragraph of
  the article's text (``s-*@text``: paragraphs of 120 characters or more,
  with sentences and only inline markup).

The first set of classes is the probe's first version; ``@in`` and
``@text`` were added to test widgets inside the text and changes that are
surely in it.
"""

from __future__ import annotations

import csv
import random
import re
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
READABILITY = DATA / "readability_testpages"
REAL = DATA / "real_pairs"
LONG_PARAGRAPH = re.compile(r"<p[^>]*>[^<]{80,}</p>", re.IGNORECASE)
PARAGRAPH = re.compile(r"<p(?:\s[^>]*)?>(.*?)</p>", re.IGNORECASE | re.DOTALL)
BLOCK_TAG = re.compile(r"<(?:p|div|ul|ol|table|h\d|section|article)\b", re.IGNORECASE)
TEXT_SIZE = 120

Mutation = Callable[[str], tuple[str, str | None]]


def bases() -> dict[str, Path]:
    return {
        "ars": READABILITY / "ars-1/source.html",
        "heise": READABILITY / "heise/source.html",
        "lemonde": READABILITY / "lemonde-1/source.html",
        "webmd": READABILITY / "webmd-1/source.html",
        "wikipedia": READABILITY / "wikipedia/source.html",
        "gitlab": READABILITY / "gitlab-blog/source.html",
        "phila": sorted((REAL / "phila_static_beta").glob("*/*.html"))[0],
        "lis": sorted((REAL / "lisboa_quiosque").glob("*/*.html"))[-1],
    }


# ------------------------------------------------------------------ places


def body_start(h: str, block: str) -> str:
    m = re.search(r"<body[^>]*>", h, re.I)
    i = m.end() if m else 0
    return h[:i] + block + h[i:]


def body_end(h: str, block: str) -> str:
    i = h.lower().rfind("</body>")
    return h + block if i < 0 else h[:i] + block + h[i:]


def paras(h: str) -> list[int]:
    return [m.end() for m in re.finditer(r"</p>", h, re.I)]


def after_mid_p(h: str, block: str) -> str:
    ps = paras(h)
    if not ps:
        return body_end(h, block)
    i = ps[len(ps) // 2]
    return h[:i] + block + h[i:]


def after_last_p(h: str, block: str) -> str:
    ps = paras(h)
    if not ps:
        return body_end(h, block)
    i = ps[-1]
    return h[:i] + block + h[i:]


def after_h1(h: str, block: str) -> str:
    m = re.search(r"</h1>", h, re.I)
    if not m:
        return body_start(h, block)
    return h[: m.end()] + block + h[m.end() :]


def text_paragraphs(h: str) -> list[re.Match[str]]:
    """Paragraphs of running text: 120 characters or more, sentences, inline markup only,
    not mostly a link."""
    found = []
    for m in PARAGRAPH.finditer(h):
        inner = m.group(1)
        if BLOCK_TAG.search(inner):
            continue
        plain = " ".join(re.sub(r"<[^>]+>", " ", inner).split())
        linked = sum(len(a) for a in re.findall(r"<a\b.*?</a>", inner, re.I | re.S))
        if linked > len(inner) / 2:
            continue  # a teaser: a link to another article
        if len(plain) >= TEXT_SIZE and re.search(r"\w[.!?](?:\s|$)", plain):
            found.append(m)
    return found


def in_text(h: str, block: str) -> str:
    """After the middle paragraph of running text: inside the article's text."""
    found = text_paragraphs(h)
    if not found:
        return after_mid_p(h, block)
    i = found[len(found) // 2].end()
    return h[:i] + block + h[i:]


# ------------------------------------------------------------------ widgets

CAPTCHA = """<!DOCTYPE html><html><head><title>DDoS-Guard</title></head><body><div id="ddg">
<h1>Checking your browser before accessing the website.</h1><p>This process is automatic. Your
browser will redirect to your requested content shortly.</p>
<p>Please allow up to 5 seconds…</p><p>DDoS protection by DDoS-Guard</p></div></body></html>"""
MAINT = """<!DOCTYPE html><html><head><title>Технические работы</title></head><body>
<h1>Сайт временно недоступен</h1><p>Ведутся технические работы. Приносим извинения за
неудобства. Пожалуйста, зайдите позже.</p></body></html>"""


def most_read(seed: int) -> str:
    rnd = random.Random(seed)
    titles = [
        "Власти объявили о новых правилах парковки в центре города",
        "В регионе открылся новый мост через реку",
        "Синоптики пообещали снег в выходные",
        "Эксперты рассказали, как выбрать зимние шины",
        "Школьники победили на олимпиаде по математике",
        "В парке высадили двести новых деревьев",
        "Музей продлил работу выставки до весны",
        "Транспортная компания изменила расписание автобусов",
    ]
    rnd.shuffle(titles)
    items = "".join(
        f'<li><a href="/news/{zlib.crc32(t.encode()) % 100000}">{t}</a></li>' for t in titles[:5]
    )
    return f'<aside class="sidebar"><h3>Самое читаемое</h3><ul>{items}</ul></aside>'


def related(seed: int) -> str:
    rnd = random.Random(seed)
    words = ["housing", "transport", "schools", "weather", "health", "taxes"]
    titles = [f"Story number {rnd.randint(100, 999)} about {w} in the region today" for w in words]
    items = "".join(
        f'<li><a href="/story/{rnd.randint(1000, 9999)}">{t}</a></li>' for t in titles[:4]
    )
    return f'<div class="related"><h4>Related stories</h4><ul>{items}</ul></div>'


# (old widget, new widget, where): None as old means "absent before"
WIDGETS: dict[str, tuple[str | None, str, Callable[[str, str], str]]] = {
    "header-date": (
        '<div class="topbar">Сегодня: 1 декабря 2026 г., вторник</div>',
        '<div class="topbar">Сегодня: 2 декабря 2026 г., среда</div>',
        body_start,
    ),
    "rates": (
        '<div class="rates">USD 92,50 ₽ ▲ EUR 99,10 ₽ ▼</div>',
        '<div class="rates">USD 93,17 ₽ ▼ EUR 98,64 ₽ ▲</div>',
        body_start,
    ),
    "weather": (
        '<div class="weather">Москва +3 °C, облачно</div>',
        '<div class="weather">Москва −1 °C, снег</div>',
        body_start,
    ),
    "views": (
        '<div class="meta"><span class="views">Просмотров: 1523</span></div>',
        '<div class="meta"><span class="views">Просмотров: 1611</span></div>',
        after_last_p,
    ),
    "reltime": (
        '<div class="byline"><time>5 minutes ago</time></div>',
        '<div class="byline"><time>2 hours ago</time></div>',
        after_h1,
    ),
    "reltime-ru": (
        '<div class="byline"><time>5 минут назад</time></div>',
        '<div class="byline"><time>2 часа назад</time></div>',
        after_h1,
    ),
    "mostread": (most_read(1), most_read(2), body_end),
    "related": (related(1), related(2), after_last_p),
    "cookie": (
        None,
        '<div id="cookie-banner" class="cookie-consent"><p>Мы используем файлы cookie, чтобы сайт '
        "работал лучше. Продолжая пользоваться сайтом, вы соглашаетесь с этим.</p>"
        "<button>Принять</button></div>",
        body_end,
    ),
    "alert": (
        None,
        '<div class="site-alert"><a href="/alerts/storm">Внимание: штормовое предупреждение '
        "3 декабря</a></div>",
        body_start,
    ),
    "comments": (
        '<a class="comments" href="#comments">Комментарии (12)</a>',
        '<a class="comments" href="#comments">Комментарии (13)</a>',
        after_last_p,
    ),
    "online": (
        '<footer class="stats">Сейчас на сайте: 34 посетителя. © 2008–2025</footer>',
        '<footer class="stats">Сейчас на сайте: 41 посетитель. © 2008–2026</footer>',
        body_end,
    ),
    "updated": (
        '<p class="updated">Дата обновления: 12.03.2025 14:22</p>',
        '<p class="updated">Дата обновления: 30.11.2026 09:05</p>',
        after_last_p,
    ),
    "ad": (
        '<div class="adv">Реклама. Зимние шины от 1990 руб. Скидка 20% до конца недели!</div>',
        '<div class="adv">Реклама. Ноутбуки в рассрочку 0% на 12 месяцев, от 2490 руб.</div>',
        body_end,
    ),
    "share": (
        '<div class="share"><a href="#">Share</a> <span>1.2K</span> <a href="#">Tweet</a> '
        "<span>87</span></div>",
        '<div class="share"><a href="#">Share</a> <span>1.4K</span> <a href="#">Tweet</a> '
        "<span>93</span></div>",
        after_h1,
    ),
    "ticker": (
        '<div class="ticker">Новости: В Москве прошёл первый снег • Курс рубля укрепился</div>',
        '<div class="ticker">Новости: Метро продлило работу в праздники • Открыт новый каток</div>',
        body_start,
    ),
}
IN_TEXT = ("header-date", "rates", "weather", "views", "reltime", "reltime-ru", "mostread")
IN_TEXT += ("related", "comments", "online", "updated", "ad", "share", "ticker")


def widget(name: str, place: Callable[[str, str], str]) -> Mutation:
    old, new, _ = WIDGETS[name]
    return lambda h: (place(h, old) if old else h, place(h, new))


def noise_mutations() -> dict[str, Mutation]:
    out: dict[str, Mutation] = {name: widget(name, spec[2]) for name, spec in WIDGETS.items()}
    out |= {
        "captcha-new": lambda h: (h, CAPTCHA),
        "maint-new": lambda h: (h, MAINT),
        "empty-new": lambda h: (h, ""),
        "empty-old": lambda h: ("", h),
        "captcha-old": lambda h: (CAPTCHA, h),
        "reflow": lambda h: (
            h,
            re.sub(
                r"(<p[^>]*>)([^<]{40,}?) ([^<]{40,})", lambda m: m[1] + m[2] + "\n   " + m[3], h
            ),
        ),
        "nbsp-quotes": lambda h: (h, h.replace(" - ", " &ndash; ").replace(". ", ".&nbsp; ")),
    }
    out |= {f"{name}@in": widget(name, in_text) for name in IN_TEXT}
    return out


# ------------------------------------------------------------------ changes

SENTENCE = (
    " Since 1 January 2027, applicants must also bring a certified translation of their passport."
)
PHONE = "<p>Телефон горячей линии: 8-800-555-35-{}</p>"


def change_number(h: str, pattern: str = r"<p[^>]*>([^<]*?\d[^<]*)</p>") -> str | None:
    for m in re.finditer(pattern, h, re.I):
        seg = m.group(1)
        d = re.search(r"\d+", seg)
        if d is None:
            continue
        new = seg[: d.start()] + str(int(d.group()) + 7) + seg[d.end() :]
        return h[: m.start(1)] + new + h[m.end(1) :]
    return None


def change_number_in_text(h: str) -> str | None:
    for m in text_paragraphs(h):
        for d in re.finditer(r"(?<![\w<])\d+(?![\w>])", m.group(1)):
            if "<" in m.group(1)[: d.start()].rsplit(">", 1)[-1]:
                continue  # inside a tag
            start = m.start(1) + d.start()
            return h[:start] + str(int(d.group()) + 7) + h[start + len(d.group()) :]
    return None


def add_sentence(h: str) -> str | None:
    ps = paras(h)
    if not ps:
        return None
    i = ps[len(ps) // 2] - 4
    return h[:i] + SENTENCE + h[i:]


def add_sentence_in_text(h: str) -> str | None:
    found = text_paragraphs(h)
    if not found:
        return None
    i = found[len(found) // 2].end() - 4
    return h[:i] + SENTENCE + h[i:]


def drop_para(h: str) -> str | None:
    ms = list(LONG_PARAGRAPH.finditer(h))
    if not ms:
        return None
    m = ms[len(ms) // 2]
    return h[: m.start()] + h[m.end() :]


def drop_second_para_in_text(h: str) -> str | None:
    ms = text_paragraphs(h)
    if len(ms) < 2:
        return None
    m = ms[1]
    return h[: m.start()] + h[m.end() :]


def substantive_mutations() -> dict[str, Mutation]:
    return {
        "s-number": lambda h: (h, change_number(h)),
        "s-sentence": lambda h: (h, add_sentence(h)),
        "s-droppara": lambda h: (h, drop_para(h)),
        "s-phone": lambda h: (after_mid_p(h, PHONE.format(35)), after_mid_p(h, PHONE.format(36))),
        "s-number@text": lambda h: (h, change_number_in_text(h)),
        "s-sentence@text": lambda h: (h, add_sentence_in_text(h)),
        "s-droppara@text": lambda h: (h, drop_second_para_in_text(h)),
        "s-phone@text": lambda h: (in_text(h, PHONE.format(35)), in_text(h, PHONE.format(36))),
    }


# ------------------------------------------------------------------ output


def write(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    mutations = {**noise_mutations(), **substantive_mutations()}
    for base, path in bases().items():
        raw = path.read_bytes()
        try:
            h = raw.decode("utf-8")
        except UnicodeDecodeError:
            h = raw.decode("latin-1")
        for kind, mutate in mutations.items():
            old, new = mutate(h)
            if new is None or old == new:
                continue
            folder = out / base / kind
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "2026-01-01_aaaaaaa.html").write_text(old, encoding="utf-8")
            (folder / "2026-01-02_bbbbbbb.html").write_text(new, encoding="utf-8")
            rows.append(
                {
                    "pair_id": f"{base}-{kind}",
                    "repo": base,
                    "old_file": f"{base}/{kind}/2026-01-01_aaaaaaa.html",
                    "new_file": f"{base}/{kind}/2026-01-02_bbbbbbb.html",
                    "label": "substantive" if kind.startswith("s-") else "noise",
                    "what_changed": kind,
                }
            )
    with open(out / "pairs.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: probe_pairs.py OUTDIR")
    print(f"{write(Path(sys.argv[1]))} pairs in {sys.argv[1]}")
