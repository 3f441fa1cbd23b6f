"""Noise inside a page's text, end to end: widgets and clocks never flag, facts do.

A real local server serves a page whose content holds what real pages put
there (share counts, the weather, a quote ticker, an ad, a "most read"
list, a byline's relative time, a comments count, a visitors counter); the
CLI runs as an editor runs it, on a real project on disk.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite

CONFIG = """\
defaults:
  retries: 0
  recheck_delay: 0s
sources:
  - id: fund
    url: {url}/fund
    title: Fund page
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance
    owner: Editor <editor@example.org>
    sources: [fund]
"""

MOST_READ = (
    "Власти объявили о новых правилах парковки в центре города",
    "В регионе открылся новый мост через реку",
    "Синоптики пообещали снег в выходные",
    "Музей продлил работу выставки до весны",
)


def fund(
    *,
    shares: str = "1.2K",
    weather: str = "Москва +3 °C, облачно",
    usd: str = "92,50 ₽ ▲",
    ad: str = "Зимние шины от 1990 руб.",
    ago: str = "5 минут назад",
    comments: int = 12,
    online: int = 34,
    read: tuple[str, ...] = MOST_READ,
    phone: str = "8 (800) 555-01-23",
) -> Page:
    items = "".join(f'<li><a href="/news/{i}">{title}</a></li>' for i, title in enumerate(read))
    return Page(
        '<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ТФОМС</title></head>'
        "<body><main>"
        "<h1>Полис ОМС для иностранных граждан</h1>"
        f'<div class="byline">Редакция фонда, {ago}</div>'
        f'<div class="share"><a href="#">Share</a> <span>{shares}</span></div>'
        f'<div class="weather">{weather}</div>'
        f'<div class="rates">USD {usd} EUR 99,10 ₽ ▼</div>'
        "<p>Полис получают временно проживающие иностранные граждане и беженцы.</p>"
        f"<p>Телефон горячей линии: {phone}</p>"
        f'<div class="adv">Реклама. {ad}</div>'
        "<p>Полис оформляется в течение 30 дней со дня обращения.</p>"
        f'<p><a class="comments-link" href="#c">Комментарии ({comments})</a></p>'
        f'<div class="most-read"><h3>Самое читаемое</h3><ul>{items}</ul></div>'
        f"<p>Сейчас на сайте: {online} посетителя</p>"
        "</main></body></html>"
    )


def failing(tmp_path: Path) -> set[str]:
    done = run_cli("ci", "--json", cwd=tmp_path)
    return {guide["id"] for guide in json.loads(done.stdout)["guides"] if guide["failed"]}


def test_page_noise_never_flags_and_a_changed_phone_does(tmp_path: Path, site: WebSite) -> None:
    write_config(tmp_path, CONFIG.format(url=site.url))
    site.routes["/fund"] = fund()
    assert run_cli("check", cwd=tmp_path).returncode == 0
    signed = run_cli("review", "--all", "--by", "Ed", "--note", "read", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr

    site.routes["/fund"] = fund(
        shares="1.4K",
        weather="Москва −1 °C, снег",
        usd="93,17 ₽ ▼",
        ad="Ноутбуки в рассрочку 0% на 12 месяцев",
        ago="2 часа назад",
        comments=13,
        online=41,
        read=tuple(reversed(MOST_READ)),
    )
    assert run_cli("check", cwd=tmp_path).returncode == 0
    assert failing(tmp_path) == set()

    site.routes["/fund"] = fund(phone="8 (800) 555-01-24")
    assert run_cli("check", cwd=tmp_path).returncode == 0
    assert failing(tmp_path) == {"insurance"}
    done = run_cli("ci", "--json", cwd=tmp_path)
    (guide,) = json.loads(done.stdout)["guides"]
    assert "phone number changed" in json.dumps(guide, ensure_ascii=False)
