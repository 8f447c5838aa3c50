"""tools/actions."""
