"""The README's five-minute tour, run as written; the demo site's port, as a user meets it."""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_demo_command import CHECK_LINE
from watcher.cli.demo import start_site

README = Path(__file__).parent.parent / "README.md"


def tour_lines() -> list[tuple[str, str]]:
    """The tour's commands, each with its comment."""
    text = README.read_text(encoding="utf-8").split("\n## A five-minute tour\n", 1)[1]
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = []
    for line in block.splitlines():
        command, _, comment = line.partition(" # ")
        lines.append((command.strip(), comment.strip()))
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Tour:
    """Runs the tour's lines in ``root`` (for /tmp/demo), the site on ``port`` (for 8765)."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.background: subprocess.Popen[str] | None = None

    def words(self, command: str) -> list[str]:
        command = command.replace("/tmp/demo", str(self.root / "demo"))
        command = command.replace("8765", str(self.port))
        words = shlex.split(command)
        if words[:2] == [".venv/bin/watcher", "demo"]:
            words.append(f"--port={self.port}")  # the README's 8765, free in this test
        return words

    def run(self, command: str) -> tuple[int, str]:
        background = command.endswith("&")
        words = self.words(command.rstrip("& "))
        if words[0] == "kill":
            assert self.background is not None
            self.background.terminate()
            self.background.wait(30)
            return 0, ""
        if words[0] == "curl":
            with urllib.request.urlopen(words[-1], timeout=30) as answer:
                return 0, answer.read().decode()
        if words[0] == "sed":  # editing the kept sources.yaml, as the tour says
            done = subprocess.run(words, capture_output=True, text=True, check=False)
            return done.returncode, done.stdout + done.stderr
        assert words[0] == ".venv/bin/watcher", command
        if background:
            self.background = self._serve(words[1:])
            return 0, ""
        done = run_cli(*words[1:], cwd=self.root)
        return done.returncode, done.stdout + done.stderr

    def _serve(self, args: list[str]) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the site is bound
        assert first.startswith("Serving the watcher demo site"), first
        return process


@pytest.fixture
def tour(tmp_path: Path) -> Iterator[Tour]:
    runner = Tour(tmp_path, free_port())
    try:
        yield runner
    finally:
        if runner.background is not None and runner.background.poll() is None:
            runner.background.kill()
            runner.background.wait(30)


def test_the_readme_tour_works_as_written(tour: Tour) -> None:
    lines = tour_lines()
    assert lines[0][0].startswith(".venv/bin/watcher demo --keep /tmp/demo")
    # A tour taken twice: --keep rebuilds the folder the first --keep made.
    assert tour.run(lines[0][0])[0] == 0
    for command, comment in lines:
        code, output = tour.run(command)
        expected = re.search(r"\bexit (\d+)", comment)
        assert code == (int(expected.group(1)) if expected else 0), f"{command}\n{output}"
        for count, what in re.findall(r"\b(\d+) (changed|guides? flagged)", comment):
            assert f" {count} {what}" in output, f"{command}\n{output}"
        if "[major]" in comment:
            assert "[major]" in output, output
        assert "reverted" not in output, f"{command}\n{output}"
        if command.startswith(".venv/bin/watcher demo --keep"):
            story = [tuple(map(int, m.groups())) for m in CHECK_LINE.finditer(output)]
            assert story == [(0, 0, 4, 0, 0), (4, 0, 0, 0, 0), (2, 2, 0, 0, 1)], output


def test_serve_on_a_busy_port_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("demo", "--serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"cannot serve the demo site on 127.0.0.1:{port}" in result.stderr
    assert "--port N" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("port", ["70000", "0", "http"])
def test_a_bad_port_is_a_usage_error(tmp_path: Path, port: str) -> None:
    result = run_cli("demo", "--serve", "--port", port, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Invalid value for '--port'" in result.stderr


def time_wait_on(port: int) -> None:
    """Leave a connection in TIME_WAIT on ``port``, as a demo that just served a check does.

    Like the demo site's server, the listening socket reuses its address
    (Linux lets a port be bound again over TIME_WAIT only when both did).
    """
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server closes first: its side waits in TIME_WAIT
        client.recv(1)
        client.close()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # still in TIME_WAIT: a bind without reuse fails


def test_the_default_port_is_reused_right_after_a_demo(tmp_path: Path) -> None:
    """`demo --keep` right after `demo` must still get 8765, or the kept project points nowhere."""
    port = free_port()
    time_wait_on(port)
    site = start_site(None, default=port)
    try:
        assert site.base_url == f"http://127.0.0.1:{port}"
    finally:
        site.stop()


def test_keep_refuses_a_folder_that_is_not_a_demo_project(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli("demo", "--keep", str(folder), cwd=tmp_path)
    assert result.returncode == 2
    assert "is not empty and holds no demo project" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
