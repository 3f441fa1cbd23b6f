"""``watcher audit`` end to end: a published guide on the local server against sources.yaml.

The guide page is laid out like the publisher's: page furniture, the
guide's steps, a "Sources" eyebrow over a "4 sources" heading listing
official links, a "Report outdated information" link on the guide's own
site, then related guides. The guide lives on ``localhost`` and the
official pages on ``127.0.0.1`` of the same server, so they are two sites.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite

OFFICIAL = "<html><body><main><h1>{title}</h1><p>{title}: official text of the page, "
OFFICIAL += "long enough to be a real page for the quality gate.</p></main></body></html>"


def guide_page(official: str, guide_site: str, step: str = "Check your status.") -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><title>Medical insurance</title></head>
<body>
<header><nav><a href="{guide_site}/">Ruvoya.</a>
<a href="{guide_site}/en/tasks">All guides</a></nav></header>
<main>
<h1>Medical insurance for foreigners in Russia</h1>
<p>Separate DMS or travel insurance from OMS state insurance.</p>
<h2>Do this in order</h2>
<ol><li><h3>Step 1</h3><p>{step}</p></li></ol>
<section class="sources">
  <p class="eyebrow">Sources</p>
  <h2>4 sources</h2>
  <ul>
    <li><a href="{official}/law-326">326-FZ: OMS eligibility</a></li>
    <li><a href="{official}/fund-foreigners">Regional OMS fund: foreign citizens</a></li>
    <li><a href="{official}/old-decree">Decree on medical care for foreigners</a></li>
    <li><a href="{official}/insurer-old">Insurer: assistance line</a></li>
  </ul>
  <p><a href="{guide_site}/en/report?guide=medical-insurance">Report outdated information</a></p>
</section>
<h2>Related guides</h2>
<ul><li><a href="{official}/unrelated">Emergency numbers and safety</a></li></ul>
</main>
<footer><p>Ruvoya. This guide is informational, not an official service.</p></footer>
</body></html>"""


def setup(tmp_path: Path, site: WebSite) -> Path:
    official = site.url  # http://127.0.0.1:PORT
    guide_site = official.replace("127.0.0.1", "localhost")
    for name in ("law-326", "fund-foreigners", "hotline", "insurer-new", "unrelated"):
        site.routes[f"/{name}"] = Page(OFFICIAL.format(title=name))
    site.routes["/old-decree"] = Page("<h1>Not Found</h1>", status=404)
    site.routes["/insurer-old"] = Page("", status=301, headers={"Location": "/insurer-new"})
    site.routes["/en/tasks/medical-insurance"] = Page(guide_page(official, guide_site))
    return write_config(
        tmp_path,
        f"""\
        defaults:
          retries: 0
        sources:
          - {{id: law-326fz, url: "{official}/law-326", title: "326-FZ"}}
          - {{id: old-decree, url: "{official}/old-decree", title: "Decree of 2013"}}
          - {{id: insurer, url: "{official}/insurer-new", title: "Insurer"}}
          - {{id: fund-hotline, url: "{official}/hotline", title: "Fund hotline"}}
        guides:
          - id: medical-insurance
            title: Medical insurance for foreigners in Russia
            url: {guide_site}/en/tasks/medical-insurance
            owner: "Anna <anna@guides.test>"
            sources:
              - source: law-326fz
                claims: ["law-326: official text"]
              - old-decree
              - insurer
              - fund-hotline
        """,
    )


def test_audit_finds_what_the_map_gets_wrong_in_words(tmp_path: Path, site: WebSite) -> None:
    config = setup(tmp_path, site)
    official = site.url
    done = run_cli("-c", str(config), "audit", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "cites 4 official link(s): 3 watched, 1 not watched" in out
    # a source cited by the guide but not watched
    assert (
        f"the published guide cites {official}/fund-foreigners "
        "(«Regional OMS fund: foreign citizens»), which sources.yaml does not watch" in out
    )
    # a watched source the guide does not cite
    assert (
        "sources.yaml maps fund-hotline to this guide, but the published guide does not cite "
        f"it ({official}/hotline)" in out
    )
    # a dead cited link
    assert (
        f"the published guide cites a dead link: {official}/old-decree "
        "(«Decree on medical care for foreigners»): gone: HTTP 404" in out
    )
    # a cited link that redirects elsewhere (the source watches where it lands)
    assert f"{official}/insurer-old («Insurer: assistance line»), which redirects to" in out
    assert "update the link in the guide and the url of insurer in sources.yaml" in out
    # the guide's own links (navigation, the report link) and related guides are not sources
    assert "report?guide" not in out and "/unrelated" not in out
    assert "watcher audit: 1 guide(s) audited, 1 with findings, 0 could not be read" in out
    record = json.loads(
        (tmp_path / "snapshots" / "_guides" / "medical-insurance" / "audit.json").read_text()
    )
    assert record["schema"] == "watcher.audit/1" and record["page_changed"] is None


def test_status_and_ci_show_the_audit_offline(tmp_path: Path, site: WebSite) -> None:
    config = setup(tmp_path, site)
    assert run_cli("-c", str(config), "audit", cwd=tmp_path).returncode == 0
    site.stop()  # from here on, nothing is fetched
    status = run_cli("-c", str(config), "status", "--json", cwd=tmp_path)
    reasons = json.loads(status.stdout)["guides"][0]["reasons"]
    audit = [r["text"] for r in reasons if r["state"] == "audit"]
    assert len(audit) == 4, audit
    assert any("which sources.yaml does not watch" in text for text in audit)
    warn = run_cli("-c", str(config), "ci", "--fail-on", "broken", cwd=tmp_path)
    assert warn.returncode == 0, warn.stdout
    assert "! the published guide cites a dead link" in warn.stdout
    fail = run_cli("-c", str(config), "ci", "--fail-on", "audit", cwd=tmp_path)
    assert fail.returncode == 1
    assert "x sources.yaml maps fund-hotline to this guide" in fail.stdout
    report = run_cli("-c", str(config), "report", "--format", "md,json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    markdown = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    assert "Published guides against sources.yaml" in markdown
    assert "does not watch" in markdown
    digest = json.loads(next((tmp_path / "reports").glob("digest-*.json")).read_text())
    assert len(digest["audit"][0]["findings"]) == 4
    schema_file = Path(__file__).parent.parent / "src/watcher/report/schema/digest-1.schema.json"
    jsonschema.validate(digest, json.loads(schema_file.read_text()))


def test_a_changed_guide_page_asks_for_its_claims_to_be_re_read(
    tmp_path: Path, site: WebSite
) -> None:
    config = setup(tmp_path, site)
    assert run_cli("-c", str(config), "audit", cwd=tmp_path).returncode == 0
    guide_site = site.url.replace("127.0.0.1", "localhost")
    changed = guide_page(site.url, guide_site, step="Check your status and your region.")
    site.routes["/en/tasks/medical-insurance"] = Page(changed)
    done = run_cli("-c", str(config), "audit", cwd=tmp_path)
    assert "page text last changed: 20" in done.stdout
    assert "after its last sign-off: re-read its claims in sources.yaml" in done.stdout
    folder = tmp_path / "snapshots" / "_guides" / "medical-insurance"
    assert len(list((folder / "versions").glob("*.txt"))) == 2
    assert "Check your status and your region." in (folder / "current.txt").read_text()


def test_a_guide_page_that_is_not_there_is_a_failure_not_a_reading(
    tmp_path: Path, site: WebSite
) -> None:
    config = setup(tmp_path, site)
    site.routes["/en/tasks/medical-insurance"] = Page("<h1>Not Found</h1>", status=404)
    done = run_cli("-c", str(config), "audit", cwd=tmp_path)
    assert done.returncode == 3
    assert "audit could not read the published guide" in done.stdout
    assert "gone: HTTP 404" in done.stdout
