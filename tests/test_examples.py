"""The examples install this project, under a distribution name of its own.

On the public package index, ``watcher`` is an unrelated project: an example
workflow that runs ``pip install watcher`` installs someone else's code. This
project is the distribution ``guide-watcher`` (the import package and the
``watcher`` command stay), installed from its repository.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
DIST_NAME = "guide-watcher"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml")) + sorted(EXAMPLES.glob("*.yaml"))


def test_the_distribution_has_its_own_name() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DIST_NAME
    assert project["scripts"]["watcher"] == "watcher.__main__:main"


def test_the_installed_distribution_is_this_project() -> None:
    dist = metadata.distribution(DIST_NAME)
    scripts = {e.name: e.value for e in dist.entry_points if e.group == "console_scripts"}
    assert scripts == {"watcher": "watcher.__main__:main"}


def steps(workflow: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for job_name, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or ():
            yield job_name, step


def pip_install_targets(run: str, env: Mapping[str, str]) -> list[list[str]]:
    """The arguments of each ``pip install`` in a step's script, variables expanded."""
    found = []
    for line in run.splitlines():
        line = line.split(" #", 1)[0]
        for command in re.split(r"&&|;|\|\|", line):
            words = shlex.split(re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m[1], m[0]), command))
            for index in range(len(words) - 1):
                if words[index].endswith("pip") and words[index + 1] == "install":
                    found.append([w for w in words[index + 2 :] if not w.startswith("-")])
    return found


def install_steps() -> Iterator[tuple[str, str, list[str]]]:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        env = dict(workflow.get("env") or {})
        for job_name, step in steps(workflow):
            step_env = {**env, **(step.get("env") or {})}
            for targets in pip_install_targets(str(step.get("run", "")), step_env):
                yield path.name, job_name, targets


def test_there_are_example_workflows_that_install_watcher() -> None:
    assert WORKFLOWS, "examples/ holds no workflow"
    assert list(install_steps()), "no example workflow installs watcher"


@pytest.mark.parametrize(
    ("workflow", "job", "targets"),
    list(install_steps()),
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_every_install_step_names_this_project(workflow: str, job: str, targets: list[str]) -> None:
    assert targets, f"{workflow}: job {job}: `pip install` with nothing to install"
    for target in targets:
        try:
            requirement = Requirement(target)
        except InvalidRequirement:
            pytest.fail(f"{workflow}: job {job}: {target!r} does not name the distribution")
        assert canonicalize_name(requirement.name) == DIST_NAME, (
            f"{workflow}: job {job}: installs {requirement.name!r}, not {DIST_NAME!r}"
        )
        assert requirement.url, (
            f"{workflow}: job {job}: {target!r} comes from the package index, not the repository"
        )


def test_pip_install_targets_reads_the_usual_spellings() -> None:
    env = {"PKG": "guide-watcher @ git+https://x.invalid/w.git"}
    assert pip_install_targets("pip install watcher", {}) == [["watcher"]]
    assert pip_install_targets('python -m pip install -q "$PKG" # note', env) == [
        ["guide-watcher @ git+https://x.invalid/w.git"]
    ]
    assert pip_install_targets(".venv/bin/pip install a && pip install b", {}) == [["a"], ["b"]]
