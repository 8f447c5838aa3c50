"""Start the image viewer: ``python viewer/main.py [IMAGE]``."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    """Show the window (with the image named on the command line); returns the exit code."""
    from PySide6.QtWidgets import QApplication

    from viewer.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    if len(sys.argv) > 1:
        window.open_image(sys.argv[1])
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
