"""A fresh PostgreSQL database per test, on the throwaway server `.ci/run` starts.

``WATCHER_TEST_POSTGRES`` is the server's URL (``.ci/postgres start DIR``
prints one). Without it the PostgreSQL tests are skipped, saying why; with
``WATCHER_REQUIRE_POSTGRES=1`` (as in ``.ci/run``) they fail instead, so CI
never passes without having run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

URL_ENV = "WATCHER_TEST_POSTGRES"
REQUIRE_ENV = "WATCHER_REQUIRE_POSTGRES"


def server_url() -> str:
    """The test server's URL, or skip (fail when PostgreSQL is required)."""
    url = os.environ.get(URL_ENV, "")
    if not url:
        reason = f"no PostgreSQL server for the journal's tests: set {URL_ENV} (see .ci/postgres)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires it")
        pytest.skip(reason)
    return url


def libpq(url: str) -> str:
    """An SQLAlchemy URL (``postgresql+psycopg://``) as psycopg reads it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the server; dropped afterwards."""
    name = f"watcher_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(libpq(url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
