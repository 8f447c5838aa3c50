"""Entry point: with arguments the command line converts, without them the window opens.

Run it as ``python csv2xlsx/main.py [INPUT.csv ... -o OUT.xlsx]`` or ``python -m csv2xlsx``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    # Started as a script: make the folder holding the package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the command line (any argument) or the GUI (none); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        from csv2xlsx.cli import main as cli_main

        return cli_main(args)
    from csv2xlsx.gui import run_gui

    return run_gui()


if __name__ == "__main__":
    sys.exit(main())
