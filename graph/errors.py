"""Errors the interfaces turn into one clear sentence (kept light: no heavy imports)."""


class InputError(ValueError):
    """Bad input detected before a run exists (the CLI exits with code 2; nothing is written)."""
