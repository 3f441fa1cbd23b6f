"""A simulated web for the benchmark: N pages over H hosts in one asyncio process.

Each host is one listening port on 127.0.0.1 (watcher's per-host limit keys
on host:port). Every request waits a latency drawn from 50-200 ms,
deterministic per (page, request number since the last reset), then gets the
page from a pre-rendered cache. Pages carry ETag/Last-Modified (both derived
from the page's content and furniture revisions only) and conditional
requests get a 304; ~5% "dynamic" pages have no validators and regenerate
their counter and token on every request. ``/robots.txt`` (allow all) is
served and counted per host.

A control port serves JSON (all GET):

- ``/manifest``            pages (id, url, charset, dynamic), ``select``, ``ignore``
- ``/stats``               per host: requests, robots, 200s, 304s, bytes,
                           max in flight, sum of latencies; farm CPU seconds
- ``/stats/reset``         zero the counters (request numbers keep counting)
- ``/reset``               back to version 0, request numbers from 0 (a new repeat)
- ``/version?set=K``       switch to version K: each switch changes the article
                           of ``--content-share`` of the pages and only the
                           furniture of another ``--furniture-share``
- ``/truth?version=K``     which pages that switch changed (content / furniture)

Run: ``python bench/farm.py --pages 1000 --hosts 20``; it prints one line
``READY {json}`` (control port, host ports) when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages  # noqa: E402
from pages import PageSpec  # noqa: E402

ROBOTS = b"User-agent: *\nAllow: /\n"
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: Last-Modified = EPOCH + revisions


@dataclass
class HostStats:
    """Counters of one host since the last stats reset."""

    requests: int = 0
    robots: int = 0
    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    bytes: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    latency_sum: float = 0.0

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.pop("in_flight")
        data["latency_sum"] = round(self.latency_sum, 4)
        return data


@dataclass
class Rendered:
    """A page as currently served: body (with placeholders if dynamic) and validators."""

    body: bytes
    etag: str
    last_modified: str
    content_type: str


@dataclass
class Switch:
    """The pages one version switch changed."""

    content: frozenset[int]
    furniture: frozenset[int]


@dataclass
class Farm:
    """Pages, their revisions and the per-host counters."""

    specs: list[PageSpec]
    hosts: int
    seed: int
    page_bytes: int
    content_share: float
    furniture_share: float
    book: pages.Phrasebook = field(init=False)
    version: int = 0
    cache: dict[int, Rendered] = field(default_factory=dict)
    revisions: dict[int, tuple[int, int]] = field(default_factory=dict)
    request_numbers: dict[int, int] = field(default_factory=dict)
    stats: list[HostStats] = field(default_factory=list)
    cpu_mark: float = 0.0
    by_path: dict[tuple[int, str], PageSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.book = pages.Phrasebook(self.seed)
        self.by_path = {(s.host, s.path): s for s in self.specs}
        self.reset()

    # -- versions ---------------------------------------------------------

    def switch(self, step: int) -> Switch:
        """Deterministic page sets changed by switch ``step`` (1-based)."""
        order = list(range(len(self.specs)))
        random.Random(self.seed * 7919 + step).shuffle(order)
        content = round(len(order) * self.content_share)
        furniture = round(len(order) * self.furniture_share)
        return Switch(frozenset(order[:content]), frozenset(order[content : content + furniture]))

    def set_version(self, version: int) -> None:
        revisions = {spec.index: (0, 0) for spec in self.specs}
        for step in range(1, version + 1):
            changed = self.switch(step)
            for index in changed.content:
                content, furniture = revisions[index]
                revisions[index] = (content + 1, furniture + 1)
            for index in changed.furniture:
                content, furniture = revisions[index]
                revisions[index] = (content, furniture + 1)
        for spec in self.specs:
            if self.revisions.get(spec.index) != revisions[spec.index]:
                self.cache[spec.index] = self._render(spec, *revisions[spec.index])
        self.revisions = revisions
        self.version = version

    def _render(self, spec: PageSpec, content: int, furniture: int) -> Rendered:
        text_bytes = int(self.page_bytes * 0.7)
        article = pages.build_article(self.book, spec, self.seed, text_bytes, content)
        body = pages.render(
            self.book, spec, article, pages.Furniture(furniture, spec.index, self.seed), self.page_bytes
        )
        charset = f"; charset={spec.charset}" if spec.charset_in_header else ""
        return Rendered(
            body=body,
            etag='"' + hashlib.sha1(body).hexdigest()[:20] + '"',
            last_modified=formatdate(EPOCH + content * 86_400 + furniture * 3_600, usegmt=True),
            content_type="text/html" + charset,
        )

    def reset(self) -> None:
        self.set_version(0)
        self.request_numbers = {}
        self.reset_stats()

    def reset_stats(self) -> None:
        self.stats = [HostStats() for _ in range(self.hosts)]
        self.cpu_mark = time.process_time()

    # -- serving ------------------------------------------------------------

    def latency(self, key: int) -> float:
        """50-200 ms, deterministic per (key, request number)."""
        number = self.request_numbers.get(key, 0)
        self.request_numbers[key] = number + 1
        return random.Random(self.seed * 1_000_003 + key * 65_537 + number).uniform(0.05, 0.2)

    def respond(self, host: int, path: str, headers: dict[str, str]) -> tuple[bytes, int]:
        """Status line, headers and body for one request; also the status."""
        stats = self.stats[host]
        if path == "/robots.txt":
            stats.robots += 1
            return _response(200, "OK", {"Content-Type": "text/plain"}, ROBOTS), 200
        spec = self.by_path.get((host, path))
        if spec is None:
            stats.not_found += 1
            return _response(404, "Not Found", {"Content-Type": "text/plain"}, b"not found\n"), 404
        page = self.cache[spec.index]
        if spec.dynamic:
            return self._dynamic(spec, page), 200
        if _not_modified(page, headers):
            stats.not_modified += 1
            validators = {"ETag": page.etag, "Last-Modified": page.last_modified}
            return _response(304, "Not Modified", validators, b""), 304
        stats.ok += 1
        head = {"Content-Type": page.content_type, "ETag": page.etag, "Last-Modified": page.last_modified}
        return _response(200, "OK", head, page.body), 200

    def _dynamic(self, spec: PageSpec, page: Rendered) -> bytes:
        self.stats[spec.host].ok += 1
        number = self.request_numbers.get(spec.index, 0)
        token = hashlib.sha1(f"{spec.index}:{number}".encode()).hexdigest().encode()
        body = page.body.replace(pages.VIEWS_MARK, str(5000 + number).encode())
        body = body.replace(pages.TOKEN_MARK, token)
        return _response(200, "OK", {"Content-Type": page.content_type, "Cache-Control": "no-cache"}, body)

    def key(self, host: int, path: str) -> int:
        spec = self.by_path.get((host, path))
        return spec.index if spec is not None else -1 - host


def _not_modified(page: Rendered, headers: dict[str, str]) -> bool:
    match = headers.get("if-none-match")
    if match is not None:
        return page.etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = headers.get("if-modified-since")
    return since is not None and since == page.last_modified


def _response(status: int, reason: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}", "Server: bench-farm"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ---------------------------------------------------------------------------
# the HTTP side


async def serve_host(farm: Farm, host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep-alive HTTP/1.1 for GET/HEAD; one request at a time per connection."""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            method, path, headers = _parse(head)
            stats = farm.stats[host]
            stats.requests += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            delay = farm.latency(farm.key(host, path))
            stats.latency_sum += delay
            try:
                await asyncio.sleep(delay)
                data, status = farm.respond(host, path, headers)
                if method == "HEAD":
                    data = data[: data.index(b"\r\n\r\n") + 4]
                stats.bytes += len(data)
                writer.write(data)
                await writer.drain()
            finally:
                stats.in_flight -= 1
            if headers.get("connection", "").lower() == "close":
                return
    except ConnectionError:
        return
    finally:
        writer.close()


def _parse(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return method, urlsplit(target).path or "/", headers


async def serve_control(farm: Farm, base_urls: list[str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        _method, target, _headers = _parse(head)
        query = parse_qs(urlsplit(head.decode("latin-1").split(" ")[1]).query)
        payload = control(farm, base_urls, target, query)
        body = json.dumps(payload, ensure_ascii=False).encode()
        writer.write(_response(200, "OK", {"Content-Type": "application/json", "Connection": "close"}, body))
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def control(farm: Farm, base_urls: list[str], path: str, query: dict[str, list[str]]) -> Any:
    if path == "/manifest":
        return manifest(farm, base_urls)
    if path == "/stats":
        return stats(farm)
    if path == "/stats/reset":
        farm.reset_stats()
        return {"ok": True}
    if path == "/reset":
        farm.reset()
        return {"ok": True, "version": farm.version}
    if path == "/version":
        if "set" in query:
            farm.set_version(int(query["set"][0]))
        return {"version": farm.version}
    if path == "/truth":
        changed = farm.switch(int(query.get("version", [str(farm.version)])[0]))
        ids = {spec.index: spec.id for spec in farm.specs}
        return {
            "content": sorted(ids[i] for i in changed.content),
            "furniture": sorted(ids[i] for i in changed.furniture),
            "dynamic": sorted(spec.id for spec in farm.specs if spec.dynamic),
        }
    return {"error": f"unknown control path {path}"}


def manifest(farm: Farm, base_urls: list[str]) -> dict[str, Any]:
    return {
        "select": pages.SELECT,
        "ignore": list(pages.IGNORE),
        "hosts": base_urls,
        "pages": [
            {
                "id": spec.id,
                "url": base_urls[spec.host] + spec.path,
                "title": spec.title,
                "host": spec.host,
                "charset": spec.charset,
                "charset_in_header": spec.charset_in_header,
                "dynamic": spec.dynamic,
            }
            for spec in farm.specs
        ],
    }


def stats(farm: Farm) -> dict[str, Any]:
    return {
        "version": farm.version,
        "farm_cpu_s": round(time.process_time() - farm.cpu_mark, 4),
        "hosts": [s.as_json() for s in farm.stats],
    }


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    farm = Farm(
        specs=pages.make_specs(args.pages, args.hosts, args.seed),
        hosts=args.hosts,
        seed=args.seed,
        page_bytes=args.page_kb * 1024,
        content_share=args.content_share,
        furniture_share=args.furniture_share,
    )
    servers = []
    base_urls = []
    for host in range(args.hosts):
        server = await asyncio.start_server(
            lambda r, w, h=host: serve_host(farm, h, r, w), "127.0.0.1", 0, backlog=1024
        )
        servers.append(server)
        base_urls.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    ctl = await asyncio.start_server(
        lambda r, w: serve_control(farm, base_urls, r, w), "127.0.0.1", args.control_port
    )
    sizes = [len(p.body) for p in farm.cache.values()]
    ready = {
        "control": f"http://127.0.0.1:{ctl.sockets[0].getsockname()[1]}",
        "hosts": base_urls,
        "pages": len(farm.specs),
        "mean_page_bytes": sum(sizes) // max(1, len(sizes)),
        "startup_s": round(time.monotonic() - started, 2),
    }
    print("READY " + json.dumps(ready), flush=True)
    await asyncio.gather(ctl.serve_forever(), *(s.serve_forever() for s in servers))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--page-kb", type=int, default=60, help="approximate page size (UTF-8 bytes)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--control-port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--content-share", type=float, default=0.10)
    parser.add_argument("--furniture-share", type=float, default=0.30)
    return parser.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parse_args()))
