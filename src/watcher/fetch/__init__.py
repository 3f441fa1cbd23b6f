"""Fetching: the only package that talks HTTP (httpx, and aiohttp beneath it).

- :mod:`~watcher.fetch.policy`: a source's fetch settings;
- :mod:`~watcher.fetch.client`: the run's client and its politeness limits;
- :mod:`~watcher.fetch.redirects`: redirects by hand, the private-address guard;
- :mod:`~watcher.fetch.body`: bodies capped and decompressed while streaming;
- :mod:`~watcher.fetch.retry`: transient failures, backoff and ``Retry-After``;
- :mod:`~watcher.fetch.failures`: every wire exception into the error tree;
- :mod:`~watcher.fetch.robots`: robots.txt;
- :mod:`~watcher.fetch.post`: webhook POSTs.
"""
