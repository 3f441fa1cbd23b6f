"""Webhook messages (``notify: webhooks:``): one JSON POST per alert.

Templates shape the body for what is on the other end:

- ``generic``: the alert as a JSON object (``watcher.alert/1``);
- ``slack`` and ``mattermost``: ``{"text": ...}`` for an incoming webhook;
- ``telegram``: ``{"chat_id": ..., "text": ...}`` for the Bot API's
  ``sendMessage`` (``url: https://api.telegram.org/bot{token}/sendMessage``).

The token comes from the environment variable named by ``token_env``: it
replaces ``{token}`` in the URL, or else is sent as ``Authorization:
Bearer``. It never appears in an error message or the alert record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from watcher.config.model import Webhook
from watcher.errors import NotifyError, SourceError
from watcher.fetch.post import post_json

ALERT_SCHEMA = "watcher.alert/1"
TIMEOUT = 10.0


def body(webhook: Webhook, text: str, data: Mapping[str, object]) -> dict[str, object]:
    """The JSON body of one alert for this webhook's template."""
    if webhook.template == "slack":
        return {"text": slack_escape(text)}
    if webhook.template == "mattermost":
        return {"text": text}
    if webhook.template == "telegram":
        return {"chat_id": webhook.chat_id, "text": text, "disable_web_page_preview": True}
    return {"schema": ALERT_SCHEMA, "text": text, **data}


def slack_escape(text: str) -> str:
    """Slack's required escaping: no ``<url|link>``, ``<!channel>`` or ``<@user>`` from text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send(webhook: Webhook, text: str, data: Mapping[str, object], *, user_agent: str) -> None:
    """POST one alert as ``user_agent``; NotifyError (token redacted) if it was not accepted."""
    token = _token(webhook)
    url = webhook.url.replace("{token}", token) if token else webhook.url
    headers = {}
    if token and "{token}" not in webhook.url:
        headers["Authorization"] = f"Bearer {token}"
    try:
        payload = body(webhook, text, data)
        post_json(url, payload, timeout=TIMEOUT, user_agent=user_agent, headers=headers)
    except SourceError as exc:
        message = str(exc).replace(token, "***") if token else str(exc)
        raise NotifyError(f"webhook {webhook.url} failed: {message}") from None


def _token(webhook: Webhook) -> str:
    if webhook.token_env is None:
        return ""
    token = os.environ.get(webhook.token_env, "")
    if not token:
        raise NotifyError(
            f"webhook {webhook.url}: the token variable {webhook.token_env} is not set",
            hint=f"export {webhook.token_env}=... for watcher",
        )
    return token
