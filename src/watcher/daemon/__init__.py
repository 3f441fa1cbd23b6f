"""`watcher run`: the long-running service with its own schedule."""
