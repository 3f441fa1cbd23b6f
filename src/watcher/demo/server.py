"""The bundled offline demo site that ``watcher demo`` checks.

Pages live in ``site/``; ``site/amended/`` holds only the pages an amendment
changes, and every other page falls back to its original. All files are
stored as UTF-8 so they stay readable in git: the pages named in
:data:`PAGE_ENCODINGS` are encoded when served, with no charset in the HTTP
header, so that only their ``<meta charset>`` declares the encoding (as on
many regional Russian sites).

Every page request fills the furniture placeholders with plain
``str.replace``: ``{{counter}}`` (visits, one more per request),
``{{now}}`` and ``{{now_date}}`` (local time, ``DD.MM.YYYY HH:MM:SS``),
and ``{{site}}`` (the site's own address, for the guides' links).

Control endpoints (``GET`` or ``POST``) for ``watcher demo --serve``:
``/_demo/amend`` and ``/_demo/original`` switch the version,
``/_demo/version`` tells the current one.
"""

from __future__ import annotations

import threading
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

ORIGINAL = "original"
AMENDED = "amended"
VERSIONS = (ORIGINAL, AMENDED)

PAGES = (
    "oms-fund-foreigners.html",
    "insurer-foreigners.html",
    "law-326fz.html",
    "emergency-112.html",
)
"""The demo pages, served at ``/<name>``."""

GUIDE_PAGES = (
    "guides/medical-insurance.html",
    "guides/medical-help.html",
    "guides/emergency-numbers.html",
)
"""The demo's published guides, laid out like the publisher's: ``watcher audit`` reads
them at ``http://localhost:PORT/`` (another site than the sources at 127.0.0.1)."""

INDEX = "index.html"
PAGE_ENCODINGS = {"oms-fund-foreigners.html": "windows-1251"}
"""Pages served in a legacy encoding declared only by their ``<meta charset>``."""

TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
FIRST_VISIT = 1287
CONTROL_PREFIX = "/_demo/"
POLL_INTERVAL = 0.05  # seconds; how quickly stop() is noticed by serve_forever
_TEXT_PLAIN = "text/plain; charset=utf-8"


def _package() -> Traversable:
    return files("watcher.demo")


def _read_page(name: str, version: str) -> str:
    """The text of one page in ``version``, falling back to the original."""
    site = _package() / "site"
    amended = site / "amended" / name
    if version == AMENDED and amended.is_file():
        return amended.read_text(encoding="utf-8")
    return (site / name).read_text(encoding="utf-8")


def _load_version(version: str) -> dict[str, str]:
    return {name: _read_page(name, version) for name in (INDEX, *PAGES, *GUIDE_PAGES)}


def fill_furniture(text: str, visit: int, now: datetime) -> str:
    """Replace the per-request placeholders of a page."""
    stamp = now.strftime(TIME_FORMAT)
    text = text.replace("{{counter}}", str(visit))
    return text.replace("{{now}}", stamp).replace("{{now_date}}", stamp)


def encode_page(name: str, text: str) -> tuple[bytes, str]:
    """The body and Content-Type a page is served with."""
    encoding = PAGE_ENCODINGS.get(name)
    if encoding is None:
        return text.encode("utf-8"), "text/html; charset=utf-8"
    return text.encode(encoding), "text/html"


def _check_version(version: str) -> str:
    if version not in VERSIONS:
        raise ValueError(f"unknown demo version {version!r}; use one of {', '.join(VERSIONS)}")
    return version


class _SiteState:
    """Version, visit counter and page texts shared by the handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = ORIGINAL
        self._visits = FIRST_VISIT
        self._pages = {version: _load_version(version) for version in VERSIONS}

    @property
    def version(self) -> str:
        with self._lock:
            return self._version

    def set_version(self, version: str) -> None:
        _check_version(version)
        with self._lock:
            self._version = version

    def next_visit(self) -> int:
        with self._lock:
            self._visits += 1
            return self._visits

    def page(self, name: str) -> str | None:
        """The current version of a page, or None if there is no such page."""
        return self._pages[self.version].get(name)


class _DemoHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the demo site state."""

    def __init__(self, address: tuple[str, int], state: _SiteState) -> None:
        self.state = state
        super().__init__(address, _DemoHandler)


def _page_name(path: str) -> str:
    return INDEX if path in ("", "/") else path.lstrip("/")


class _DemoHandler(BaseHTTPRequestHandler):
    """Serves the demo pages and the control endpoints."""

    server_version = "watcher-demo"

    @property
    def state(self) -> _SiteState:
        server = self.server
        assert isinstance(server, _DemoHTTPServer)
        return server.state

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the demo prints its own output."""

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_POST(self) -> None:
        self._discard_body()
        path = urlsplit(self.path).path
        if path.startswith(CONTROL_PREFIX):
            self._control(path, head=False)
        else:
            message = "405 Method Not Allowed\n"
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, _TEXT_PLAIN, message.encode(), head=False)

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def _dispatch(self, *, head: bool) -> None:
        path = urlsplit(self.path).path
        if path.startswith(CONTROL_PREFIX):
            self._control(path, head=head)
        else:
            self._page(_page_name(path), head=head)

    def _page(self, name: str, *, head: bool) -> None:
        text = self.state.page(name)
        if text is None:
            self._send(HTTPStatus.NOT_FOUND, _TEXT_PLAIN, b"404 Not Found\n", head=head)
            return
        filled = fill_furniture(text, self.state.next_visit(), datetime.now())
        filled = filled.replace("{{site}}", self._site_url())
        body, content_type = encode_page(name, filled)
        self._send(HTTPStatus.OK, content_type, body, head=head)

    def _site_url(self) -> str:
        """``http://HOST:PORT`` of this server, as the demo sources name it."""
        address = self.server.server_address
        assert isinstance(address, tuple)
        return f"http://{address[0]}:{address[1]}"

    def _control(self, path: str, *, head: bool) -> None:
        action = path.removeprefix(CONTROL_PREFIX)
        if action == "amend":
            self.state.set_version(AMENDED)
        elif action == "original":
            self.state.set_version(ORIGINAL)
        elif action != "version":
            self._send(HTTPStatus.NOT_FOUND, _TEXT_PLAIN, b"404 Not Found\n", head=head)
            return
        body = f"demo site version: {self.state.version}\n".encode()
        self._send(HTTPStatus.OK, _TEXT_PLAIN, body, head=head)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, *, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD")
        self.end_headers()
        if not head:
            self.wfile.write(body)


class DemoSite:
    """The bundled demo site on 127.0.0.1, in a background thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with DemoSite() as site:
            config_text = render_config(site.base_url)
            site.set_version(AMENDED)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._state = _SiteState()
        self._server: _DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Bind and serve in a daemon thread; return the base URL (no trailing slash).

        Raises OSError if the address cannot be bound (e.g. the port is taken).
        """
        if self._server is not None:
            raise RuntimeError("the demo site is already running")
        self._server = _DemoHTTPServer((self._host, self._port), self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name="watcher-demo-site",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port; does nothing if not running."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running site."""
        if self._server is None:
            raise RuntimeError("the demo site is not running; call start() first")
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def version(self) -> str:
        """The version being served: ``"original"`` or ``"amended"``."""
        return self._state.version

    def set_version(self, version: str) -> None:
        """Serve ``"original"`` or ``"amended"`` pages from the next request on."""
        self._state.set_version(version)

    def __enter__(self) -> DemoSite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def render_config(base_url: str) -> str:
    """The demo ``sources.yaml`` text with ``{base_url}`` and ``{guides_url}`` filled in.

    The guides are the same server under the name ``localhost``: another site
    than the sources, as published guides are.
    """
    template = (_package() / "sources.yaml").read_text(encoding="utf-8")
    base = base_url.rstrip("/")
    guides = base.replace("://127.0.0.1:", "://localhost:", 1)
    return template.replace("{base_url}", base).replace("{guides_url}", guides)
