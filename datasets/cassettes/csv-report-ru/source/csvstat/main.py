"""Entry point: ``python csvstat/main.py ФАЙЛ.csv [--column ИМЯ ...] [--delimiter СИМВОЛ]``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    # Started as a script: make the folder holding the package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from csvstat.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
