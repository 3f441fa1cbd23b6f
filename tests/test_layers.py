"""The import-layer contract: every arrow points down the data path.

Each module of ``src/watcher`` belongs to a layer; it may import from its
own layer's package and from layers below it, never from a layer above
(the display never reaches up into the orchestrator, a stage never
reaches into a later one). Siblings on one layer do not import each
other. Imports inside functions count too: deferring an upward import
does not make it point down.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "watcher"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("watcher.__main__",),
    ("watcher.cli",),
    ("watcher.web",),
    ("watcher.daemon",),
    ("watcher.notify",),
    ("watcher.report",),
    ("watcher.check",),
    ("watcher.project",),
    ("watcher.guides",),
    ("watcher.config",),
    ("watcher.changes",),
    ("watcher.fetch", "watcher.text", "watcher.store", "watcher.schedule", "watcher.demo"),
    ("watcher.state", "watcher.log"),
    ("watcher.results",),
    ("watcher.errors", "watcher"),
    ("watcher.redact",),
)
"""Top first. A module's layer is the one holding the longest prefix of its name."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _home(name: str) -> tuple[int, str]:
    """(layer index, package) of a module: the longest matching prefix wins."""
    best: tuple[int, str] | None = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            inside = name == package or name.startswith(package + ".")
            if inside and (best is None or len(package) > len(best[1])):
                best = (index, package)
    assert best is not None, f"{name} is in no layer: add it to LAYERS"
    return best


def _imports(path: Path, name: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[
                    : len(name.split(".")) - node.level + (path.stem == "__init__")
                ]
                base = ".".join([*package, *([base] if base else [])])
            if base == "watcher" or base.startswith("watcher."):
                targets = [base]
                if base == "watcher":
                    targets = [f"watcher.{alias.name}" for alias in node.names]
                found += [(node.lineno, target) for target in targets]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name.startswith("watcher")
            ]
    return found


def _violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        layer, package = _home(name)
        for line, target in _imports(path, name):
            if target in ("watcher", "watcher.__version__"):
                continue
            their_layer, their_package = _home(target)
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {name} imports {target}"
            if their_layer < layer:
                problems.append(f"{where} (an upward import)")
            elif their_layer == layer and their_package != package:
                problems.append(f"{where} (siblings on one layer)")
    return problems


def test_every_import_points_down_the_layers() -> None:
    assert _violations() == []


@pytest.mark.parametrize("stage", ["fetch", "text", "store", "changes", "guides", "check"])
def test_the_stages_are_folders(stage: str) -> None:
    assert (PACKAGE / stage / "__init__.py").is_file()


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}
