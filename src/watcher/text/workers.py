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
worker is busy, and after one dies, small bodies are rendered in this
process.

A body rendered in a worker has a deadline (the source's ``timeout``,
counted from when the worker starts on it): past it the worker is killed
and the source fails as a ``timeout``, alone, while the fetching loop
never stopped. A body over :data:`IN_PROCESS_MAX`, or of a source with
``ignore`` regexes (whose cost on a given page nobody can bound), always
goes to a worker, started for it if none is up (``workers: 0`` renders
everything here, without a deadline). A body that kills its worker (a
crash in a C extension, the OOM killer) fails its source; it is never
rendered again in this process.
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
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from watcher.errors import SourceError
from watcher.results import Fetched
from watcher.text.limits import render_crash, render_guarded, render_timeout
from watcher.text.render import Rendered
from watcher.text.rules import TextRules

AUTO_START_AFTER: Final = 64
"""``workers: auto`` starts its workers once a run has rendered this many bodies here.

A run of mostly 304s (or of a few sources) then never pays for a process
it would not use; a run with work to share starts them early enough. A
run expected to render at least this many bodies (sources never checked
before: a cold run) starts them with the run, while the first requests
are on the wire.
"""

AUTO_MAX_WORKERS: Final = 4
BACKLOG: Final = 32
"""Bodies queued on a worker before the next one is rendered in this process."""

CLOSE_TIMEOUT: Final = 10.0
"""Seconds a worker has to exit after its input ends before it is killed."""

IN_PROCESS_MAX: Final = 256 * 1024
"""Bodies larger than this are rendered in a worker, under the deadline, whenever workers exist."""


def _needs_deadline(rules: TextRules, fetched: Fetched) -> bool:
    """A large body, or a source's own ``ignore`` regexes: a cost nobody can bound beforehand."""
    return len(fetched.body) > IN_PROCESS_MAX or bool(rules.ignore)


MAX_RESTARTS: Final = 8
"""Workers started again in one run after one was killed; past it, bodies render here."""

_HEADER = struct.Struct("!I")
_READY = b"ready"
Answer = tuple[Literal["ok", "error", "crash"], Any]


def _frozen_mapping(items: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(items)


# Models freeze their mappings in a mappingproxy, which pickle refuses:
# send the dict it wraps and freeze it again on the other side.
copyreg.pickle(MappingProxyType, lambda proxy: (_frozen_mapping, (dict(proxy),)))


def renderers_for(setting: int | str, sources: int | None = None, expected: int = 0) -> Renderers:
    """The renderers of one run under the ``workers`` setting (``auto`` or a count).

    Never more processes than the run has ``sources`` to render; with
    ``auto``, started with the run when ``expected`` bodies (at least) will
    need rendering, else once :data:`AUTO_START_AFTER` were rendered here.
    """
    most = sys.maxsize if sources is None else max(sources, 0)
    if setting != "auto":
        return Renderers(min(int(setting), most))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # At least one, even on one core: the worker that gives hostile bodies a deadline.
    spare = max(1, min(AUTO_MAX_WORKERS, (cores or 1) - 1))
    start_after = 0 if expected >= AUTO_START_AFTER else AUTO_START_AFTER
    return Renderers(min(spare, most), start_after=start_after)


class Renderers:
    """Renders bodies in worker processes when there are any, else here."""

    def __init__(self, workers: int, *, start_after: int = 0) -> None:
        self.wanted = workers
        self._start_after = start_after
        self._workers: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None
        self._restarts = 0
        self.in_workers = 0
        self.in_process = 0

    async def render(
        self,
        rules: TextRules,
        fetched: Fetched,
        previous_size: int | None,
        *,
        deadline: float | None = None,
    ) -> Rendered:
        """The body's snapshot text; in a worker, a :class:`TimeoutError_` past ``deadline``."""
        if self.in_process >= self._start_after:
            self._start_once()
        guarded = _needs_deadline(rules, fetched)
        for _ in range(2):  # a worker lost under this request's feet: one more try
            worker = await self._guard() if guarded else self._least_busy()
            if worker is None:
                break
            try:
                answer = await worker.ask((rules, fetched, previous_size), deadline)
            except _WorkerGone:
                continue
            except _Overdue:
                raise render_timeout(fetched, deadline) from None
            except _Died as exc:
                raise render_crash(fetched, exc.returncode) from None
            self.in_workers += 1
            return _unpack(answer, rules, fetched, previous_size)
        self.in_process += 1
        return render_guarded(rules, fetched, previous_size)

    def warm(self) -> None:
        """Start the workers now if this run starts them at once (a cold run)."""
        if self._start_after == 0:
            self._start_once()

    def _least_busy(self, backlog: int = BACKLOG) -> _Worker | None:
        ready = [w for w in self._workers if w.ready and len(w.pending) < backlog]
        return min(ready, key=lambda w: len(w.pending), default=None)

    async def _guard(self) -> _Worker | None:
        """A worker for a body that needs a deadline: started now if none is up.

        None with ``workers: 0``, or when no worker can be started.
        """
        if not self.wanted:
            return None
        self._start_once()
        while (worker := self._least_busy(backlog=sys.maxsize)) is None:
            if self._starting is not None and not self._starting.done():
                await asyncio.shield(self._starting)
                continue
            starting = [w for w in self._workers if not w.answered_hello.is_set()]
            if starting:  # up, not ready yet
                await starting[0].answered_hello.wait()
                continue
            if self._restarts >= MAX_RESTARTS:
                return None
            self._restarts += 1  # every worker is gone: one more
            self._starting = asyncio.create_task(self._start(1))
        return worker

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

    async def _start(self, count: int | None = None) -> None:
        for _ in range(self.wanted if count is None else count):
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
    return render_guarded(rules, fetched, size)


class _WorkerGone(Exception):
    """The worker died or could not be written to before starting on this request."""


class _Overdue(Exception):
    """The worker did not answer this request within its deadline; it was killed."""


class _Died(Exception):
    """The worker died while rendering this request."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode


@dataclass
class _Request:
    """A request sent to a worker and not answered yet."""

    number: int
    future: asyncio.Future[Answer]
    deadline: float | None
    timer: asyncio.TimerHandle | None = None


class _Worker:
    """One ``serve`` process and the requests it has not answered yet, in order.

    The first pending request is the one the worker is rendering: its
    deadline runs from when it got there.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: deque[_Request] = deque()
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

    async def ask(
        self, request: tuple[TextRules, Fetched, int | None], deadline: float | None = None
    ) -> Answer:
        stdin = self.process.stdin
        assert stdin is not None
        if not self.ready or stdin.is_closing():  # never write to a worker that is gone
            raise _WorkerGone
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._sent += 1
        try:
            frame = _frame(pickle.dumps((self._sent, *request), pickle.HIGHEST_PROTOCOL))
            stdin.write(frame)
        except (ConnectionError, RuntimeError) as exc:
            self._fail()
            raise _WorkerGone from exc
        if stdin.is_closing():  # the write found the pipe broken: the worker died before
            self._fail()
            raise _WorkerGone
        self.pending.append(_Request(self._sent, future, deadline))  # answered in this order
        if len(self.pending) == 1:
            self._arm()
        try:
            await stdin.drain()
        except (ConnectionError, RuntimeError):
            self._fail()  # fails ``future`` too
        return await future

    def _arm(self) -> None:
        """Start the deadline of the request the worker is now rendering."""
        head = self.pending[0] if self.pending else None
        if head is not None and head.deadline is not None and head.timer is None:
            loop = asyncio.get_running_loop()
            head.timer = loop.call_later(head.deadline, self._overdue, head.number)

    def _overdue(self, number: int) -> None:
        """The request in the works is past its deadline: it fails, the worker is killed."""
        if not self.pending or self.pending[0].number != number:
            return
        head = self.pending.popleft()
        if not head.future.done():
            head.future.set_exception(_Overdue())
        self._fail()

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
            pass  # the pending requests are rendered elsewhere
        finally:
            self._fail(died=True)

    def _take(self, message: tuple[int, str, Any]) -> bool:
        """Hand an answer to its request; False if it is not the one expected."""
        number, kind, value = message
        if not self.pending or self.pending[0].number != number:
            return False  # out of step: stop trusting this worker
        head = self.pending.popleft()
        if head.timer is not None:
            head.timer.cancel()
        if not head.future.done():  # its caller may have been cancelled
            head.future.set_result((kind, value))  # type: ignore[arg-type]
        self._arm()
        return True

    async def _watch_exit(self) -> None:
        """A worker that exits fails its requests, whatever its pipes still say."""
        await self.process.wait()
        self._fail(died=True)

    def _fail(self, *, died: bool = False) -> None:
        """Stop using this worker; ``died``: on its own, so the request in the works killed it."""
        self.ready = False
        self.answered_hello.set()
        if self.process.returncode is None:  # a worker out of step or overdue is stopped
            died = False
            self._kill()
        first = True
        while self.pending:
            request = self.pending.popleft()
            if request.timer is not None:
                request.timer.cancel()
            if not request.future.done():
                gone = _Died(self.process.returncode) if died and first else _WorkerGone()
                request.future.set_exception(gone)
            first = False

    def _kill(self) -> None:
        """SIGKILL by pid: ``Process.kill()`` polls first, and a poll that reaps an exited
        worker leaves asyncio's own reaper "Unknown child process pid" on stderr."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)

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
            self._kill()
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
        return ("ok", render_guarded(rules, fetched, previous_size))
    except SourceError as exc:
        return ("error", exc)
    except Exception as exc:  # reported, then rendered again by the caller
        return ("crash", f"{type(exc).__name__}: {exc}")
