"""Immediate alerts after ``watcher check``: to a real webhook receiver and a real SMTP server.

Each change is announced exactly once per channel, noise never, a broken
source once and its recovery once; a failing channel is retried at the next
check; a restart or a lost database never re-sends (the record is in
``snapshots/_alerts.json``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.receiver import Receiver
from tests.test_report_email import Inbox
from tests.test_report_email import smtp as smtp
from tests.webserver import Page, WebSite
from watcher.config import load_config
from watcher.config.model import Webhook
from watcher.errors import ConfigError
from watcher.notify import webhooks

TOKEN_ENV = {"WATCHER_TEST_HOOK_TOKEN": "s3cret-token"}
UA = "watcher/0.1 (+https://guides.example.org/monitoring)"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


def fund(text: str, visits: int = 1) -> Page:
    return Page(
        f"<html><body><main><p>Горячая линия: {text}</p>"
        f"<p>Просмотров: {visits}</p></main></body></html>"
    )


def project(tmp_path: Path, site: WebSite, receiver: Receiver, smtp_port: int) -> Path:
    return write_config(
        tmp_path,
        f"""\
        defaults: {{retries: 0, fail_after: 2}}
        sources:
          - id: fund
            url: {site.url}/fund
            title: Fund hotline
            ignore: 'Просмотров:\\s*\\d+'
        guides:
          - {{id: insurance, title: Medical insurance, url: https://guides.example.org/ins,
              owner: ed@example.org, sources: [fund]}}
        notify:
          smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, sender: w@example.org}}
          maintainers: [ops@example.org]
          webhooks:
            - url: {receiver.url}/hook
              token_env: WATCHER_TEST_HOOK_TOKEN
        """,
    )


def check(config: Path) -> str:
    result = run_cli("-c", str(config), "check", cwd=config.parent, env=TOKEN_ENV)
    assert result.returncode in (0, 3), result.stderr
    return result.stderr


def test_each_change_is_announced_once_and_noise_never(
    tmp_path: Path, site: WebSite, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    config = project(tmp_path, site, receiver, port)
    site.routes["/fund"] = fund("8 800 555-01-23", visits=1)
    check(config)  # baseline
    site.routes["/fund"] = fund("8 800 555-01-23", visits=2)
    check(config)  # noise only
    assert receiver.posts == [] and inbox.messages == []

    site.routes["/fund"] = fund("8 800 555-01-45", visits=3)
    check(config)
    check(config)  # the same change, checked again
    assert receiver.events() == ["needs-review"]
    post = receiver.accepted()[0]
    assert post.headers["Authorization"] == "Bearer s3cret-token"
    assert post.headers["User-Agent"].startswith("watcher/")  # not python-httpx
    assert post.body["schema"] == "watcher.alert/1"
    assert (post.body["guide"], post.body["source"]) == ("insurance", "fund")
    assert [r for r, _ in inbox.messages] == [("ed@example.org",)]
    assert "needs review: Medical insurance" in str(inbox.messages[0][1]["Subject"])

    site.routes["/fund"] = Page("down", status=500)
    for _ in range(4):
        check(config)  # fail_after: 2; failing on and on is one alert
    assert receiver.events() == ["needs-review", "broken"]
    assert [r for r, _ in inbox.messages][1:] == [("ops@example.org",)]

    site.routes["/fund"] = fund("8 800 555-01-45", visits=9)
    check(config)
    check(config)
    assert receiver.events() == ["needs-review", "broken", "recovered"]
    assert [r for r, _ in inbox.messages][2:] == [("ops@example.org",)]

    site.routes["/fund"] = fund("8 800 555-01-99", visits=10)
    check(config)  # a second change before anyone reviewed: news again
    assert receiver.events() == ["needs-review", "broken", "recovered", "needs-review"]
    assert len(inbox.to("ed@example.org")) == 2


def test_a_quoted_claim_gone_from_its_source_is_announced_once(
    tmp_path: Path, site: WebSite, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    config = write_config(
        tmp_path,
        f"""\
        defaults: {{retries: 0}}
        sources:
          - {{id: fund, url: '{site.url}/fund', title: Fund hotline}}
        guides:
          - id: insurance
            title: Medical insurance
            url: https://guides.example.org/ins
            owner: ed@example.org
            sources:
              - source: fund
                claims: ["Горячая линия: 8 800 555-01-23"]
        notify:
          smtp: {{host: 127.0.0.1, port: {port}, security: none, sender: w@example.org}}
          webhooks: [{{url: '{receiver.url}/hook', token_env: WATCHER_TEST_HOOK_TOKEN}}]
        """,
    )
    site.routes["/fund"] = fund("8 800 555-01-23")
    check(config)
    assert receiver.posts == []  # the claim holds

    site.routes["/fund"] = fund("8 800 555-01-45")
    check(config)
    check(config)
    assert receiver.events() == ["needs-review", "claim-missing"]
    claim = receiver.accepted()[1].body
    assert (claim["guide"], claim["source"]) == ("insurance", "fund")
    assert "Горячая линия: 8 800 555-01-45" in claim["text"]  # what the page says now
    [(recipients, message)] = inbox.messages  # one e-mail carries both
    assert recipients == ("ed@example.org",)
    assert "claim" in message.get_content()


def test_failing_channel_is_retried_and_a_lost_database_never_resends(
    tmp_path: Path, site: WebSite, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    _, port = smtp
    config = project(tmp_path, site, receiver, port)
    site.routes["/fund"] = fund("one")
    check(config)
    site.routes["/fund"] = fund("two")
    receiver.statuses = [503]
    stderr = check(config)
    assert "notify: webhook:" in stderr and "HTTP 503" in stderr
    assert "s3cret" not in stderr
    check(config)  # retried once, delivered
    assert [p.status for p in receiver.posts] == [503, 200]

    record = json.loads((tmp_path / "snapshots" / "_alerts.json").read_text(encoding="utf-8"))
    assert record["schema"] == "watcher.alerts/1"
    assert "s3cret" not in json.dumps(record)
    shutil.rmtree(tmp_path / ".watcher")  # a fresh clone: snapshots/ only
    check(config)
    assert len(receiver.accepted()) == 1


def test_conditions_already_there_when_alerts_are_configured_are_not_sent(
    tmp_path: Path, site: WebSite, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    config = project(tmp_path, site, receiver, port)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.split("notify:")[0], encoding="utf-8")
    site.routes["/fund"] = fund("one")
    check(config)
    site.routes["/fund"] = fund("two")
    check(config)  # needs review, but nobody is configured to hear it
    config.write_text(text, encoding="utf-8")
    check(config)
    assert receiver.posts == [] and inbox.messages == []
    site.routes["/fund"] = fund("three")
    check(config)
    assert receiver.events() == ["needs-review"]


def test_chat_templates(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_TEST_BOT", "123:abc")
    slack = Webhook(
        url=f"{receiver.url}/services/{{token}}", template="slack", token_env="WATCHER_TEST_BOT"
    )
    telegram = Webhook(
        url=f"{receiver.url}/bot{{token}}/sendMessage",
        template="telegram",
        token_env="WATCHER_TEST_BOT",
        chat_id="-100200",
    )
    webhooks.send(slack, "guide needs review", {"event": "needs-review"}, user_agent=UA)
    webhooks.send(telegram, "guide needs review", {"event": "needs-review"}, user_agent=UA)
    first, second = receiver.posts
    assert first.headers["User-Agent"] == second.headers["User-Agent"] == UA
    assert (first.path, first.body) == ("/services/123:abc", {"text": "guide needs review"})
    assert "Authorization" not in first.headers
    assert second.path == "/bot123:abc/sendMessage"
    assert second.body["chat_id"] == "-100200" and second.body["text"] == "guide needs review"


def test_missing_token_is_a_channel_failure_not_a_crash(receiver: Receiver) -> None:
    hook = Webhook(url=f"{receiver.url}/h", token_env="WATCHER_TEST_UNSET_TOKEN")
    with pytest.raises(Exception, match="WATCHER_TEST_UNSET_TOKEN is not set"):
        webhooks.send(hook, "x", {}, user_agent=UA)
    assert receiver.posts == []


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("notify:\n  maintainers: [ops@example.org]\n", "needs smtp: or webhooks:"),
        (
            "notify:\n  webhooks:\n    - {url: 'http://h.example/', evnts: [broken]}\n",
            "unknown key",
        ),
        (
            "notify:\n  webhooks:\n    - {url: 'http://h.example/', events: [gone]}\n",
            "unknown event",
        ),
        ("notify:\n  webhooks:\n    - {url: 'http://h.example/{token}'}\n", "token_env"),
        (
            "notify:\n  webhooks:\n    - {url: 'http://h.example/', template: teams}\n",
            "expected one of",
        ),
        ("notify:\n  webhooks:\n    - {url: 'http://h.example/', template: telegram}\n", "chat_id"),
        (
            "notify:\n  webhooks:\n    - {url: 'http://h.example/', token_env: 'abc def'}\n",
            "environment",
        ),
        ("reports:\n  schedule:\n    - {cron: '0 9 * * 1', email: true}\n", "needs notify: smtp"),
        ("reports:\n  schedule:\n    - {cron: '0 9 * * 1', formats: [pdf]}\n", "unknown format"),
        ("reports:\n  schedule:\n    - {formats: [html]}\n", "cron"),
    ],
)
def test_notify_and_schedule_config_is_strict(tmp_path: Path, snippet: str, message: str) -> None:
    path = write_config(tmp_path, "sources:\n  - {id: p, url: 'http://x.example/', title: P}\n")
    path.write_text(path.read_text() + snippet, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert info.value.line is not None and info.value.line > 2


def test_webhooks_only_notify_config(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "sources:\n  - {id: p, url: 'http://x.example/', title: P}\n"
        "notify:\n  webhooks:\n    - {url: 'https://hooks.example/{token}', token_env: HOOK,"
        " template: mattermost, events: [broken, recovered]}\n",
    )
    notify = load_config(path).notify
    assert notify is not None and notify.smtp is None
    hook = notify.webhooks[0]
    assert (hook.template, hook.events, hook.token_env) == (
        "mattermost",
        ("broken", "recovered"),
        "HOOK",
    )
    assert hook.channel == "webhook:https://hooks.example/{token}"
