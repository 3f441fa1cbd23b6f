"""Mail digests over SMTP: the only module that imports smtplib.

Each guide owner gets the digest of their own guides; the maintainers get
source health. A mail is only composed for someone with something to act
on, unless ``always``. The SMTP password is read from the environment
variable named by ``notify: smtp: password_env``, never from the file.

Composing (:func:`compose`) is pure; :func:`send` does the network part.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from watcher.config.model import Config, Notify, SmtpSettings
from watcher.errors import NotifyError, UsageError
from watcher.report.model import Digest

SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Mail:
    """One message to send: its recipients and what it says."""

    to: tuple[str, ...]
    subject: str
    html: str
    text: str


Render = Callable[[Digest, str], tuple[str, str]]
"""``(digest, audience) -> (html, plain text)``; audience: editors | maintainers."""


def compose(config: Config, digest: Digest, render: Render, *, always: bool = False) -> list[Mail]:
    """The mails of one digest: one per guide owner, one for the maintainers."""
    mails = []
    for owner, guide_ids in _owners(config).items():
        part = digest.for_guides(guide_ids)
        if always or part.attention:
            html, text = render(part, "editors")
            mails.append(Mail((owner,), _subject(part, "your guides"), html, text))
    maintainers = config.notify.maintainers if config.notify else ()
    if maintainers and (always or digest.health):
        part = digest.health_only()
        html, text = render(part, "maintainers")
        mails.append(Mail(tuple(maintainers), _subject(part, "source health"), html, text))
    return mails


def _owners(config: Config) -> dict[str, list[str]]:
    """Guides per owner, keyed by the owner as first written, grouped by address."""
    by_address: dict[str, tuple[str, list[str]]] = {}
    for guide in config.guides:
        address = getaddresses([guide.owner])[0][1].lower()
        by_address.setdefault(address, (guide.owner, []))[1].append(guide.id)
    return {owner: ids for owner, ids in sorted(by_address.values())}


def _subject(digest: Digest, about: str) -> str:
    period = f"{digest.since:%d %b} – {digest.until:%d %b %Y}"
    if digest.attention:
        need = len(digest.attention)
        guides = "1 guide needs" if need == 1 else f"{need} guides need"
        return f"Source digest ({about}): {guides} attention, {period}"
    if digest.health:
        return f"Source digest ({about}): {len(digest.health)} source problem(s), {period}"
    return f"Source digest ({about}): nothing to do, {period}"


def message(mail: Mail, smtp: SmtpSettings) -> EmailMessage:
    """The MIME message: plain text first, the HTML (if any) as the alternative."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(mail.to)
    msg["Subject"] = " ".join(_plain(mail.subject).split())
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=_domain(smtp.sender))
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_plain(mail.text))
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    return msg


_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u061c\u202a-\u202e\u2066-\u2069]")


def _plain(text: str) -> str:
    """Plain text for a mail reader: no control character, bidi overrides shown as <U+202E>."""
    text = _CONTROLS.sub("", text)
    return _BIDI.sub(lambda match: f"<U+{ord(match.group()):04X}>", text)


def _domain(address: str) -> str:
    return getaddresses([address])[0][1].rpartition("@")[2] or "watcher.invalid"


def send(notify: Notify, mails: Sequence[Mail]) -> int:
    """Send ``mails`` through the configured server; return how many went out."""
    if not mails:
        return 0
    smtp = ready(notify)
    password = _password(smtp)
    try:
        with _connect(smtp) as client:
            if smtp.user and password is not None:
                client.login(smtp.user, password)
            for mail in mails:
                client.send_message(message(mail, smtp))
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(
            f"cannot send mail through {smtp.host}:{smtp.port}: {exc}",
            hint="check notify: smtp: in sources.yaml and the password variable",
        ) from exc
    return len(mails)


def ready(notify: Notify) -> SmtpSettings:
    """The SMTP settings, once sure mail can be attempted: configured, password set."""
    smtp = notify.smtp
    if smtp is None:
        raise UsageError(
            "mailing needs notify: smtp: in sources.yaml", hint="see docs/configuration.md, notify:"
        )
    _password(smtp)
    return smtp


def _password(smtp: SmtpSettings) -> str | None:
    if smtp.password_env is None:
        return None
    password = os.environ.get(smtp.password_env)
    if not password:
        raise UsageError(
            f"the SMTP password variable {smtp.password_env} is not set",
            hint=f"export {smtp.password_env}=... before `watcher report --email`",
        )
    return password


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if smtp.security == "ssl":
        context = _tls_context(smtp)
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=SMTP_TIMEOUT, context=context)
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
    if smtp.security == "starttls":
        client.starttls(context=_tls_context(smtp))
    return client


def _tls_context(smtp: SmtpSettings) -> ssl.SSLContext:
    """The system's trusted CAs, plus ``ca_bundle`` (a server with a private CA)."""
    context = ssl.create_default_context()
    if smtp.ca_bundle:
        context.load_verify_locations(cafile=smtp.ca_bundle)
    return context
