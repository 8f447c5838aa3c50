"""tools/packaging."""
