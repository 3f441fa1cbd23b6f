"""Tests for loading and validating sources.yaml (watcher.config)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli
from watcher import __version__
from watcher.config import SETTINGS, load_config, parse_duration, parse_size
from watcher.errors import ConfigError, ConfigErrors

FULL = """\
defaults:
  user_agent: "watcher-test/1.0"
  timeout: 20s
  interval: 1d
  per_host: 1
  concurrency: 4
  max_size: 5MB
  max_redirects: 3
  fail_after: 2
  max_age: 3d
  headers: {Accept-Language: "ru,en;q=0.8", X-Test: "yes"}
sources:
  - id: mgfoms-hotline
    url: https://www.mgfoms.ru/contacts
    title: "МГФОМС: горячая линия"
    select: "main .content"
    exclude: [".banner", "#counter"]
    ignore: ['Просмотров:\\s*\\d+']
    encoding: windows-1251
    headers: {accept-language: "ru", Referer: "https://www.mgfoms.ru/"}
    interval: 12h
    timeout: 1m30s
    max_size: 512KB
    max_redirects: 0
    per_host: 3
    fail_after: 5
    max_age: 2w
    user_agent: "special/2"
    notes: "hotline page"
  - id: law-326fz
    url: http://президент.рф/acts/326
    title: Федеральный закон 326-ФЗ
guides:
  - id: medical-insurance
    title: "Полис ОМС"
    url: https://example.org/guides/oms
    owner: "Anna Petrova <anna@example.org>"
    review_every: 30d
    sources:
      - law-326fz
      - source: mgfoms-hotline
  - id: hotline
    title: Hotline
    url: https://example.org/guides/hotline
    owner: anna@example.org
    sources: [mgfoms-hotline]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_config_loads_typed_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.path == (tmp_path / "sources.yaml").resolve()
    d = config.defaults
    assert (d.user_agent, d.timeout, d.interval) == (
        "watcher-test/1.0",
        timedelta(seconds=20),
        timedelta(days=1),
    )
    assert (d.per_host, d.concurrency, d.max_size) == (1, 4, 5 * 1024**2)
    assert (d.max_redirects, d.fail_after, d.max_age) == (3, 2, timedelta(days=3))
    assert dict(d.headers) == {"Accept-Language": "ru,en;q=0.8", "X-Test": "yes"}
    assert [s.id for s in config.sources] == ["mgfoms-hotline", "law-326fz"]
    assert [g.id for g in config.guides] == ["medical-insurance", "hotline"]


def test_source_overrides_defaults(tmp_path: Path) -> None:
    source = load_config(write(tmp_path, FULL)).source("mgfoms-hotline")
    assert source.line == 13
    assert source.title == "МГФОМС: горячая линия"
    assert source.text.select == ("main .content",)
    assert source.text.exclude == (".banner", "#counter")
    assert [p.pattern for p in source.text.ignore] == [r"Просмотров:\s*\d+"]
    assert source.text.ignore[0].search("Просмотров: 15")
    assert source.text.encoding == "windows-1251"
    assert dict(source.fetch.headers) == {
        "X-Test": "yes",
        "accept-language": "ru",
        "Referer": "https://www.mgfoms.ru/",
    }
    assert (source.cadence.interval, source.fetch.timeout) == (
        timedelta(hours=12),
        timedelta(seconds=90),
    )
    assert (source.fetch.max_size, source.fetch.max_redirects, source.fetch.per_host) == (
        512 * 1024,
        0,
        3,
    )
    assert (source.cadence.fail_after, source.cadence.max_age) == (5, timedelta(weeks=2))
    assert (source.fetch.user_agent, source.notes) == ("special/2", "hotline page")


def test_source_inherits_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    source = config.source("law-326fz")
    assert source.line == 30
    assert source.url == "http://президент.рф/acts/326"
    assert (source.text.select, source.text.exclude, source.text.ignore, source.text.encoding) == (
        (),
        (),
        (),
        None,
    )
    assert dict(source.fetch.headers) == dict(config.defaults.headers)
    assert (source.cadence.interval, source.fetch.timeout) == (
        timedelta(days=1),
        timedelta(seconds=20),
    )
    assert (source.fetch.max_size, source.fetch.max_redirects, source.fetch.per_host) == (
        5 * 1024**2,
        3,
        1,
    )
    assert (source.cadence.fail_after, source.cadence.max_age, source.fetch.user_agent) == (
        2,
        timedelta(days=3),
        "watcher-test/1.0",
    )
    assert source.notes == ""
    with pytest.raises(TypeError):
        source.fetch.headers["X-New"] = "no"  # type: ignore[index]


def test_guides(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    guide = config.guide("medical-insurance")
    assert (guide.line, guide.owner) == (34, "Anna Petrova <anna@example.org>")
    assert guide.review_every == timedelta(days=30)
    assert guide.source_ids == ("law-326fz", "mgfoms-hotline")
    assert [entry.line for entry in guide.sources] == [40, 41]
    hotline = config.guide("hotline")
    assert hotline.review_every == timedelta(days=90)
    assert [g.id for g in config.guides_citing("mgfoms-hotline")] == [
        "medical-insurance",
        "hotline",
    ]


def test_minimal_config_uses_builtin_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "sources:\n  - {id: a, url: 'https://a.example/', title: A}\n")
    )
    builtin = {s.name: s.default for s in SETTINGS if s.scope in ("run", "inherited")}
    assert (
        config.defaults.user_agent
        == f"watcher/{__version__} (+https://github.com/watcher-monitor/watcher)"
    )
    for name, value in builtin.items():
        assert getattr(config.defaults, name) == value
    assert config.sources[0].fetch.timeout == timedelta(seconds=30)
    assert config.guides == ()
    source = config.sources[0]
    for setting in SETTINGS:
        if setting.scope in ("inherited", "source") and setting.group != "about":
            group = getattr(source, setting.group)
            assert getattr(group, setting.name) == setting.default, setting.name


def test_empty_guides_section_is_allowed(tmp_path: Path) -> None:
    text = "defaults:\nsources:\n  - {id: a, url: 'https://a.example/', title: A}\nguides:\n"
    config = load_config(write(tmp_path, text))
    assert config.guides == ()


# Each case is a whole sources.yaml; the line marked with "#<" is where the
# error must be reported. Then the key path and a fragment of the message.
SRC = "  - id: a\n    url: https://a.example/\n    title: A\n"
GUIDE = "  - id: g\n    title: G\n    url: https://example.org/g\n    owner: a@example.org\n"

ERRORS: list[tuple[str, str, str, str]] = [
    # name, yaml, key, message fragment
    (
        "unknown top key",
        "sources:\n" + SRC + "sourcse: []  #<\n",
        "sourcse",
        "did you mean 'sources'",
    ),
    (
        "unknown defaults key",
        "defaults:\n  timout: 5s  #<\nsources:\n" + SRC,
        "defaults.timout",
        "'timeout'",
    ),
    (
        "unknown source key",
        "sources:\n" + SRC + "    selector: main  #<\n",
        "sources[0].selector",
        "'select'",
    ),
    (
        "unknown guide key",
        "sources:\n" + SRC + "guides:\n" + GUIDE + "    source: [a]  #<\n",
        "guides[0].source",
        "did you mean 'sources'",
    ),
    (
        "unknown guide source key",
        "sources:\n"
        + SRC
        + "guides:\n"
        + GUIDE
        + "    sources:\n      - {source: a, claim: x}  #<\n",
        "guides[0].sources[0].claim",
        "allowed keys: source",
    ),
    (
        "duplicate source id",
        "sources:\n" + SRC + "  - id: a  #<\n    url: https://b.example/\n    title: B\n",
        "sources[1].id",
        "duplicate id 'a' (first defined at line 2)",
    ),
    (
        "duplicate guide id",
        "sources:\n" + SRC + "guides:\n" + GUIDE + "    sources: [a]\n"
        "  - id: g  #<\n    title: H\n    url: https://example.org/h\n"
        "    owner: a@example.org\n    sources: [a]\n",
        "guides[1].id",
        "duplicate id 'g'",
    ),
    (
        "duplicate mapping key",
        "sources:\n" + SRC + "    title: B  #<\n",
        "sources[0].title",
        "duplicate key",
    ),
    (
        "duplicate top key",
        "sources:\n" + SRC + "sources:  #<\n" + SRC,
        "sources",
        "duplicate key 'sources'",
    ),
    (
        "guide cites unknown source",
        "sources:\n" + SRC + "guides:\n" + GUIDE + "    sources:\n      - a\n      - b  #<\n",
        "guides[0].sources[1]",
        "unknown source 'b'",
    ),
    (
        "guide cites unknown source, close match",
        "sources:\n  - {id: law-326fz, url: 'https://a.example/', title: A}\nguides:\n"
        + GUIDE
        + "    sources:\n      - source: law-362fz  #<\n",
        "guides[0].sources[0].source",
        "did you mean 'law-326fz'",
    ),
    (
        "guide cites a source twice",
        "sources:\n"
        + SRC
        + "guides:\n"
        + GUIDE
        + "    sources:\n      - a\n      - source: a  #<\n",
        "guides[0].sources[1].source",
        "listed twice",
    ),
    (
        "url without scheme",
        "sources:\n  - id: a\n    url: www.a.example/x  #<\n    title: A\n",
        "sources[0].url",
        "invalid URL",
    ),
    (
        "ftp url",
        "sources:\n  - id: a\n    url: ftp://a.example/x  #<\n    title: A\n",
        "sources[0].url",
        "http",
    ),
    (
        "url without host",
        "sources:\n  - id: a\n    url: 'https:///x'  #<\n    title: A\n",
        "sources[0].url",
        "invalid URL",
    ),
    (
        "bad port",
        "sources:\n  - id: a\n    url: 'https://a.example:99999/'  #<\n    title: A\n",
        "sources[0].url",
        "port",
    ),
    (
        "guide url",
        "sources:\n" + SRC + "guides:\n  - id: g\n    url: /g  #<\n",
        "guides[0].url",
        "invalid URL",
    ),
    (
        "uppercase id",
        "sources:\n  - id: Law  #<\n    url: https://a.example/\n    title: A\n",
        "sources[0].id",
        "invalid id",
    ),
    (
        "id with slash",
        "sources:\n  - id: a/b  #<\n    url: https://a.example/\n    title: A\n",
        "sources[0].id",
        "invalid id",
    ),
    (
        "id too long",
        f"sources:\n  - id: {'a' * 64}  #<\n    url: https://a.example/\n    title: A\n",
        "sources[0].id",
        "invalid id",
    ),
    (
        "leading hyphen",
        "sources:\n  - id: -a  #<\n    url: https://a.example/\n    title: A\n",
        "sources[0].id",
        "invalid id",
    ),
    (
        "invalid regex",
        "sources:\n" + SRC + "    ignore: ['ok', '(unclosed']  #<\n",
        "sources[0].ignore[1]",
        "invalid regular expression",
    ),
    (
        "empty regex",
        "sources:\n" + SRC + "    ignore: ''  #<\n",
        "sources[0].ignore",
        "empty regular expression",
    ),
    (
        "invalid selector",
        "sources:\n" + SRC + "    select: 'p['  #<\n",
        "sources[0].select",
        "invalid CSS selector 'p['",
    ),
    (
        "invalid exclude",
        "sources:\n" + SRC + "    exclude:\n      - .ok\n      - '##x'  #<\n",
        "sources[0].exclude[1]",
        "invalid CSS selector",
    ),
    (
        "duration with unknown unit",
        "defaults:\n  timeout: 5 parsecs  #<\nsources:\n" + SRC,
        "defaults.timeout",
        "invalid duration",
    ),
    (
        "zero duration",
        "sources:\n" + SRC + "    interval: 0s  #<\n",
        "sources[0].interval",
        "must be positive",
    ),
    (
        "negative duration",
        "sources:\n" + SRC + "    max_age: -1d  #<\n",
        "sources[0].max_age",
        "must be positive",
    ),
    (
        "zero bare duration",
        "defaults:\n  timeout: 0  #<\nsources:\n" + SRC,
        "defaults.timeout",
        "must be positive",
    ),
    (
        "guide review_every",
        "sources:\n" + SRC + "guides:\n" + GUIDE + "    review_every: soon  #<\n    sources: [a]\n",
        "guides[0].review_every",
        "invalid duration",
    ),
    (
        "invalid size",
        "defaults:\n  max_size: 10 megs  #<\nsources:\n" + SRC,
        "defaults.max_size",
        "invalid size",
    ),
    (
        "zero size",
        "sources:\n" + SRC + "    max_size: 0  #<\n",
        "sources[0].max_size",
        "must be positive",
    ),
    (
        "fractional bare size",
        "sources:\n" + SRC + "    max_size: 1.5  #<\n",
        "sources[0].max_size",
        "invalid size",
    ),
    (
        "invalid encoding",
        "sources:\n" + SRC + "    encoding: klingon-8  #<\n",
        "sources[0].encoding",
        "unknown or unsupported encoding",
    ),
    (
        "non-text encoding",
        "sources:\n" + SRC + "    encoding: rot13  #<\n",
        "sources[0].encoding",
        "unknown or unsupported encoding",
    ),
    (
        "owner without address",
        "sources:\n" + SRC + "guides:\n  - id: g\n    owner: Anna Petrova  #<\n",
        "guides[0].owner",
        "invalid owner",
    ),
    (
        "owner broken address",
        "sources:\n" + SRC + "guides:\n  - id: g\n    owner: 'Anna <anna@>'  #<\n",
        "guides[0].owner",
        "invalid owner",
    ),
    (
        "two owners",
        "sources:\n" + SRC + "guides:\n  - id: g\n    owner: a@b.org, c@d.org  #<\n",
        "guides[0].owner",
        "invalid owner",
    ),
    (
        "yaml syntax error",
        "sources:\n" + SRC + "    notes: [unclosed\n  - id: b  #<\n",
        "",
        "invalid YAML",
    ),
    ("yaml bad indentation", "sources:\n  - id: a\n   url: x  #<\n", "", "invalid YAML"),
    ("top level is a list", "- a  #<\n", "", "expected a mapping, got a list"),
    ("sources missing", "guides: []  #<\n", "", "missing required key 'sources'"),
    ("sources is a string", "sources: all  #<\n", "sources", "expected a list, got a string"),
    ("sources empty", "sources: []  #<\n", "sources", "at least one source"),
    ("source is a string", "sources:\n  - a  #<\n", "sources[0]", "expected a mapping"),
    (
        "source missing url",
        "sources:\n  - id: a  #<\n    title: A\n",
        "sources[0]",
        "missing required key 'url'",
    ),
    (
        "title is a number",
        "sources:\n  - id: a\n    url: https://a.example/\n    title: 326  #<\n",
        "sources[0].title",
        'quotes: "326"',
    ),
    (
        "title is empty string",
        "sources:\n  - id: a\n    url: https://a.example/\n    title: ''  #<\n",
        "sources[0].title",
        "must not be empty",
    ),
    (
        "id is a boolean",
        "sources:\n  - id: yes  #<\n    url: https://a.example/\n    title: A\n",
        "sources[0].id",
        "got a boolean",
    ),
    ("empty value", "sources:\n" + SRC + "    notes:  #<\n", "sources[0].notes", "got nothing"),
    (
        "per_host is a string",
        "defaults:\n  per_host: two  #<\nsources:\n" + SRC,
        "defaults.per_host",
        "expected an integer >= 1",
    ),
    (
        "per_host zero",
        "defaults:\n  per_host: 0  #<\nsources:\n" + SRC,
        "defaults.per_host",
        ">= 1, got 0",
    ),
    (
        "max_redirects negative",
        "sources:\n" + SRC + "    max_redirects: -1  #<\n",
        "sources[0].max_redirects",
        ">= 0",
    ),
    (
        "concurrency is not per source",
        "sources:\n" + SRC + "    concurrency: 3  #<\n",
        "sources[0].concurrency",
        "unknown key",
    ),
    (
        "select is a mapping",
        "sources:\n" + SRC + "    select: {a: b}  #<\n",
        "sources[0].select",
        "a string or a list of strings",
    ),
    (
        "select item is a number",
        "sources:\n" + SRC + "    select:\n      - 1  #<\n",
        "sources[0].select[0]",
        "expected a string",
    ),
    (
        "headers is a list",
        "defaults:\n  headers: [a]  #<\nsources:\n" + SRC,
        "defaults.headers",
        "expected a mapping",
    ),
    (
        "header value is a number",
        "sources:\n" + SRC + "    headers:\n      DNT: 1  #<\n",
        "sources[0].headers.DNT",
        "expected a string",
    ),
    (
        "bad header name",
        "sources:\n" + SRC + "    headers:\n      'Bad Name': x  #<\n",
        "sources[0].headers.Bad Name",
        "invalid HTTP header",
    ),
    (
        "guides is a mapping",
        "sources:\n" + SRC + "guides: {a: b}  #<\n",
        "guides",
        "expected a list",
    ),
    (
        "guide without sources",
        "sources:\n" + SRC + "guides:\n" + GUIDE.replace("  - id: g\n", "  - id: g  #<\n"),
        "guides[0]",
        "'sources'",
    ),
    (
        "guide sources empty",
        "sources:\n" + SRC + "guides:\n" + GUIDE + "    sources: []  #<\n",
        "guides[0].sources",
        "at least one",
    ),
    (
        "guide source is a number",
        "sources:\n" + SRC + "guides:\n" + GUIDE + "    sources: [7]  #<\n",
        "guides[0].sources[0]",
        "source id",
    ),
    (
        "merge key",
        "sources:\n  - &s {id: a, url: 'https://a.example/', title: A}\n  - <<: *s  #<\n",
        "sources[1]",
        "merge keys",
    ),
    (
        "non-string key",
        "sources:\n" + SRC + "    1: x  #<\n",
        "sources[0]",
        "string as mapping key",
    ),
]


@pytest.mark.parametrize(("name", "text", "key", "fragment"), ERRORS, ids=[c[0] for c in ERRORS])
def test_config_errors(tmp_path: Path, name: str, text: str, key: str, fragment: str) -> None:
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.endswith("#<"))
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert f"sources.yaml:{line}: " in str(error)
    assert (error.path, error.line) == (str(path), line)
    assert (error.key or "") == key
    if key:
        assert f": {key}: " in str(error)
    assert fragment in str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\.yaml: cannot read configuration"):
        load_config(tmp_path / "sources.yaml")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\.yaml: the file is empty"):
        load_config(write(tmp_path, "# nothing yet\n"))


def test_invalid_utf8_is_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_bytes(b"sources:\n  - id: a\n    title: \xcf\xee\xeb\xe8\xf1\n")  # windows-1251
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:3: not UTF-8: byte 0xcf")
    assert info.value.line == 3
    assert "save the file as UTF-8" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("1.5h", timedelta(minutes=90)),
        ("1m500ms", timedelta(seconds=60.5)),
        ("45", timedelta(seconds=45)),
        (" 2.5 ", timedelta(seconds=2.5)),
        (10, timedelta(seconds=10)),
        (0.25, timedelta(milliseconds=250)),
    ],
)
def test_parse_duration(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5 parsecs",
        "0s",
        "0",
        0,
        -1,
        "-1d",
        "1h30",
        "h",
        "1y",
        "5M",
        "1e3s",
        True,
        float("inf"),
        "99999999999w",
    ],
)
def test_parse_duration_errors(text: str | int | float) -> None:
    with pytest.raises(ConfigError, match=re.escape(repr(text))):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1048576, 1048576),
        ("1048576", 1048576),
        ("100B", 100),
        ("512KB", 512 * 1024),
        ("10MB", 10 * 1024**2),
        ("1GB", 1024**3),
        ("1.5MB", 1536 * 1024),
        ("10 mb", 10 * 1024**2),
        ("2MiB", 2 * 1024**2),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "10 megs", "0", 0, -5, "-5KB", "1.5", "MB", "10TB", True])
def test_parse_size_errors(text: str | int) -> None:
    with pytest.raises(ConfigError, match=re.escape(repr(text))):
        parse_size(text)


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    text = (
        "defaults:\n"
        "  timout: 5s  #< defaults.timout\n"
        "sources:\n"
        "  - id: a\n"
        "    url: ftp://a.example/  #< sources[0].url\n"
        "    title: A\n"
        "  - id: b\n"
        "    url: https://b.example/\n"
        "    title: B\n"
        "    interval: soon  #< sources[1].interval\n"
        "    selector: main  #< sources[1].selector\n"
        "guides:\n"
        "  - id: g\n"
        "    title: G\n"
        "    url: https://example.org/g\n"
        "    owner: a@example.org\n"
        "    sources: [a, b, c]  #< guides[0].sources[2]\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigErrors) as info:
        load_config(path)
    expected = [
        (number, line.split("#< ")[1])
        for number, line in enumerate(text.splitlines(), 1)
        if "#< " in line
    ]
    found = [(problem.line, problem.key) for problem in info.value.problems]
    assert found == expected  # each once, in file order; a and b, though broken, are known
    assert str(info.value).startswith(f"{path}: 5 problems:\n  {path}:2: defaults.timout: ")
    result = run_cli("-c", str(path), "validate", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count(f"{path}:") == 6


def test_a_misspelled_required_key_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - id: a\n    url: https://a.example/\n    tittle: A\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert not isinstance(info.value, ConfigErrors)
    assert "unknown key 'tittle'" in str(info.value) and "'title'" in str(info.value)

# -- values that pass their type but would break every check -----------------------

HARDENING_ERRORS: list[tuple[str, str, str, str]] = [
    (
        "URL with credentials",
        "sources:\n  - id: a\n    url: https://user:secret@a.example/  #<\n    title: A\n",
        "sources[0].url",
        "a URL with a user name or password",
    ),
    (
        "NUL in a URL",
        'sources:\n  - id: a\n    url: "https://a.example/\\0x"  #<\n    title: A\n',
        "sources[0].url",
        "a control character in the URL",
    ),
    (
        "guide URL with credentials",
        "sources:\n" + SRC + "guides:\n  - id: g\n    title: G\n"
        "    url: https://editor:pw@example.org/g  #<\n"
        "    owner: a@example.org\n    sources: [a]\n",
        "guides[0].url",
        "user name or password",
    ),
    (
        "CR LF in user_agent",
        'defaults:\n  user_agent: "watcher\\r\\nX-Injected: 1"  #<\nsources:\n' + SRC,
        "defaults.user_agent",
        "a control character",
    ),
    (
        "non-ASCII user_agent",
        "defaults:\n  user_agent: Наблюдатель/1.0  #<\nsources:\n" + SRC,
        "defaults.user_agent",
        "non-ASCII characters",
    ),
    (
        "NUL in a header value",
        'defaults:\n  headers: {X-A: "a\\0b"}  #<\nsources:\n' + SRC,
        "defaults.headers.X-A",
        "a control character",
    ),
    (
        "non-ASCII header value",
        "sources:\n" + SRC + "    headers: {Accept-Language: русский}  #<\n",
        "sources[0].headers.Accept-Language",
        "non-ASCII characters",
    ),
    (
        "non-ASCII email",
        "defaults:\n  email: редактор@пример.рф  #<\nsources:\n" + SRC,
        "defaults.email",
        "non-ASCII characters",
    ),
    (
        "5000-digit integer",
        "defaults:\n  retries: " + "9" * 5000 + "  #<\nsources:\n" + SRC,
        "defaults.retries",
        "is too large",
    ),
    (
        "40 workers",
        "defaults:\n  workers: 40  #<\nsources:\n" + SRC,
        "defaults.workers",
        "at most 16",
    ),
    (
        "50 retries",
        "defaults:\n  retries: 50  #<\nsources:\n" + SRC,
        "defaults.retries",
        "at most 10",
    ),
    (
        "delay of 2 days",
        "defaults:\n  delay: 2d  #<\nsources:\n" + SRC,
        "defaults.delay",
        "at most 5m",
    ),
    (
        "confirm 100",
        "sources:\n" + SRC + "    confirm: 100  #<\n",
        "sources[0].confirm",
        "at most 5",
    ),
    (
        "catastrophic ignore regex",
        "sources:\n" + SRC + "    ignore: '(\\w+\\s*)*$'  #<\n",
        "sources[0].ignore",
        "catastrophic backtracking",
    ),
    (
        "catastrophic minor regex",
        "sources:\n" + SRC + "    minor: ['(a+)+b']  #<\n",
        "sources[0].minor[0]",
        "repeats a repetition",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "key", "fragment"), HARDENING_ERRORS, ids=[c[0] for c in HARDENING_ERRORS]
)
def test_values_that_would_break_every_check(
    tmp_path: Path, name: str, text: str, key: str, fragment: str
) -> None:
    test_config_errors(tmp_path, name, text, key, fragment)


def test_a_ca_bundle_that_is_not_pem_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ca.cer").write_bytes(b"0\x82\x03\x1e0\x82 DER bytes, not PEM")
    text = "sources:\n" + SRC + "    ca_bundle: ca.cer  #<\n"
    test_config_errors(tmp_path, "ca", text, "sources[0].ca_bundle", "is not a PEM file")


def test_legitimate_values_still_load(tmp_path: Path) -> None:
    text = (
        "defaults:\n  workers: 16\n  retries: 10\n  delay: 5m\n"
        "sources:\n" + SRC + "    ignore: ['Просмотров:\\s*\\d+', '(?:\\d+\\.)+\\d{4}']\n"
        "  - {id: b, url: 'https://кремль.рф/acts?x=1', title: B, proxy: 'http://u:p@proxy:3128'}\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.defaults.workers == 16
    assert config.sources[1].fetch.proxy == "http://u:p@proxy:3128"
