"""The repository's own sources.yaml: the real setup of the publisher's three guides.

It must validate with warnings only for what a maintainer has to fill in
(placeholder owners, the third guide's address, the CA bundle file), say
for every source what it is and how sure its address is, watch laws by
article, and give every guide claims. Without internet, a check must end
quickly with every source failed in words and nothing stored as a change.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.conftest import run_cli
from watcher.config import load_config

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "sources.yaml"
PUBLISHED = {
    "medical-insurance": "https://ruvoya.ru/en/tasks/medical-insurance",
    "medical-help": "https://ruvoya.ru/en/tasks/medical-help-first-visit",
}


def test_it_validates_with_only_maintainer_warnings() -> None:
    config = load_config(REAL)
    kinds = set()
    for warning in config.warnings:
        if "placeholder owner" in warning.message:
            kinds.add("owner")
        elif "placeholder guide URL" in warning.message:
            assert warning.key == "guides[2].url"
            kinds.add("url")
        elif "is cited by no guide" in warning.message:
            assert "mofoms-home" in warning.message  # a stand-in, cited by no guide yet
            kinds.add("uncited")
        else:
            assert warning.message.startswith("CA bundle not found:"), warning
            assert str(REPO / "certs" / "russian-trusted-ca.pem") in warning.message
            kinds.add("ca_bundle")
    assert kinds == {"owner", "url", "ca_bundle", "uncited"}


def test_every_source_says_what_it_is_and_laws_are_watched_by_article() -> None:
    config = load_config(REAL)
    for source in config.sources:
        assert len(source.notes) > 80, source.id
        if source.id.startswith("law-"):
            assert source.signal.structure == "law", source.id
        if "kremlin.ru" in source.url:
            assert source.url.endswith("/print"), "the print view holds the consolidated text"


def test_every_guide_has_claims_and_the_published_addresses() -> None:
    config = load_config(REAL)
    for guide in config.guides:
        assert any(entry.claims for entry in guide.sources), guide.id
        assert guide.url.startswith("https://ruvoya.ru/en/tasks/")
    assert {g.id: g.url for g in config.guides if g.id in PUBLISHED} == PUBLISHED


def test_the_ca_bundle_readme_says_where_the_certificate_comes_from() -> None:
    readme = (REPO / "certs" / "README.md").read_text(encoding="utf-8")
    assert "https://www.gosuslugi.ru/crt" in readme
    assert "-fingerprint -sha256" in readme


def test_a_check_without_internet_fails_every_source_quickly(tmp_path: Path) -> None:
    """Every host made unresolvable (``.invalid``): what a machine without internet sees."""
    text = REAL.read_text(encoding="utf-8")
    text = re.sub(r"(url: https?://)([^/\s]+)", r"\1\2.invalid", text)
    text = re.sub(r"(?m)^(  [a-z0-9.-]+\.[a-z]+):$", r"\1.invalid:", text)  # hosts: keys
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    started = time.monotonic()
    done = run_cli("check", cwd=tmp_path)
    assert time.monotonic() - started < 60
    assert done.returncode == 3, done.stdout + done.stderr  # every source failed
    config = load_config(tmp_path / "sources.yaml")
    count = len(config.sources)
    assert f"{count} checked, 0 unchanged, 0 changed, 0 baseline, {count} failed" in done.stdout
    assert done.stdout.count("DNS lookup failed for") == count - 1
    assert "mchs-112: failed: CA bundle not found:" in done.stdout
    for source in config.sources:
        assert not list((tmp_path / "snapshots" / source.id).glob("*.txt"))
