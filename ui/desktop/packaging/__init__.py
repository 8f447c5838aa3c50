"""Packaging of the desktop app as one executable (U6).

``multicoder-desktop.spec`` is the PyInstaller spec; :mod:`ui.desktop.packaging.build` runs it
(``python -m ui.desktop.packaging.build``); :mod:`ui.desktop.packaging.make_icons` renders the
raster icons (PNG sizes and a Windows ``.ico``) from ``ui/desktop/icons/multicoder.svg``.
"""
