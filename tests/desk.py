"""Helpers for the editor desk's tests: a demo project, the desk on uvicorn, a logged-in client."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx
import uvicorn

from tests.conftest import run_cli
from watcher.config import load_config
from watcher.project import Project
from watcher.results import utcnow
from watcher.web.accounts import add_account
from watcher.web.app import create_app

GUIDE = "demo-medical-insurance"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def guide_url(config: Path) -> str:
    """The demo guide's published address (the demo serves its guides itself)."""
    return load_config(config).guide(GUIDE).url


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def update_demo_claims(config: Path) -> None:
    """What the editor does besides signing off: the guide's claims follow the new text."""
    text = config.read_text(encoding="utf-8")
    text = text.replace("не менее трех лет", "не менее пяти лет").replace("555-01-23", "555-01-45")
    config.write_text(text, encoding="utf-8")


def build_demo(directory: Path) -> Path:
    """``watcher demo --keep DIR``: a project whose demo-medical-insurance needs review."""
    done = run_cli("demo", "--keep", str(directory), cwd=directory.parent)
    assert done.returncode == 0, done.stderr
    return directory / "sources.yaml"


def copy_project(template: Path, directory: Path) -> Path:
    shutil.copytree(template, directory)
    return directory / "sources.yaml"


def add_users(config: Path) -> None:
    project = Project.load(config)
    try:
        add_account(project, "Anna", "editor", PASSWORD, utcnow(), email="anna@example.org")
        add_account(project, "Max", "maintainer", PASSWORD, utcnow())
    finally:
        project.close()


class DeskServer:
    """The real desk application on uvicorn, on a free 127.0.0.1 port, in a thread."""

    def __init__(self, config: Path, *, commit: bool = False) -> None:
        self.project = Project.load(config)
        self.app = create_app(self.project, commit=commit)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config_ = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config_)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> DeskServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the desk did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
        self.project.close()


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": name, "password": password, "next": "/"},
    )


def token(client: httpx.Client, path: str = "/") -> str:
    """A CSRF token from a page of the logged-in client."""
    return csrf_of(client.get(path).text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(config: Path, *args: str) -> Iterator[str]:
    """``watcher serve`` itself, as a subprocess, until the block ends; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "watcher", "serve", "-c", str(config), "--port", str(port)]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen([*command, *args], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(f"http://127.0.0.1:{port}", process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/login", timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None:
                log.seek(0)
                raise AssertionError(f"watcher serve exited: {log.read()}") from None
            assert time.monotonic() < deadline, "watcher serve did not start"
            time.sleep(0.1)
