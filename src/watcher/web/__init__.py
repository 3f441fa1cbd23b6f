"""The editor desk: ``watcher serve``, a small web application over one project.

Editors (logged in) see the queue of guides needing them, read each
guide's changes with the digest's diff view, triage readers' reports and
sign guides off, through the same code as ``watcher review`` and
``watcher reports``, under the project lock. Readers (no login) can only
send a report: ``POST /api/reports`` (JSON) and the plain HTML form at
``/report?guide=...``.

- :mod:`~watcher.web.app`: the Starlette application and its routes (the
  only Starlette user, with :mod:`~watcher.web.server` for uvicorn);
- :mod:`~watcher.web.public`: the readers' endpoints (caps, rate limit,
  honeypot, CORS);
- :mod:`~watcher.web.editor`: the editors' and maintainers' pages;
- :mod:`~watcher.web.security`: sessions, CSRF tokens, rate limits, headers;
- :mod:`~watcher.web.passwords`: password hashing (the only argon2 user);
- :mod:`~watcher.web.accounts`: accounts (``watcher users``);
- :mod:`~watcher.web.actions`: every write, under the project lock, and the
  optional commit of each action to git (:mod:`~watcher.web.gitcommit`);
- :mod:`~watcher.web.views`: what the pages show, from the digest's view model.
"""
