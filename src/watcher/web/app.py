"""The desk as one Starlette application: routes, error pages, security headers.

Errors from the library become pages (or JSON under ``/api/``) with the
status they deserve: an unknown guide, source or report 404, a malformed or
oversized request 400/413, too many requests 429 (with ``Retry-After``), a
refused login or role 403, a running check 503 ("the project is busy").
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from watcher.errors import (
    AuthError,
    DeskError,
    LockedError,
    RateLimitedError,
    UnknownIdError,
    UsageError,
    WatcherError,
)
from watcher.project import Project
from watcher.web import editor, public
from watcher.web.desk import Desk, TooLarge, current_session, message
from watcher.web.security import HEADERS

LOG = logging.getLogger("watcher.desk")


def create_app(project: Project, *, commit: bool = False, secret: bytes | None = None) -> Starlette:
    """The desk over ``project``; ``commit`` commits each action to git."""
    app = Starlette(
        routes=[*public.ROUTES, *editor.ROUTES],
        exception_handlers={WatcherError: _watcher_error, 404: _not_found, 405: _not_allowed},
    )
    app.state.desk = Desk(project, commit=commit, secret=secret)
    return app


def status_of(exc: WatcherError) -> int:
    """The HTTP status of a refusal from the library."""
    if isinstance(exc, TooLarge):
        return 413
    for kind, status in _STATUSES:
        if isinstance(exc, kind):
            return status
    return 500


_STATUSES: tuple[tuple[type[WatcherError], int], ...] = (
    (RateLimitedError, 429),
    (UnknownIdError, 404),
    (AuthError, 403),
    (LockedError, 503),
    (UsageError, 400),
    (DeskError, 400),
)


async def _watcher_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WatcherError)
    status = status_of(exc)
    if status == 500:
        LOG.error("desk: %s %s: %s", request.method, request.url.path, exc)
    headers = dict(HEADERS)
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 503:
        headers["Retry-After"] = "60"
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"error": exc.message, "hint": exc.hint}, status_code=status, headers=headers
        )
    session = current_session(request)
    response = message(request, status, _TITLES.get(status, "Error"), str(exc), session)
    response.headers.update(headers)
    return response


_TITLES = {
    400: "Cannot do that",
    403: "Refused",
    404: "Not found",
    413: "Too large",
    429: "Too many requests",
    503: "The project is busy",
}


async def _not_found(request: Request, exc: Exception) -> Response:
    return message(request, 404, "Not found", "There is no such page.", current_session(request))


async def _not_allowed(request: Request, exc: Exception) -> Response:
    response = message(request, 405, "Method not allowed", "This address does not take that.")
    return response
