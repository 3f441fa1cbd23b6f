"""Bodies: checked status, decompressed as they stream, never over ``max_size``."""

from __future__ import annotations

import zlib
from email.message import Message

import httpx

from watcher.errors import FetchError, NetworkError
from watcher.fetch.failures import network_error, status_error, too_large
from watcher.fetch.retry import retry_after

ERROR_BODY_SIZE = 256 * 1024


async def read_capped(response: httpx.Response, max_size: int) -> bytes:
    """Check the status, then read the body, decompressing with a hard cap.

    An error status raises :class:`HTTPStatusError` carrying the start of
    the body, so the quality gate can tell a challenge page served with
    403/429/503 from a plain outage.
    """
    if response.status_code >= 400:
        error = status_error(response, retry_after(response.headers.get("retry-after")))
        error.body = await _error_body(response)
        raise error
    return await _read_body(response, max_size)


async def _read_body(response: httpx.Response, limit: int) -> bytes:
    """The body, decompressed as it streams, never more than ``limit`` bytes."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
        raise too_large(str(response.url), int(declared), limit)
    decoder = _Decoder(encoding, limit, str(response.url))
    try:
        async for chunk in response.aiter_raw():
            decoder.feed(chunk)
    except httpx.HTTPError as exc:
        raise network_error(exc, str(response.url)) from exc
    return decoder.finish()


class _Decoder:
    """Content-Encoding decoder that never produces more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.size = 0
        self.parts: list[bytes] = []
        self.inflater = _inflater(encoding, url)

    def feed(self, data: bytes) -> None:
        if self.inflater is None:
            self._keep(data)
            return
        while data:
            out = self.inflater.decompress(data, self.limit - self.size + 1)
            self._keep(out)
            data = self.inflater.unconsumed_tail

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large(self.url, self.size, self.limit)
        self.parts.append(data)

    def finish(self) -> bytes:
        if self.inflater is not None:
            self._keep(self.inflater.flush())
        return b"".join(self.parts)


def _inflater(encoding: str, url: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise NetworkError(f"unsupported Content-Encoding {encoding!r} (we asked for gzip)", url=url)


async def _error_body(response: httpx.Response) -> bytes:
    """The start of an error page, for the quality gate; nothing if unreadable."""
    try:
        return await _read_body(response, ERROR_BODY_SIZE)
    except FetchError:
        return b""


def charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type header, lower case."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    value = message.get_param("charset")
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    return None
