"""``watcher serve``: the desk on uvicorn (the only module that imports it).

Listens on 127.0.0.1 by default: put a TLS reverse proxy in front and
expose only the report endpoints (see the docs' "Editor desk" page).
X-Forwarded-For and X-Forwarded-Proto are trusted from ``forwarded`` (the
proxy's address), so rate limits see readers' addresses and cookies get
``Secure`` behind HTTPS.
"""

from __future__ import annotations

import uvicorn

from watcher.guides.reports import erase_expired_contacts
from watcher.project import Project
from watcher.results import utcnow
from watcher.web.app import create_app

DEFAULT_PORT = 8780


def serve(
    project: Project,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    commit: bool = False,
    forwarded: str = "127.0.0.1",
) -> None:
    """Serve the desk until interrupted."""
    erase_expired_contacts(project, utcnow())
    app = create_app(project, commit=commit)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded,
        server_header=False,
        log_level="info",
    )
    uvicorn.Server(config).run()
