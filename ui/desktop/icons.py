"""SVG icons, drawn at whatever size and pixel ratio the screen needs (crisp up to 4K).

Icons are files ``ui/desktop/icons/<name>.svg`` in a 24×24 view box that paint with
``currentColor``; :func:`icon` renders them in the palette's text colour (or a given colour)
through a ``QIconEngine``, so no pixmap is ever scaled up.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

__all__ = ["ICON_DIR", "icon", "icon_names"]

ICON_DIR = Path(__file__).resolve().parent / "icons"


@cache
def _svg_text(name: str) -> str:
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise KeyError(f"no icon {name!r} in {ICON_DIR}")
    return path.read_text(encoding="utf-8")


def icon_names() -> list[str]:
    """The names of every icon shipped."""
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))


@cache
def _renderer_for(name: str, color: str) -> QSvgRenderer:
    """One parsed renderer per icon and colour (icons repaint often: hover, scrolling)."""
    svg = _svg_text(name).replace("currentColor", QColor(color).name())
    return QSvgRenderer(QByteArray(svg.encode("utf-8")))


class _SvgEngine(QIconEngine):
    """Paints an SVG in one colour (disabled: the palette's disabled text colour)."""

    def __init__(self, name: str, color: QColor | None) -> None:
        super().__init__()
        self._name = name
        self._color = color

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        palette = QApplication.palette() if QApplication.instance() else QPalette()
        group = (QPalette.ColorGroup.Disabled if mode == QIcon.Mode.Disabled
                 else QPalette.ColorGroup.Active)
        color = self._color if self._color is not None and mode != QIcon.Mode.Disabled \
            else palette.color(group, QPalette.ColorRole.WindowText)
        return _renderer_for(self._name, color.name(QColor.NameFormat.HexArgb))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode,
              state: QIcon.State) -> None:
        self._renderer(mode).render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode,
               state: QIcon.State) -> QPixmap:
        pixmap = QPixmap(size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._name, self._color)


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """The icon ``name`` (see :func:`icon_names`).

    Painted in ``color``, or in the palette's text colour at the time it is painted (so it
    follows a theme change).

    Raises:
        KeyError: no such icon.

    """
    _svg_text(name)  # fail early on a typo
    return QIcon(_SvgEngine(name, QColor(color) if color is not None else None))
