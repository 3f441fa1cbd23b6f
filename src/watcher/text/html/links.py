"""Link targets as the snapshot text shows them: one document, one spelling.

A link keeps its target in the text (``Полис ОМС [/oms/polis]``) so that a
link to a different document shows in a diff. Everything else about a
target is churn and is dropped here, per page, before anything is compared:

- the ``#fragment`` (a menu gaining anchors on every link is not a change);
- tracking, session and anti-forgery parameters (``utm_*``, ``fbclid``,
  ``PHPSESSID``, ``csrf_token``, ``_=1712345678``, ``;jsessionid=...``);
- a parameter with one and the same value on many links of the page
  (navigation state such as ``prevDoc=...`` repeated on every link of a
  law portal page, which moves on every visit);
- for a link to the page's own site (its address, its canonical or
  ``og:url`` address, its ``<base>``; with or without ``www.``), the scheme
  and host: such a target is written as a path, ``[/services/taxes]``, so
  a site switching from relative to absolute links, or from http to https,
  changes nothing; a trailing slash and a final ``index.html`` go too.

A link to another site keeps its whole address (without fragment and
tracking parameters).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

_DROPPED_SCHEMES = ("javascript:", "data:", "vbscript:", "about:", "blob:")
_KEPT_SCHEMES = ("mailto:", "tel:", "sms:", "callto:")
_VOLATILE_PARAM = re.compile(
    r"utm_\w*|fbclid|gclid|gclsrc|dclid|yclid|ysclid|msclkid|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi"
    r"|igshid|_openstat|from_block|sessid|phpsessid|jsessionid|aspsessionid\w*|sid|sessionid"
    r"|session_id|csrf\w*|_csrf|xsrf\w*|csrfmiddlewaretoken|authenticity_token|__requestverificationtoken"
    r"|bxajaxid|clear_cache|_|nocache|cachebuster|_dc|rnd|rand|random|ts|timestamp",
    re.IGNORECASE,
)
_FILE_LINK = re.compile(
    r"\.(?:pdf|docx?|xlsx?|rtf|odt|ods|pptx?|zip|rar|7z|txt|csv|xml|jpe?g|png)(?:$|[?#])",
    re.IGNORECASE,
)
_PATH_SESSION = re.compile(r";(?:jsessionid|sessionid|sid)=[^/?#]*", re.IGNORECASE)
_INDEX = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)
UNIFORM_MIN_LINKS = 3
"""A parameter repeated with one value on at least this many links is navigation state..."""
UNIFORM_SHARE = 0.3
"""...when those links are also at least this share of the page's links with parameters."""


def host_key(host: str) -> str:
    """A host as a site is known by: lower case, without ``www.``."""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def uniform_params(hrefs: Iterable[str]) -> frozenset[str]:
    """Parameters that carry one and the same value on many links of a page."""
    values: dict[str, Counter[str]] = {}
    with_query = 0
    for href in hrefs:
        query = href.partition("?")[2].partition("#")[0]
        if not query:
            continue
        with_query += 1
        for name, value in parse_qsl(query, keep_blank_values=True):
            values.setdefault(name.lower(), Counter())[value] += 1
    uniform = set()
    for name, counter in values.items():
        value, count = counter.most_common(1)[0]
        total = sum(counter.values())
        if (
            count >= UNIFORM_MIN_LINKS
            and count >= UNIFORM_SHARE * with_query
            and count >= 0.9 * total
        ):
            uniform.add(name)
    return frozenset(uniform)


class Resolver:
    """Resolves and canonicalizes the link targets of one page."""

    def __init__(
        self,
        base_url: str,
        *,
        site_urls: Iterable[str] = (),
        dropped_params: frozenset[str] = frozenset(),
    ) -> None:
        self.base_url = base_url
        self.dropped_params = dropped_params
        self.site_hosts = frozenset(
            host_key(parts.netloc)
            for url in (base_url, *site_urls)
            if (parts := urlsplit(url)).netloc
        )
        self._seen: dict[str, str | None] = {}

    def resolve(self, href: str) -> str | None:
        """The target worth showing, canonical, or ``None`` (remembered per page)."""
        if href in self._seen:
            return self._seen[href]
        target = self._seen[href] = self._resolve(href)
        return target

    def own_page(self, href: str) -> bool:
        """True for a link to another page (not a file) of the page's own site."""
        target = self.resolve(href)
        return target is not None and target.startswith("/") and not _FILE_LINK.search(target)

    def _resolve(self, href: str) -> str | None:
        href = href.strip()
        if "\n" in href or "\t" in href or "\r" in href:
            href = href.replace("\n", "").replace("\r", "").replace("\t", "")
        if not href or href[0] == "#":
            return None
        lowered = href[:11].lower()
        if lowered.startswith(_DROPPED_SCHEMES):
            return None
        if lowered.startswith(_KEPT_SCHEMES):
            return href
        try:
            absolute = urljoin(self.base_url, href)
            parts = urlsplit(absolute)
        except ValueError:  # e.g. a malformed IPv6 host
            return href
        if parts.scheme not in ("http", "https", "ftp", ""):
            return absolute.partition("#")[0]
        path = _PATH_SESSION.sub("", parts.path)
        query = self._query(parts.query)
        if host_key(parts.netloc) in self.site_hosts:
            path = _INDEX.sub("/", path).rstrip("/") or "/"
            return path + (f"?{query}" if query else "")
        rest = f"{path}?{query}" if query else path
        return (
            f"{parts.scheme}://{parts.netloc}{rest}" if parts.scheme else f"//{parts.netloc}{rest}"
        )

    def _query(self, query: str) -> str:
        if not query:
            return ""
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [
            (name, value)
            for name, value in pairs
            if not _VOLATILE_PARAM.fullmatch(name) and name.lower() not in self.dropped_params
        ]
        if len(kept) == len(pairs):
            return query
        return urlencode(kept)
