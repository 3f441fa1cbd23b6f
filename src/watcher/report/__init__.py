"""Editor digests (``watcher report``): build one digest, render it, write it.

- :mod:`.digest`: the digest as frozen data, from the project's committed state;
- :mod:`.render`: the jinja2 templates (HTML, Markdown, Atom, index);
- :mod:`.jsondoc`: the JSON document ``watcher.digest/1`` and its schema;
- :mod:`.output`: files under ``reports/``: dated digests, ``latest.html``,
  ``index.html``, ``feed.xml`` and the small state file behind ``--since last``.
"""

FORMATS = ("html", "md", "json", "atom")
"""The digest's formats, in the order they are written (``--format``'s default)."""
