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
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from watcher.config.entries import guides_list, page_policy, sources_list
from watcher.config.model import Config, ConfigWarning, Guide, GuideSource, Source
from watcher.config.nodes import At, as_map, compose
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
    """Load and validate a ``sources.yaml``; raise :class:`ConfigError` on any problem."""
    root = At(str(path), "", compose(path))
    top = as_map(root, _TOP_LEVEL)
    defaults = defaults_section(top.get("defaults"))
    hosts = hosts_section(top.get("hosts"))
    sources = sources_list(top.require("sources"), defaults, hosts)
    guides = guides_list(top.get("guides"), {s.id: s for s in sources})
    notify = notify_section(top.get("notify"))
    reports = reports_section(top.get("reports"), Path(path).resolve().parent, notify)
    desk = desk_section(top.get("desk"))
    config = Config(
        Path(path).resolve(), defaults, sources, guides, notify, reports, desk, hosts=hosts
    )
    return replace(config, warnings=config_warnings(top, config))


def page_policy_for(config: Config, url: str) -> FetchPolicy:
    """How a page that is not a source (a published guide, a link it cites) is fetched."""
    return page_policy(url, config.defaults, config.hosts)
