"""The Settings dialog (U3, L3).

Status of all systems, providers and keys, models, general, sandbox and data, as pages of
:class:`SettingsDialog`.
"""

from ui.desktop.settings.dialog import TABS, SettingsDialog

__all__ = ["TABS", "SettingsDialog"]
