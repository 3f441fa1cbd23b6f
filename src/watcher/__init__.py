"""watcher: watch the official sources behind published guides.

Fetches every cited source, extracts the text that matters, stores
snapshots, diffs each new version and flags the guides whose sources
changed.
"""

__version__ = "0.1.0"
