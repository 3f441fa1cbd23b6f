"""How a body becomes snapshot text: the text group of a source's settings.

Built by :mod:`watcher.config` from the settings table (the only place a
default is written). Changing any of these re-bases the stored versions
(:func:`watcher.text.render.rules_fingerprint`), so a rule change never
flags a guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Format = Literal["auto", "html", "pdf", "text", "json"]
FORMATS: tuple[Format, ...] = ("auto", "html", "pdf", "text", "json")


@dataclass(frozen=True)
class TextRules:
    """``select``, ``exclude``, ``ignore``, ``encoding``, ``format``, ``min_size_ratio``."""

    select: tuple[str, ...]
    exclude: tuple[str, ...]
    ignore: tuple[re.Pattern[str], ...]
    encoding: str | None
    format: Format
    min_size_ratio: float
