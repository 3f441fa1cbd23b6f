"""Structured logging for ``watcher run``: one line per event, for journald.

Core modules log events with :func:`event` on a standard ``logging`` logger
under ``watcher``; they never print. The CLI picks the format once with
:func:`configure`:

- ``text`` (default): ``ts=... level=info event=check.done source=fund
  outcome=changed``; values with spaces, quotes or ``=`` are JSON-quoted,
  so ``grep`` and ``journalctl -g`` work on whole fields;
- ``json``: one JSON object per line with the same keys.

Records from other libraries (APScheduler's warnings) get ``event=log``,
the logger name and the message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import IO, Any

from watcher.redact import redact

FORMATS = ("text", "json")
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+,[]()")


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the event ``name`` (``check.done``) with its fields."""
    logger.log(level, name, extra={"fields": fields})


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The keys of one line: time, level, event, then the event's own fields."""
    own: Mapping[str, Any] | None = getattr(record, "fields", None)
    line: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
    }
    if own is None:
        line |= {"event": "log", "logger": record.name, "message": record.getMessage()}
    else:
        line |= {"event": record.getMessage(), **own}
    if record.exc_info and record.exc_info[1] is not None:
        line["exception"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return {key: _redacted(value) for key, value in line.items()}


def _redacted(value: Any) -> Any:
    """Log lines go to journald and mail: no URL in them keeps its password."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


class TextFormatter(logging.Formatter):
    """``key=value`` pairs on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_text(value)}" for key, value in fields_of(record).items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {key: _plain(value) for key, value in fields_of(record).items()}
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list | set | frozenset):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _text(value: Any) -> str:
    plain = _plain(value)
    if plain is None:
        return "-"
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, list):
        plain = ",".join(str(item) for item in plain)
    text = str(plain)
    if text and all(char in _SAFE for char in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def configure(stream: IO[str], fmt: str = "text", level: int = logging.INFO) -> logging.Handler:
    """Send watcher's events (and APScheduler's warnings) to ``stream``, one line each."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    for name, floor in (("watcher", level), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(floor)
        logger.propagate = False
    return handler
