"""Credentials never shown: every URL watcher prints, logs or writes has its password redacted.

A database URL in WATCHER_DB, a proxy, a webhook or a source URL can carry
a password; cron mail, journald and published digests must never receive
it. An unreachable database is a clear error with its own exit code (5).
"""

from __future__ import annotations

import io
import json
import logging
import socket
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_cli, write_config
from tests.receiver import Receiver
from tests.webserver import Page, WebSite
from watcher import log
from watcher.errors import EXIT_DATABASE, NetworkError, StoreError
from watcher.redact import redact, redact_url

SECRET = "s3cretPW"
HOOK_ENV = {"WATCHER_TEST_HOOK": SECRET}  # a token in the webhook's URL path


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://watcher:s3cretPW@db.example.org:5432/watcher",
            "postgresql+psycopg://watcher:***@db.example.org:5432/watcher",
        ),
        ("postgresql://watcher@db/watcher", "postgresql://watcher@db/watcher"),
        (
            "postgresql://db/watcher?password=s3cretPW&sslmode=require",
            "postgresql://db/watcher?password=***&sslmode=require",
        ),
        ("http://proxy:s3cretPW@10.0.0.1:3128", "http://proxy:***@10.0.0.1:3128"),
        ("socks5://u:s3cretPW@127.0.0.1:1080", "socks5://u:***@127.0.0.1:1080"),
        ("https://s3cretPW@git.example.org/x", "https://***@git.example.org/x"),
        ("https://hooks.example.org/h?token=s3cretPW", "https://hooks.example.org/h?token=***"),
        ("https://example.org/p?key=article-5", "https://example.org/p?key=article-5"),
        ("https://user:p@ss:s3cretPW@host/x", "https://user:***@host/x"),
        ("sqlite:////srv/guides/.watcher/watcher.db", "sqlite:////srv/guides/.watcher/watcher.db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown


def test_redact_finds_every_url_in_a_message() -> None:
    text = (
        "cannot reach postgresql://w:s3cretPW@db/x (via 'http://p:s3cretPW@proxy:3128'), "
        "see https://example.org/"
    )
    assert redact(text) == (
        "cannot reach postgresql://w:***@db/x (via 'http://p:***@proxy:3128'), "
        "see https://example.org/"
    )


_PASSWORD = st.text(string.ascii_letters + string.digits + "!$%^*()-_=+[]{}~.,;", min_size=1)


@given(password=_PASSWORD, user=st.text(string.ascii_lowercase, min_size=1, max_size=8))
def test_no_password_survives(password: str, user: str) -> None:
    marked = "PW" + password + "PW"
    for scheme in ("postgresql+psycopg", "https", "socks5", "smtp"):
        text = f"error: {scheme}://{user}:{marked}@host.example:5432/db?x=1 failed"
        shown = redact(text)
        assert marked not in shown
        assert redact(shown) == shown
        assert f"{user}:***@host.example:5432/db?x=1" in shown


def test_errors_are_redacted_where_they_are_made() -> None:
    error = NetworkError(
        f"proxy http://p:{SECRET}@127.0.0.1:9 refused",
        url=f"http://editor:{SECRET}@127.0.0.1/page",
        hint=f"check http://p:{SECRET}@127.0.0.1:9",
    )
    assert SECRET not in str(error)
    assert error.url == "http://editor:***@127.0.0.1/page"
    assert SECRET not in repr(StoreError(f"x postgresql://a:{SECRET}@b/c"))


def test_log_lines_are_redacted() -> None:
    stream = io.StringIO()
    handler = log.configure(stream, "json")
    try:
        logger = logging.getLogger("watcher.test-redact")
        log.event(logger, "alert.failed", channel=f"webhook:http://h:{SECRET}@x/y", n=[f"{SECRET}"])
    finally:
        for name in ("watcher", "apscheduler"):
            logging.getLogger(name).removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["channel"] == "webhook:http://h:***@x/y"
    assert SECRET not in stream.getvalue().replace(f'["{SECRET}"]', "")


# -- the command line ---------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path, site: WebSite) -> Path:
    site.routes["/page"] = Page("<html><body><main><p>Полис ОМС</p></main></body></html>")
    return write_config(
        tmp_path,
        f"""\
        sources:
          - {{id: page, url: "{site.url}/page", title: Page}}
        """,
    )


@pytest.mark.parametrize("command", [["check"], ["history", "page"], ["reindex"]])
def test_an_unreachable_database_is_exit_5_without_its_password(
    config: Path, command: list[str]
) -> None:
    url = f"postgresql+psycopg://watcher:{SECRET}@127.0.0.1:{closed_port()}/watcher"
    result = run_cli("--db", url, "-c", str(config), *command, cwd=config.parent)
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_DATABASE, output
    assert SECRET not in output
    assert "watcher: error: cannot reach the database postgresql+psycopg://watcher:***@" in output
    assert "internal error" not in output


def test_a_missing_database_driver_is_exit_5_without_the_password(config: Path) -> None:
    url = f"mysql+pymysql://watcher:{SECRET}@127.0.0.1/watcher"
    result = run_cli("--db", url, "-c", str(config), "check", cwd=config.parent)
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_DATABASE, output
    assert "driver is not installed" in output
    assert SECRET not in output


def test_an_invalid_database_url_is_a_usage_error_without_the_password(config: Path) -> None:
    url = f"nosuchdb://watcher:{SECRET}@127.0.0.1/watcher"
    result = run_cli("--db", url, "-c", str(config), "check", cwd=config.parent)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "invalid database URL nosuchdb://watcher:***@127.0.0.1/watcher" in output
    assert SECRET not in output


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


def test_proxy_and_webhook_credentials_are_never_shown(
    tmp_path: Path, site: WebSite, receiver: Receiver
) -> None:
    site.routes["/page"] = Page("<html><body><main><p>Полис ОМС</p></main></body></html>")
    source_url = site.url + "/page"
    dead = closed_port()
    config = write_config(
        tmp_path,
        f"""\
        defaults: {{retries: 0, fail_after: 1}}
        sources:
          - {{id: page, url: "{source_url}", title: Page}}
          - {{id: proxied, url: "{site.url}/page", title: Proxied,
              proxy: "http://proxy:{SECRET}@127.0.0.1:{dead}"}}
        guides:
          - {{id: g, title: G, url: https://guides.example.org/g, owner: ed@example.org,
              sources: [page, proxied]}}
        notify:
          maintainers: [ops@example.org]
          webhooks:
            - url: "http://127.0.0.1:{dead}/hook/{{token}}"
              token_env: WATCHER_TEST_HOOK
            - url: "{receiver.url}/hook"
        """,
    )
    outputs = []
    for command in (["check"], ["check", "--json"], ["status", "--json"], ["status"]):
        result = run_cli("-c", str(config), *command, cwd=tmp_path, env=HOOK_ENV)
        outputs.append(result.stdout + result.stderr)
    site.routes["/page"] = Page("down", status=500)
    for command in (["check"], ["history", "page"], ["report"], ["ci"]):
        result = run_cli("-c", str(config), *command, cwd=tmp_path, env=HOOK_ENV)
        outputs.append(result.stdout + result.stderr)
    assert "webhook http://127.0.0.1" in "".join(outputs)  # the failing webhook, named
    for output in outputs:
        assert SECRET not in output, output
    for path in (tmp_path / "reports").iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path
    posts = json.dumps([post.body for post in receiver.accepted()], ensure_ascii=False)
    assert "broken" in posts
    assert SECRET not in posts



def test_a_source_url_with_credentials_is_refused_without_showing_them(tmp_path: Path) -> None:
    url = f"https://editor:{SECRET}@fund.example.org/page"
    config = write_config(tmp_path, f'sources:\n  - {{id: p, url: "{url}", title: P}}\n')
    result = run_cli("-c", str(config), "validate", cwd=tmp_path)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr


def test_a_webhook_url_with_credentials_is_refused_without_showing_them(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f"""\
        sources:
          - {{id: p, url: "https://fund.example.org/page", title: P}}
        notify:
          webhooks:
            - url: "https://hook:{SECRET}@hooks.example.org/h"
        """,
    )
    result = run_cli("-c", str(config), "validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "notify.webhooks[0].url" in result.stderr
    assert SECRET not in result.stdout + result.stderr
