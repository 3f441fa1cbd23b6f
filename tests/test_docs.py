"""The docs stay honest: every command documented, every page reachable, a short README.

The site itself is built by CI (``mkdocs build --strict`` in ``.ci/run``);
these tests only read the sources, and render the CLI reference page the way
the site does, with the mkdocs-click Markdown extension.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import click
import markdown
import yaml

from watcher.cli import cli

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CLI_PAGE = DOCS / "cli.md"
README_LIMIT = 12 * 1024

# The README's two commands: tests and CI (.ci/run) depend on them, byte for byte.
TWO_COMMANDS = """\
```sh
# 1. install and run the offline demo (no network needed)
python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/watcher demo

# 2. install with test extras and run the whole test suite
python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/python -m pytest
```
"""


NamedCommand = tuple[tuple[str, ...], click.Command]


def walk(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[NamedCommand]:
    """Every command under ``group``, as (path of names, command); nested groups included."""
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            yield (*path, name), command
            yield from walk(command, (*path, name))


def click_directive(page: str) -> dict[str, str]:
    """The options of the page's ``::: mkdocs-click`` block."""
    match = re.search(r"^::: mkdocs-click\n((?:    :\w+: .*\n)+)", page, re.MULTILINE)
    assert match, f"{CLI_PAGE.name} has no ::: mkdocs-click block"
    return dict(re.findall(r"^    :(\w+): (.*)$", match.group(1), re.MULTILINE))


def rendered_cli_page() -> str:
    """docs/cli.md as the site renders it, the generated reference included."""
    extensions = ["tables", "fenced_code", "attr_list", "toc", "mkdocs-click"]
    return markdown.markdown(CLI_PAGE.read_text(encoding="utf-8"), extensions=extensions)


def nav_pages(nav: Any) -> Iterator[str]:
    """The Markdown files named anywhere in an mkdocs.yml ``nav``."""
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from nav_pages(value)


def test_cli_reference_is_generated_from_the_command_group() -> None:
    options = click_directive(CLI_PAGE.read_text(encoding="utf-8"))
    group = getattr(import_module(options["module"]), options["command"])
    assert group is cli, "the CLI reference must document the group `watcher` runs"
    assert options.get("prog_name") == "watcher"
    assert options.get("list_subcommands") == "true"


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    page = rendered_cli_page()
    commands = list(walk(cli))
    assert commands, "the click group has no commands"
    for path, command in commands:
        name = " ".join(path)
        assert f'id="watcher-{"-".join(path)}"' in page, f"watcher {name} has no section"
        for param in command.params:
            for opt in param.opts if isinstance(param, click.Option) else ():
                assert opt in page, f"watcher {name} {opt} is not in the CLI reference"


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes; move detail into docs/"


def test_readme_keeps_the_two_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("\n## Two commands\n", 1)
    assert len(section) == 2, "README.md lost its '## Two commands' section"
    assert TWO_COMMANDS in section[1].split("\n## ", 1)[0]


def test_getting_started_has_the_same_two_commands() -> None:
    page = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert TWO_COMMANDS in page


def test_readme_links_resolve() -> None:
    readme = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if "://" in target:
            continue
        assert (ROOT / target).exists(), f"README.md links to missing {target}"


def test_every_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(nav_pages(config["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages - in_nav == set(), "pages missing from the mkdocs.yml nav"
    assert in_nav - pages == set(), "nav entries without a page"
