"""``watcher serve --commit``: each desk action becomes a git commit of ``snapshots/``.

The author is the logged-in editor (their account's e-mail, if any), so
``git log`` says who signed what off; the committer is whoever runs the
desk (git's own configuration, else "watcher desk"). Only ``snapshots/``
is committed. Runs under the project lock, right after the action.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_TIMEOUT = 30


def commit(snapshots: Path, message: str, author: str, email: str | None) -> str | None:
    """Commit ``snapshots`` with this author; None when done (or nothing changed), else why not."""
    root = snapshots.parent
    try:
        _git(root, "rev-parse", "--show-toplevel")
        _git(root, "add", "-A", "--", snapshots.name)
        staged = _git(root, "diff", "--cached", "--quiet", "--", snapshots.name, check=False)
        if staged.returncode == 0:
            return None
        _git(
            root,
            "commit",
            "-q",
            "-m",
            message,
            f"--author={author} <{email or ''}>",
            "--",
            snapshots.name,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return _why(exc)
    return None


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.setdefault("GIT_COMMITTER_NAME", "watcher desk")
    if not _has_identity(root):
        env.setdefault("GIT_COMMITTER_EMAIL", "watcher-desk@localhost")
    return subprocess.run(
        ["git", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        check=check,
    )


def _has_identity(root: Path) -> bool:
    try:
        found = subprocess.run(
            ["git", "config", "user.email"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.stdout.strip())


def _why(exc: OSError | subprocess.SubprocessError) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        return f"git {exc.cmd[1]} failed: {detail[-1] if detail else exc.returncode}"
    return f"git failed: {exc}"
