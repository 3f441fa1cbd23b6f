"""A real webhook receiver on 127.0.0.1: records every POST, answers a scripted status."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Post:
    """One request the receiver accepted (or refused)."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class Receiver:
    """Start it, point a webhook at ``url``, read ``posts``; ``statuses`` are answered in turn."""

    statuses: list[int] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accepted(self) -> list[Post]:
        with self._lock:
            return [p for p in self.posts if 200 <= p.status < 300]

    def events(self) -> list[str]:
        """The ``event`` of every accepted generic alert, in order."""
        return [p.body["event"] for p in self.accepted()]

    def _record(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.posts.append(Post(path, headers, json.loads(raw or b"null"), status))
            return status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver._record(self.path, dict(self.headers.items()), raw)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler
