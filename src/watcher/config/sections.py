"""The sections around the sources.

``defaults:``, ``hosts:``, ``notify:``, ``reports:`` and ``desk:``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from watcher.config import settings
from watcher.config.model import (
    Defaults,
    DeskSettings,
    Notify,
    ReportJob,
    ReportSettings,
    SmtpSettings,
    Webhook,
)
from watcher.config.nodes import At, as_list, as_map, each, note, noted, read_fields
from watcher.config.values import (
    SMTP_PORTS,
    read_addresses,
    read_bool,
    read_ca_bundle,
    read_chat_id,
    read_choice,
    read_cron,
    read_env_name,
    read_events,
    read_formats,
    read_host,
    read_owner,
    read_port,
    read_security,
    read_text,
    read_url,
)
from watcher.errors import ConfigError


def defaults_section(at: At | None) -> Defaults:
    """``defaults:``: the run-wide and inherited settings, over the table's defaults."""
    if at is None or at.kind == "null":
        return settings.make_defaults({})
    mapping = as_map(at, settings.DEFAULTS_KEYS)
    readers = {name: settings.BY_NAME[name].read for name in settings.DEFAULTS_KEYS}
    return settings.make_defaults(read_fields(mapping, readers))


def desk_section(at: At | None) -> DeskSettings:
    """``desk:``: the editor desk's settings, over the table's defaults."""
    if at is None or at.kind == "null":
        return settings.make_desk({})
    mapping = as_map(at, settings.DESK_KEYS)
    readers = {name: settings.BY_NAME[name].read for name in settings.DESK_KEYS}
    return settings.make_desk(read_fields(mapping, readers))


HostSettings = Mapping[str, Mapping[str, Any]]


def hosts_section(at: At | None) -> HostSettings:
    """``hosts:``: settings for every source on a host, keyed by host name."""
    if at is None or at.kind == "null":
        return {}
    readers = {name: settings.BY_NAME[name].read for name in settings.HOST_KEYS}
    hosts = {}
    for name, item in as_map(at, None).values.items():
        host = name.strip().lower()
        if not host or "/" in host or " " in host:
            note(
                item.error(
                    f"invalid host name {name!r}", hint="e.g. www.mgfoms.ru or 127.0.0.1:8080"
                )
            )
            continue
        try:
            hosts[host] = read_fields(as_map(item, settings.HOST_KEYS), readers)
        except ConfigError as exc:
            note(exc)
    return hosts


_SMTP_FIELDS: dict[str, Callable[[At], object]] = {
    "host": read_host,
    "port": read_port,
    "security": read_security,
    "user": read_text,
    "password_env": read_env_name,
    "sender": read_owner,
    "ca_bundle": read_ca_bundle,
}
_NOTIFY_FIELDS: dict[str, Callable[[At], object]] = {"maintainers": read_addresses}
_REPORTS_FIELDS: dict[str, Callable[[At], object]] = {"templates": read_text}
_WEBHOOK_TEMPLATES = ("generic", "slack", "mattermost", "telegram")


_WEBHOOK_FIELDS: dict[str, Callable[[At], object]] = {
    "url": read_url,
    "template": lambda at: read_choice(at, _WEBHOOK_TEMPLATES),
    "token_env": read_env_name,
    "chat_id": read_chat_id,
    "events": read_events,
}
_REPORT_JOB_FIELDS: dict[str, Callable[[At], object]] = {
    "cron": read_cron,
    "formats": read_formats,
    "email": read_bool,
    "always": read_bool,
}


def _webhooks(at: At | None) -> tuple[Webhook, ...]:
    """``webhooks: [{url, template, token_env, chat_id, events}]``."""
    if at is None:
        return ()
    return tuple(each(as_list(at), _webhook))


def _webhook(at: At) -> Webhook | None:
    before = noted()
    mapping = as_map(at, list(_WEBHOOK_FIELDS))
    values = read_fields(mapping, _WEBHOOK_FIELDS)
    if noted() > before:
        return None  # its problems are noted
    url_at = mapping.require("url")
    if "{token}" in values["url"] and "token_env" not in values:
        raise url_at.error("the URL has a {token} placeholder but no token_env names it")
    telegram = values.get("template") == "telegram"
    if telegram and "chat_id" not in values:
        raise at.error("a telegram webhook needs chat_id", hint="the chat to post to")
    if not telegram and "chat_id" in values:
        raise mapping.require("chat_id").error("chat_id is only for template: telegram")
    return Webhook(**values, line=at.line)


def notify_section(at: At | None) -> Notify | None:
    """``notify: {smtp, maintainers, webhooks}``; secrets stay in the environment."""
    if at is None:
        return None
    before = noted()
    mapping = as_map(at, [*_NOTIFY_FIELDS, "smtp", "webhooks"])
    webhooks = _webhooks(mapping.get("webhooks"))
    if noted() > before:
        return None  # noted; "needs smtp: or webhooks:" would only repeat it
    smtp_at = mapping.get("smtp")
    if smtp_at is None:
        if not webhooks:
            raise at.error(
                "notify: needs smtp: or webhooks:", hint="see docs/configuration.md, notify:"
            )
        return Notify(None, **read_fields(mapping, _NOTIFY_FIELDS), webhooks=webhooks)
    smtp = as_map(smtp_at, list(_SMTP_FIELDS))
    values = read_fields(smtp, _SMTP_FIELDS)
    if noted() > before:
        return None  # its problems are noted
    for name in ("host", "sender"):
        smtp.require(name)
    values.setdefault("security", "starttls")
    values.setdefault("port", SMTP_PORTS[values["security"]])
    if ("user" in values) != ("password_env" in values):
        raise smtp_at.error(
            "user and password_env go together", hint="give both to log in, or neither"
        )
    extra = read_fields(mapping, _NOTIFY_FIELDS)
    return Notify(SmtpSettings(**values), **extra, webhooks=webhooks)


def reports_section(at: At | None, root: Path, notify: Notify | None) -> ReportSettings:
    """``reports: {templates: DIR, schedule: [...]}``; DIR is relative to sources.yaml."""
    if at is None:
        return ReportSettings()
    mapping = as_map(at, [*_REPORTS_FIELDS, "schedule"])
    values = read_fields(mapping, _REPORTS_FIELDS)
    templates = root / values["templates"] if "templates" in values else None
    if templates is not None and not templates.is_dir():
        raise mapping.require("templates").error(f"no such directory: {templates}")
    items = as_list(mapping.require("schedule")) if mapping.get("schedule") else []
    jobs = tuple(each(items, lambda item: _report_job(item, notify)))
    return ReportSettings(templates=templates, schedule=jobs)


def _report_job(at: At, notify: Notify | None) -> ReportJob | None:
    """``{cron: "0 9 * * 1", formats: [html, atom], email: true, always: false}``."""
    before = noted()
    mapping = as_map(at, list(_REPORT_JOB_FIELDS))
    values = read_fields(mapping, _REPORT_JOB_FIELDS)
    if noted() > before:
        return None  # its problems are noted
    mapping.require("cron")
    if values.get("email") and (notify is None or notify.smtp is None):
        hint = "configure notify: smtp: to mail digests"
        raise mapping.require("email").error("email: true needs notify: smtp:", hint=hint)
    return ReportJob(**values, line=at.line)
