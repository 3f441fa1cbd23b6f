"""What counts as a change and how much it matters: the signal group of a source's settings.

Built by :mod:`watcher.config` from the settings table (the only place a
default is written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

Structure = Literal["law"]


@dataclass(frozen=True)
class SignalRules:
    """What counts as a change for one source, and what must hold before it is recorded."""

    minor: tuple[re.Pattern[str], ...]
    structure: Structure | None
    confirm: int
    confirm_delay: timedelta
    recheck_delay: timedelta
    confirm_shrink: int
