"""The offline demo of ``watcher demo``: bundled fictional pages and their server.

:class:`DemoSite` serves the pages of ``site/`` on 127.0.0.1 and can switch
to their amended versions; :func:`render_config` gives the demo project's
``sources.yaml`` pointed at a running site.
"""

from watcher.demo.server import AMENDED, ORIGINAL, PAGES, DemoSite, render_config

__all__ = ["AMENDED", "ORIGINAL", "PAGES", "DemoSite", "render_config"]
