"""Start the editor: ``python editor/main.py [FILE]``."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    """Show the window (with the file named on the command line); returns the exit code."""
    from PySide6.QtWidgets import QApplication

    from editor.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    if len(sys.argv) > 1:
        window.open_file(sys.argv[1])
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
