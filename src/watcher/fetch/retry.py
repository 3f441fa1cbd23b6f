"""Retries: only what is transient, with exponential backoff and ``Retry-After``."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from watcher.errors import FetchError
from watcher.fetch.policy import FetchPolicy

BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def retry_wait(policy: FetchPolicy, error: FetchError, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None if the failure is final."""
    if not getattr(error, "transient", False) or attempt >= policy.retries:
        return None
    asked = getattr(error, "retry_after", None)
    cap = policy.max_retry_after.total_seconds()
    if asked is not None:
        if asked > cap:
            error.message += (
                f" (the server asks to retry after {asked:g}s, more than max_retry_after)"
            )
            return None
        return float(asked)
    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return min(cap, random.uniform(backoff / 2, backoff))
