"""Desk accounts: ``watcher users add NAME --role editor|maintainer`` and logging in.

An editor triages reports and signs guides off; a maintainer can also see
source health and check one source. Names are what sign-offs record as
``by``, so the desk never asks for a typed name.
"""

from __future__ import annotations

import re
from datetime import datetime

from watcher.errors import AuthError, DeskError
from watcher.project import Project
from watcher.store import DeskStore
from watcher.store.desk import ROLES, Account, Role
from watcher.web import passwords

_NAME = re.compile(r"^[\w][\w .'-]{0,62}[\w.]$|^\w$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def add_account(
    project: Project,
    name: str,
    role: str,
    password: str,
    now: datetime,
    *,
    email: str | None = None,
    replace: bool = False,
) -> Account:
    """Create (or with ``replace``, reset) an account; only the password's hash is kept."""
    name = name.strip()
    if not _NAME.match(name):
        raise DeskError(
            f"invalid account name {name!r}",
            hint="letters, digits, spaces, dots, hyphens; at most 64 characters",
        )
    if role not in ROLES:
        raise DeskError(f"unknown role {role!r}", hint=f"use {' or '.join(ROLES)}")
    if len(password) < passwords.MIN_LENGTH:
        raise DeskError(
            f"the password is too short: use at least {passwords.MIN_LENGTH} characters"
        )
    if email is not None and not _EMAIL.match(email):
        raise DeskError(f"invalid e-mail address {email!r}")
    checked: Role = "maintainer" if role == "maintainer" else "editor"
    account = Account(name, checked, passwords.hash_password(password), now, email)
    DeskStore(project.journal).add_account(account, replace=replace)
    return account


def authenticate(project: Project, name: str, password: str) -> Account:
    """The account, if the password matches; AuthError (saying nothing more) otherwise."""
    store = DeskStore(project.journal)
    account = store.account(name.strip())
    if not passwords.verify(account.password_hash if account else None, password):
        raise AuthError("wrong name or password")
    assert account is not None
    if passwords.needs_rehash(account.password_hash):
        fresh = Account(
            account.name,
            account.role,
            passwords.hash_password(password),
            account.created_at,
            account.email,
        )
        store.add_account(fresh, replace=True)
    return account
