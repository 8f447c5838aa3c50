"""Start the file search: ``python filesearch/main.py``."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    """Show the window and run the Qt event loop; returns the exit code."""
    from PySide6.QtWidgets import QApplication

    from filesearch.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
