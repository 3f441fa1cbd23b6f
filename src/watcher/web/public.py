"""The readers' endpoints, the only ones to expose publicly.

- ``GET /report?guide=ID-or-URL``: a plain HTML form (no JavaScript) that
  the guides site's "Report outdated information" button links to;
- ``POST /report``: that form's submission, answered with a page giving
  the report's reference;
- ``POST /api/reports``: the same as JSON, for a script on the guides
  site, with CORS for the configured guide-site origins only.

Abuse: bodies are capped, each address may send ``desk: reports_per_hour``
reports an hour, a hidden ``website`` field catches form-filling bots
(answered as if stored, never stored), and the text is the reader's,
hostile wherever it is shown later.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watcher.config.model import Guide
from watcher.errors import ReportError, UnknownIdError, WatcherError
from watcher.guides import reports
from watcher.results import utcnow
from watcher.web.desk import (
    Desk,
    blocking,
    check_csrf,
    client,
    desk_of,
    page,
    read_body,
    read_form,
)
from watcher.web.security import HEADERS, NONCE_COOKIE

HONEYPOT = "website"


async def report_form(request: Request) -> Response:
    desk = desk_of(request)
    wanted = request.query_params.get("guide", "")
    guide = _guide_or_none(desk, wanted)
    if wanted and guide is None:
        return _unknown_guide(request, wanted)
    return _form(request, guide)


async def report_submit(request: Request) -> Response:
    desk = desk_of(request)
    form = await read_form(request)
    guide = _guide_or_none(desk, form.get("guide"))
    if guide is None:
        return _unknown_guide(request, form.get("guide"))
    if not check_csrf(request, form, request.cookies.get(NONCE_COOKIE)):
        return _form(request, guide, form.fields, "The form expired: please send it again.", 403)
    submission = reports.Submission(
        guide.id, form.get("text"), form.get("page"), form.get("contact")
    )
    try:
        ref, task = await _take(request, submission, form.get(HONEYPOT))
    except ReportError as exc:
        return _form(request, guide, form.fields, str(exc), 400)
    response = page(
        request, "report_sent.html", status=201, title="Thank you", guide=guide, ref=ref
    )
    response.background = task
    return response


async def api_report(request: Request) -> Response:
    desk = desk_of(request)
    cors = _cors(desk, request)
    if cors is None:
        return _json({"error": "this origin may not send reports"}, 403)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _json({"error": "send the report as application/json"}, 415, cors)
    try:
        data = json.loads(await read_body(request))
    except ReportError as exc:
        return _json({"error": str(exc)}, 413, cors)
    except (ValueError, UnicodeDecodeError):
        return _json({"error": "the body is not valid JSON"}, 400, cors)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return _json({"error": "send one JSON object of strings"}, 400, cors)
    submission = reports.Submission(
        data.get("guide", ""), data.get("text", ""), data.get("page", ""), data.get("contact", "")
    )
    try:
        ref, task = await _take(request, submission, data.get(HONEYPOT, ""))
    except UnknownIdError as exc:
        return _json({"error": exc.message, "hint": exc.hint}, 404, cors)
    except WatcherError as exc:
        status = 429 if getattr(exc, "retry_after", None) else 400
        headers = (
            {**cors, "Retry-After": str(getattr(exc, "retry_after", 0))} if status == 429 else cors
        )
        return _json({"error": exc.message}, status, headers)
    answer = {"ref": ref, "status": "new", "message": f"Thank you. Your reference: {ref}."}
    response = _json(answer, 201, cors)
    response.background = task
    return response


async def api_preflight(request: Request) -> Response:
    cors = _cors(desk_of(request), request)
    if cors is None or not request.headers.get("origin"):
        return Response(status_code=403, headers=HEADERS)
    headers = {
        **cors,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers={**HEADERS, **headers})


async def _take(
    request: Request, submission: reports.Submission, honeypot: str
) -> tuple[str, BackgroundTask | None]:
    """Store one report (or fool a bot); its reference and the alert task."""
    desk = desk_of(request)
    address = client(request)
    desk.report_limit.check(address)
    desk.report_limit.hit(address)
    if honeypot.strip():
        reports.find_guide(desk.project.config, submission.guide)
        return reports.new_ref(), None
    report = await blocking(reports.receive, desk.project, submission, utcnow())
    return report.ref, BackgroundTask(_after_report, desk, utcnow())


def _after_report(desk: Desk, now: datetime) -> None:
    reports.erase_expired_contacts(desk.project, now)
    desk.actions.announce()


def _guide_or_none(desk: Desk, wanted: str) -> Guide | None:
    if not wanted.strip():
        return None
    try:
        return reports.find_guide(desk.project.config, wanted)
    except WatcherError:
        return None


def _form(
    request: Request,
    guide: Guide | None,
    values: dict[str, list[str]] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    desk = desk_of(request)
    given = {k: v[0] for k, v in (values or {}).items() if v}
    return page(
        request,
        "report_form.html",
        status=status,
        title="Report outdated information",
        guide=guide,
        guides=desk.project.config.guides,
        values=given,
        error=error,
        max_report=desk.settings.max_report,
        honeypot=HONEYPOT,
    )


def _unknown_guide(request: Request, wanted: str) -> Response:
    return page(
        request,
        "desk_message.html",
        status=404,
        title="Unknown guide",
        text=f"We have no guide {wanted[:200]!r}. Use the link at the end of the guide's page.",
    )


def _cors(desk: Desk, request: Request) -> dict[str, str] | None:
    """CORS headers for an allowed origin, {} without one, None for a refused origin."""
    origin = request.headers.get("origin")
    if not origin:
        return {}
    if origin.lower() not in desk.origins:
        return None
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _json(data: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={**HEADERS, **(headers or {})})


ROUTES = [
    Route("/report", report_form, methods=["GET"]),
    Route("/report", report_submit, methods=["POST"]),
    Route("/api/reports", api_report, methods=["POST"]),
    Route("/api/reports", api_preflight, methods=["OPTIONS"]),
]
