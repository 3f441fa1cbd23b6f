"""Signal benchmark (not a test): flag precision/recall, severity, claims, extraction.

Run from the repository root: ``python bench/bench_signal.py``.

1. The corpus (``tests/corpus/{dev,holdout}``), per half: precision and
   recall of "flag" (a content pair must flag, a noise pair must not),
   agreement of severity on content pairs, share of claims right, law
   units right.
2. Extraction quality against ``../shared/data/`` ground truth when the
   folder is there: token precision / recall / F1 of ``extract_text``
   (whole page, no ``select``) against ``readability_testpages/*/expected.html``
   and ``scrapinghub_aeb`` ``articleBody``. Skipped when absent.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus.runner import HALVES, Outcome, pairs, run_pair  # noqa: E402

from watcher.text.decode import decode_body  # noqa: E402
from watcher.errors import WatcherError  # noqa: E402
from watcher.text.html import extract_text  # noqa: E402
from watcher.results import ClaimResult

DATA = ROOT.parent / "shared" / "data"
_TOKEN = re.compile(r"\w+")
_LINK_TARGET = re.compile(r" ?\[(?:https?:|mailto:|tel:|ftp:|/)[^\]]*\]")


# ------------------------------------------------------------------ corpus


def corpus_row(half: str) -> dict[str, str]:
    outcomes = [run_pair(folder) for folder in pairs(half)]
    tp = sum(o.flagged and o.expect["flag"] for o in outcomes)
    fp = sum(o.flagged and not o.expect["flag"] for o in outcomes)
    fn = sum(not o.flagged and o.expect["flag"] for o in outcomes)
    rated = [o for o in outcomes if "severity" in o.expect]
    agree = sum(o.significance.severity == o.expect["severity"] for o in rated)
    claims = [(r.status, c["status"]) for o in outcomes for r, c in _claims(o)]
    laws = [o for o in outcomes if "law" in o.expect]
    return {
        "half": half,
        "pairs": f"{len(outcomes)} ({sum(not o.expect['flag'] for o in outcomes)} noise)",
        "flag precision": _ratio(tp, tp + fp),
        "flag recall": _ratio(tp, tp + fn),
        "severity agreement": _ratio(agree, len(rated)),
        "claims right": _ratio(sum(a == b for a, b in claims), len(claims)),
        "law units right": _ratio(sum(_law_right(o) for o in laws), len(laws)),
        "misses": ", ".join(_misses(outcomes)) or "-",
    }


def _claims(outcome: Outcome) -> Iterator[tuple[ClaimResult, dict[str, str]]]:
    return zip(outcome.claims, outcome.expect.get("claims", []), strict=True)


def _law_right(outcome: Outcome) -> bool:
    law, expected = outcome.law, outcome.expect["law"]
    return law is not None and (
        [c.label for c in law.changed] == expected["changed"]
        and list(law.added) == expected["added"]
        and list(law.removed) == expected["removed"]
        and law.edition_date == expected["edition"]
    )


def _misses(outcomes: list[Outcome]) -> Iterator[str]:
    for o in outcomes:
        if o.flagged != o.expect["flag"]:
            yield f"{o.name} (flag)"
        elif "severity" in o.expect and o.significance.severity != o.expect["severity"]:
            yield f"{o.name} ({o.significance.severity} != {o.expect['severity']})"
        if "law" in o.expect and not _law_right(o):
            yield f"{o.name} (law units)"


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "n/a"


# -------------------------------------------------------------- extraction


def tokens(text: str) -> Counter[str]:
    return Counter(t.lower() for t in _TOKEN.findall(_LINK_TARGET.sub("", text)))


def prf(found: Counter[str], truth: Counter[str]) -> tuple[float, float, float]:
    overlap = sum((found & truth).values())
    precision = overlap / max(sum(found.values()), 1)
    recall = overlap / max(sum(truth.values()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _extract(html: str) -> str:
    try:
        return extract_text(html, base_url="https://example.org/")
    except WatcherError:
        return ""


def _decoded(data: bytes) -> str:
    return decode_body(data, header_charset=None, content_type="text/html")[0]


def readability_cases() -> Iterator[tuple[str, str]]:
    for folder in sorted((DATA / "readability_testpages").iterdir()):
        source, expected = folder / "source.html", folder / "expected.html"
        if source.is_file() and expected.is_file():
            yield _decoded(source.read_bytes()), _extract(_decoded(expected.read_bytes()))


def aeb_cases() -> Iterator[tuple[str, str]]:
    folder = DATA / "scrapinghub_aeb"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    for key, item in sorted(truth.items()):
        page = folder / "html" / f"{key}.html.gz"
        if page.is_file():
            yield _decoded(gzip.decompress(page.read_bytes())), item.get("articleBody") or ""


def extraction_row(name: str, cases: Iterator[tuple[str, str]]) -> dict[str, str]:
    scores = [prf(tokens(_extract(html)), tokens(truth)) for html, truth in cases if truth]
    count = max(len(scores), 1)
    p, r, f = (sum(s[i] for s in scores) / count for i in range(3))
    return {
        "set": name,
        "pages": str(len(scores)),
        "precision": f"{p:.3f}",
        "recall": f"{r:.3f}",
        "F1": f"{f:.3f}",
    }


# ------------------------------------------------------------------- output


def table(rows: list[dict[str, str]]) -> str:
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(row[k]) for row in rows)) for k in keys}
    lines = [" | ".join(k.ljust(widths[k]) for k in keys)]
    lines.append("-+-".join("-" * widths[k] for k in keys))
    lines += [" | ".join(row[k].ljust(widths[k]) for k in keys) for row in rows]
    return "\n".join(lines)


def main() -> None:
    print("Corpus (flag = a minor or major change after extract + normalize + noise filter)")
    print(table([corpus_row(half) for half in HALVES]))
    print()
    if not DATA.is_dir():
        print(f"extraction: skipped ({DATA} not found)")
        return
    rows = []
    if (DATA / "readability_testpages").is_dir():
        rows.append(extraction_row("readability_testpages", readability_cases()))
    if (DATA / "scrapinghub_aeb" / "ground-truth.json").is_file():
        rows.append(extraction_row("scrapinghub_aeb", aeb_cases()))
    if rows:
        print("Extraction of the main text (extract_text, no select; mean over pages)")
        print(table(rows))


if __name__ == "__main__":
    main()
