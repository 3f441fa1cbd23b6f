"""One check: each source through the stages, and a run over many sources."""
