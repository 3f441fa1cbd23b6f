"""YAML nodes that remember where they are: the only module that reads YAML.

The file is composed into YAML *nodes* (not plain Python objects) so every
value still knows its line. Each problem raises :class:`ConfigError` naming
the file, the 1-based line and the key path (``sources[3].url``): unknown
keys (with a close-match suggestion), duplicate mapping keys, wrong types.

Inside :func:`one_pass` (a whole load), a problem is noted and reading goes
on with the next key or entry, so one run reports every problem it can
find; outside it, the first problem is raised at once.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from watcher.errors import ConfigError, ConfigErrors

_T = TypeVar("_T")
_V = TypeVar("_V")
CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
# libyaml's parser when PyYAML was built with it (its wheels are): same
# nodes and marks, ten times faster on a config of a thousand sources.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "nothing (an empty value)",
    "timestamp": "a date",
    "seq": "a list",
    "map": "a mapping",
    "merge": "a merge key (<<)",
}


_FOUND: ContextVar[list[ConfigError] | None] = ContextVar("config_problems", default=None)


def one_pass(read: Callable[[], _T | None]) -> _T:
    """``read()`` a whole file, noting every problem; raise them all together at the end.

    ``read`` returns None when it could not build its result (its problems noted).
    """
    found: list[ConfigError] = []
    token = _FOUND.set(found)
    try:
        value = read()
    except ConfigError as exc:
        found.append(exc)
        value = None
    finally:
        _FOUND.reset(token)
    if len(found) == 1:
        raise found[0]
    if found:
        raise ConfigErrors(sorted(found, key=lambda e: (e.line is None, e.line or 0)))
    if value is None:
        raise ConfigError("the configuration could not be read")
    return value


def note(error: ConfigError) -> None:
    """A problem: noted inside :func:`one_pass` (reading goes on), else raised."""
    found = _FOUND.get()
    if found is None:
        raise error
    found.append(error)


def noted() -> int:
    """How many problems are noted so far (to tell whether an entry had any)."""
    found = _FOUND.get()
    return len(found) if found is not None else 0


def each(items: Iterable[_V], read: Callable[[_V], _T | None]) -> list[_T]:
    """``read(item)`` for every item; an item with a problem (noted) is left out."""
    found = []
    for item in items:
        try:
            value = read(item)
        except ConfigError as exc:
            note(exc)
            continue
        if value is not None:
            found.append(value)
    return found


def attempt(read: Callable[[], _T]) -> _T | None:
    """``read()``, or None with its problem noted."""
    try:
        return read()
    except ConfigError as exc:
        note(exc)
        return None


@dataclass(frozen=True)
class At:
    """A YAML node together with where it is: the file and the key path."""

    file: str
    key: str
    node: yaml.Node

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    @property
    def kind(self) -> str:
        tag = str(self.node.tag)
        return tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag

    def error(self, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.file, line=self.line, key=self.key or None, hint=hint)

    def child(self, name: str, node: yaml.Node) -> At:
        return At(self.file, f"{self.key}.{name}" if self.key else name, node)

    def item(self, index: int, node: yaml.Node) -> At:
        return At(self.file, f"{self.key}[{index}]", node)

    def expected(self, what: str, hint: str | None = None) -> ConfigError:
        got = _TYPE_NAMES.get(self.kind, f"a value tagged {self.kind}")
        return self.error(f"expected {what}, got {got}", hint)


@dataclass(frozen=True)
class YamlMap:
    """A checked YAML mapping: string keys, no duplicates, only allowed keys."""

    at: At
    values: dict[str, At]

    def get(self, name: str) -> At | None:
        return self.values.get(name)

    def require(self, name: str) -> At:
        if name not in self.values:
            raise self.at.error(f"missing required key {name!r}")
        return self.values[name]


def as_map(at: At, allowed: Collection[str] | None) -> YamlMap:
    """Check a mapping node; ``allowed=None`` accepts any key (``headers``)."""
    if not isinstance(at.node, yaml.MappingNode):
        raise at.expected("a mapping")
    values: dict[str, At] = {}
    for key_node, value_node in at.node.value:
        try:
            name = _key_name(At(at.file, at.key, key_node))
            if name in values:
                first = values[name].line
                raise at.child(name, key_node).error(
                    f"duplicate key {name!r}", hint=f"first given at line {first}"
                )
            _check_known(at.child(name, key_node), name, allowed)
        except ConfigError as exc:
            note(exc)  # the key is left out; the next one is read
            continue
        values[name] = at.child(name, value_node)
    return YamlMap(at, values)


def _key_name(at: At) -> str:
    if at.kind == "merge":
        raise at.error("YAML merge keys (<<) are not supported", "put shared settings in defaults:")
    if at.kind != "str" or not isinstance(at.node, yaml.ScalarNode):
        raise at.expected("a string as mapping key")
    return str(at.node.value)


def _check_known(at: At, name: str, allowed: Collection[str] | None) -> None:
    if allowed is None or name in allowed:
        return
    close = difflib.get_close_matches(name, allowed, n=1)
    listed = "allowed keys: " + ", ".join(allowed)
    hint = f"did you mean {close[0]!r}? {listed}" if close else listed
    raise at.error(f"unknown key {name!r}", hint=hint)


def as_list(at: At) -> list[At]:
    if not isinstance(at.node, yaml.SequenceNode):
        raise at.expected("a list")
    return [at.item(index, node) for index, node in enumerate(at.node.value)]


def scalar(at: At, kind: str, what: str) -> str:
    if at.kind != kind or not isinstance(at.node, yaml.ScalarNode):
        hint = None
        if isinstance(at.node, yaml.ScalarNode) and kind == "str":
            hint = f'put it in quotes: "{at.node.value}"'
        raise at.expected(what, hint)
    return str(at.node.value)


def located(at: At, parse: Callable[[_V], _T], value: _V) -> _T:
    """Run a public parser, re-raising its error with the file, line and key."""
    try:
        return parse(value)
    except ConfigError as exc:
        raise at.error(exc.message, exc.hint) from None


def yaml_int(at: At) -> int:
    """An ``int``-tagged scalar as YAML 1.1 reads it (``0x1F``, ``1_000``)."""
    if not isinstance(at.node, yaml.ScalarNode):
        raise at.expected("an integer")
    try:
        return int(CONSTRUCTOR.construct_yaml_int(at.node))
    except ValueError:  # past Python's limit on digits (4300): no setting is that large
        raise at.error(f"the number {str(at.node.value)[:20]}... is too large") from None


def read_fields(mapping: YamlMap, readers: Mapping[str, Callable[[At], object]]) -> dict[str, Any]:
    """Read every key present with its reader, in file order (a bad value is left out)."""
    values: dict[str, Any] = {}
    for name, at in mapping.values.items():
        if name in readers:
            try:
                values[name] = readers[name](at)
            except ConfigError as exc:
                note(exc)
    return values


def compose(path: str | os.PathLike[str]) -> yaml.Node:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc.strerror}", path=str(path)) from None
    _check_utf8(str(path), data)
    try:
        node = yaml.compose(data, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise yaml_error(str(path), exc) from None
    if node is None:
        raise ConfigError("the file is empty", path=str(path), hint="it needs a sources: list")
    return node


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _check_utf8(path: str, data: bytes) -> None:
    """Name the line of a byte that is not UTF-8 (YAML says only its offset)."""
    if data.startswith(_UTF16_BOMS):
        return  # UTF-16 with its byte order mark: YAML reads it
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be read",
            path=path,
            line=line,
            hint="save the file as UTF-8 (an editor saved it as windows-1251?)",
        ) from None


def yaml_error(path: str, exc: yaml.YAMLError) -> ConfigError:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return ConfigError(f"invalid YAML: {exc}", path=path)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    detail = ", ".join(str(p) for p in (exc.context, exc.problem) if p)
    start = exc.context_mark
    hint = None
    if start is not None and line is not None and start.line + 1 != line:
        hint = f"the construct started at line {start.line + 1}"
    return ConfigError(f"invalid YAML: {detail}", path=path, line=line, hint=hint)
