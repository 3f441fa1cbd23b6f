"""The render stage on the spare cores: worker processes beside the fetching loop.

Turning a body into snapshot text (decode, quality gate, extract,
normalize: :func:`watcher.text.render.render_fetched`) is CPU work in C
extensions that hold the GIL, so a thread cannot overlap it with the event
loop that fetches; a process can. :class:`Renderers` starts ``workers``
processes running :func:`serve` and sends each fresh body to the least
busy one; requests and answers are pickles, framed by their length, on the
worker's stdin and stdout (both ends are this package: nothing else is
unpickled).

The result is the same function's, wherever it ran. Nothing waits on a
worker that is not there: until a worker says it is ready, while every
worker is busy, and after one dies, bodies are rendered in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import os
import pickle
import signal
import struct
import sys
from collections import deque
from types import MappingProxyType
from typing import Any, Final, Literal

from watcher.errors import SourceError
from watcher.results import Fetched
from watcher.text.render import Rendered, render_fetched
from watcher.text.rules import TextRules

AUTO_START_AFTER: Final = 64
"""``workers: auto`` starts its workers once a run has rendered this many bodies here.

A run of mostly 304s (or of a few sources) then never pays for a process
it would not use; a run with work to share starts them early enough.
"""

AUTO_MAX_WORKERS: Final = 4
BACKLOG: Final = 32
"""Bodies queued on a worker before the next one is rendered in this process."""

CLOSE_TIMEOUT: Final = 10.0
"""Seconds a worker has to exit after its input ends before it is killed."""

_HEADER = struct.Struct("!I")
_READY = b"ready"
Answer = tuple[Literal["ok", "error", "crash"], Any]


def _frozen_mapping(items: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(items)


# Models freeze their mappings in a mappingproxy, which pickle refuses:
# send the dict it wraps and freeze it again on the other side.
copyreg.pickle(MappingProxyType, lambda proxy: (_frozen_mapping, (dict(proxy),)))


def renderers_for(setting: int | str) -> Renderers:
    """The renderers of one run under the ``workers`` setting (``auto`` or a count)."""
    if setting != "auto":
        return Renderers(int(setting))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    spare = max(0, min(AUTO_MAX_WORKERS, (cores or 1) - 1))
    return Renderers(spare, start_after=AUTO_START_AFTER)


class Renderers:
    """Renders bodies in worker processes when there are any, else here."""

    def __init__(self, workers: int, *, start_after: int = 0) -> None:
        self.wanted = workers
        self._start_after = start_after
        self._workers: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None
        self.in_workers = 0
        self.in_process = 0

    async def render(
        self, rules: TextRules, fetched: Fetched, previous_size: int | None
    ) -> Rendered:
        if self.in_process >= self._start_after:
            self._start_once()
        worker = self._least_busy()
        if worker is not None:
            try:
                answer = await worker.ask((rules, fetched, previous_size))
            except _WorkerGone:
                pass
            else:
                self.in_workers += 1
                return _unpack(answer, rules, fetched, previous_size)
        self.in_process += 1
        return render_fetched(rules, fetched, previous_size)

    def _least_busy(self) -> _Worker | None:
        ready = [w for w in self._workers if w.ready and len(w.pending) < BACKLOG]
        return min(ready, key=lambda w: len(w.pending), default=None)

    async def ready(self) -> int:
        """Start the workers now and wait until each is ready or gone; how many are ready."""
        self._start_once()
        if self._starting is not None:
            await self._starting
        await asyncio.gather(*(w.answered_hello.wait() for w in self._workers))
        return sum(w.ready for w in self._workers)

    def _start_once(self) -> None:
        if self.wanted and self._starting is None:
            self._starting = asyncio.create_task(self._start())

    async def _start(self) -> None:
        for _ in range(self.wanted):
            try:
                self._workers.append(await _Worker.start())
            except OSError:
                return  # no process to spare: everything renders here

    async def aclose(self) -> None:
        if self._starting is not None:
            # A worker that never comes up is left behind: close those that did.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._starting, timeout=CLOSE_TIMEOUT)
        await asyncio.gather(*(w.close() for w in self._workers))


def _unpack(answer: Answer, rules: TextRules, fetched: Fetched, size: int | None) -> Rendered:
    kind, value = answer
    if kind == "ok":
        assert isinstance(value, Rendered)
        return value
    if kind == "error":
        assert isinstance(value, SourceError)
        raise value
    # An unexpected exception: render here, so it surfaces with its traceback.
    return render_fetched(rules, fetched, size)


class _WorkerGone(Exception):
    """The worker died or could not be written to; render in this process."""


class _Worker:
    """One ``serve`` process and the requests it has not answered yet, in order."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: deque[tuple[int, asyncio.Future[Answer]]] = deque()
        self._sent = 0
        self.ready = False
        self.answered_hello = asyncio.Event()  # set when ready, or gone before
        self._reader = asyncio.create_task(self._read_answers())
        self._exit = asyncio.create_task(self._watch_exit())

    @classmethod
    async def start(cls) -> _Worker:
        command = [sys.executable, "-c", "from watcher.text.workers import serve; serve()"]
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        return cls(process)

    async def ask(self, request: tuple[TextRules, Fetched, int | None]) -> Answer:
        assert self.process.stdin is not None
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._sent += 1
        try:
            frame = _frame(pickle.dumps((self._sent, *request), pickle.HIGHEST_PROTOCOL))
            self.process.stdin.write(frame)
        except (ConnectionError, RuntimeError) as exc:
            self._fail()
            raise _WorkerGone from exc
        self.pending.append((self._sent, future))  # answers come in the order requests went
        try:
            await self.process.stdin.drain()
        except (ConnectionError, RuntimeError):
            self._fail()  # fails ``future`` too
        return await future

    async def _read_answers(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            if await _read_frame(stdout) != _READY:
                return
            self.ready = True
            self.answered_hello.set()
            while self._take(pickle.loads(await _read_frame(stdout))):
                pass
        except Exception:  # end of output, or anything unexpected on the pipe:
            pass  # the pending requests are rendered here
        finally:
            self._fail()

    def _take(self, message: tuple[int, str, Any]) -> bool:
        """Hand an answer to its request; False if it is not the one expected."""
        number, kind, value = message
        if not self.pending or self.pending[0][0] != number:
            return False  # out of step: stop trusting this worker
        _, future = self.pending.popleft()
        if not future.done():  # its caller may have been cancelled
            future.set_result((kind, value))  # type: ignore[arg-type]
        return True

    async def _watch_exit(self) -> None:
        """A worker that exits fails its requests, whatever its pipes still say."""
        await self.process.wait()
        self._fail()

    def _fail(self) -> None:
        self.ready = False
        self.answered_hello.set()
        if self.process.returncode is None:  # a worker out of step is stopped
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        while self.pending:
            _, future = self.pending.popleft()
            if not future.done():
                future.set_exception(_WorkerGone())

    async def close(self) -> None:
        """End its input, give it time to exit, then kill it; never wait forever.

        The exit status may never reach us (a tracer or another reaper can
        take it): past the deadlines the run goes on without it.
        """
        assert self.process.stdin is not None
        with contextlib.suppress(ConnectionError, RuntimeError):
            self.process.stdin.close()  # end of input: serve() returns
        done, _ = await asyncio.wait({self._exit}, timeout=CLOSE_TIMEOUT)
        if not done:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await asyncio.wait({self._exit}, timeout=1.0)
        for task in (self._exit, self._reader):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _frame(data: bytes) -> bytes:
    return _HEADER.pack(len(data)) + data


async def _read_frame(stream: asyncio.StreamReader) -> bytes:
    (size,) = _HEADER.unpack(await stream.readexactly(_HEADER.size))
    return await stream.readexactly(size)


# ---------------------------------------------------------------------------
# the worker's side


def serve() -> None:
    """Answer render requests from stdin on stdout until end of input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    source_in, sink = sys.stdin.buffer, sys.stdout.buffer
    try:
        sink.write(_frame(_READY))
        sink.flush()
        while header := source_in.read(_HEADER.size):
            (size,) = _HEADER.unpack(header)
            number, rules, fetched, previous_size = pickle.loads(source_in.read(size))
            answer = (number, *_answer(rules, fetched, previous_size))
            sink.write(_frame(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)))
            sink.flush()
    except BrokenPipeError:  # the parent is gone (killed): leave quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sink.fileno())  # no flush error at exit
    except Exception:  # a request that cannot be read: the parent renders it itself
        return


def _answer(rules: TextRules, fetched: Fetched, previous_size: int | None) -> Answer:
    try:
        return ("ok", render_fetched(rules, fetched, previous_size))
    except SourceError as exc:
        return ("error", exc)
    except Exception as exc:  # reported, then rendered again by the caller
        return ("crash", f"{type(exc).__name__}: {exc}")
