"""Russian and English, switchable without a restart (U5).

The English text is the source; Russian comes from catalogs each module registers at import
(:func:`register`). :class:`Catalog` is a ``QTranslator`` installed on the application, so a
language switch makes Qt send ``QEvent.LanguageChange`` to every widget; a widget re-sets its
texts in ``changeEvent`` (see :class:`Retranslatable`). Text is looked up with :func:`tr`.

In Russian, Qt's own texts (Yes / No / Cancel, the context menus of text fields, the file
dialogs) come from Qt's ``qtbase_ru`` catalog, installed beside ours; the catalog answers
nothing for texts it does not know, so Qt asks the next translator.
"""

from __future__ import annotations

import locale
from typing import Literal

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QTranslator

__all__ = ["LANGUAGES", "Catalog", "Language", "Retranslatable", "conflicts", "current_language",
           "register", "resolve_language", "set_language", "tr"]

Language = Literal["en", "ru"]
#: Shown in the language picker, each in its own language.
LANGUAGES: dict[Language, str] = {"en": "English", "ru": "Русский"}

_RUSSIAN: dict[str, str] = {}
_CONTEXT = "multicoder"


_CONFLICTS: list[tuple[str, str, str]] = []


def register(russian: dict[str, str]) -> None:
    """Add ``{english: russian}`` pairs to the Russian catalog (each module its own).

    The catalog is shared: an English text registered twice with different Russian keeps the
    first and is listed by :func:`conflicts` (a test keeps that list empty).
    """
    for english, text in russian.items():
        known = _RUSSIAN.setdefault(english, text)
        if known != text:
            _CONFLICTS.append((english, known, text))


def conflicts() -> list[tuple[str, str, str]]:
    """``(english, first russian, other russian)`` for every clashing registration."""
    return list(_CONFLICTS)


class Catalog(QTranslator):
    """A translator answering from the registered Russian catalog."""

    def translate(self, context: str, source_text: str,
                  disambiguation: str | None = None, n: int = -1) -> str | None:
        """The Russian text for ``source_text``; None when the catalog has none.

        None reaches Qt as a null string, so Qt asks its other translators (``qtbase_ru``
        for its own texts) and finally shows the source text. An empty string would not do:
        Qt would show it, blank.
        """
        return _RUSSIAN.get(source_text)

    def isEmpty(self) -> bool:
        """Never empty (Qt skips empty translators)."""
        return False


_installed: list[QTranslator] = []
_language: list[Language] = ["en"]


def tr(text: str) -> str:
    """``text`` in the current language (English when no translation exists)."""
    return QCoreApplication.translate(_CONTEXT, text)


def current_language() -> Language:
    """The language in use."""
    return _language[0]


def resolve_language(setting: str) -> Language:
    """The language for the ``[ui] language`` setting.

    ``auto`` picks Russian when the system's locale is Russian, English otherwise.
    """
    if setting in ("en", "ru"):
        return setting  # type: ignore[return-value]
    name = QLocale.system().name() or (locale.getlocale()[0] or "")
    return "ru" if name.lower().startswith("ru") else "en"


def set_language(language: Language) -> None:
    """Switch every window to ``language`` now.

    Installs a new catalog (and, for Russian, Qt's own ``qtbase_ru`` translations when the
    Qt installation has them); Qt then sends ``LanguageChange`` to all widgets.
    """
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("set_language needs a QApplication")
    _language[0] = language
    for old in _installed:
        app.removeTranslator(old)  # this alone sends LanguageChange (back to English)
    _installed.clear()
    if language == "ru":
        qt_own = QTranslator()
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt_own.load("qtbase_ru", folder):
            _installed.append(qt_own)
            app.installTranslator(qt_own)
        catalog = Catalog()
        _installed.append(catalog)
        app.installTranslator(catalog)


class Retranslatable:
    """Mixin for widgets: ``retranslate()`` runs on every language change.

    A widget calls ``self.retranslate()`` at the end of its ``__init__`` and sets every
    visible text (labels, tooltips, accessible names, placeholders) there.
    """

    def retranslate(self) -> None:
        """Set every visible text (override)."""

    def changeEvent(self, event: QEvent) -> None:
        """Re-set texts when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)  # type: ignore[misc]
