"""The default noise filter, table-driven: tests/data/noise/lines.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from watcher.text.noise import default_noise
from watcher.text.normalize import normalize

CASES = yaml.safe_load((Path(__file__).parent / "data" / "noise" / "lines.yaml").read_text())


def filtered(line: str) -> str:
    return default_noise(normalize(line))


@pytest.mark.parametrize("line", CASES["noise"])
def test_noise_line_is_dropped(line: str) -> None:
    assert filtered(line) == ""
    assert filtered(f"# Полис ОМС\n{line}\nТекст.") == "# Полис ОМС\nТекст."


@pytest.mark.parametrize(("line", "expected"), CASES["masked"])
def test_noise_part_is_masked(line: str, expected: str) -> None:
    assert filtered(line) == expected
    assert filtered(expected) == expected


@pytest.mark.parametrize("line", CASES["content"])
def test_content_line_is_kept(line: str) -> None:
    assert filtered(line) == normalize(line)
