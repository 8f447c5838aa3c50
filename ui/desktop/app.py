"""Start the desktop app: ``multicoder desktop`` or ``python -m ui.desktop`` (U4, U6).

The window paints first (settings and the chat list are light); the engine loads on a worker
thread right after (:meth:`ui.desktop.bridge.Bridge.load`), so the first paint never waits for
LangGraph. ``--smoke`` shows the window, waits for the first paint and the engine's ``ready``,
prints one line with both times and exits (CI starts the packaged app this way, headless).
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from graph.errors import InputError
from graph.settings import Settings, config_file
from ui.desktop.i18n import register, resolve_language, set_language, tr
from ui.desktop.icons import ICON_DIR
from ui.desktop.plain import tell
from ui.desktop.theme import apply_theme

if TYPE_CHECKING:
    from graph.engine import Engine
    from ui.desktop.bridge import Bridge
    from ui.desktop.window import MainWindow

__all__ = ["SMOKE_TIMEOUT_S", "create_window", "data_error", "main", "make_bridge",
           "parse_args", "settings_error"]

_log = logging.getLogger(__name__)

#: How long ``--smoke`` waits for the engine before it gives up (seconds).
SMOKE_TIMEOUT_S = 120.0

register({
    "MultiCoder cannot start": "MultiCoder не может запуститься",
})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line of the app.

    Raises:
        SystemExit: ``--help`` (code 0) or a bad option (code 2), as argparse does.

    """
    parser = argparse.ArgumentParser(
        prog="multicoder desktop",
        description="MultiCoder's desktop app: describe an application in a chat and get it"
                    " built, checked and packaged. Settings come from the settings file"
                    f" ({config_file()}) and MULTICODER_* variables.")
    parser.add_argument("--smoke", action="store_true",
                        help="Start, wait for the first paint and the engine, print one line"
                             " with both times and exit (0 ok, 1 the engine failed)")
    parser.add_argument("--language", choices=("auto", "en", "ru"),
                        help="The interface language (default: [ui] language of the settings;"
                             " auto follows the system)")
    parser.add_argument("--theme", choices=("system", "light", "dark"),
                        help="The colour theme (default: [ui] theme of the settings; system"
                             " follows the OS, also when it changes)")
    return parser.parse_args(argv)


def settings_error(exc: Exception) -> str:
    """One sentence for a settings file that does not load (validation, TOML, encoding)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic's ValidationError
        try:
            first = errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return (f"Invalid setting {where}: {first['msg']} (file {config_file()} or"
                    " MULTICODER_* variables).")
        except (IndexError, KeyError, TypeError):
            pass
    return (f"Cannot read the settings file {config_file()}: {exc} (check the TOML syntax;"
            " save it as UTF-8 without BOM).")


def data_error(exc: Exception, settings: Settings) -> str:
    """One sentence for a data folder or chat history that cannot be opened at start."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, OSError):
        where = exc.filename or settings.data_dir
        return (f"Cannot use the data folder {settings.data_dir}: {exc.strerror or exc} ({where})."
                " Check that it exists and that you may write to it, or choose another one"
                " with data_dir in the settings file or MULTICODER_DATA_DIR.")
    return (f"Cannot open the chat history in {settings.data_dir}: {exc}. Move chats.sqlite"
            " out of that folder to start with an empty history, or choose another data"
            " folder.")


def _cannot_start(message: str, *, smoke: bool) -> int:
    """Say why the app cannot start (one stderr line with ``--smoke``, else a box); 2."""
    if smoke:
        sys.stderr.write(f"multicoder desktop: {message}\n")
        sys.stderr.flush()
    else:
        tell(None, tr("MultiCoder cannot start"), message, icon=QMessageBox.Icon.Critical)
    return 2


def _clean_staging(bridge: Bridge) -> int:
    from graph.control import clean_staging

    return clean_staging(bridge.staging_dir)


def make_bridge(settings: Settings,
                engine_factory: Callable[[Settings], Engine] | None = None) -> Bridge:
    """The engine side of the app (not loaded yet: call ``load()``).

    Raises:
        InputError: the chat history was written by a newer MultiCoder (one sentence).
        OSError: the data folder cannot be created or written.

    """
    from ui.desktop.bridge import Bridge

    return Bridge(settings, engine_factory=engine_factory)


def create_window(bridge: Bridge) -> MainWindow:
    """The main window over ``bridge`` (not shown yet)."""
    from ui.desktop.window import MainWindow

    window = MainWindow(bridge)
    app_icon = ICON_DIR / "multicoder.svg"
    if app_icon.is_file():
        window.setWindowIcon(QIcon(str(app_icon)))
    return window


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    # Qt 6 scales for high DPI by itself; fractional factors (1.25, 1.5) stay exact
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("MultiCoder")
    app.setOrganizationName("MultiCoder")
    app.setApplicationDisplayName("MultiCoder")
    app.setDesktopFileName("multicoder")
    app_icon = ICON_DIR / "multicoder.svg"
    if app_icon.is_file():
        app.setWindowIcon(QIcon(str(app_icon)))
    return app


class _FirstPaint(QObject):
    """Notes when the window first paints (an event filter on it)."""

    def __init__(self, on_paint: Callable[[], None]) -> None:
        super().__init__()
        self._on_paint: Callable[[], None] | None = on_paint

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Call back once, on the first paint event."""
        if event.type() == QEvent.Type.Paint and self._on_paint is not None:
            callback, self._on_paint = self._on_paint, None
            QTimer.singleShot(0, callback)  # after this paint has finished
        return False


class _Smoke(QObject):
    """``--smoke``: first paint and engine times, one line, then quit."""

    def __init__(self, app: QApplication, bridge: Bridge, window: MainWindow,
                 started: float) -> None:
        super().__init__(app)
        self._app, self._started = app, started
        self.painted: float | None = None
        self.ready: float | None = None
        self.failure: str | None = None
        self.code = 1
        self._paint = _FirstPaint(self._on_paint)
        window.installEventFilter(self._paint)
        bridge.ready.connect(self._on_ready)
        bridge.failed.connect(self._on_failed)
        QTimer.singleShot(int(SMOKE_TIMEOUT_S * 1000), self._timeout)

    def _on_paint(self) -> None:
        self.painted = time.perf_counter() - self._started
        self._finish()

    def _on_ready(self) -> None:
        self.ready = time.perf_counter() - self._started
        self._finish()

    def _on_failed(self, reason: str) -> None:
        self.failure = reason
        self._finish()

    def _timeout(self) -> None:
        if self.failure is None and (self.painted is None or self.ready is None):
            self.failure = (f"no first paint or engine within {SMOKE_TIMEOUT_S:.0f} s"
                            f" (painted: {self.painted is not None},"
                            f" engine ready: {self.ready is not None})")
            self._finish()

    def _finish(self) -> None:
        if self.failure is not None:
            sys.stderr.write(f"multicoder desktop failed: {self.failure}\n")
            sys.stderr.flush()
            self.code = 1
            self._app.exit(1)
        elif self.painted is not None and self.ready is not None:
            sys.stdout.write(f"multicoder desktop ok: first paint {self.painted:.2f} s,"
                             f" engine ready {self.ready:.2f} s\n")
            sys.stdout.flush()
            self.code = 0
            self._app.exit(0)


def main(argv: list[str] | None = None) -> int:
    """Run the desktop app; returns the exit code.

    Options: ``--smoke``, ``--language en|ru|auto``, ``--theme system|light|dark`` (see
    :func:`parse_args`).

    Exit codes: 0 closed normally (``--smoke``: started and the engine loaded); 1 ``--smoke``
    and the engine failed or timed out; 2 the settings do not load, or the data folder or its
    chat history cannot be opened (a message box says why, or one line on stderr with
    ``--smoke``), or a bad option.
    """
    started = time.perf_counter()
    args = parse_args(argv)
    app = _application()
    try:
        settings = Settings()
    except Exception as exc:  # the interface boundary: a bad settings file is one sentence
        set_language(resolve_language(args.language or "auto"))
        return _cannot_start(settings_error(exc), smoke=args.smoke)
    set_language(resolve_language(args.language or settings.ui.language))
    apply_theme(app, args.theme or settings.ui.theme)

    try:
        bridge = make_bridge(settings)
    except (InputError, OSError) as exc:  # the chat history or the data folder
        return _cannot_start(data_error(exc, settings), smoke=args.smoke)
    except Exception as exc:  # the interface boundary: one sentence, never a traceback
        _log.exception("the chat history did not open")
        return _cannot_start(data_error(exc, settings), smoke=args.smoke)
    window = create_window(bridge)
    # the engine's objects live as long as the app: frozen, a full collection takes ~13 ms
    # instead of ~150 ms (a visible stall while an answer streams)
    bridge.ready.connect(gc.freeze)
    smoke = _Smoke(app, bridge, window, started) if args.smoke else None
    window.show()
    QTimer.singleShot(0, bridge.load)  # after the first paint has been queued
    bridge.run_async(lambda: _clean_staging(bridge))  # what a closed window left behind
    code = app.exec()
    if window.isVisible():
        window.close()  # keeps the geometry and stops the workers
    if smoke is not None:
        return smoke.code
    return int(code)
