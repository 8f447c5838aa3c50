"""``python -m ui.desktop``: run the desktop app (see :func:`ui.desktop.app.main`)."""

from ui.desktop.app import main

raise SystemExit(main())
