"""Every route of the editor desk over HTTP, against the real application on uvicorn.

The project is the demo's (``watcher demo --keep``): demo-medical-insurance
needs review because demo-oms-fund changed. Each test gets its own copy.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_cli
from tests.desk import (
    GUIDE,
    PASSWORD,
    DeskServer,
    add_users,
    build_demo,
    copy_project,
    csrf_of,
    guide_url,
    login,
    origin_of,
    token,
    update_demo_claims,
)
from tests.receiver import Receiver
from watcher.notify import alerts
from watcher.project import Project
from watcher.results import utcnow
from watcher.store import DeskStore, project_lock

EDITOR_GETS = ["/", f"/guides/{GUIDE}", "/reports", "/reports/R-AAAAAAA", "/sources"]
EDITOR_POSTS = [
    "/logout",
    f"/guides/{GUIDE}/signoff",
    f"/guides/{GUIDE}/dismiss",
    "/reports/R-AAAAAAA/accept",
    "/reports/R-AAAAAAA/reject",
    "/reports/R-AAAAAAA/duplicate",
    "/sources/demo-oms-fund/check",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = build_demo(tmp_path_factory.mktemp("template") / "demo")
    add_users(config)
    return config.parent


@pytest.fixture
def config(demo: Path, tmp_path: Path) -> Path:
    path = copy_project(demo, tmp_path / "project")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("desk:\n  reports_per_hour: 3\n  login_attempts: 3\n  lock_wait: 1s\n")
    return path


@pytest.fixture
def desk(config: Path) -> Iterator[DeskServer]:
    with DeskServer(config) as server:
        yield server


@pytest.fixture
def client(desk: DeskServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, timeout=30) as session:
        yield session


@pytest.fixture
def editor(desk: DeskServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, timeout=30) as session:
        assert login(session, "Anna").status_code == 303
        yield session


def send_form(client: httpx.Client, **fields: str) -> httpx.Response:
    form = client.get(f"/report?guide={fields.get('guide', GUIDE)}")
    data = {"csrf": csrf_of(form.text), "guide": GUIDE, "website": "", **fields}
    return client.post("/report", data=data)


def ref_of(page: httpx.Response) -> str:
    return page.text.split('id="ref">', 1)[1].split("<", 1)[0]


def stored(config: Path) -> list[str]:
    project = Project.load(config)
    try:
        return [r.ref for r in DeskStore(project.journal).reports()]
    finally:
        project.close()


# ---------------------------------------------------------------- readers


def test_the_form_takes_a_guide_by_id_or_published_url(client: httpx.Client, config: Path) -> None:
    published = guide_url(config)
    for wanted in (GUIDE, published, published + "?utm_source=x#hotline"):
        page = client.get("/report", params={"guide": wanted})
        assert page.status_code == 200
        assert "Medical insurance for foreigners in Russia (demo)" in page.text
        assert 'name="website"' in page.text  # the honeypot
    assert "<script" not in page.text  # works without JavaScript
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_an_unknown_guide_is_a_clear_404(client: httpx.Client) -> None:
    page = client.get("/report", params={"guide": "no-such-guide"})
    assert page.status_code == 404
    assert "We have no guide" in page.text
    api = client.post("/api/reports", json={"guide": "https://elsewhere.example/x", "text": "t"})
    assert api.status_code == 404
    assert "no guide is published at" in api.json()["error"]


def test_a_report_sent_through_the_form_gets_a_reference(
    client: httpx.Client, config: Path
) -> None:
    sent = send_form(client, text="The hotline number changed", contact="r@example.org")
    assert sent.status_code == 201
    ref = ref_of(sent)
    assert ref.startswith("R-") and len(ref) == 9
    assert stored(config) == [ref]


def test_the_form_refuses_a_missing_token_empty_long_or_huge_reports(
    client: httpx.Client, config: Path
) -> None:
    no_token = client.post("/report", data={"guide": GUIDE, "text": "x"})
    assert no_token.status_code == 403
    assert send_form(client, text="   ").status_code == 400
    too_long = send_form(client, text="x" * 4001)
    assert too_long.status_code == 400
    assert "at most 4000" in too_long.text
    huge = client.post("/report", content=b"text=" + b"x" * 70_000, headers=_FORM)
    assert huge.status_code == 413
    not_a_form = client.post("/report", content=b"{}", headers={"content-type": "text/plain"})
    assert not_a_form.status_code == 400
    bad_contact = send_form(client, text="wrong", contact="me@x\nBcc: all@example.org")
    assert bad_contact.status_code == 400
    assert stored(config) == []


_FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_the_json_api_and_its_cors(client: httpx.Client, config: Path) -> None:
    published = guide_url(config)
    origin = origin_of(published)  # the guides site's origin is allowed by default
    sent = client.post(
        "/api/reports",
        json={"guide": published, "text": "Deadline is wrong", "page": "Deadlines"},
        headers={"Origin": origin},
    )
    assert sent.status_code == 201
    assert sent.headers["access-control-allow-origin"] == origin
    assert stored(config) == [sent.json()["ref"]]
    preflight = client.options(
        "/api/reports",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "POST"
    evil = {"Origin": "https://evil.example"}
    assert client.options("/api/reports", headers=evil).status_code == 403
    refused = client.post("/api/reports", json={"guide": GUIDE, "text": "x"}, headers=evil)
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


def test_the_json_api_refuses_malformed_reports(client: httpx.Client, config: Path) -> None:
    json_type = {"content-type": "application/json"}
    assert client.post("/api/reports", content=b"{not json", headers=json_type).status_code == 400
    assert client.post("/api/reports", json=["a list"]).status_code == 400
    assert client.post("/api/reports", json={"guide": GUIDE, "text": 5}).status_code == 400
    assert client.post("/api/reports", json={"guide": GUIDE, "text": ""}).status_code == 400
    assert client.post("/api/reports", json={"guide": GUIDE}).status_code == 400
    plain = client.post("/api/reports", content=b"guide=x", headers=_FORM)
    assert plain.status_code == 415
    huge = client.post("/api/reports", content=b'{"text": "' + b"x" * 70_000 + b'"}',
                       headers=json_type)  # fmt: skip
    assert huge.status_code == 413
    assert stored(config) == []


def test_the_honeypot_answers_bots_but_stores_nothing(client: httpx.Client, config: Path) -> None:
    bot = send_form(client, text="cheap pills", website="http://spam.example")
    assert bot.status_code == 201
    assert ref_of(bot).startswith("R-")
    api = client.post("/api/reports", json={"guide": GUIDE, "text": "pills", "website": "spam"})
    assert api.status_code == 201
    assert stored(config) == []


def test_reports_are_rate_limited_per_address(client: httpx.Client, config: Path) -> None:
    reader = {"X-Forwarded-For": "203.0.113.7"}
    for n in range(3):
        sent = client.post("/api/reports", json={"guide": GUIDE, "text": f"n{n}"}, headers=reader)
        assert sent.status_code == 201
    limited = client.post("/api/reports", json={"guide": GUIDE, "text": "n3"}, headers=reader)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    form = client.get(f"/report?guide={GUIDE}", headers=reader)
    data = {"csrf": csrf_of(form.text), "guide": GUIDE, "text": "again"}
    assert client.post("/report", data=data, headers=reader).status_code == 429
    other = {"X-Forwarded-For": "198.51.100.9"}
    sent = client.post("/api/reports", json={"guide": GUIDE, "text": "x"}, headers=other)
    assert sent.status_code == 201
    assert len(stored(config)) == 4


# ---------------------------------------------------------------- refusals


def test_every_editor_route_refuses_a_browser_without_a_session(client: httpx.Client) -> None:
    for path in EDITOR_GETS:
        page = client.get(path)
        assert page.status_code == 303, path
        assert page.headers["location"].startswith("/login?next=")
    for path in EDITOR_POSTS:
        assert client.post(path, data={"note": "x"}).status_code == 403, path
    forged = client.cookies.set("watcher_desk", "forged-token")
    assert forged is None and client.get("/").status_code == 303


def test_maintainer_routes_refuse_editors(editor: httpx.Client, desk: DeskServer) -> None:
    assert editor.get("/sources").status_code == 403
    csrf = token(editor)
    assert editor.post("/sources/demo-oms-fund/check", data={"csrf": csrf}).status_code == 403
    assert "Source health" not in editor.get("/").text
    with httpx.Client(base_url=desk.url, timeout=30) as maintainer:
        login(maintainer, "Max")
        page = maintainer.get("/sources")
        assert page.status_code == 200
        assert "Check demo-oms-fund" in page.text


def test_posts_without_the_csrf_token_change_nothing(editor: httpx.Client, config: Path) -> None:
    for data in ({"note": "ok"}, {"note": "ok", "csrf": "1.forged"}):
        assert editor.post(f"/guides/{GUIDE}/signoff", data=data).status_code == 403
    assert not (config.parent / "snapshots" / "_reviews").exists()


def test_login_refusals_rate_limit_cookie_and_logout(desk: DeskServer) -> None:
    with httpx.Client(base_url=desk.url, timeout=30) as browser:
        page = browser.get("/login")
        no_token = browser.post("/login", data={"name": "Anna", "password": PASSWORD})
        assert no_token.status_code == 403
        for _ in range(3):
            wrong = login(browser, "Anna", "not the password")
            assert wrong.status_code == 403
            assert "wrong name or password" in wrong.text
        assert login(browser, "Anna").status_code == 429  # even with the right password
        assert "watcher_csrf" in page.headers["set-cookie"]
    elsewhere = {"X-Forwarded-For": "192.0.2.5"}  # another address: not limited
    with httpx.Client(base_url=desk.url, timeout=30, headers=elsewhere) as browser:
        assert login(browser, "Nobody").status_code == 403
        done = login(browser, "Max")
        assert done.status_code == 303
        cookie = done.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert browser.get("/").status_code == 200
        assert browser.post("/logout", data={"csrf": token(browser)}).status_code == 303
        assert browser.get("/").status_code == 303


def test_next_after_login_stays_on_the_desk(desk: DeskServer) -> None:
    with httpx.Client(base_url=desk.url, timeout=30) as browser:
        page = browser.get("/login?next=//evil.example/x")
        data = {"csrf": csrf_of(page.text), "name": "Anna", "password": PASSWORD,
                "next": "//evil.example/x"}  # fmt: skip
        assert browser.post("/login", data=data).headers["location"] == "/"


def test_unknown_pages_and_ids_are_404(editor: httpx.Client) -> None:
    assert editor.get("/guides/no-such-guide").status_code == 404
    assert editor.get("/reports/R-NOSUCH1").status_code == 404
    assert editor.get("/no/such/page").status_code == 404
    data = {"csrf": token(editor), "note": "x"}
    assert editor.post("/guides/no-such-guide/signoff", data=data).status_code == 404


# ---------------------------------------------------------------- editors


def test_queue_guide_page_and_reports(editor: httpx.Client, client: httpx.Client) -> None:
    hostile = "Hotline <b>wrong</b> <a href=javascript:alert(1)>x</a> <script>alert(2)</script>"
    ref = ref_of(send_form(client, text=hostile, page="Contacts <img src=x onerror=alert(3)>"))
    queue = editor.get("/")
    for page in (queue, editor.get(f"/guides/{GUIDE}"), editor.get("/reports"),
                 editor.get(f"/reports/{ref}")):  # fmt: skip
        assert "<script>alert" not in page.text and "<a href=javascript" not in page.text
        assert "<img src=x" not in page.text and "&lt;script&gt;alert(2)" in page.text
    assert queue.status_code == 200
    assert "Needs review (1)" in queue.text
    assert f'href="/guides/{GUIDE}"' in queue.text
    assert "Demo OMS fund: OMS policy for foreign citizens: changed" in queue.text
    assert ref in queue.text and "Hotline &lt;b&gt;wrong&lt;/b&gt;" in queue.text
    assert queue.headers["cache-control"] == "no-store"
    guide = editor.get(f"/guides/{GUIDE}")
    assert guide.status_code == 200
    assert "555-01-23" in guide.text and "555-01-45" in guide.text  # the digest's diff
    assert '<div class="diff"' in guide.text
    assert "Sign-off history" in guide.text and "Sign off the guide" in guide.text
    listing = editor.get("/reports")
    assert ref in listing.text
    assert editor.get("/reports?status=all").status_code == 200
    report = editor.get(f"/reports/{ref}")
    assert "Contacts" in report.text and "Reject, saying why" in report.text


def test_accept_then_sign_off_passes_ci_under_the_editors_name(
    editor: httpx.Client, client: httpx.Client, config: Path
) -> None:
    ref = ref_of(send_form(client, text="Deadline changed", contact="reader@example.org"))
    accepted = editor.post(
        f"/reports/{ref}/accept",
        data={"csrf": token(editor), "source": "demo-oms-fund", "note": "checking"},
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/guides/{GUIDE}?done=accepted"
    failing = run_cli("-c", str(config), "ci", cwd=config.parent)
    assert failing.returncode == 1
    assert f"reader report {ref} about demo-oms-fund, accepted by Anna" in failing.stdout
    signed = editor.post(
        f"/guides/{GUIDE}/signoff", data={"csrf": token(editor), "note": "hotline updated"}
    )
    assert signed.status_code == 303
    update_demo_claims(config)
    assert run_cli("-c", str(config), "ci", cwd=config.parent).returncode == 0
    reviews = json.loads((config.parent / "snapshots/_reviews" / f"{GUIDE}.json").read_text())
    assert reviews["entries"][-1]["by"] == "Anna"
    assert reviews["entries"][-1]["note"] == "hotline updated"
    committed = "".join(p.read_text() for p in (config.parent / "snapshots").rglob("*.json"))
    assert "reader@example.org" not in committed  # personal data stays in the database


def test_dismiss_a_change_with_a_reason(editor: httpx.Client, config: Path) -> None:
    done = editor.post(
        f"/guides/{GUIDE}/dismiss",
        data={"csrf": token(editor), "source": "demo-oms-fund", "note": "footer only"},
    )
    assert done.status_code == 303
    reviews = json.loads((config.parent / "snapshots/_reviews" / f"{GUIDE}.json").read_text())
    assert reviews["entries"][-1]["kind"] == "dismiss"
    assert reviews["entries"][-1]["by"] == "Anna"
    assert "Change dismissed" in editor.get(done.headers["location"]).text
    empty = editor.post(f"/guides/{GUIDE}/signoff", data={"csrf": token(editor), "note": " "})
    assert empty.status_code == 400


def test_reject_and_duplicate(editor: httpx.Client, client: httpx.Client, config: Path) -> None:
    first = ref_of(send_form(client, text="first"))
    second = ref_of(send_form(client, text="second"))
    no_note = editor.post(f"/reports/{first}/reject", data={"csrf": token(editor), "note": ""})
    assert no_note.status_code == 400
    rejected = editor.post(
        f"/reports/{first}/reject", data={"csrf": token(editor), "note": "not about us"}
    )
    assert rejected.status_code == 303
    dup = editor.post(f"/reports/{second}/duplicate", data={"csrf": token(editor), "of": first})
    assert dup.status_code == 303
    listed = run_cli("-c", str(config), "reports", "list", "--status", "all", cwd=config.parent)
    assert f"{first}  rejected" in listed.stdout
    assert f"{second}  duplicate" in listed.stdout
    assert run_cli("-c", str(config), "ci", cwd=config.parent).returncode == 1  # the change


def test_a_desk_action_during_a_check_waits_then_says_busy(
    editor: httpx.Client, config: Path
) -> None:
    csrf = token(editor)
    with project_lock(config.parent, "check"):
        busy = editor.post(f"/guides/{GUIDE}/signoff", data={"csrf": csrf, "note": "x"})
    assert busy.status_code == 503
    assert "The project is busy" in busy.text
    assert busy.headers["retry-after"] == "60"
    assert not (config.parent / "snapshots" / "_reviews").exists()


def test_a_maintainer_checks_one_source(desk: DeskServer, config: Path) -> None:
    state = config.parent / "snapshots" / "demo-insurer" / "state.json"
    before = json.loads(state.read_text())["last_check"]["at"]
    with httpx.Client(base_url=desk.url, timeout=60) as maintainer:
        login(maintainer, "Max")
        done = maintainer.post("/sources/demo-insurer/check", data={"csrf": token(maintainer)})
        assert done.status_code == 303
        assert "Source checked" in maintainer.get(done.headers["location"]).text
    assert json.loads(state.read_text())["last_check"]["at"] != before


def test_commit_each_action_with_the_editor_as_author(config: Path) -> None:
    root = config.parent
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "demo"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    with DeskServer(config, commit=True) as server, httpx.Client(base_url=server.url) as editor:
        login(editor, "Anna")
        editor.post(f"/guides/{GUIDE}/signoff", data={"csrf": token(editor), "note": "checked"})
    log = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>|%s", "--name-only"],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert log.startswith(f"Anna <anna@example.org>|Sign off {GUIDE}: checked")
    assert f"snapshots/_reviews/{GUIDE}.json" in log


def test_a_report_sent_to_the_desk_reaches_the_owners_webhook(config: Path) -> None:
    receiver = Receiver().start()
    try:
        with config.open("a", encoding="utf-8") as handle:
            handle.write(f"notify:\n  webhooks:\n    - url: {receiver.url}/hook\n")
        seeding = Project.load(config)
        alerts.dispatch(seeding, utcnow())  # notifications were just configured: seeded
        seeding.close()
        with DeskServer(config) as server:
            sent = httpx.post(
                server.url + "/api/reports",
                json={"guide": GUIDE, "text": "Hotline changed", "contact": "r@example.org"},
            )
            assert sent.status_code == 201
            deadline = time.monotonic() + 20
            while not receiver.accepted():
                assert time.monotonic() < deadline, "no webhook for the new report"
                time.sleep(0.1)
        (post,) = receiver.accepted()
        assert post.body["event"] == "reader-report" and post.body["ref"] == sent.json()["ref"]
        assert post.body["guide"] == GUIDE and "r@example.org" not in json.dumps(post.body)
    finally:
        receiver.stop()
