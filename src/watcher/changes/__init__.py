"""What a change means: diff, severity, claims, facts, legal structure. Pure, no I/O."""
