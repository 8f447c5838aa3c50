"""The desktop app's Russian catalog: one translation per English text, and a live switch."""

import importlib
import pkgutil

import ui.desktop
from ui.desktop import i18n


def _import_all_desktop_modules():
    for info in pkgutil.walk_packages(ui.desktop.__path__, "ui.desktop."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def test_no_english_text_has_two_russian_translations():
    _import_all_desktop_modules()
    clashes = i18n.conflicts()
    assert not clashes, "\n".join(f"{e!r}: {a!r} vs {b!r}" for e, a, b in clashes)


def test_a_clash_is_reported():
    before = len(i18n.conflicts())
    i18n.register({"__test clash__": "один"})
    i18n.register({"__test clash__": "два"})
    assert i18n.conflicts()[before:] == [("__test clash__", "один", "два")]
    i18n._CONFLICTS[before:] = []


def test_language_switches_live_and_back(qapp):
    from PySide6.QtWidgets import QLabel

    i18n.register({"New chat": "Новый чат"})

    class Label(i18n.Retranslatable, QLabel):
        def __init__(self):
            super().__init__()
            self.retranslate()

        def retranslate(self):
            self.setText(i18n.tr("New chat"))

    label = Label()
    try:
        i18n.set_language("ru")
        qapp.processEvents()
        assert label.text() == "Новый чат"
        assert i18n.current_language() == "ru"
    finally:
        i18n.set_language("en")
        qapp.processEvents()
    assert label.text() == "New chat"


def test_an_untranslated_text_stays_english_in_russian(qapp):
    from PySide6.QtCore import QCoreApplication

    try:
        i18n.set_language("ru")
        assert i18n.tr("__no translation for this text__") == "__no translation for this text__"
        assert i18n.tr("New chat") == "Новый чат"
        # the catalog answers nothing (a null string) for what it does not know
        assert QCoreApplication.translate("any", "__unknown__") == "__unknown__"
    finally:
        i18n.set_language("en")


def test_qt_own_texts_follow_the_language(qtbot):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QMessageBox

    def yes_no():
        box = QMessageBox(QMessageBox.Icon.Question, "t", "q",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        qtbot.addWidget(box)
        return (box.button(QMessageBox.StandardButton.Yes).text().replace("&", ""),
                box.button(QMessageBox.StandardButton.No).text().replace("&", ""))

    assert yes_no() == ("Yes", "No")
    try:
        i18n.set_language("ru")
        assert yes_no() == ("Да", "Нет")
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Отмена"
        # the text fields' context menu
        assert QCoreApplication.translate("QLineEdit", "&Copy") != "&Copy"
    finally:
        i18n.set_language("en")
    assert yes_no() == ("Yes", "No")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
