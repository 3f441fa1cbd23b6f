"""Fetching: client, redirects and the private-address guard, capped bodies, retries, robots."""
