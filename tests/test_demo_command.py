"""The README's first command, ``watcher demo``, run as a command: what a newcomer sees."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_cli

CHECK_LINE = re.compile(
    r"watcher check: 4 checked, (\d+) unchanged, (\d+) changed, (\d+) baseline, "
    r"(\d+) failed, (\d+) guides? flagged"
)


def test_demo_tells_the_story_the_readme_promises(tmp_path: Path) -> None:
    done = run_cli("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    checks = [tuple(map(int, m.groups())) for m in CHECK_LINE.finditer(out)]
    # baselines, then only noise (counters, dates), then the amendments
    assert checks == [(0, 0, 4, 0, 0), (4, 0, 0, 0, 0), (2, 2, 0, 0, 1)]
    assert "guide demo-medical-insurance needs review: demo-oms-fund, demo-law-326fz changed" in out
    # the claim that broke, the article and part, the amending law
    assert (
        "claims of demo-medical-insurance: 1 of 2 claims modified: «страховых взносов на "
        "обязательное медицинское страхование в течение не менее трех лет»"
    ) in out
    assert "- Статья 16, часть 1.1 changed" in out
    assert "- amended by the law от 01.12.2025 N 999-ФЗ" in out
    # and the fund's amendment
    assert "phone number changed: 8 (800) 555-01-23 -> 8 (800) 555-01-45" in out
    assert "time limit changed: 5 рабочих дней -> 10 рабочих дней" in out
    # the guide states, then the word-level diffs, the law first
    assert re.search(r"demo-medical-insurance\s+│ needs review", out)
    law_diff = out.index("5. What changed in demo-law-326fz")
    assert law_diff < out.index("6. What changed in demo-oms-fund")
    assert "страхование в течение не менее [-трех-] лет." in out[law_diff:]
    assert "страхование в течение не менее {+пяти+} лет." in out[law_diff:]
    assert "-Телефон горячей линии Демо-ТФОМС: 8 (800) 555-01-[-23-]" in out
    assert "+Телефон горячей линии Демо-ТФОМС: 8 (800) 555-01-{+45+}" in out
    # it worked in a temporary directory and left the working directory alone
    assert list(tmp_path.iterdir()) == []


def test_demo_keep_leaves_a_project_every_command_works_on(tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    done = run_cli("demo", "--keep", str(kept), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (kept / "sources.yaml").is_file()
    assert (kept / "snapshots" / "demo-oms-fund" / "state.json").is_file()
    status = run_cli("-c", str(kept / "sources.yaml"), "status", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "needs review" in status.stdout
    assert f"watcher -c {kept / 'sources.yaml'} check" in done.stdout
