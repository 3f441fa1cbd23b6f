"""Readers' reports without a browser: intake, triage, the CI gate, alerts, digest, CLI.

Report text is hostile: script tags, ``javascript:`` links, Markdown and
e-mail header injection must be inert in the desk (see test_desk_http),
the digest, the e-mail and the webhooks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from tests.conftest import run_cli, write_config
from tests.receiver import Receiver
from tests.test_report_email import Inbox
from tests.test_report_email import smtp as smtp
from watcher.cli import cli
from watcher.errors import ReportError, UnknownIdError, UsageError
from watcher.guides import reports
from watcher.guides.freshness import FRESH, NEEDS_REVIEW, READER_REPORT
from watcher.notify import alerts
from watcher.project import Project
from watcher.report import jsondoc
from watcher.report.digest import build_digest, load_history
from watcher.report.render import Renderer, md_code
from watcher.results import utcnow
from watcher.state import REVIEW, ReviewEntry
from watcher.store import DeskStore

HOSTILE = (
    "<script>alert('x')</script> [click](javascript:alert(1)) <img src=x onerror=alert(2)>\n"
    "Bcc: everyone@example.org\r\nSubject: pwned\n# Heading\n@channel <!channel> \x1b[31mred ```"
)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = """\
sources:
  - {id: fund, url: "http://127.0.0.1:9/fund", title: Fund page}
  - {id: law, url: "http://127.0.0.1:9/law", title: Law page}
guides:
  - id: insurance
    title: Medical insurance
    url: https://guides.example.org/insurance/
    owner: Editor <editor@example.org>
    sources:
      - source: fund
        claims: ["8 (800) 555-01-23"]
      - law
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    config = write_config(tmp_path, CONFIG)
    snapshots = tmp_path / "snapshots"
    for sid in ("fund", "law"):
        folder = snapshots / sid
        (folder / "versions").mkdir(parents=True)
        (folder / "versions" / f"h{sid}.txt").write_text("8 (800) 555-01-23\n", encoding="utf-8")
        state = {
            "source": sid,
            "versions": [{"hash": f"h{sid}", "seen": "2026-03-01T00:00:00+00:00"}],
            "last_success": "2026-03-02T08:00:00+00:00",
            "last_check": {"at": "2026-03-02T08:00:00+00:00", "outcome": "unchanged"},
        }
        (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")
    loaded = Project.load(config)
    yield loaded
    loaded.close()


def submit(
    project: Project, text: str = "The hotline changed", at: datetime = NOW, **extra: str
) -> str:
    submission = reports.Submission(extra.pop("guide", "insurance"), text, **extra)
    return reports.receive(project, submission, at).ref


def state_of(project: Project, at: datetime = NOW) -> str:
    return str(project.verdicts(at)[0].state)


# ---------------------------------------------------------------- intake


def test_a_guide_is_found_by_id_or_published_address(project: Project) -> None:
    config = project.config
    for wanted in ("insurance", "https://guides.example.org/insurance",
                   "http://www.guides.example.org/insurance/?utm=1#x"):  # fmt: skip
        assert reports.find_guide(config, wanted).id == "insurance"
    with pytest.raises(UnknownIdError):
        reports.find_guide(config, "https://guides.example.org/other")
    with pytest.raises(UnknownIdError):
        reports.find_guide(config, "nope")
    with pytest.raises(ReportError):
        reports.find_guide(config, " ")


def test_intake_cleans_caps_and_checks(project: Project) -> None:
    assert reports.clean_text(" a\x00b\u202ec\r\nd ", limit=10, what="t") == "abc\nd"
    with pytest.raises(ReportError, match="at most 5"):
        reports.clean_text("x" * 6, limit=5, what="t")
    with pytest.raises(ReportError, match="required"):
        reports.clean_text("\x07 ", limit=5, what="t")
    assert reports.clean_contact(" reader@example.org ") == "reader@example.org"
    for bad in ("a@b", "x@y.org\nBcc: z@w.org", "<a@b.org>", "a@b.org, c@d.org"):
        with pytest.raises(ReportError):
            reports.clean_contact(bad)
    line = reports.summary(HOSTILE)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert len(reports.summary("word " * 100)) == reports.SUMMARY_CHARS


# ---------------------------------------------------------------- triage and the gate


def test_an_accepted_report_needs_review_until_a_sign_off(project: Project) -> None:
    ref = submit(project, HOSTILE, contact="reader@example.org")
    assert state_of(project) == FRESH  # new reports wait for triage
    reports.accept(project, ref, by="Anna", now=NOW)
    verdict = project.verdicts(NOW)[0]
    assert verdict.state == NEEDS_REVIEW
    (reason,) = verdict.reader_reports
    assert reason.kind == READER_REPORT and ref in reason.text and "Anna" in reason.text
    dismissal = ReviewEntry(NOW + timedelta(minutes=1), "Bo", "no", "dismiss", {"fund": "hfund"})
    project.reviews.append("insurance", dismissal)
    assert state_of(project) == NEEDS_REVIEW  # a dismissal does not settle a report
    later = NOW + timedelta(minutes=2)
    project.reviews.append("insurance", ReviewEntry(later, "Bo", "fixed", REVIEW, {"law": "hlaw"}))
    assert state_of(project) == FRESH


def test_a_report_about_a_source_needs_that_source_signed_off(project: Project) -> None:
    ref = submit(project)
    reports.accept(project, ref, by="Anna", now=NOW, claim="8 (800) 555-01-23")
    assert DeskStore(project.journal).report(ref).source == "fund"
    other = ReviewEntry(NOW + timedelta(minutes=1), "Bo", "law only", REVIEW, {"law": "hlaw"})
    project.reviews.append("insurance", other)
    assert state_of(project) == NEEDS_REVIEW
    fund = ReviewEntry(NOW + timedelta(minutes=2), "Bo", "fund", REVIEW, {"fund": "hfund"})
    project.reviews.append("insurance", fund)
    assert state_of(project) == FRESH
    with pytest.raises(UsageError):
        reports.accept(project, ref, by="Anna", now=NOW, source="nope")
    with pytest.raises(UsageError):
        reports.accept(project, ref, by="Anna", now=NOW, claim="never quoted")


def test_ci_fails_offline_on_the_summary_without_personal_data(
    project: Project, tmp_path: Path
) -> None:
    ref = submit(project, HOSTILE, contact="reader@example.org", page="Hotline")
    reports.accept(project, ref, by="Anna", now=NOW)
    project.close()
    (tmp_path / ".watcher" / "watcher.db").unlink()  # CI has no database
    gate = run_cli("ci", "--json", "--at", "2026-03-02T10:00", cwd=tmp_path)
    assert gate.returncode == 1
    (failure,) = json.loads(gate.stdout)["guides"][0]["failures"]
    assert failure["kind"] == READER_REPORT and ref in failure["text"]
    human = run_cli("ci", "--at", "2026-03-02T10:00", cwd=tmp_path)
    assert "\x1b" not in human.stdout and "Bcc: everyone" in human.stdout  # flattened, no escapes
    committed = "".join(p.read_text() for p in (tmp_path / "snapshots").rglob("*.json"))
    assert ref in committed and "reader@example.org" not in committed and "Hotline" not in committed
    signed = run_cli("review", "insurance", "--by", "Anna", "--note", "checked", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    assert run_cli("ci", "--at", "2026-03-02T10:00", cwd=tmp_path).returncode == 0


def test_reject_duplicate_and_withdrawing_an_acceptance(project: Project) -> None:
    first, second = submit(project, "one"), submit(project, "two")
    reports.accept(project, first, by="Anna", now=NOW)
    assert state_of(project) == NEEDS_REVIEW
    reports.reject(project, first, by="Anna", now=NOW, note="we were right")
    assert state_of(project) == FRESH  # withdrawn from snapshots/_reports
    with pytest.raises(UsageError):
        reports.reject(project, second, by="Anna", now=NOW, note=" ")
    with pytest.raises(UsageError):
        reports.mark_duplicate(project, second, of=second, by="Anna", now=NOW)
    done = reports.mark_duplicate(project, second, of=first.lower(), by="Anna", now=NOW)
    assert done.duplicate_of == first and done.status == "duplicate"


def test_contacts_are_erased_after_the_retention(project: Project) -> None:
    old = reports.receive(
        project, reports.Submission("insurance", "old", contact="a@example.org"),
        NOW - timedelta(days=91),
    ).ref  # fmt: skip
    recent = submit(project, contact="b@example.org")
    assert reports.erase_expired_contacts(project, NOW) == 1
    store = DeskStore(project.journal)
    assert store.report(old).contact is None and store.report(old).text == "old"
    assert store.report(recent).contact == "b@example.org"


# ---------------------------------------------------------------- alerts and the digest


def test_a_new_report_reaches_the_owner_inert(
    project: Project, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    receiver = Receiver().start()
    try:
        with (tmp_path / "sources.yaml").open("a", encoding="utf-8") as handle:
            handle.write(
                f"notify:\n  smtp: {{host: 127.0.0.1, port: {port}, security: none, "
                f"sender: w@example.org}}\n  webhooks:\n    - {{url: {receiver.url}/slack, "
                f"template: slack}}\n    - {{url: {receiver.url}/hook}}\n"
                "desk:\n  url: https://desk.example.org\n"
            )
        fresh = Project.load(tmp_path / "sources.yaml")
        alerts.dispatch(fresh, NOW)  # the record is seeded: nothing sent yet
        ref = submit(fresh, HOSTILE, contact="reader@example.org")
        delivery = alerts.dispatch(fresh, NOW)
        assert delivery.new == (f"reader-report/insurance/{ref}",)
        (mail,) = inbox.to("editor@example.org")
        assert mail["Subject"] == f"[watcher] reader report {ref}: Medical insurance"
        assert mail["Bcc"] is None and "pwned" not in mail["Subject"]
        body = mail.get_content()
        assert f"https://desk.example.org/reports/{ref}" in body
        assert "reader@example.org" not in body and "\x1b" not in body
        cleaned = reports.clean_text(HOSTILE, limit=4000, what="t")
        assert md_code(reports.summary(cleaned, 500)) in body  # one inline code span
        slack = next(p for p in receiver.accepted() if p.path == "/slack").body["text"]
        assert "<script>" not in slack and "<!channel>" not in slack and "&lt;!channel&gt;" in slack
        generic = next(p for p in receiver.accepted() if p.path == "/hook").body
        assert generic["event"] == "reader-report" and generic["ref"] == ref
        assert "reader@example.org" not in json.dumps(generic)
        reports.reject(fresh, ref, by="Anna", now=NOW, note="spam")
        assert alerts.dispatch(fresh, NOW).new == ()  # triaged: the condition ended
        fresh.close()
    finally:
        receiver.stop()


def test_the_digest_shows_reports_inert(project: Project) -> None:
    new = submit(project, HOSTILE, contact="reader@example.org")
    accepted = submit(project, "Deadline <em>wrong</em>")
    reports.accept(project, accepted, by="Anna", now=NOW)
    digest = build_digest(load_history(project), NOW - timedelta(days=7), NOW, NOW)
    assert [r.ref for r in digest.reports] == [new, accepted]
    renderer = Renderer()
    html = renderer.html(digest)
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<img src=x" not in html
    assert f"reader report {accepted}" in html  # a reason of the guide's needs-review item
    markdown = renderer.markdown(digest)
    quoted = md_code(reports.clean_text(HOSTILE, limit=4000, what="t"))
    assert quoted.startswith("```` <script>") and quoted in markdown  # one inline code span
    assert "\n# Heading" not in markdown and markdown.count("<script>") == 1
    data = jsondoc.to_json(digest)
    schema = json.loads(jsondoc.schema_path().read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(jsondoc.dumps(digest)), schema)
    assert "reader@example.org" not in json.dumps(data, default=str)
    assert digest.for_guides(["other"]).reports == ()


# ---------------------------------------------------------------- the command line


def test_reports_and_users_commands(project: Project, tmp_path: Path) -> None:
    ref = submit(project, HOSTILE, at=utcnow(), contact="reader@example.org")
    project.close()
    listed = run_cli("reports", "list", cwd=tmp_path)
    assert ref in listed.stdout and "\x1b" not in listed.stdout
    as_json = json.loads(run_cli("reports", "list", "--json", cwd=tmp_path).stdout)
    assert as_json["reports"][0]["ref"] == ref and "contact" not in as_json["reports"][0]
    shown = run_cli("reports", "show", ref.lower(), cwd=tmp_path)
    assert "contact: reader@example.org" in shown.stdout
    accepted = run_cli("reports", "accept", ref, "--by", "Anna", "-s", "fund", cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert run_cli("ci", cwd=tmp_path).returncode == 1
    unknown = run_cli("reports", "reject", "R-NOSUCH1", "--by", "A", "--note", "n", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown report" in unknown.stderr
    added = run_cli("users", "add", "Anna", "--role", "editor", "--password-stdin", cwd=tmp_path,
                    input_text="a long enough secret\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    short = run_cli("users", "add", "Bo", "--role", "editor", "--password-stdin", cwd=tmp_path,
                    input_text="short\n")  # fmt: skip
    assert short.returncode == 2 and "too short" in short.stderr
    db = (tmp_path / ".watcher" / "watcher.db").read_bytes()
    assert b"a long enough secret" not in db and b"$argon2id$" in db
    assert "Anna  editor" in run_cli("users", "list", cwd=tmp_path).stdout


def test_users_add_prompts_for_the_password_twice(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["-c", str(tmp_path / "sources.yaml"), "users", "add", "Max", "--role", "maintainer"],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "added maintainer Max" in result.output
    assert "a long enough secret" not in result.output


def test_every_desk_setting_is_documented_with_its_default() -> None:
    from watcher.config.settings import BY_NAME, DESK_KEYS

    page = (Path(__file__).parent.parent / "docs" / "desk.md").read_text(encoding="utf-8")
    for name in DESK_KEYS:
        row = next((line for line in page.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"desk: {name} is not in docs/desk.md"
        default = BY_NAME[name].default
        if isinstance(default, int) and not isinstance(default, bool):
            assert f"`{default}`" in row, name
