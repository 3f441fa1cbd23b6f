"""Procedural pages for the benchmark farm: a fictional OMS/legal web site.

Every page is a full government-style HTML document: head with scripts and
a CSRF token, header navigation, two sidebars, a footer with a visit counter,
and one main article (``article.main-article``) in Russian with an English
summary, a list of required documents and a contacts table.

A page has two revision numbers:

- ``content``: the article a reader sees (a new deadline, a new hotline
  number, one more required document, a rewritten paragraph);
- ``furniture``: everything else (counters, dates, CSRF tokens, the news
  sidebar) plus noise *inside* the article that a reader cannot see as a
  change: typography (quotes, dashes, no-break spaces), source line breaks,
  CSS class churn, the "updated / views" line, a hidden form token.

All text is generated from the word lists below with seeded RNGs: the same
``(seed, page, content, furniture)`` always renders the same bytes.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from html import escape

RU_WORDS = (
    "застрахованное лицо полис обязательного медицинского страхования территориальный фонд "
    "страховая медицинская организация иностранный гражданин временно проживающий постоянно "
    "разрешение на временное проживание вид на жительство трудовой договор работодатель "
    "заявление о выборе страховой организации медицинская помощь экстренная неотложная "
    "плановая программа государственных гарантий бесплатного оказания гражданам субъект "
    "российской федерации федеральный закон в соответствии с настоящей статьей порядок "
    "установленный уполномоченным федеральным органом исполнительной власти документ "
    "удостоверяющий личность страховой номер индивидуального лицевого счета сведения "
    "о застрахованном лице в течение рабочих дней со дня обращения выдача выписки из "
    "единого регистра застрахованных лиц прикрепление к медицинской организации "
    "первичная медико-санитарная помощь поликлиника по месту жительства пребывания "
    "миграционный учет патент беженец лицо без гражданства срок действия продление "
    "представитель законный уведомление в письменной форме электронной форме портал "
    "государственных услуг обращение жалоба контакт-центр горячая линия консультация"
).split()

EN_WORDS = (
    "insured person compulsory medical insurance policy territorial fund foreign citizen "
    "temporary residence permit employer contract application insurance company medical "
    "care emergency urgent planned programme state guarantees free of charge federal law "
    "according to this article procedure document identity number register clinic "
    "attachment within working days from the date of request extract hotline consultation "
    "complaint representative notification electronic portal refugee stateless person"
).split()

DOCUMENTS = (
    "паспорт иностранного гражданина",
    "разрешение на временное проживание",
    "вид на жительство",
    "трудовой договор с работодателем",
    "СНИЛС (при наличии)",
    "миграционная карта",
    "свидетельство о предоставлении временного убежища",
    "удостоверение беженца",
    "документ о регистрации по месту пребывания",
    "доверенность представителя",
)

SECTIONS = (
    "О фонде", "Гражданам", "Иностранным гражданам", "Страховые организации",
    "Медицинские организации", "Документы", "Новости", "Вопросы и ответы", "Контакты",
    "Противодействие коррупции", "Обращения граждан", "Госзакупки", "Вакансии",
    "Нормативные правовые акты", "Программа госгарантий", "Реестр МО", "Реестр СМО",
)

SELECT = "article.main-article"
"""CSS selector of the watched content (the same for every page)."""

IGNORE = (r"Обновлено: \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}", r"Просмотров: \d+")
"""Regexes for the volatile "updated / views" line inside the article."""

VIEWS_MARK = b"\x01V\x01"
TOKEN_MARK = b"\x01T\x01"
"""Placeholders a dynamic page fills per request (views counter, CSRF token)."""


@dataclass(frozen=True)
class PageSpec:
    """One page of the farm: where it lives and how it is served."""

    index: int
    host: int
    path: str
    charset: str  # "utf-8" or "windows-1251"
    charset_in_header: bool  # else declared only in <meta>
    dynamic: bool  # no validators; counter and token change on every request

    @property
    def id(self) -> str:
        return f"p{self.index:05d}"

    @property
    def title(self) -> str:
        return f"Страница {self.index}: порядок получения полиса ОМС (раздел {self.host + 1})"


def make_specs(pages: int, hosts: int, seed: int) -> list[PageSpec]:
    """``pages`` pages dealt round-robin over ``hosts``: ~15% cp1251, ~5% dynamic."""
    rng = random.Random(seed)
    specs = []
    for index in range(pages):
        legacy = rng.random() < 0.15
        specs.append(
            PageSpec(
                index=index,
                host=index % hosts,
                path=f"/oms/{index // hosts}/{index:05d}-inostrannym-grazhdanam.html",
                charset="windows-1251" if legacy else "utf-8",
                charset_in_header=not legacy or rng.random() < 0.5,
                dynamic=rng.random() < 0.05,
            )
        )
    return specs


class Phrasebook:
    """Pools of sentences built once per farm (generation is the costly part)."""

    def __init__(self, seed: int, ru: int = 3000, en: int = 600) -> None:
        rng = random.Random(seed)
        self.ru = [_sentence(rng, RU_WORDS, ru_style=True) for _ in range(ru)]
        self.en = [_sentence(rng, EN_WORDS, ru_style=False) for _ in range(en)]

    def paragraph(self, rng: random.Random, english: bool = False) -> str:
        pool = self.en if english else self.ru
        return " ".join(rng.choice(pool) for _ in range(rng.randint(3, 6)))


def _sentence(rng: random.Random, words: tuple[str, ...] | list[str], ru_style: bool) -> str:
    chosen = rng.choices(words, k=rng.randint(8, 22))
    if ru_style and rng.random() < 0.3:
        at = rng.randrange(len(chosen) - 2)
        chosen[at : at + 2] = ["«" + " ".join(chosen[at : at + 2]) + "»"]
    if ru_style and rng.random() < 0.25:
        chosen.insert(rng.randrange(1, len(chosen)), "—")
    if rng.random() < 0.2:
        chosen.append(f"(статья {rng.randint(1, 60)} Федерального закона № 326-ФЗ)")
    text = " ".join(chosen)
    return text[0].upper() + text[1:] + "."


@dataclass
class Article:
    """The content a reader sees; changed only by a content revision."""

    title: str
    paragraphs: list[str]
    english: list[str]
    documents: list[str]
    deadline_days: int
    hotline: str


def build_article(book: Phrasebook, spec: PageSpec, seed: int, text_bytes: int, rev: int) -> Article:
    rng = random.Random(seed * 1_000_003 + spec.index)
    paragraphs: list[str] = []
    size = 0
    while size < text_bytes * 0.85:
        paragraphs.append(book.paragraph(rng))
        size += len(paragraphs[-1].encode())
    english = [book.paragraph(rng, english=True) for _ in range(max(1, len(paragraphs) // 8))]
    article = Article(
        title=spec.title,
        paragraphs=paragraphs,
        english=english,
        documents=rng.sample(DOCUMENTS, 4),
        deadline_days=rng.choice((5, 10, 15, 30)),
        hotline=f"8 (800) 555-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
    )
    for step in range(1, rev + 1):
        _amend(article, book, random.Random(f"{seed}:{spec.index}:content:{step}"))
    return article


def _amend(article: Article, book: Phrasebook, rng: random.Random) -> None:
    """One real amendment: what a guide editor must see."""
    kind = rng.randrange(4)
    if kind == 0:
        article.deadline_days += rng.choice((5, 10))
    elif kind == 1:
        article.hotline = f"8 (800) 555-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    elif kind == 2:
        article.documents.append(rng.choice(DOCUMENTS) + " (копия, заверенная нотариально)")
    index = rng.randrange(len(article.paragraphs))
    article.paragraphs[index] = book.paragraph(rng)


@dataclass(frozen=True)
class Furniture:
    """What changes without a reader-visible change of the article."""

    rev: int
    page: int
    seed: int

    @property
    def views(self) -> int:
        return 1000 + (self.page * 7919) % 50_000 + self.rev * 137

    @property
    def token(self) -> str:
        return hashlib.sha1(f"{self.seed}:{self.page}:{self.rev}".encode()).hexdigest()

    @property
    def updated(self) -> str:
        day = 1 + (self.page + self.rev * 3) % 28
        return f"{day:02d}.{1 + self.rev % 12:02d}.2026 {(9 + self.rev) % 24:02d}:{self.page % 60:02d}"

    @property
    def typographic(self) -> bool:
        """Odd revisions typeset the same words differently."""
        return self.rev % 2 == 1


def typeset(text: str, furniture: Furniture) -> str:
    """HTML-escape ``text`` in the typography of this furniture revision."""
    text = escape(text, quote=False)
    if not furniture.typographic:
        return text
    for short in (" в ", " с ", " к ", " и ", " о ", " у ", " а "):
        text = text.replace(short, short[:-1] + "\u00a0")
    return text.replace("«", "“").replace("»", "”").replace(" — ", "\u00a0– ")


def render(
    book: Phrasebook, spec: PageSpec, article: Article, furniture: Furniture, target_bytes: int
) -> bytes:
    """The whole page, encoded in its charset. Dynamic pages keep placeholders."""
    views = "\x01V\x01" if spec.dynamic else str(furniture.views)
    token = "\x01T\x01" if spec.dynamic else furniture.token
    links = max(10, target_bytes // 1500)
    parts = [
        _head(spec, token, target_bytes),
        _header(spec, links),
        '<div class="layout">',
        _left_sidebar(spec, links),
        _article(article, furniture, views, token),
        _right_sidebar(book, spec, furniture),
        "</div>",
        _footer(spec, furniture, views),
        "</body></html>\n",
    ]
    return "\n".join(parts).encode(spec.charset, errors="xmlcharrefreplace")


def _head(spec: PageSpec, token: str, target_bytes: int) -> str:
    meta = f'<meta charset="{spec.charset}">' if not spec.charset_in_header else ""
    entries = (f'"k{i}":"{hashlib.md5(str(i).encode()).hexdigest()}"' for i in range(target_bytes // 400))
    config = ",".join(entries)  # an inline analytics/config blob, as real CMSs emit
    return (
        f"<!DOCTYPE html><html lang=\"ru\"><head>{meta}\n"
        f"<title>{escape(spec.title)}</title>\n"
        f'<meta name="csrf-token" content="{token}">\n'
        '<link rel="stylesheet" href="/static/css/main.css?v=3">\n'
        f"<script>window.__CFG__={{{config}}};</script>\n"
        '<style>.hidden{display:none}.layout{display:flex}</style>\n'
        "</head><body>"
    )


def _header(spec: PageSpec, links: int) -> str:
    items = "".join(
        f'<li><a href="/section/{i}/">{SECTIONS[i % len(SECTIONS)]}</a></li>' for i in range(links)
    )
    return (
        '<header class="site-header"><div class="logo"><a href="/">Территориальный фонд ОМС '
        f"(учебный сайт {spec.host + 1})</a></div>"
        '<form class="search" action="/search"><input name="q" placeholder="Поиск"></form>'
        f'<nav class="top-menu"><ul>{items}</ul></nav></header>'
    )


def _left_sidebar(spec: PageSpec, links: int) -> str:
    items = "".join(
        f'<li><a href="/docs/{spec.host}/{i}.html">{SECTIONS[(i * 5) % len(SECTIONS)]}: документ {i}</a></li>'
        for i in range(links)
    )
    return f'<aside class="left"><h3>Разделы</h3><ul>{items}</ul></aside>'


def _article(article: Article, furniture: Furniture, views: str, token: str) -> str:
    css = f"p-{furniture.rev % 3}"
    sep = "\n" if furniture.typographic else " "
    paragraphs = "".join(
        f'<p class="{css}">{_reflow(typeset(p, furniture), sep)}</p>\n' for p in article.paragraphs
    )
    english = "".join(f"<p>{escape(p)}</p>\n" for p in article.english)
    documents = "".join(f"<li>{typeset(d, furniture)}</li>" for d in article.documents)
    return (
        '<main><article class="main-article">\n'
        f"<h1>{escape(article.title)}</h1>\n"
        f'<div class="article-meta">Обновлено: {furniture.updated} · Просмотров: {views}</div>\n'
        f"{paragraphs}"
        "<h2>Какие документы нужны</h2>"
        f"<ul>{documents}</ul>\n"
        f"<p>Срок оформления полиса: {article.deadline_days} рабочих дней со дня обращения.</p>\n"
        "<table><tr><th>Горячая линия</th><th>Часы работы</th></tr>"
        f"<tr><td>{article.hotline}</td><td>пн–пт 9:00–18:00</td></tr></table>\n"
        '<h2 lang="en">Summary in English</h2>\n'
        f"{english}"
        '<form class="feedback" method="post" action="/feedback">'
        f'<input type="hidden" name="csrf" value="{token}">'
        '<textarea name="text"></textarea><button>Отправить</button></form>'
        f'<script>share("{token[:8]}")</script>'
        "</article></main>"
    )


def _reflow(text: str, sep: str) -> str:
    """Source line breaks every ~12 words (invisible in the rendered page)."""
    if sep == " ":
        return text
    words = text.split(" ")
    return sep.join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12))


def _right_sidebar(book: Phrasebook, spec: PageSpec, furniture: Furniture) -> str:
    rng = random.Random(f"news:{spec.host}:{furniture.rev}")
    news = "".join(
        f'<li><span class="date">{rng.randint(1, 28):02d}.11.2026</span> '
        f'<a href="/news/{rng.randint(1, 9999)}">{escape(rng.choice(book.ru)[:90])}</a></li>'
        for _ in range(6)
    )
    return f'<aside class="right"><h3>Новости</h3><ul>{news}</ul></aside>'


def _footer(spec: PageSpec, furniture: Furniture, views: str) -> str:
    return (
        '<footer class="site-footer">'
        f"<p>Адрес: 432000, учебный город {spec.host + 1}, ул. Примерная, д. {spec.index % 90 + 1}</p>"
        f"<p>Посетителей сегодня: {views} · Последнее обновление сайта: {furniture.updated}</p>"
        "<p>© 2008–2026 Учебный территориальный фонд ОМС. Все права защищены.</p>"
        '<div class="counters"><img src="/counter.gif" alt=""></div>'
        "</footer>"
    )
