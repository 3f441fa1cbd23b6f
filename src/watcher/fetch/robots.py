"""robots.txt: may watcher fetch this URL, and how slowly? The only module importing protego.

The fetching of ``/robots.txt`` itself belongs to ``fetch.py``; this module
turns what came back into a :class:`RobotsPolicy`, following RFC 9309:

* 2xx: the file is parsed (only its first 500 KiB, cut at a line end);
* 4xx (404, 410, 403...): "unavailable", everything is allowed;
* 429, 5xx, or no answer at all (DNS, TLS, timeout): "unreachable", nothing
  is allowed for this run. For a monitor this makes an outage look like a
  policy, so the policy carries a ``note`` saying so, and the source is
  reported as a failed check (never a change). If an earlier copy of the
  file was parsed, :class:`RobotsCache` keeps using it instead (RFC 9309
  section 2.4 allows a cached copy while the file is unreachable).

Rules are matched for the *product token* of watcher's User-Agent
(``watcher`` for ``watcher/0.1 (+https://...)``), falling back to the
``User-agent: *`` group as robots.txt intends. Paths are compared after
percent-decoding, so ``Disallow: /документы/`` also covers
``/%D0%B4%D0%BE...``, and the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

MAX_ROBOTS_BYTES = 500 * 1024
"""RFC 9309 asks parsers to read at least 500 KiB; anything beyond is ignored."""

DEFAULT_TTL = timedelta(hours=24)
"""RFC 9309 section 2.4: a cached robots.txt should not be used longer than 24 hours."""

_TOKEN = re.compile(r"[A-Za-z_-]+")


@dataclass(frozen=True)
class RobotsPolicy:
    """The parsed robots.txt of one host, or a blanket allow / disallow.

    ``note`` says in words where the policy came from (empty for a parsed
    file); ``unreachable`` is true when the file could not be obtained and
    nothing may be fetched.
    """

    _parser: Protego | None = field(default=None, repr=False)
    _blanket: bool = True
    note: str = ""
    unreachable: bool = False

    @classmethod
    def parse(cls, text: str) -> RobotsPolicy:
        """Parse robots.txt ``text``; only its first 500 KiB count."""
        return cls(_parser=Protego.parse(_truncate(text)))

    @classmethod
    def allow_all(cls, note: str = "no robots.txt: everything allowed") -> RobotsPolicy:
        """Everything allowed: the file is missing or otherwise a 4xx."""
        return cls(_blanket=True, note=note)

    @classmethod
    def disallow_all(cls, note: str = "robots.txt unreachable") -> RobotsPolicy:
        """Nothing allowed: the file is unreachable (5xx, 429, network)."""
        return cls(_blanket=False, note=note, unreachable=True)

    @property
    def parsed(self) -> bool:
        """True when this policy comes from an actual robots.txt file."""
        return self._parser is not None

    def allowed(self, url: str, user_agent: str) -> bool:
        """May ``user_agent`` (a full User-Agent string or a token) fetch ``url``?"""
        if self._parser is None:
            return self._blanket
        return bool(self._parser.can_fetch(url, agent_token(user_agent)))

    def crawl_delay(self, user_agent: str) -> float | None:
        """Seconds to wait between requests to this host, if the file says."""
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(agent_token(user_agent))
        return None if delay is None else float(delay)

    def refusal(self, url: str) -> str:
        """Say in words why ``url`` may not be fetched (for the source's health)."""
        if self.unreachable:
            return f"{self.note}: not fetching {url}, as RFC 9309 asks"
        return f"robots.txt disallows {url} for watcher"


def policy_for_response(status: int | None, body: bytes = b"", *, error: str = "") -> RobotsPolicy:
    """Turn the answer to a robots.txt request into a policy (RFC 9309 section 2.3.1).

    ``status`` is None when there was no HTTP answer at all; ``error`` then
    says why (it goes into the policy's note). Redirects are followed by the
    caller (RFC 9309: at least five hops).
    """
    if status is None:
        return RobotsPolicy.disallow_all(f"robots.txt unreachable ({error or 'no answer'})")
    if 200 <= status < 300:
        return RobotsPolicy.parse(_decode(body))
    if status == 429 or status >= 500:
        return RobotsPolicy.disallow_all(f"robots.txt unavailable (HTTP {status})")
    if 400 <= status < 500:
        return RobotsPolicy.allow_all(f"robots.txt answered HTTP {status}: everything allowed")
    return RobotsPolicy.disallow_all(f"robots.txt gave an unexpected HTTP {status}")


def robots_url(url: str) -> str:
    """The robots.txt address governing ``url``: ``scheme://host[:port]/robots.txt``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/robots.txt", "", ""))


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched on: ``watcher/0.1 (...)`` -> ``watcher``."""
    match = _TOKEN.match(user_agent.strip())
    return match.group(0).lower() if match else "*"


@dataclass
class _Entry:
    policy: RobotsPolicy
    expires: datetime


class RobotsCache:
    """robots.txt policies of the hosts seen, each kept for ``ttl``.

    Keyed by :func:`robots_url`, so ``http`` and ``https`` (and ports) of one
    host are separate, as RFC 9309 says. Time is passed in (``now``) so the
    cache behaves the same in tests and in a long-running scheduler.
    """

    def __init__(self, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self._ttl = ttl
        self._entries: dict[str, _Entry] = {}

    def get(self, url: str, *, now: datetime) -> RobotsPolicy | None:
        """The policy for ``url``'s host, or None when it must be (re)fetched."""
        entry = self._entries.get(robots_url(url))
        if entry is None or now >= entry.expires:
            return None
        return entry.policy

    def put(self, url: str, policy: RobotsPolicy, *, now: datetime) -> RobotsPolicy:
        """Remember ``policy`` for ``url``'s host; return the policy in effect.

        An unreachable robots.txt does not throw away a file parsed earlier:
        the earlier copy stays in effect, with a note saying so.
        """
        key = robots_url(url)
        previous = self._entries.get(key)
        if policy.unreachable and previous is not None and previous.policy.parsed:
            policy = _stale_copy(previous.policy, policy.note)
        self._entries[key] = _Entry(policy=policy, expires=now + self._ttl)
        return policy

    def __len__(self) -> int:
        return len(self._entries)


def _stale_copy(policy: RobotsPolicy, why: str) -> RobotsPolicy:
    note = f"{why}; using the copy fetched earlier"
    return RobotsPolicy(_parser=policy._parser, note=note)


def _truncate(text: str) -> str:
    """Keep the first 500 KiB (UTF-8) of ``text``, ending at a whole line."""
    data = text.encode("utf-8")
    if len(data) <= MAX_ROBOTS_BYTES:
        return text
    head = data[:MAX_ROBOTS_BYTES]
    cut = head.rfind(b"\n")
    return head[: cut + 1 if cut >= 0 else 0].decode("utf-8", errors="ignore")


def _decode(body: bytes) -> str:
    """robots.txt is UTF-8 (RFC 9309); a BOM is dropped, bad bytes replaced."""
    return body[: MAX_ROBOTS_BYTES + 1].decode("utf-8-sig", errors="replace")
