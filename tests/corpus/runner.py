"""Run the signal stages on one corpus pair, without network.

Shared by ``tests/test_corpus.py`` and ``bench/bench_signal.py``. A pair is
a folder with ``before.html``, ``after.html`` and ``expect.yaml``; each page
goes through the pipeline's own rendering (``content.render``: decode ->
extract -> normalize -> the default noise filter; at most one ``select`` per
site, no ``ignore`` rules), then diff, claims, significance and, for
``structure: law``, the per-unit law changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from watcher.changes.claims import check_claims
from watcher.changes.diff import diff_texts
from watcher.changes.legal import LawChanges, law_changes
from watcher.changes.significance import Significance, assess
from watcher.config import make_source
from watcher.results import ClaimResult, Diff, Severity
from watcher.text.render import Body
from watcher.text.render import render as render_body

CORPUS = Path(__file__).parent
HALVES = ("dev", "holdout")


@dataclass(frozen=True)
class Outcome:
    """What watcher made of one pair, next to what was expected."""

    name: str
    expect: dict[str, Any]
    old: str
    new: str
    diff: Diff
    claims: tuple[ClaimResult, ...]
    significance: Significance
    law: LawChanges | None

    @property
    def flagged(self) -> bool:
        """What flags a guide: a change of severity minor or major (cosmetic never flags)."""
        return not self.diff.empty and self.significance.severity != Severity.COSMETIC


def pairs(half: str) -> list[Path]:
    """The pair folders of one half of the corpus, sorted by name."""
    return sorted(p for p in (CORPUS / half).iterdir() if (p / "expect.yaml").is_file())


def render(html: str, expect: dict[str, Any]) -> str:
    """Snapshot text of a page, as the pipeline makes it with the pair's settings."""
    select = (expect["select"],) if expect.get("select") else ()
    source = make_source(
        id="corpus", url=expect["url"], title="corpus", select=select, format="html"
    )
    body = Body(html.encode("utf-8"), "text/html", "utf-8", expect["url"])
    return render_body(source.text, body).text


def run_pair(folder: Path) -> Outcome:
    expect = yaml.safe_load((folder / "expect.yaml").read_text(encoding="utf-8"))
    old = render((folder / "before.html").read_text(encoding="utf-8"), expect)
    new = render((folder / "after.html").read_text(encoding="utf-8"), expect)
    diff = diff_texts(old, new)
    claims = check_claims(old, new, [c["text"] for c in expect.get("claims", [])])
    significance = assess(old, new, diff, claims=claims)
    law = law_changes(old, new) if expect.get("structure") == "law" else None
    return Outcome(folder.name, expect, old, new, diff, claims, significance, law)
