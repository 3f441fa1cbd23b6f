"""One JSON POST per alert (``notify: webhooks:``), through the same HTTP library."""

from __future__ import annotations

import httpx

from watcher.errors import HTTPStatusError
from watcher.fetch.failures import network_error


def post_json(
    url: str,
    payload: object,
    *,
    timeout: float,
    user_agent: str,
    headers: dict[str, str] | None = None,
) -> int:
    """POST ``payload`` as JSON to ``url`` and return the status; FetchError unless 2xx.

    Sent as ``user_agent`` (watcher's, never the library's). No retries and
    no redirects: a webhook that fails is retried by the caller at its next
    batch, and a redirected webhook is misconfigured.
    """
    headers = {"User-Agent": user_agent, **(headers or {})}
    try:
        response = httpx.post(
            url, json=payload, headers=headers, timeout=timeout, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise network_error(exc, url) from exc
    if not 200 <= response.status_code < 300:
        raise HTTPStatusError(
            f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
            url=url,
            status=response.status_code,
        )
    return response.status_code
