"""Sessions, CSRF tokens, rate limits and the headers every page carries.

- **Sessions** live in this process's memory, keyed by a random token in
  a cookie that is ``HttpOnly`` and ``SameSite=Lax`` (``Secure`` over
  HTTPS): logging out forgets the session, and restarting the desk logs
  everyone out.
- **CSRF**: every form carries a token, an HMAC of a per-browser nonce
  (the session's, or before login a ``SameSite=Strict`` cookie's) and a
  time, checked on every POST.
- **Rate limits**: a sliding window per key (an address, an account).
- **Headers**: a strict Content-Security-Policy (no script at all), no
  framing, no referrer, no caching of editor pages.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

from watcher.errors import RateLimitedError
from watcher.store.desk import Role

SESSION_COOKIE = "watcher_desk"
NONCE_COOKIE = "watcher_csrf"
CSRF_FIELD = "csrf"
CSRF_MAX_AGE = 12 * 3600
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class Session:
    """One logged-in browser."""

    token: str
    name: str
    role: Role
    expires: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def maintainer(self) -> bool:
        return self.role == "maintainer"


class Sessions:
    """The logged-in browsers of this process."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, name: str, role: Role) -> Session:
        session = Session(
            secrets.token_urlsafe(32), name, role, time.time() + self.lifetime.total_seconds()
        )
        with self._lock:
            now = time.time()
            for token in [t for t, s in self._by_token.items() if s.expires < now]:
                del self._by_token[token]
            self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._by_token.get(token)
            if session is not None and session.expires < time.time():
                del self._by_token[token]
                return None
            return session

    def close(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


class Csrf:
    """Form tokens: HMAC(secret, nonce | time), valid for :data:`CSRF_MAX_AGE`."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret or secrets.token_bytes(32)

    def token(self, nonce: str, now: float | None = None) -> str:
        stamp = str(int(now if now is not None else time.time()))
        return f"{stamp}.{self._sign(nonce, stamp)}"

    def valid(self, nonce: str | None, token: str | None, now: float | None = None) -> bool:
        if not nonce or not token or "." not in token:
            return False
        stamp, _, signature = token.partition(".")
        if not stamp.isdigit():
            return False
        age = (now if now is not None else time.time()) - int(stamp)
        if not 0 <= age <= CSRF_MAX_AGE:
            return False
        return hmac.compare_digest(signature, self._sign(nonce, stamp))

    def _sign(self, nonce: str, stamp: str) -> str:
        message = f"{nonce}|{stamp}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


class RateLimit:
    """At most ``limit`` events per key within ``window`` (a sliding window)."""

    def __init__(self, limit: int, window: timedelta, what: str) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self.what = what
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """RateLimitedError if any key used up its window."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                events = self._recent(key, now)
                if len(events) >= self.limit:
                    retry = int(events[0] + self.window - now) + 1
                    raise RateLimitedError(
                        f"too many {self.what}: try again in {retry} seconds", retry_after=retry
                    )

    def hit(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._events.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events and len(self._events) > 10_000:
            self._forget_idle(now)
        return self._events.setdefault(key, events)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, e in self._events.items() if not e or e[-1] <= now - self.window]:
            del self._events[key]
