"""Guides: freshness states, editor sign-off, the CI gate."""
