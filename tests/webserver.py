"""A real HTTP(S) server on 127.0.0.1 for end-to-end tests.

Each test sets routes (path -> :class:`Page`, or a list of pages served
in turn, the last one repeating) and can change them between checks. A
page can misbehave on purpose: arrive slowly, be gzip-compressed, be cut
short. The server records every request and the largest number of
requests in flight at once, so tests can assert politeness limits.
"""

from __future__ import annotations

import gzip
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    """What the server answers on one path."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: str | None = None
    gzip: bool = False
    drip: float = 0.0
    truncate: int | None = None
    hold: threading.Event | None = None
    """The answer waits until the test sets this event (at most a minute)."""

    def payload(self) -> bytes:
        data = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        return gzip.compress(data, mtime=0) if self.gzip else data


Route = Page | list[Page]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: WebSite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed check) is no error of the server's."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        site._enter(self.path, dict(self.headers.items()))
        try:
            self._answer(site._next(self.path.split("?")[0]))
        finally:
            site._leave()

    def _answer(self, page: Page | None) -> None:
        if page is None:
            self._send(404, b"not found", "text/plain", {})
            return
        if page.hold is not None:
            page.hold.wait(timeout=60)
        if page.delay:
            time.sleep(page.delay)
        if page.etag and self.headers.get("If-None-Match") == page.etag:
            self._send(304, b"", None, {"ETag": page.etag})
            return
        headers = dict(page.headers)
        if page.etag:
            headers["ETag"] = page.etag
        if page.gzip:
            headers["Content-Encoding"] = "gzip"
        self._send(page.status, page.payload(), page.content_type, headers, page)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str],
        page: Page | None = None,
    ) -> None:
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self._write(body, page)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def _write(self, body: bytes, page: Page | None) -> None:
        if page is not None and page.truncate is not None:
            self.wfile.write(body[: page.truncate])
            self.wfile.flush()
            self.close_connection = True
            return
        if page is not None and page.drip:
            for start in range(0, len(body), 64):
                self.wfile.write(body[start : start + 64])
                self.wfile.flush()
                time.sleep(page.drip)
            return
        self.wfile.write(body)


class WebSite:
    """The test server: start it, set routes, read its counters."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[tuple[str, float]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server(self)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def start(self) -> WebSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def hits(self, path: str) -> list[float]:
        """Monotonic times of the requests for ``path``."""
        return [at for p, at in self.times if p == path]

    def _next(self, path: str) -> Page | None:
        with self._lock:
            route = self.routes.get(path)
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
            return route

    def _enter(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((path, headers))
            self.times.append((path.split("?")[0], time.monotonic()))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
