"""The editors' and maintainers' pages: log in, the queue, a guide, reports, sources.

Every route but the login page refuses a browser without a session (a GET
is sent to the login page, a POST gets 403), every POST needs the form's
CSRF token, and the maintainers' routes refuse editors. Writes go through
:class:`~watcher.web.actions.Actions`, named after the logged-in account.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from watcher.errors import AuthError
from watcher.guides.reports import OPEN_STATUSES
from watcher.results import utcnow
from watcher.store import DeskStore
from watcher.store.desk import REPORT_STATUSES
from watcher.web import views
from watcher.web.accounts import authenticate
from watcher.web.actions import Done
from watcher.web.desk import (
    Form,
    actor,
    blocking,
    check_csrf,
    client,
    desk_of,
    editors,
    local_path,
    maintainers,
    page,
    read_form,
    redirect,
    set_cookie,
)
from watcher.web.security import NONCE_COOKIE, SESSION_COOKIE, Session

LOG = logging.getLogger("watcher.desk")
DONE = {
    "signoff": "Signed off: the guide is fresh for these sources until one of them changes.",
    "dismiss": "Change dismissed.",
    "accepted": "Report accepted: the guide needs review until it is signed off.",
    "rejected": "Report rejected.",
    "duplicate": "Report marked as a duplicate.",
    "checked": "Source checked.",
}


# ---------------------------------------------------------------- login


async def login_form(request: Request) -> Response:
    next_path = local_path(request.query_params.get("next", "/"))
    return page(request, "desk_login.html", title="Log in", next=next_path, error=None)


async def login(request: Request) -> Response:
    desk = desk_of(request)
    form = await read_form(request)
    name, next_path = form.get("name").strip(), local_path(form.get("next") or "/")
    if not check_csrf(request, form, request.cookies.get(NONCE_COOKIE)):
        return _login_error(request, next_path, "The form expired: please log in again.", 403)
    keys = (f"address:{client(request)}", f"account:{name.lower()}")
    desk.login_limit.check(*keys)
    try:
        account = await blocking(authenticate, desk.project, name, form.get("password"))
    except AuthError as exc:
        desk.login_limit.hit(*keys)
        return _login_error(request, next_path, str(exc), 403)
    desk.login_limit.clear(keys[1])
    session = desk.sessions.open(account.name, account.role)
    desk.emails[account.name] = account.email
    response = redirect(next_path)
    max_age = int(desk.settings.session.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, session.token, max_age=max_age)
    return response


def _login_error(request: Request, next_path: str, text: str, status: int) -> Response:
    return page(
        request, "desk_login.html", status=status, title="Log in", next=next_path, error=text
    )


async def logout(request: Request, session: Session, form: Form) -> Response:
    desk_of(request).sessions.close(session.token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------- pages


async def queue(request: Request, session: Session, form: Form) -> Response:
    data = await blocking(views.queue, desk_of(request).project, utcnow())
    return page(request, "desk_queue.html", session=session, title="Queue", queue=data)


async def guide(request: Request, session: Session, form: Form) -> Response:
    guide_id = request.path_params["guide"]
    data = await blocking(views.guide_page, desk_of(request).project, guide_id, utcnow())
    return page(
        request, "desk_guide.html", session=session, title=data.guide.title, data=data,
        done=_done(request),
    )  # fmt: skip


async def reports_list(request: Request, session: Session, form: Form) -> Response:
    status = request.query_params.get("status", "new")
    statuses = REPORT_STATUSES if status == "all" else (status,)
    if status not in (*REPORT_STATUSES, "all"):
        statuses = OPEN_STATUSES
    store = DeskStore(desk_of(request).project.journal)
    found = await blocking(store.reports, statuses)
    titles = {g.id: g.title for g in desk_of(request).project.config.guides}
    return page(
        request, "desk_reports.html", session=session, title="Readers' reports",
        reports=list(reversed(found)), shown=status, statuses=REPORT_STATUSES, titles=titles,
    )  # fmt: skip


async def report(request: Request, session: Session, form: Form) -> Response:
    desk = desk_of(request)
    found = await blocking(DeskStore(desk.project.journal).report, request.path_params["ref"])
    return page(
        request, "desk_report.html", session=session, title=f"Report {found.ref}",
        report=found, config=desk.project.config, done=_done(request),
        retention_days=desk.settings.contact_retention.days,
    )  # fmt: skip


async def sources(request: Request, session: Session, form: Form) -> Response:
    data = await blocking(views.sources_page, desk_of(request).project, utcnow())
    return page(
        request, "desk_sources.html", session=session, title="Source health", data=data,
        done=_done(request),
    )  # fmt: skip


# ---------------------------------------------------------------- actions


async def sign_off(request: Request, session: Session, form: Form) -> Response:
    guide_id = request.path_params["guide"]
    actions = desk_of(request).actions
    done = await blocking(
        actions.sign_off, guide_id, actor(request, session), form.get("note"),
        form.getall("source"),
    )  # fmt: skip
    return _after(done, f"/guides/{guide_id}", "signoff")


async def dismiss(request: Request, session: Session, form: Form) -> Response:
    guide_id = request.path_params["guide"]
    actions = desk_of(request).actions
    done = await blocking(
        actions.dismiss, guide_id, form.get("source"), actor(request, session), form.get("note")
    )
    return _after(done, f"/guides/{guide_id}", "dismiss")


async def accept(request: Request, session: Session, form: Form) -> Response:
    actions = desk_of(request).actions
    done = await blocking(
        lambda: actions.accept(
            request.path_params["ref"], actor(request, session), note=form.get("note"),
            guide=form.get("guide") or None, source=form.get("source") or None,
            claim=form.get("claim") or None,
        )
    )  # fmt: skip
    return _after(done, f"/guides/{done.value.guide}", "accepted")


async def reject(request: Request, session: Session, form: Form) -> Response:
    ref = request.path_params["ref"]
    actions = desk_of(request).actions
    done = await blocking(actions.reject, ref, actor(request, session), form.get("note"))
    return _after(done, f"/reports/{done.value.ref}", "rejected")


async def duplicate(request: Request, session: Session, form: Form) -> Response:
    ref = request.path_params["ref"]
    actions = desk_of(request).actions
    done = await blocking(actions.duplicate, ref, form.get("of"), actor(request, session))
    return _after(done, f"/reports/{done.value.ref}", "duplicate")


async def check_source(request: Request, session: Session, form: Form) -> Response:
    source_id = request.path_params["source"]
    actions = desk_of(request).actions
    done = await blocking(actions.check_source, source_id, actor(request, session))
    return _after(done, "/sources", "checked")


def _after(done: Done, path: str, what: str) -> Response:
    if done.git_warning:
        LOG.warning("desk: %s saved, but not committed: %s", what, done.git_warning)
        return redirect(f"{path}?done={what}&git=failed")
    return redirect(f"{path}?done={what}")


def _done(request: Request) -> str | None:
    text = DONE.get(request.query_params.get("done", ""))
    if text and request.query_params.get("git") == "failed":
        text += " (Saved, but the git commit failed: see the desk's log.)"
    return text


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", editors(logout), methods=["POST"]),
    Route("/", editors(queue), methods=["GET"]),
    Route("/guides/{guide}", editors(guide), methods=["GET"]),
    Route("/guides/{guide}/signoff", editors(sign_off), methods=["POST"]),
    Route("/guides/{guide}/dismiss", editors(dismiss), methods=["POST"]),
    Route("/reports", editors(reports_list), methods=["GET"]),
    Route("/reports/{ref}", editors(report), methods=["GET"]),
    Route("/reports/{ref}/accept", editors(accept), methods=["POST"]),
    Route("/reports/{ref}/reject", editors(reject), methods=["POST"]),
    Route("/reports/{ref}/duplicate", editors(duplicate), methods=["POST"]),
    Route("/sources", maintainers(sources), methods=["GET"]),
    Route("/sources/{source}/check", maintainers(check_source), methods=["POST"]),
]
