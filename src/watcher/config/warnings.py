"""Warnings of a loaded configuration: what loads, but still needs a maintainer.

Never errors: a configuration with warnings validates and runs. Each
warning names the file, the line and the key, like an error does:

- a ``ca_bundle`` file that is not there yet: the sources using it fail
  at check time (with the same words), every other source runs;
- a guide owner that is a placeholder (an ``example.org`` address, or the
  word PLACEHOLDER): nobody would read that guide's alerts;
- a guide URL that is a placeholder: ``watcher audit`` cannot read it;
- a source no guide cites: its changes flag nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from watcher.config.model import Config, ConfigWarning
from watcher.config.nodes import At, YamlMap, as_list, as_map
from watcher.config.values import ca_bundle_path, read_str
from watcher.fetch.policy import CA_BUNDLE_HINT

PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
"""The reserved documentation domains (RFC 2606): never a real owner or guide."""
_DOMAIN = re.compile(r"@([\w.-]+)")


def config_warnings(top: YamlMap, config: Config) -> tuple[ConfigWarning, ...]:
    """Every warning of a configuration that loaded without error, in file order."""
    found = [
        *_missing_ca_bundles(top, config),
        *_missing_mail_ca_bundle(top, config),
        *_guide_placeholders(top),
        *_uncited(config),
    ]
    return tuple(sorted(found, key=lambda w: w.line or 0))


def is_placeholder_domain(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in PLACEHOLDER_DOMAINS)


def placeholder_owner(owner: str) -> bool:
    """An owner nobody reads: PLACEHOLDER, or an address at a documentation domain."""
    domains = _DOMAIN.findall(owner)
    return "placeholder" in owner.lower() or any(is_placeholder_domain(d) for d in domains)


def placeholder_url(url: str) -> bool:
    """A guide URL that is not a published page: PLACEHOLDER, or a documentation domain."""
    return "placeholder" in url.lower() or is_placeholder_domain(urlsplit(url).hostname or "")


def _missing_ca_bundles(top: YamlMap, config: Config) -> Iterator[ConfigWarning]:
    seen: set[Path] = set()
    for at in _ca_bundle_nodes(top):
        path = ca_bundle_path(at)
        if path in seen or path.is_file():
            continue
        seen.add(path)
        users = [s.id for s in config.sources if s.fetch.ca_bundle == str(path)]
        if users:
            message = (
                f"CA bundle not found: {path}; {len(users)} source(s) will fail until it is "
                f"there: {', '.join(users)}"
            )
            yield _warning(at, message, CA_BUNDLE_HINT)


def _ca_bundle_nodes(top: YamlMap) -> Iterator[At]:
    """Every ``ca_bundle:`` value: under defaults, each host and each source."""
    sections: list[At] = []
    defaults = top.get("defaults")
    if defaults is not None and defaults.kind != "null":
        sections.append(defaults)
    hosts = top.get("hosts")
    if hosts is not None and hosts.kind != "null":
        sections += list(as_map(hosts, None).values.values())
    sections += as_list(top.require("sources"))
    for section in sections:
        found = as_map(section, None).get("ca_bundle")
        if found is not None:
            yield found


def _guide_placeholders(top: YamlMap) -> Iterator[ConfigWarning]:
    guides = top.get("guides")
    if guides is None or guides.kind == "null":
        return
    for item in as_list(guides):
        mapping = as_map(item, None)
        owner, url = mapping.require("owner"), mapping.require("url")
        if placeholder_owner(read_str(owner)):
            hint = "put the address of the editor who reviews this guide"
            yield _warning(owner, f"placeholder owner {read_str(owner)!r}", hint)
        if placeholder_url(read_str(url)):
            hint = "put the address of the published guide; `watcher audit` reads it"
            yield _warning(url, f"placeholder guide URL {read_str(url)}", hint)


def _missing_mail_ca_bundle(top: YamlMap, config: Config) -> Iterator[ConfigWarning]:
    smtp = config.notify.smtp if config.notify is not None else None
    if smtp is None or smtp.ca_bundle is None or Path(smtp.ca_bundle).is_file():
        return
    notify = as_map(top.require("notify"), None)
    at = as_map(notify.require("smtp"), None).require("ca_bundle")
    message = f"CA bundle not found: {smtp.ca_bundle}; mail cannot be sent until it is there"
    yield _warning(at, message, CA_BUNDLE_HINT)


def _uncited(config: Config) -> Iterator[ConfigWarning]:
    """Sources no guide cites (one warning if there are no guides at all)."""
    path = str(config.path)
    if not config.guides:
        yield ConfigWarning("no guides: a change of a source flags nothing", path=path)
        return
    cited = {source_id for guide in config.guides for source_id in guide.source_ids}
    for source in config.sources:
        if source.id not in cited:
            message = f"source {source.id!r} is cited by no guide: its changes flag nothing"
            hint = "cite it under guides:, or remove it"
            yield ConfigWarning(message, path=path, line=source.line, hint=hint)


def _warning(at: At, message: str, hint: str) -> ConfigWarning:
    return ConfigWarning(message, path=at.file, line=at.line, key=at.key, hint=hint)
