"""Shapes of committed JSON documents, and the check that names where one departs.

``state.json`` and the review files are edited by people and merged by
git: each is checked against its shape before use, so a wrong one is named
by its key path (``versions[2].hash: missing``) instead of failing deep
inside. A shape is a type, a tuple of alternatives, a set of allowed
values, a dict of fields (:class:`Optional` for a key that may be absent),
:class:`ListOf` or :class:`MapOf`. No I/O, no imports from the package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class ShapeError(ValueError):
    """A committed document is not the shape it should be; ``str`` says where and why."""


Shape = Any  # a type, a tuple of types, a set of allowed values, a dict of fields, or a list


class Optional:
    """A key that may be absent."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape


class ListOf:
    """A list whose every item has ``shape``."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape


class MapOf:
    """An object with any keys, whose every value has ``shape``."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape


TIME = "time"
MAYBE_TIME = "time or null"
COUNT = "count"
NULLABLE_STR = (str, type(None))
_NAMES = {str: "a string", int: "an integer", type(None): "null", dict: "an object"}


def check(value: Any, shape: Shape, where: str = "", schema: int | None = None) -> None:
    """Raise :class:`ShapeError` naming the first place ``value`` departs from ``shape``."""
    if isinstance(shape, dict):
        _check_object(value, shape, where)
        if schema is not None and value.get("schema", schema) != schema:
            found = value["schema"]
            raise ShapeError(
                f"schema {found!r}: written by another version of watcher (this one reads {schema})"
            )
    elif isinstance(shape, tuple) and not all(isinstance(s, type) for s in shape):
        if not any(_fits(value, option) for option in shape):
            check(value, next(o for o in shape if not isinstance(o, type)), where)
    elif isinstance(shape, ListOf):
        if not isinstance(value, list):
            raise ShapeError(f"{where or 'the document'}: expected a list, got {_kind(value)}")
        for index, item in enumerate(value):
            check(item, shape.shape, f"{where}[{index}]")
    elif isinstance(shape, MapOf):
        _check_object(value, {}, where, extra=shape.shape)
    elif not _fits(value, shape):
        raise ShapeError(f"{where}: expected {_expected(shape)}, got {_kind(value)}")


def _check_object(value: Any, shape: dict[str, Shape], where: str, extra: Shape = None) -> None:
    label = where or "the document"
    if not isinstance(value, dict):
        raise ShapeError(f"{label}: expected an object, got {_kind(value)}")
    for key, item in value.items():
        if key not in shape and extra is None:
            raise ShapeError(f"{label}: unknown key {key!r}")
        field_shape = shape.get(key, extra)
        if isinstance(field_shape, Optional):
            field_shape = field_shape.shape
        check(item, field_shape, f"{where}.{key}" if where else key)
    for key, field_shape in shape.items():
        if key not in value and not isinstance(field_shape, Optional):
            raise ShapeError(f"{f'{where}.{key}' if where else key}: missing")


def _fits(value: Any, shape: Shape) -> bool:
    if shape == TIME:
        return isinstance(value, str) and _parses(value)
    if shape == MAYBE_TIME:
        return value is None or (isinstance(value, str) and _parses(value))
    if shape == COUNT:
        return type(value) is int and value >= 0
    if isinstance(shape, set):
        return value in shape
    if isinstance(shape, type):
        return type(value) is shape
    if isinstance(shape, tuple):
        return any(_fits(value, option) for option in shape if not isinstance(option, dict))
    return False


def _parses(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _expected(shape: Shape) -> str:
    if shape in (TIME, MAYBE_TIME):
        return "an ISO date and time" + (" or null" if shape == MAYBE_TIME else "")
    if shape == COUNT:
        return "a whole number >= 0"
    if isinstance(shape, set):
        return "one of " + ", ".join(sorted(map(str, shape)))
    if isinstance(shape, tuple):
        return " or ".join(_expected(option) for option in shape if isinstance(option, type))
    return _NAMES.get(shape, str(shape))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"{value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return {list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")
