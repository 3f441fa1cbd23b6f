"""Signatures of responses that are not the page: the checks of the quality gate.

Each check looks at one :class:`~watcher.text.page.Exchange` and returns a
:class:`~watcher.text.page.Verdict` when it recognises it (a challenge, a
login wall, maintenance, an error status, a soft 404, a redirect home, an
empty shell), else None. :data:`CHECKS` is their order; the first verdict
wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import urlsplit

from watcher.text.page import Check, Exchange, Page, Verdict


def _patterns(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE | re.MULTILINE)


_CHALLENGE_TITLES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_patterns(r"^just a moment\.*$", r"attention required! \| cloudflare"), "Cloudflare"),
    (_patterns(r"^ddos-guard$"), "DDoS-Guard"),
    (_patterns(r"sucuri website firewall"), "Sucuri"),
    (_patterns(r"^stormwall"), "StormWall"),
    (_patterns(r"проверка браузера", r"проверяем (ваш )?браузер", r"checking your browser"), ""),
    (_patterns(r"вы не робот", r"не робот\?", r"are you a robot", r"are you human"), "captcha"),
)

# Markers only a challenge page carries (Cloudflare's bot-detection script
# /cdn-cgi/challenge-platform/scripts/jsd/ sits on ordinary pages too, so
# only the challenge's own /h/ path and options count).
_CHALLENGE_MARKUP: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        _patterns(r"cf_chl_opt", r"/cdn-cgi/challenge-platform/h/", r"cf-browser-verification"),
        "Cloudflare",
    ),
    (_patterns(r"/\.well-known/ddos-guard/", r"ddos-guard\.net/"), "DDoS-Guard"),
    (_patterns(r"/__qrator/", r"qrator_jsid", r"qauth_"), "Qrator"),
    (_patterns(r"/showcaptcha\b", r"/checkcaptcha\b"), "Yandex captcha"),
    (_patterns(r"sucuri_cloudproxy", r"sucuri\.net/"), "Sucuri"),
    (_patterns(r"stormwall", r"servicepipe", r"variti"), "anti-DDoS service"),
)

_CHALLENGE_PHRASES = _patterns(
    r"проверка браузера",
    r"проверяем (ваш )?браузер",
    r"подтвердите, что запросы отправляли вы",
    r"checking (if the site connection is secure|your browser)",
    r"verify you are (a )?human",
    r"enable javascript and cookies to continue",
    r"ваш ip[- ]адрес заблокирован",
)
# Phrases a real page may carry too (a captcha on a contact form, a
# <noscript> note under a map): decisive only on a nearly empty page.
_TINY_PAGE_PHRASES = _patterns(
    r"(подтвердите, )?что вы не робот",
    r"доступ (к сайту )?(запрещ[её]н|ограничен)",
    r"access denied",
    r"request (was )?blocked",
)

# Captchas also guard ordinary feedback forms: they count only on a nearly empty page.
_CAPTCHA_WIDGETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        _patterns(r"smartcaptcha\.yandexcloud\.net", r"class=[\"'][^\"']*smart-captcha"),
        "Yandex SmartCaptcha",
    ),
    (
        _patterns(r"google\.com/recaptcha/", r"recaptcha\.net/", r"class=[\"'][^\"']*g-recaptcha"),
        "reCAPTCHA",
    ),
    (_patterns(r"hcaptcha\.com/", r"class=[\"'][^\"']*h-captcha"), "hCaptcha"),
    (_patterns(r"captcha", r"капч"), "captcha"),
)


def _challenge(exchange: Exchange) -> Verdict | None:
    """Anti-bot challenge, captcha or WAF block instead of the page."""
    headers = exchange.headers
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return _blocked("Cloudflare, header 'cf-mitigated: challenge'")
    if "x-sucuri-block" in headers:
        return _blocked("Sucuri firewall, header 'x-sucuri-block'")
    if "/showcaptcha" in urlsplit(exchange.final_url).path:
        return _blocked("redirected to Yandex's captcha (/showcaptcha)")
    page = exchange.page
    if page is None:
        return None
    return _challenge_title(page) or (_challenge_body(page, headers) if page.small else None)


def _challenge_title(page: Page) -> Verdict | None:
    for pattern, vendor in _CHALLENGE_TITLES:
        match = pattern.search(page.heads)
        if match:
            return _blocked(_said(vendor, match))
    return None


def _challenge_body(page: Page, headers: Mapping[str, str]) -> Verdict | None:
    for pattern, vendor in _CHALLENGE_MARKUP:
        if pattern.search(page.markup):
            return _blocked(f"{vendor} challenge page")
    match = _CHALLENGE_PHRASES.search(page.text)
    if match:
        return _blocked(_said("", match))
    if page.tiny:
        return _tiny_challenge(page, headers)
    return None


def _tiny_challenge(page: Page, headers: Mapping[str, str]) -> Verdict | None:
    """A nearly empty page: a captcha widget, or a script from an anti-DDoS server."""
    match = _TINY_PAGE_PHRASES.search(page.text)
    if match:
        return _blocked(_said("", match))
    for pattern, widget in _CAPTCHA_WIDGETS:
        if pattern.search(page.markup):
            return _blocked(f"{widget} on a page with hardly any text")
    server = headers.get("server", "").lower()
    vendor = next((v for v in ("ddos-guard", "qrator", "stormwall") if v in server), None)
    if vendor and "<script" in page.markup:
        return _blocked(f"JavaScript challenge from server '{server}'")
    return None


def _blocked(what: str) -> Verdict:
    return Verdict("blocked", f"anti-bot challenge page ({what})")


def _said(vendor: str, match: re.Match[str]) -> str:
    phrase = _quote(match)
    return f"{vendor} '{phrase}'" if vendor else f"'{phrase}'"


def _quote(match: re.Match[str], width: int = 80) -> str:
    """The line a match was found in (title, h1 or text), cut to ``width`` around it."""
    text = match.string
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start : len(text) if end < 0 else end]
    if len(line) <= width:
        return line
    left = max(match.start() - start - width // 4, 0)
    piece = line[left : left + width]
    if left:
        piece = "..." + piece[piece.find(" ") + 1 :]
    cut = piece.rfind(" ")
    return (piece[:cut] if cut > 0 else piece) + "..."


_LOGIN_PATH = re.compile(
    r"/(login|logon|signin|sign-in|sign_in|auth|authorize|oauth2?|sso|cas|"
    r"wp-login\.php|user/login|account/login|users/sign_in)(?=[/.?;]|$)"
)
_LOGIN_HOSTS = ("esia.gosuslugi.ru",)
_PASSWORD_INPUT = re.compile(r"<input\b[^<>]*type=[\"']?password")  # [^<>]: linear on "<input" x N
_LOGIN_HEADS = _patterns(
    r"\bвход\b", r"\bвойти\b", r"авторизаци", r"\blog ?in\b", r"\bsign ?in\b", r"личный кабинет"
)


def _login_redirect(exchange: Exchange) -> Verdict | None:
    """Redirected to a sign-in page (a login path, or Gosuslugi's ESIA)."""
    if _is_login_url(exchange.final_url) and not _is_login_url(exchange.url):
        return Verdict("login", f"redirected to a login page ({exchange.final_url})")
    return None


def _login_form(exchange: Exchange) -> Verdict | None:
    """A password form is the page (not a login box beside the content)."""
    page = exchange.page
    if page is None or not _PASSWORD_INPUT.search(page.markup):
        return None
    if page.tiny or _LOGIN_HEADS.search(page.heads):
        return Verdict("login", "a login form (password field) is the main content")
    return None


def _is_login_url(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host in _LOGIN_HOSTS or bool(_LOGIN_PATH.search(parts.path.lower()))


_MAINTENANCE = _patterns(
    r"технически[ех] работ",
    r"техническо[ем] обслуживани",
    r"профилактически[ех] работ",
    r"сайт (находится )?на реконструкции",
    r"(сайт|сервис|ресурс|страница) временно недоступ",
    r"under maintenance",
    r"maintenance mode",
    r"scheduled maintenance",
    r"temporarily unavailable",
    r"service unavailable",
    r"^503\b|\b503 service",
)


def _status(exchange: Exchange) -> Verdict | None:
    """An error status the fetch stage let through."""
    status = exchange.status
    if status < 400:
        return None
    if status in (401, 407):
        return Verdict("login", f"HTTP {status}: authentication required")
    if status == 429:
        return Verdict("blocked", "HTTP 429: rate limited (too many requests)")
    if status == 403:
        return Verdict("blocked", "HTTP 403: access forbidden (a block or a WAF)")
    if status in (404, 410):
        return Verdict("not-found", f"HTTP {status}: the page is gone")
    if status == 503:
        later = _retry_after(exchange.headers)
        if later is not None and later > _OUTAGE:
            days = f"{later / 86400:.0f} days"
            reason = f"HTTP 503 with Retry-After in {days}: a refusal, not a maintenance window"
            return Verdict("http-error", reason)
        return Verdict("maintenance", "HTTP 503: service unavailable")
    return Verdict("http-error", f"HTTP {status}")


_OUTAGE: Final = 86400.0
"""Seconds of ``Retry-After`` beyond which a 503 is no longer a maintenance window."""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` asks to wait (a number, or a date against ``Date``)."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
        now = parsedate_to_datetime(headers["date"]) if "date" in headers else None
    except (TypeError, ValueError, IndexError):
        return None
    now = now or datetime.now(UTC)
    if moment.tzinfo is None or now.tzinfo is None:
        moment, now = moment.replace(tzinfo=UTC), now.replace(tzinfo=UTC)
    return (moment - now).total_seconds()


def _maintenance(exchange: Exchange) -> Verdict | None:
    """A maintenance notice instead of the page."""
    page = exchange.page
    if page is None:
        return None
    where = page.heads if not page.small else f"{page.heads}\n{page.text}"
    match = _MAINTENANCE.search(where)
    if match is None:
        return None
    return Verdict("maintenance", f"maintenance page ('{_quote(match)}')")


_NOT_FOUND = _patterns(
    r"страниц[аы]? не найден",
    r"не удалось найти (эту |такую )?страниц",
    r"запрашиваемая страница не (существует|найдена)",
    r"страница (не существует|удалена)",
    r"page not found",
    r"^not found$",
    # Within one line only ([ \t], not \s): the title and h1 are lines of one text.
    r"(ошибка|error)[ \t]*404",
    # Not a number of a law or an order: "404-ФЗ", "№ 404н", "Приказ № 404".
    r"^404(?![\w-])",
    r"\b404[ \t.:,—-]*(error|ошибка|not found|страница не)",
)


def _soft_404(exchange: Exchange) -> Verdict | None:
    """A "not found" page served as a success."""
    page = exchange.page
    if page is None:
        return None
    lead = page.text[:300] if page.small else ""
    match = _NOT_FOUND.search(page.heads) or _NOT_FOUND.search(lead)
    if match is None:
        return None
    return Verdict(
        "soft-404", f"'not found' page served with HTTP {exchange.status} ('{_quote(match)}')"
    )


_HOME_PATH = re.compile(r"(/(ru|en|rus|eng))?(/(index|default|main)\.(html?|php|aspx?))?/?")


def _home_redirect(exchange: Exchange) -> Verdict | None:
    """Redirected from a deep page to a home page: the page is gone."""
    source, final = urlsplit(exchange.url), urlsplit(exchange.final_url)
    if not _is_home(final.path, final.query) or _is_home(source.path, source.query):
        return None
    return Verdict(
        "home-redirect",
        f"redirected to the home page {exchange.final_url}: the page is likely gone",
    )


def _is_home(path: str, query: str) -> bool:
    return not query and bool(_HOME_PATH.fullmatch(path.lower()))


_LOADING = _patterns(
    r"(?:загрузка|загружается|идет загрузка|loading|chargement(?: en cours)?|carregando|cargando"
    r"|wird geladen)\s*(?:\.{2,}|…|$)",
    r"^(?:подождите|пожалуйста, подождите|please wait)\W*$",
    r"(?:enable|turn on) javascript|javascript (?:is )?(?:required|disabled)",
    r"включите (?:поддержку )?javascript|javascript (?:отключ|выключ)",
    r"activez (?:le )?javascript|ative o javascript|habilite javascript",
    r"this (?:app|application|site) (?:requires|needs) javascript",
)
_APP_ROOT = re.compile(r"<div\s+id=[\"']?(?:root|app|__next|__nuxt|main-app)[\"']?\s*>\s*</div>")


def _js_shell(exchange: Exchange) -> Verdict | None:
    """A page that only loads itself with JavaScript: "Загрузка...", an empty app root.

    It comes and goes with the site's scripts and says nothing of the page:
    never a change. Only a complete, nearly empty page counts.
    """
    page = exchange.page
    if page is None or not page.tiny:
        return None
    said = _LOADING.search(page.text)
    if said is not None:
        return Verdict("js-shell", f"a page that loads itself with JavaScript ({_quote(said)})")
    if _APP_ROOT.search(page.markup) and "<script" in page.markup:
        return Verdict("js-shell", "an empty application shell built by JavaScript")
    return None


def _no_text(exchange: Exchange) -> Verdict | None:
    """An HTML page with nothing visible at all (an unrendered app shell)."""
    page = exchange.page
    if page is None or not page.complete or page.text:
        return None
    if not page.markup.strip():
        return Verdict("empty", "the response body is empty")
    return Verdict("empty", "the page has no visible text")


CHECKS: Final[tuple[Check, ...]] = (
    _login_redirect,
    _challenge,
    _login_form,
    _maintenance,
    _status,
    _soft_404,
    _home_redirect,
    _js_shell,
    _no_text,
)
"""The checks of :func:`assess_response`, in order; the first verdict wins."""
