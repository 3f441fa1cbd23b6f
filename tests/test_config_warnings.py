"""Warnings of a configuration: placeholders and a CA bundle not there yet.

They never fail loading: ``validate``, ``status`` and ``ci`` print them, and
a source whose ``ca_bundle`` file is missing fails at check time, alone,
with the same words (which file, where it comes from).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import run_cli, write_config
from tests.webserver import Page, WebSite
from watcher.check.run import run_check
from watcher.config import load_config
from watcher.project import Project
from watcher.results import BASELINE, FAILED

GOOD = "<html><body><main><p>Полис ОМС выдаётся в течение 5 рабочих дней.</p></main></body></html>"


def _config(site_url: str, host: str) -> str:
    return f"""\
    defaults:
      retries: 0
    hosts:
      {host}:
        ca_bundle: certs/russian-trusted-ca.pem
    sources:
      - id: fund
        url: {site_url}/fund
        title: Fund
      - id: other
        url: http://localhost:{site_url.rsplit(":", 1)[1]}/other
        title: Other
    guides:
      - id: insurance
        title: Insurance
        url: https://guides.example.org/en/insurance
        owner: "PLACEHOLDER editor <editor@example.org>"
        sources: [fund, other]
    """


def test_missing_ca_bundle_and_placeholders_only_warn(tmp_path: Path, site: WebSite) -> None:
    path = write_config(tmp_path, _config(site.url, "127.0.0.1"))
    config = load_config(path)
    texts = [str(w) for w in config.warnings]
    bundle = tmp_path / "certs" / "russian-trusted-ca.pem"
    where = f"{path}:5: hosts.127.0.0.1.ca_bundle"
    assert texts[0].startswith(f"{where}: CA bundle not found: {bundle}")
    assert "1 source(s) will fail until it is there: fund" in texts[0]
    assert "https://www.gosuslugi.ru/crt" in texts[0]
    assert "guides[0].url: placeholder guide URL" in texts[1]
    assert "guides[0].owner: placeholder owner" in texts[2]
    assert len(texts) == 3
    done = run_cli("-c", str(path), "validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "OK (2 sources, 1 guide, 3 warnings)" in done.stdout
    assert "watcher: warning:" in done.stdout and "CA bundle not found" in done.stdout
    status = run_cli("-c", str(path), "status", cwd=tmp_path)
    assert "placeholder owner" in status.stderr
    ci = run_cli("-c", str(path), "ci", cwd=tmp_path)
    assert "placeholder owner" in ci.stderr


def test_a_source_without_its_ca_bundle_fails_alone_and_says_why(
    tmp_path: Path, site: WebSite
) -> None:
    site.routes["/fund"] = Page(GOOD)
    site.routes["/other"] = Page(GOOD)
    project = Project.load(write_config(tmp_path, _config(site.url, "127.0.0.1")))
    run = asyncio.run(run_check(project, project.config.sources))
    fund, other = run.results
    assert fund.outcome == FAILED and fund.error_kind == "ca-bundle"
    bundle = tmp_path / "certs" / "russian-trusted-ca.pem"
    assert f"CA bundle not found: {bundle}" in (fund.error or "")
    assert "Russian Trusted Root CA" in (fund.error or "")
    assert "https://www.gosuslugi.ru/crt" in (fund.error or "")
    assert not site.hits("/fund")
    assert other.outcome == BASELINE, other.error
    assert not project.store.load_state("fund").versions


def test_a_real_owner_and_guide_url_give_no_warning(tmp_path: Path) -> None:
    text = """\
    sources:
      - {id: fund, url: "https://fund.test/", title: Fund}
    guides:
      - id: insurance
        title: Insurance
        url: https://guides.test/en/insurance
        owner: "Anna <anna@guides.test>"
        sources: [fund]
    """
    assert load_config(write_config(tmp_path, text)).warnings == ()
