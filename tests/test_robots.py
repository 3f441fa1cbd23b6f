"""robots.txt policies: rules, agents, RFC 9309 status handling, the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watcher.fetch.robots import (
    MAX_ROBOTS_BYTES,
    RobotsCache,
    RobotsPolicy,
    agent_token,
    policy_for_response,
    robots_url,
)

UA = "watcher/0.1 (+https://example.org/watcher)"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

ROBOTS = """\
# a typical regional OMS fund
User-agent: *
Disallow: /bitrix/
Disallow: /search/
Disallow: /*?print=
Disallow: /*.doc$
Allow: /bitrix/upload/
Crawl-delay: 10

User-agent: Yandex
Disallow: /tmp/
Crawl-delay: 1
"""

OURS = """\
User-agent: *
Disallow: /

User-agent: watcher
Disallow: /lk/
Crawl-delay: 3
"""


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://tfoms.example.ru/", True),
        ("https://tfoms.example.ru/bitrix/admin/", False),
        ("https://tfoms.example.ru/bitrix/upload/iblock/a.pdf", True),
        ("https://tfoms.example.ru/search/?q=полис", False),
        ("https://tfoms.example.ru/news/1/?print=Y", False),
        ("https://tfoms.example.ru/news/1/?page=2", True),
        ("https://tfoms.example.ru/files/prikaz.doc", False),
        ("https://tfoms.example.ru/files/prikaz.docx", True),
    ],
)
def test_rules_for_the_star_group(url: str, allowed: bool) -> None:
    assert RobotsPolicy.parse(ROBOTS).allowed(url, UA) is allowed


def test_our_own_group_replaces_the_star_group() -> None:
    policy = RobotsPolicy.parse(OURS)
    assert policy.allowed("https://x.ru/docs/", UA)
    assert not policy.allowed("https://x.ru/lk/profile", UA)
    assert not policy.allowed("https://x.ru/docs/", "SomeOtherBot/2.0")


def test_crawl_delay_for_our_agent_and_for_star() -> None:
    assert RobotsPolicy.parse(OURS).crawl_delay(UA) == 3.0
    assert RobotsPolicy.parse(ROBOTS).crawl_delay(UA) == 10.0
    assert RobotsPolicy.parse("User-agent: *\nDisallow:\n").crawl_delay(UA) is None


def test_agent_token_is_the_product_token() -> None:
    assert agent_token(UA) == "watcher"
    assert agent_token("Watcher") == "watcher"
    assert agent_token("") == "*"


@pytest.mark.parametrize(
    "rule",
    ["/документы/", "/%D0%B4%D0%BE%D0%BA%D1%83%D0%BC%D0%B5%D0%BD%D1%82%D1%8B/"],
    ids=["cyrillic-rule", "encoded-rule"],
)
@pytest.mark.parametrize(
    "path",
    [
        "/документы/polis.pdf",
        "/%D0%B4%D0%BE%D0%BA%D1%83%D0%BC%D0%B5%D0%BD%D1%82%D1%8B/polis.pdf",
        "/%d0%b4%d0%be%d0%ba%d1%83%d0%bc%d0%b5%d0%bd%d1%82%d1%8b/polis.pdf",
    ],
    ids=["cyrillic-url", "encoded-url", "lowercase-encoded-url"],
)
def test_cyrillic_and_percent_encoded_paths_match_the_same_rule(rule: str, path: str) -> None:
    policy = RobotsPolicy.parse(f"User-agent: *\nDisallow: {rule}\n")
    assert not policy.allowed(f"https://oms.example.ru{path}", UA)
    assert policy.allowed("https://oms.example.ru/новости/", UA)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_4xx_means_everything_allowed(status: int) -> None:
    policy = policy_for_response(status, b"<html>not here</html>")
    assert policy.allowed("https://x.ru/anything", UA)
    assert not policy.unreachable
    assert str(status) in policy.note


@pytest.mark.parametrize("status", [429, 500, 503])
def test_5xx_and_429_mean_nothing_allowed_and_say_why(status: int) -> None:
    policy = policy_for_response(status)
    assert not policy.allowed("https://x.ru/page", UA)
    assert policy.unreachable
    assert f"robots.txt unavailable (HTTP {status})" in policy.refusal("https://x.ru/page")
    assert "RFC 9309" in policy.refusal("https://x.ru/page")


def test_network_failure_means_nothing_allowed() -> None:
    policy = policy_for_response(None, error="DNS lookup failed")
    assert not policy.allowed("https://x.ru/", UA)
    assert "DNS lookup failed" in policy.note


def test_2xx_body_is_parsed_with_bom() -> None:
    policy = policy_for_response(200, b"\xef\xbb\xbfUser-agent: *\nDisallow: /secret\n")
    assert not policy.allowed("https://x.ru/secret/a", UA)
    assert policy.refusal("https://x.ru/secret/a") == (
        "robots.txt disallows https://x.ru/secret/a for watcher"
    )


def test_rules_beyond_500_kib_are_ignored() -> None:
    filler = "# " + "x" * 98 + "\n"
    padding = filler * (MAX_ROBOTS_BYTES // len(filler) + 10)
    text = "User-agent: *\nDisallow: /early/\n" + padding + "Disallow: /late/\n"
    assert len(text.encode()) > MAX_ROBOTS_BYTES
    for policy in (RobotsPolicy.parse(text), policy_for_response(200, text.encode())):
        assert not policy.allowed("https://x.ru/early/", UA)
        assert policy.allowed("https://x.ru/late/", UA)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://TFOMS.example.ru/a/b?c=d#e", "https://tfoms.example.ru/robots.txt"),
        ("http://example.ru:8080/x", "http://example.ru:8080/robots.txt"),
        ("https://example.ru", "https://example.ru/robots.txt"),
    ],
)
def test_robots_url(url: str, expected: str) -> None:
    assert robots_url(url) == expected


def test_cache_keeps_a_policy_per_host_until_it_expires() -> None:
    cache = RobotsCache(ttl=timedelta(hours=24))
    policy = RobotsPolicy.parse(OURS)
    assert cache.get("https://x.ru/a", now=NOW) is None
    cache.put("https://x.ru/a", policy, now=NOW)
    assert cache.get("https://x.ru/other/page", now=NOW + timedelta(hours=23)) is policy
    assert cache.get("http://x.ru/a", now=NOW) is None
    assert cache.get("https://x.ru/a", now=NOW + timedelta(hours=24)) is None


def test_cache_keeps_an_earlier_copy_when_robots_becomes_unreachable() -> None:
    cache = RobotsCache()
    cache.put("https://x.ru/", RobotsPolicy.parse(OURS), now=NOW)
    later = NOW + timedelta(days=2)
    effective = cache.put("https://x.ru/", policy_for_response(503), now=later)
    assert effective.allowed("https://x.ru/docs/", UA)
    assert not effective.allowed("https://x.ru/lk/", UA)
    assert "HTTP 503" in effective.note and "earlier" in effective.note
    assert cache.get("https://x.ru/docs/", now=later) is effective


def test_cache_without_earlier_copy_stores_the_disallow() -> None:
    cache = RobotsCache()
    effective = cache.put("https://x.ru/", policy_for_response(500), now=NOW)
    assert effective.unreachable
    assert not effective.allowed("https://x.ru/docs/", UA)
    assert len(cache) == 1
