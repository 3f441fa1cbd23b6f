"""The desk's state and what every page shares: rendering, forms, sessions, guards.

One :class:`Desk` per served project holds the sessions, the CSRF signer,
the rate limits and the :class:`~watcher.web.actions.Actions`. Pages render
with the digest's jinja2 environment and stylesheet
(:class:`~watcher.report.render.Renderer`), so the desk looks like the
digest and its diffs are the digest's own macros.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from watcher.config.model import Config, DeskSettings
from watcher.config.settings import make_desk
from watcher.errors import ReportError
from watcher.project import Project
from watcher.report.render import Renderer
from watcher.web.actions import Actions, Actor
from watcher.web.security import (
    CSRF_FIELD,
    HEADERS,
    NONCE_COOKIE,
    SESSION_COOKIE,
    Csrf,
    RateLimit,
    Session,
    Sessions,
)

MAX_FORM_BYTES = 64 * 1024
"""The largest form or JSON body any route reads."""


class Desk:
    """One served project and the desk's state around it."""

    def __init__(self, project: Project, *, commit: bool = False, secret: bytes | None = None):
        self.project = project
        project.journal  # noqa: B018 - opened once, here, not raced by the first requests' threads
        self.settings: DeskSettings = project.config.desk or make_desk({})
        self.renderer = Renderer(project.config.reports.templates, packages=("watcher.web",))
        self.style = self.renderer.style()
        self.sessions = Sessions(self.settings.session)
        self.csrf = Csrf(secret)
        self.report_limit = RateLimit(self.settings.reports_per_hour, timedelta(hours=1), "reports")
        self.login_limit = RateLimit(
            self.settings.login_attempts, timedelta(minutes=15), "failed logins"
        )
        self.actions = Actions(
            project, lock_wait=self.settings.lock_wait.total_seconds(), commit=commit
        )
        self.origins = self.settings.origins or guide_origins(project.config)
        self.emails: dict[str, str | None] = {}


def guide_origins(config: Config) -> tuple[str, ...]:
    """The origins of the guides' published addresses: the default CORS allow-list."""
    origins = []
    for guide in config.guides:
        parts = urlsplit(guide.url)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(dict.fromkeys(origins))


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def client(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For of a trusted proxy)."""
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------- forms


@dataclass(frozen=True)
class Form:
    """A parsed ``application/x-www-form-urlencoded`` body."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        values = self.fields.get(name)
        return values[0] if values else ""

    def getall(self, name: str) -> list[str]:
        return [v for v in self.fields.get(name, []) if v]


async def read_body(request: Request, limit: int = MAX_FORM_BYTES) -> bytes:
    """The request body, refused past ``limit`` bytes (before reading it, when declared)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge()
    return bytes(body)


class TooLarge(ReportError):
    def __init__(self) -> None:
        super().__init__(f"the request is too large (at most {MAX_FORM_BYTES // 1024} KB)")


async def read_form(request: Request) -> Form:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise ReportError("send the form as application/x-www-form-urlencoded")
    body = await read_body(request)
    try:
        text = body.decode("utf-8")
        return Form(parse_qs(text, keep_blank_values=True, max_num_fields=200))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"malformed form: {exc}") from None


# ---------------------------------------------------------------- rendering


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    session: Session | None = None,
    title: str = "",
    **context: Any,
) -> HTMLResponse:
    """A desk page with the digest's look; every form gets its CSRF token."""
    desk = desk_of(request)
    nonce = session.csrf if session else request.cookies.get(NONCE_COOKIE) or ""
    new_nonce = not nonce
    if new_nonce:
        nonce = secrets.token_urlsafe(24)
    html = desk.renderer.render(
        template,
        style=desk.style,
        session=session,
        title=title,
        csrf_field=CSRF_FIELD,
        csrf=desk.csrf.token(nonce),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    response.headers["Cache-Control"] = "no-store"
    if new_nonce and session is None:
        set_cookie(request, response, NONCE_COOKIE, nonce, samesite="strict")
    return response


def message(
    request: Request, status: int, title: str, text: str, session: Session | None = None
) -> HTMLResponse:
    return page(
        request, "desk_message.html", status=status, session=session, title=title, text=text
    )


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, samesite: str = "lax",
    max_age: int | None = None,
) -> None:  # fmt: skip
    """HttpOnly always; Secure when the desk is reached over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict" if samesite == "strict" else "lax",
        secure=request.url.scheme == "https",
    )


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=HEADERS)


def local_path(text: str) -> str:
    """A redirect target on this site only (never ``//elsewhere`` or a scheme)."""
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    return text


# ---------------------------------------------------------------- guards

Handler = Callable[[Request, Session, Form], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def current_session(request: Request) -> Session | None:
    return desk_of(request).sessions.get(request.cookies.get(SESSION_COOKIE))


def check_csrf(request: Request, form: Form, nonce: str | None) -> bool:
    return desk_of(request).csrf.valid(nonce, form.get(CSRF_FIELD))


def editors(handler: Handler, *, maintainers_only: bool = False) -> Endpoint:
    """Refuse without a session (GET: to the login page), a wrong role or a bad CSRF token."""

    async def endpoint(request: Request) -> Response:
        session = current_session(request)
        if session is None:
            if request.method == "GET":
                return redirect("/login?next=" + quote(request.url.path))
            return message(request, 403, "Log in first", "This action needs an editor's login.")
        if maintainers_only and not session.maintainer:
            return message(
                request, 403, "Maintainers only", "Only a maintainer may do this.", session
            )
        form = Form()
        if request.method == "POST":
            form = await read_form(request)
            if not check_csrf(request, form, session.csrf):
                return message(
                    request, 403, "Form expired", "Reload the page and try again.", session
                )
        return await handler(request, session, form)

    return endpoint


def maintainers(handler: Handler) -> Endpoint:
    return editors(handler, maintainers_only=True)


def actor(request: Request, session: Session) -> Actor:
    return Actor(session.name, desk_of(request).emails.get(session.name))


async def blocking(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run file, database and lock work off the event loop."""
    return await run_in_threadpool(func, *args, **kwargs)
