"""``sources.yaml`` -> typed, validated settings; the only package that reads YAML.

- :mod:`~watcher.config.nodes`: YAML nodes that know their file and line;
- :mod:`~watcher.config.values`: one node -> one checked value;
- :mod:`~watcher.config.settings`: the settings table, the only place a
  default is written;
- :mod:`~watcher.config.sections`: ``defaults:``, ``hosts:``, ``notify:``,
  ``reports:``, ``desk:``;
- :mod:`~watcher.config.entries`: ``sources:`` and ``guides:``;
- :mod:`~watcher.config.model`: the records every other stage reads.

Every problem raises :class:`~watcher.errors.ConfigError` naming the file,
the 1-based line and the key path (``sources[3].url``): unknown keys (with a
close-match suggestion), duplicate mapping keys, duplicate ids, guides
citing unknown sources, wrong types and invalid values. What loads but
still needs a maintainer (a placeholder owner, a CA bundle not there yet)
is a :class:`~watcher.config.model.ConfigWarning` in ``Config.warnings``
(:mod:`~watcher.config.warnings`). An empty value
(``key:`` with nothing after it) is an error, except for the top-level
``defaults:`` and ``guides:`` sections, which may be left empty.

One load reports every problem it can find (:class:`~watcher.errors.ConfigErrors`
when there are several), not only the first; a problem that another one
probably caused (a required key missing beside a misspelled one, a guide
citing a source whose entry is broken) is not reported twice.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from watcher.config.entries import entry_ids, guides_list, page_policy, sources_list
from watcher.config.model import Config, ConfigWarning, Guide, GuideSource, Source
from watcher.config.nodes import At, as_map, attempt, compose, noted, one_pass
from watcher.config.sections import (
    defaults_section,
    desk_section,
    hosts_section,
    notify_section,
    reports_section,
)
from watcher.config.settings import SETTINGS, make_source
from watcher.config.values import parse_duration, parse_size
from watcher.config.warnings import config_warnings
from watcher.fetch.policy import FetchPolicy

__all__ = [
    "SETTINGS",
    "Config",
    "ConfigWarning",
    "Guide",
    "GuideSource",
    "Source",
    "load_config",
    "make_source",
    "page_policy_for",
    "parse_duration",
    "parse_size",
]

_TOP_LEVEL = ("defaults", "hosts", "sources", "guides", "notify", "reports", "desk")


def load_config(path: str | os.PathLike[str]) -> Config:
    """Load and validate a ``sources.yaml``; raise :class:`ConfigError` on any problem.

    Every problem found is raised together (``ConfigErrors``), not only the first.
    """
    return one_pass(lambda: _read(Path(path)))


def _read(path: Path) -> Config | None:
    """The configuration, every problem noted on the way; None if there were any."""
    top = as_map(At(str(path), "", compose(path)), _TOP_LEVEL)
    misspelled = noted() > 0  # an unknown top key may be the missing `sources:`
    defaults = attempt(lambda: defaults_section(top.get("defaults")))
    hosts = attempt(lambda: hosts_section(top.get("hosts"))) or {}
    sources: tuple[Source, ...] = ()
    if defaults is not None and not (misspelled and top.get("sources") is None):
        sources = attempt(lambda: sources_list(top.require("sources"), defaults, hosts)) or ()
    by_id = {s.id: s for s in sources}
    written = entry_ids(top.get("sources"))
    guides = attempt(lambda: guides_list(top.get("guides"), by_id, written)) or ()
    notify = attempt(lambda: notify_section(top.get("notify")))
    if notify is None and top.get("notify") is not None:
        return None  # its problem is noted; the reports' e-mail check would only repeat it
    reports = attempt(lambda: reports_section(top.get("reports"), path.resolve().parent, notify))
    desk = attempt(lambda: desk_section(top.get("desk")))
    if noted() or defaults is None or reports is None or desk is None:
        return None
    config = Config(path.resolve(), defaults, sources, guides, notify, reports, desk, hosts=hosts)
    return replace(config, warnings=config_warnings(top, config))


def page_policy_for(config: Config, url: str) -> FetchPolicy:
    """How a page that is not a source (a published guide, a link it cites) is fetched."""
    return page_policy(url, config.defaults, config.hosts)
