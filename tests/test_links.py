"""Link targets in the snapshot text: one document, one spelling (text/html/links.py).

Each case is two versions of a page written for the test: the same
documents linked in ways that differ only by churn must give the same text;
a link to a different document must not.
"""

from __future__ import annotations

from watcher.text.html import extract_text
from watcher.text.html.links import Resolver, uniform_params

PAGE = "https://fund.example.ru/oms/foreigners/"


def text(body: str, url: str = PAGE, head: str = "") -> str:
    return extract_text(f"<html><head>{head}</head><body>{body}</body></html>", base_url=url)


def test_fragments_added_to_every_link_are_not_a_change() -> None:
    before = '<ul><li><a href="/oms/">ОМС</a></li><li><a href="/dms/">ДМС</a></li></ul>'
    after = '<ul><li><a href="/oms/#main">ОМС</a></li><li><a href="/dms/#top">ДМС</a></li></ul>'
    assert text(before) == text(after) == "- ОМС [/oms]\n- ДМС [/dms]"


def test_tracking_and_session_parameters_are_dropped() -> None:
    before = '<p><a href="/docs/list.php?page=2">Список</a></p>'
    after = (
        '<p><a href="/docs/list.php?page=2&utm_source=mail&PHPSESSID=9f8e7d&_=1712345678'
        '&fbclid=abc">Список</a></p>'
    )
    assert text(before) == text(after) == "Список [/docs/list.php?page=2]"


def test_a_parameter_repeated_on_every_link_is_navigation_state() -> None:
    links = "".join(
        f'<p>См. статью {i} <a href="/proxy/ips/?docbody=&nd={100 + i}&prevDoc={{state}}">'
        f"закона № {i}-ФЗ</a>.</p>"
        for i in range(6)
    )
    before = text(links.format(state=102078147))
    after = text(links.format(state=602355887))
    assert before == after
    assert "nd=105" in after and "prevDoc" not in after


def test_the_same_parameter_with_different_values_is_kept() -> None:
    # nd= names the document: it differs per link, so it is never navigation state
    assert uniform_params([f"/ips/?nd={n}" for n in range(10)]) == frozenset()


def test_own_site_links_survive_a_switch_to_absolute_https_and_canonical_host() -> None:
    # served from a mirror (or a local test server) whose canonical host is the real site
    before = text(
        '<ul class="breadcrumbs"><li><a href="/">Главная</a></li>'
        '<li><a href="/oms">ОМС</a></li></ul>',
        url="http://127.0.0.1:8080/oms/foreigners/",
        head='<link rel="canonical" href="/oms/foreigners/">',
    )
    after = text(
        '<ul class="breadcrumbs"><li><a href="https://www.fund.example.ru">Главная</a></li>'
        '<li><a href="http://fund.example.ru/oms/">ОМС</a></li></ul>',
        url="http://127.0.0.1:8080/oms/foreigners/",
        head='<link rel="canonical" href="https://fund.example.ru/oms/foreigners/">',
    )
    assert before == after == "- Главная [/]\n- ОМС [/oms]"


def test_a_link_to_a_different_document_is_a_change() -> None:
    before = text('<p><a href="/upload/terprog-2024.pdf">Программа ОМС</a></p>')
    after = text('<p><a href="/upload/terprog-2025.pdf">Программа ОМС</a></p>')
    assert before != after
    other_site = text('<p><a href="https://other.example.org/terprog-2024.pdf">Программа</a></p>')
    assert other_site == "Программа [https://other.example.org/terprog-2024.pdf]"


def test_resolver_keeps_mail_and_phone_links_and_drops_scripts() -> None:
    resolver = Resolver(PAGE)
    assert resolver.resolve("mailto:info@fund.example.ru") == "mailto:info@fund.example.ru"
    assert resolver.resolve("tel:+78005550123") == "tel:+78005550123"
    assert resolver.resolve("javascript:void(0)") is None
    assert resolver.resolve("#top") is None
    assert resolver.resolve("/docs/;jsessionid=ABC123?x=1") == "/docs?x=1"
    assert resolver.resolve("/oms/index.html") == "/oms"
