"""tools/checks."""
