"""Light and dark themes close to a familiar chat app's, and "system", which follows the OS.

The app uses Qt's Fusion style with one of two palettes; widgets take their colours from the
palette roles (``Window`` the chat area, ``AlternateBase`` the sidebar, ``Base`` inputs,
``Midlight`` hover and selection, ``Mid`` borders, ``PlaceholderText`` secondary text), so a
theme switch is a palette change: Qt sends ``ApplicationPaletteChange`` to every widget and
widgets with style sheets of their own re-set them then.

``system`` reads :meth:`QStyleHints.colorScheme` (Qt 6.5+) and follows
``colorSchemeChanged`` live; an OS that reports no scheme gets the light theme.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

__all__ = ["STYLE_SHEET", "Theme", "apply_theme", "is_dark", "palette_for"]

Theme = Literal["system", "light", "dark"]

_R = QPalette.ColorRole
_G = QPalette.ColorGroup

#: Colours per role: (light, dark).
_COLOURS: dict[QPalette.ColorRole, tuple[str, str]] = {
    _R.Window: ("#ffffff", "#212121"),
    _R.WindowText: ("#0d0d0d", "#ececec"),
    _R.Base: ("#ffffff", "#2a2a2a"),
    _R.AlternateBase: ("#f9f9f9", "#171717"),
    _R.Text: ("#0d0d0d", "#ececec"),
    _R.Button: ("#f4f4f4", "#2f2f2f"),
    _R.ButtonText: ("#0d0d0d", "#ececec"),
    _R.BrightText: ("#ffffff", "#ffffff"),
    _R.Light: ("#ffffff", "#3a3a3a"),
    _R.Midlight: ("#ececec", "#2f2f2f"),
    _R.Mid: ("#d9d9d9", "#424242"),
    _R.Dark: ("#b4b4b4", "#0d0d0d"),
    _R.Shadow: ("#8f8f8f", "#000000"),
    _R.Highlight: ("#cfe0fc", "#3b5578"),
    _R.HighlightedText: ("#0d0d0d", "#ffffff"),
    _R.Link: ("#2964aa", "#7ab7ff"),
    _R.LinkVisited: ("#6b4fa8", "#b59cf0"),
    _R.ToolTipBase: ("#0d0d0d", "#ececec"),
    _R.ToolTipText: ("#ffffff", "#0d0d0d"),
    _R.PlaceholderText: ("#8f8f8f", "#8e8e8e"),
    _R.Accent: ("#0d0d0d", "#ececec"),
}

#: Disabled text, per theme (light, dark).
_DISABLED: tuple[str, str] = ("#b4b4b4", "#6b6b6b")

#: The application's style sheet: sizes in em, colours from palette roles only.
STYLE_SHEET = """
QToolTip {
    color: palette(tooltip-text);
    background: palette(tooltip-base);
    border: none;
    padding: 0.25em 0.5em;
    border-radius: 0.35em;
}
QPushButton {
    padding: 0.35em 0.9em;
    border: 1px solid palette(mid);
    border-radius: 0.6em;
    background: palette(base);
}
QPushButton:hover { background: palette(midlight); }
QPushButton:pressed { background: palette(mid); }
QPushButton:focus { border-color: palette(text); }
QPushButton:disabled { color: palette(placeholder-text); }
QToolButton {
    border: none;
    border-radius: 0.5em;
    padding: 0.25em;
    background: transparent;
}
QToolButton:hover { background: palette(midlight); }
QToolButton:focus { border: 1px solid palette(mid); }
QLineEdit {
    padding: 0.3em 0.5em;
    border: 1px solid palette(mid);
    border-radius: 0.5em;
    background: palette(base);
}
QLineEdit:focus { border-color: palette(text); }
QMenu { padding: 0.3em; }
QMenu::item { padding: 0.35em 1.2em; border-radius: 0.35em; }
QMenu::item:selected { background: palette(midlight); color: palette(text); }
QSplitter::handle { background: palette(mid); }
"""


def palette_for(dark: bool) -> QPalette:
    """The palette of the light (``dark=False``) or dark theme."""
    palette = QPalette()
    column = 1 if dark else 0
    for role, colours in _COLOURS.items():
        palette.setColor(role, QColor(colours[column]))
    disabled = QColor(_DISABLED[column])
    for role in (_R.WindowText, _R.Text, _R.ButtonText, _R.HighlightedText):
        palette.setColor(_G.Disabled, role, disabled)
    palette.setColor(_G.Disabled, _R.Highlight, QColor(_COLOURS[_R.Mid][column]))
    return palette


def _system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


class _Follower(QObject):
    """Keeps the app's theme: re-applies "system" when the OS colour scheme changes.

    One per application (found by object name), so no module state is needed.
    """

    NAME = "multicoder-theme"

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName(self.NAME)
        self.theme: Theme = "system"
        style = QStyleFactory.create("Fusion")
        if style is not None:
            app.setStyle(style)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def _scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.theme == "system":
            app = QApplication.instance()
            if isinstance(app, QApplication):
                _set_palette(app, _system_is_dark())


def _set_palette(app: QApplication, dark: bool) -> None:
    app.setPalette(palette_for(dark))
    # palette(...) in a style sheet is resolved when it is set: set it again
    app.setStyleSheet("")
    app.setStyleSheet(STYLE_SHEET)


def apply_theme(app: QApplication, theme: Theme | str) -> None:
    """Use ``theme`` (``system``, ``light`` or ``dark``) for the whole application now.

    ``system`` follows the OS colour scheme, also when it changes later. An unknown name is
    treated as ``system``. Every widget receives ``ApplicationPaletteChange``.
    """
    follower = app.findChild(_Follower, _Follower.NAME)
    if follower is None:
        follower = _Follower(app)
    follower.theme = "light" if theme == "light" else "dark" if theme == "dark" else "system"
    dark = theme == "dark" or (follower.theme == "system" and _system_is_dark())
    _set_palette(app, dark)


def is_dark() -> bool:
    """Whether the application's palette is dark (its window colour is dark)."""
    return QApplication.palette().color(_R.Window).lightness() < 128
