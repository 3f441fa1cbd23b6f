"""Password hashing with argon2 (argon2-cffi): the only module that imports it.

Only the hash is ever stored (in the database's ``desk_accounts`` table);
the parameters travel inside the hash, so stronger defaults in a later
version re-hash at the next successful login (:func:`needs_rehash`).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 10



@cache
def _dummy() -> str:
    """Verified against when the account does not exist, so a miss takes as long as a hit."""
    return _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing account costs the same time."""
    try:
        return _HASHER.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
