"""Body -> snapshot text: decode, quality gate, extractors by format, normalize, noise."""
