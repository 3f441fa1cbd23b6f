"""Bodies: checked status, decompressed as they stream, never over ``max_size``.

A compressed body must end the way its format says a stream ends (gzip's
trailer, deflate's final block): a stream cut short, even one whose
``Content-Length`` matches what arrived, decodes to part of a page, so it
is a ``network`` failure, never a snapshot. So is a stream that is not
valid gzip or deflate, and an encoding we did not ask for (br, zstd...).
"""

from __future__ import annotations

import zlib
from email.message import Message

import httpx

from watcher.errors import FetchError, NetworkError
from watcher.fetch.failures import (
    WIRE_ERRORS,
    network_error,
    status_error,
    too_large,
    transient,
)
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
    except WIRE_ERRORS as exc:
        raise network_error(exc, str(response.url)) from exc
    return decoder.finish()


class _Decoder:
    """Content-Encoding decoder that never produces more than ``limit`` bytes.

    ``finish`` refuses a compressed stream that did not reach its end.
    """

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.encoding = encoding
        self.size = 0
        self.parts: list[bytes] = []
        self.inflater = _inflater(encoding, url)
        self.started = False

    def feed(self, data: bytes) -> None:
        if self.inflater is None:
            self._keep(data)
            return
        try:
            self._inflate(data)
        except zlib.error as exc:
            raise self._broken(f"invalid {self.encoding} data ({exc})", _CORRUPT) from None

    def _inflate(self, data: bytes) -> None:
        assert self.inflater is not None
        if not self.started and self.encoding == "deflate" and data:
            # "deflate" is meant to be zlib-wrapped; some servers send it raw.
            self.started = True
            if (data[0] & 0x0F) != 8 or int.from_bytes(data[:2], "big") % 31:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while data and not self.inflater.eof:
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
            try:
                self._keep(self.inflater.flush())
            except zlib.error as exc:
                raise self._broken(f"invalid {self.encoding} data ({exc})", _CORRUPT) from None
            if not self.inflater.eof:
                message = f"truncated compressed body: the {self.encoding} stream ended early"
                raise self._broken(message, "the server or a proxy cut the response")
        return b"".join(self.parts)

    def _broken(self, message: str, hint: str) -> NetworkError:
        return transient(NetworkError(message, url=self.url, hint=hint))


_CORRUPT = "the server sent a corrupt compressed body"


def _inflater(encoding: str, url: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise NetworkError(
        f"unsupported Content-Encoding {encoding!r} (we asked for gzip or deflate)", url=url
    )


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
