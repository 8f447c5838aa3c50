"""The executable's entry point: ``multicoder-desktop [--smoke] [--language ..] [--theme ..]``.

PyInstaller starts here (see ``multicoder-desktop.spec``); it only hands the command line to
:func:`ui.desktop.app.main`. (Nothing in MultiCoder starts Python child processes through
``multiprocessing``, so no ``freeze_support()`` call is needed; builds and checks run the
generated app's own interpreter.)
"""

from __future__ import annotations

import sys


def run() -> int:
    """Start the desktop app with the process's arguments; returns its exit code."""
    from ui.desktop.app import main

    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())
