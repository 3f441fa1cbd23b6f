"""Credentials out of sight: the one helper for every URL watcher shows.

A database URL (``postgresql+psycopg://user:PASSWORD@host/db``), a proxy
(``http://user:PASSWORD@proxy:3128``), a webhook or a source URL can carry
a password. Everything watcher shows (error messages, logs, JSON, digests,
alerts) goes through :func:`redact_url` or :func:`redact`, which keep the
URL readable and replace the secret with ``***``:

- a password in the userinfo: ``user:***@host``;
- a userinfo with no password: kept for a database (it names a role),
  else replaced whole (``https://***@host``: a lone user is often a token);
- secret query parameters (``?password=***``, ``&token=***``...).

The bottom of the package: it imports nothing of watcher's, so the error
tree itself redacts every message.
"""

from __future__ import annotations

import re

MASK = "***"

_SCHEME = r"[a-zA-Z][a-zA-Z0-9+.\-]*://"
_URL = re.compile(_SCHEME + r"[^\s'\"<>`]+")
_AUTHORITY = re.compile(rf"^({_SCHEME})([^/?#\s]*)")
_SECRET_PARAM = re.compile(
    r"([?&;](?:password|passwd|pwd|pass|token|access_token|auth|api_key|apikey|secret"
    r"|client_secret|sig|signature)=)[^&#;\s'\"]*",
    re.IGNORECASE,
)
_DATABASES = ("postgres", "mysql", "mariadb", "sqlite", "mssql", "oracle", "cockroachdb")


def redact_url(url: str) -> str:
    """``url`` with its password (and any secret query parameter) replaced by ``***``."""
    match = _AUTHORITY.match(url)
    if match is not None:
        scheme, authority = match.groups()
        userinfo, at, host = authority.rpartition("@")
        if at:
            url = f"{scheme}{_userinfo(scheme, userinfo)}@{host}{url[match.end() :]}"
    return _SECRET_PARAM.sub(rf"\g<1>{MASK}", url)


def _userinfo(scheme: str, userinfo: str) -> str:
    name, colon, _ = userinfo.partition(":")
    if colon:
        return f"{name}:{MASK}"
    if scheme.lower().startswith(_DATABASES):
        return name
    return MASK


def redact(text: str) -> str:
    """Every URL inside ``text`` (an error message, a log line) redacted."""
    if "://" not in text:
        return text
    return _URL.sub(lambda match: redact_url(match.group()), text)
