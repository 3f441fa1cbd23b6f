"""The one exception tree of watcher.

Every error watcher raises on purpose derives from :class:`WatcherError`.
Third-party exceptions are translated where they enter (httpx in
``fetch.py``, YAML in ``config.py``, SQLAlchemy in ``store/db.py``), so the
rest of the package, and the CLI, only ever see this tree::

    WatcherError
    ├── ConfigError            sources.yaml is invalid (file, line, key)
    │   └── ConfigErrors       several problems, all found in one pass
    ├── UsageError             a command was asked something impossible
    │   └── UnknownIdError     unknown source or guide id
    ├── LockedError            another watcher run holds the project lock
    ├── StoreError             snapshots/ or the database cannot be used (path and cause)
    │   ├── StateError         committed state of one source or guide is damaged:
    │   │                      a merge conflict, a wrong shape, a missing file
    │   └── DatabaseError      the database cannot be reached or opened (exit 6)
    ├── NotifyError            a digest could not be mailed (SMTP)
    ├── DeskError              the editor desk refused a request
    │   ├── ReportError        a reader's report is malformed, too long or spam
    │   ├── AuthError          no such account, a wrong password or role
    │   └── RateLimitedError   too many reports or logins from one address
    └── SourceError            one source failed this check (never a change)
        ├── FetchError         the response could not be obtained
        │   ├── NetworkError   DNS, refused, reset, TLS
        │   ├── TimeoutError_  connect or read timeout
        │   ├── HTTPStatusError  4xx / 5xx
        │   ├── TooLargeError  the body exceeded max_size
        │   ├── RedirectError  loop, too many, or a forbidden target
        │   ├── RobotsError    robots.txt disallows the page
        │   └── CABundleError  the source's ca_bundle file is not there
        ├── QualityError       a response that is not the page (never a change)
        │                      kinds: blocked, login, soft-404, maintenance,
        │                      home-redirect, shrunk
        ├── DecodeError        the body is not text watcher can decode
        ├── ExtractError       the page gave no usable text
        │   ├── SelectorError  ``select`` matched nothing
        │   └── EmptyContentError  the extraction is empty
        ├── DamagedStateError  the source's committed state cannot be read (kind ``state``)
        └── InternalError      a bug in watcher met on this source (kind ``internal``)

Each error carries the context needed to act on it and, where there is
one, a ``hint`` saying what to do next. Messages, hints and URLs are
redacted (:mod:`watcher.redact`): a password in a URL never reaches a
terminal, a log or a cron mail. Only the CLI turns errors into messages
and exit codes (see ``EXIT_*`` below).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal

from watcher.redact import redact, redact_url

ErrorKind = Literal[
    "error",
    "fetch",
    "network",
    "timeout",
    "http",
    "too-large",
    "redirect",
    "robots",
    "ca-bundle",
    "blocked",
    "login",
    "soft-404",
    "not-found",
    "maintenance",
    "http-error",
    "home-redirect",
    "shrunk",
    "js-shell",
    "empty",
    "decode",
    "extract",
    "selector",
    "state",
    "internal",
]
"""The class of a source's failure: a stable word in state files, the database and JSON."""

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_USAGE = 2
EXIT_ALL_FAILED = 3
EXIT_LOCKED = 4
EXIT_STORE = 5
EXIT_DATABASE = 6
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


class WatcherError(Exception):
    """Base of every error watcher raises on purpose."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.hint = redact(hint) if hint else hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (every attribute, whatever the subclass's __init__
        # takes): a source's error crosses from a worker process.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[WatcherError], args: tuple[object, ...], state: dict[str, object]) -> object:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(WatcherError):
    """The configuration file is invalid; names the file, line and key."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        where = path or "<config>"
        if line is not None:
            where = f"{where}:{line}"
        prefix = f"{where}: " if path or line is not None else ""
        keypart = f"{key}: " if key else ""
        super().__init__(f"{prefix}{keypart}{message}", hint=hint)


class ConfigErrors(ConfigError):
    """Every problem one read of the configuration found, each a :class:`ConfigError`."""

    def __init__(self, problems: Sequence[ConfigError]) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problems:\n{listed}", path=self.problems[0].path)


class UsageError(WatcherError):
    """A command was asked something it cannot do."""

    exit_code = EXIT_USAGE


class UnknownIdError(UsageError):
    """A source or guide id that the configuration does not define."""


class LockedError(WatcherError):
    """Another watcher process holds the project lock."""

    exit_code = EXIT_LOCKED


class StoreError(WatcherError):
    """The snapshot directory or the database cannot be used; names the path and the cause."""

    exit_code = EXIT_STORE


class StateError(StoreError):
    """A committed file is damaged: a merge conflict, a wrong shape, a missing file.

    ``path`` is the file; the message says what is wrong and the hint what
    to do (resolve the conflict, restore it from git, ``watcher reindex``).
    """

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path


class DatabaseError(StoreError):
    """The database journal cannot be reached or opened: server down, login refused, no driver."""

    exit_code = EXIT_DATABASE


class NotifyError(WatcherError):
    """A digest could not be mailed: the SMTP server refused or was unreachable."""

    exit_code = EXIT_ALL_FAILED


class DeskError(WatcherError):
    """The editor desk (``watcher serve``, ``watcher reports``, ``watcher users``) refused."""

    exit_code = EXIT_USAGE


class ReportError(DeskError):
    """A reader's report cannot be taken: malformed, empty, too long or caught as spam."""


class AuthError(DeskError):
    """No such account, a wrong password, or a role that may not do this."""


class RateLimitedError(DeskError):
    """Too many reports or login attempts from one address; ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class SourceError(WatcherError):
    """One source failed this check. It is recorded, never a content change.

    ``kind`` is a short stable word used in state files, the database and
    JSON output (``network``, ``timeout``, ``http``, ``too-large``,
    ``redirect``, ``decode``, ``selector``, ``empty``).
    """

    kind: ErrorKind = "error"

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = redact_url(url) if url else url
        self.status = status


class FetchError(SourceError):
    """The response could not be obtained.

    ``transient`` marks failures worth a retry (timeouts, connection
    errors, 408/429/5xx); ``retry_after`` is the server's Retry-After.
    """

    kind: ErrorKind = "fetch"
    transient = False
    retry_after: float | None = None


class NetworkError(FetchError):
    """DNS failure, connection refused or reset, TLS failure."""

    kind: ErrorKind = "network"


class TimeoutError_(FetchError):
    """Connect, read or total timeout."""

    kind: ErrorKind = "timeout"


class HTTPStatusError(FetchError):
    """The server answered with a 4xx or 5xx status.

    ``body`` holds the start of the error page and ``headers`` the response
    headers, for the quality gate (a challenge page is often a 403 or 503).
    """

    kind: ErrorKind = "http"
    body: bytes = b""
    headers: Mapping[str, str] = MappingProxyType({})


class TooLargeError(FetchError):
    """The body exceeded the configured ``max_size``."""

    kind: ErrorKind = "too-large"


class RedirectError(FetchError):
    """Redirect loop, too many redirects, or a forbidden redirect target."""

    kind: ErrorKind = "redirect"


class RobotsError(FetchError):
    """robots.txt disallows fetching the page (or could not be read)."""

    kind: ErrorKind = "robots"


class CABundleError(FetchError):
    """The source's ``ca_bundle`` file is not there: a setup step, not a network failure."""

    kind: ErrorKind = "ca-bundle"


class QualityError(SourceError):
    """The response is not the page: a challenge, login wall, soft 404...

    Its ``kind`` is set per instance from the quality gate's verdict.
    """

    shrunk_text: str | None = None
    """For ``shrunk``: the text that was judged too small (a change if it holds)."""

    def __init__(
        self, kind: ErrorKind, message: str, *, url: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.kind = kind


class DecodeError(SourceError):
    """The body could not be decoded as text."""

    kind: ErrorKind = "decode"


class ExtractError(SourceError):
    """The page gave no usable text."""

    kind: ErrorKind = "extract"


class SelectorError(ExtractError):
    """The source's ``select`` matched nothing on the page."""

    kind: ErrorKind = "selector"


class EmptyContentError(ExtractError):
    """The extracted text is empty."""

    kind: ErrorKind = "empty"


class DamagedStateError(SourceError):
    """The source's committed state cannot be read: it is checked again once repaired.

    Its state files are left exactly as they are (nothing is recorded).
    """

    kind: ErrorKind = "state"


class InternalError(SourceError):
    """A bug in watcher met while checking one source.

    Recorded as that source's failure so the run goes on; the command then
    exits 70. ``detail`` holds the traceback, for the crash log.
    """

    kind: ErrorKind = "internal"
    detail: str = ""
