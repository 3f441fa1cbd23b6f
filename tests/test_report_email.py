"""``watcher report --email`` through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from tests.conftest import run_cli, write_config
from tests.test_report import History, report
from tests.test_report import history as history
from tests.test_report import scripted as scripted
from tests.webserver import Page, WebSite
from watcher.config import load_config
from watcher.config.model import ReportJob
from watcher.errors import ConfigError, UsageError
from watcher.notify.digests import run_job
from watcher.project import Project


@dataclass
class Inbox:
    """Every message the test SMTP server accepted, with its envelope recipients."""

    messages: list[tuple[tuple[str, ...], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((tuple(sorted(envelope.rcpt_tos)), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def add_notify(config_path: Path, port: int, extra: str = "") -> None:
    text = config_path.read_text(encoding="utf-8") + (
        "notify:\n"
        "  smtp:\n"
        "    host: 127.0.0.1\n"
        f"    port: {port}\n"
        "    security: none\n"
        "    sender: watcher <watcher@example.org>\n"
        f"{extra}"
        "  maintainers: [ops@example.org]\n"
    )
    config_path.write_text(text, encoding="utf-8")


def test_each_owner_gets_their_guides_and_ops_get_health(
    history: History, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    add_notify(history.config_path, port)
    out = report(history, "--email")
    assert "email: sent to" in out
    assert sorted(r for r, _ in inbox.messages) == [
        ("anna@example.org",),
        ("boris@example.org",),
        ("ops@example.org",),
    ]
    anna = inbox.to("anna@example.org")[0]
    assert "1 guide needs attention" in str(anna["Subject"])
    html = anna.get_body(("html",))
    text = anna.get_body(("plain",))
    assert html is not None and text is not None
    assert "Medical insurance" in html.get_content()
    assert "Emergency numbers" not in html.get_content()
    assert "Source health" not in html.get_content()
    assert "555-01-45" in text.get_content()
    assert "Anna Editor <anna@example.org>" in text.get_content()  # plain text, not Markdown
    assert not any(e in text.get_content() for e in ("&lt;", "&gt;", "\\(", "\\<"))
    boris = inbox.to("boris@example.org")[0].get_body(("html",))
    assert boris is not None and "Emergency numbers" in boris.get_content()
    ops = inbox.to("ops@example.org")[0].get_body(("html",))
    assert ops is not None
    assert "City clinic" in ops.get_content() and "What needs you" not in ops.get_content()


def test_nothing_is_sent_when_nothing_needs_attention(
    tmp_path: Path, site: WebSite, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    site.routes["/p"] = Page("<main><p>Тихо</p></main>")
    config = write_config(
        tmp_path,
        f"sources:\n  - {{id: p, url: {site.url}/p, title: P}}\n"
        "guides:\n  - {id: g, title: G, url: https://guides.example.org/g,"
        " owner: ed@example.org, sources: [p]}\n",
    )
    add_notify(config, port)
    assert run_cli("-c", str(config), "check", cwd=tmp_path).returncode == 0
    quiet = run_cli("-c", str(config), "report", "--email", "--format", "html", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "nothing sent" in quiet.stdout and not inbox.messages
    loud = run_cli("-c", str(config), "report", "--email", "--always", cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert sorted(r for r, _ in inbox.messages) == [("ed@example.org",), ("ops@example.org",)]


def test_password_comes_from_the_named_variable(history: History, smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    add_notify(history.config_path, port, "    user: watcher\n    password_env: WATCHER_TEST_PW\n")
    result = run_cli(
        "-c", str(history.config_path), "report", "--email", cwd=history.config_path.parent
    )
    assert result.returncode == 2
    assert "WATCHER_TEST_PW is not set" in result.stderr
    assert not (history.config_path.parent / "reports").exists()  # checked before writing


def test_email_without_notify_writes_nothing_and_keeps_the_period(history: History) -> None:
    """A digest written but never mailed would be skipped by the next `--since last`."""
    root = history.config_path.parent
    result = run_cli("-c", str(history.config_path), "report", "--email", cwd=root)
    assert result.returncode == 2
    assert "--email needs a notify: section" in result.stderr
    assert not (root / "reports").exists()
    again = run_cli("-c", str(history.config_path), "report", "--since", "last", cwd=root)
    assert again.returncode == 0, again.stderr
    assert len(list((root / "reports").glob("digest-*.html"))) == 1


def test_scheduled_email_digest_checks_mail_before_writing(
    history: History, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = smtp
    add_notify(history.config_path, port, "    user: watcher\n    password_env: WATCHER_TEST_PW\n")
    monkeypatch.delenv("WATCHER_TEST_PW", raising=False)
    project = Project.load(history.config_path)
    job = ReportJob(cron="0 9 * * 1", formats=("html",), email=True, always=True)
    with pytest.raises(UsageError, match="WATCHER_TEST_PW is not set"):
        run_job(project, job, history.now)
    assert not project.reports_dir.exists()


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("notify:\n  smtp: {host: h, sender: a@example.org, pasword: x}\n", "unknown key"),
        ("notify:\n  smtp: {host: h, sender: a@example.org, security: tls}\n", "security"),
        ("notify:\n  smtp: {host: h, sender: a@example.org, user: u}\n", "go together"),
        ("notify:\n  smtp: {host: h}\n", "sender"),
        ("notify:\n  maintainers: [x]\n  smtp: {host: h, sender: a@example.org}\n", "owner"),
        ("reports:\n  templatez: t\n", "unknown key"),
    ],
)
def test_notify_config_is_strict(tmp_path: Path, snippet: str, message: str) -> None:
    path = write_config(tmp_path, "sources:\n  - {id: p, url: http://x.example/, title: P}\n")
    path.write_text(path.read_text() + snippet, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert info.value.line is not None


def test_notify_config_defaults(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "sources:\n  - {id: p, url: http://x.example/, title: P}\n"
        "notify:\n  smtp: {host: smtp.example.org, sender: w@example.org}\n",
    )
    notify = load_config(path).notify
    assert notify is not None
    assert (notify.smtp.security, notify.smtp.port, notify.maintainers) == ("starttls", 587, ())


@pytest.fixture(scope="module")
def private_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(params=["ssl", "starttls"])
def tls_smtp(
    request: pytest.FixtureRequest, private_ca: trustme.CA
) -> Iterator[tuple[Inbox, int, str]]:
    """A real SMTP server whose certificate a private CA signed: implicit TLS or STARTTLS."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    private_ca.issue_cert("127.0.0.1").configure_cert(server)
    inbox, port = Inbox(), free_port()
    tls = {"ssl_context": server} if request.param == "ssl" else {
        "tls_context": server, "require_starttls": True,
    }  # fmt: skip
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        yield inbox, port, request.param
    finally:
        controller.stop()


def test_smtp_with_a_private_ca_needs_only_ca_bundle(
    history: History, tls_smtp: tuple[Inbox, int, str], private_ca: trustme.CA
) -> None:
    inbox, port, security = tls_smtp
    root = history.config_path.parent
    plain = history.config_path.read_text(encoding="utf-8")
    smtp = f"  smtp: {{host: 127.0.0.1, port: {port}, security: {security}, sender: w@example.org"
    history.config_path.write_text(f"{plain}notify:\n{smtp}}}\n  maintainers: [ops@example.org]\n")
    env = {"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""}
    refused = run_cli("-c", str(history.config_path), "report", "--email", cwd=root, env=env)
    assert refused.returncode == 3, refused.stderr  # the private CA is not trusted yet
    assert "certificate verify failed" in refused.stderr
    assert not inbox.messages
    private_ca.cert_pem.write_to_path(str(root / "mail-ca.pem"))
    text = f"{plain}notify:\n{smtp}, ca_bundle: mail-ca.pem}}\n  maintainers: [ops@example.org]\n"
    history.config_path.write_text(text, encoding="utf-8")
    sent = run_cli("-c", str(history.config_path), "report", "--email", cwd=root, env=env)
    assert sent.returncode == 0, sent.stderr
    assert ("ops@example.org",) in [r for r, _ in inbox.messages]


def test_a_missing_smtp_ca_bundle_is_a_warning(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "sources:\n  - {id: p, url: http://x.example/, title: P}\n"
        "notify:\n  smtp: {host: h, sender: w@example.org, ca_bundle: missing.pem}\n",
    )
    warnings = [str(w) for w in load_config(path).warnings]
    assert any("notify.smtp.ca_bundle: CA bundle not found" in w for w in warnings), warnings

def test_a_cyrillic_sender_name_is_encoded(history: History, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    add_notify(history.config_path, port)
    text = history.config_path.read_text(encoding="utf-8")
    history.config_path.write_text(
        text.replace("sender: watcher <", "sender: Мониторинг источников <"), encoding="utf-8"
    )
    report(history, "--email")
    assert inbox.messages
    sender = inbox.messages[0][1]["From"]
    assert sender.addresses[0].display_name == "Мониторинг источников"
    assert sender.addresses[0].addr_spec == "watcher@example.org"
