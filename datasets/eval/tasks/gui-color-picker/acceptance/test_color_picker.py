import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QSlider, QWidget

SLIDERS = ("redSlider", "greenSlider", "blueSlider")


@pytest.fixture
def win(qapp):
    import colorpicker

    window = colorpicker.MainWindow()
    window.resize(500, 400)
    window.show()
    qapp.processEvents()
    yield window
    window.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def set_sliders(window, qapp, rgb):
    for name, value in zip(SLIDERS, rgb):
        child(window, QSlider, name).setValue(value)
    qapp.processEvents()


def sliders(window):
    return tuple(child(window, QSlider, name).value() for name in SLIDERS)


def key(widget, code, text=""):
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, text))


def enter_hex(window, qapp, text):
    edit = child(window, QLineEdit, "hexEdit")
    edit.setFocus()
    edit.selectAll()
    key(edit, Qt.Key.Key_Backspace)
    for char in text:
        key(edit, Qt.Key.Key_unknown, char)
    key(edit, Qt.Key.Key_Return, "\r")
    qapp.processEvents()


def hex_text(window):
    return child(window, QLineEdit, "hexEdit").text().strip()


def preview_colour(window, qapp):
    qapp.processEvents()
    frame = child(window, QWidget, "previewFrame")
    assert frame.width() >= 10 and frame.height() >= 10, "previewFrame is too small to see"
    image = frame.grab().toImage()
    return image.pixelColor(image.width() // 2, image.height() // 2).name().upper()


def advice(window, qapp):
    qapp.processEvents()
    text = child(window, QLabel, "contrastLabel").text().lower().replace("ё", "е")
    black, white = "черн" in text, "бел" in text
    assert black != white, f"contrastLabel must name one colour: {text!r}"
    return "black" if black else "white"


def test_sliders_update_code_and_preview(win, qapp):
    set_sliders(win, qapp, (255, 128, 0))
    assert hex_text(win) == "#FF8000"
    assert preview_colour(win, qapp) == "#FF8000"
    set_sliders(win, qapp, (10, 20, 171))
    assert hex_text(win) == "#0A14AB"
    assert preview_colour(win, qapp) == "#0A14AB"


def test_typed_codes_move_the_sliders(win, qapp):
    enter_hex(win, qapp, "#1e90ff")
    assert sliders(win) == (30, 144, 255)
    assert hex_text(win) == "#1E90FF"
    enter_hex(win, qapp, "C0FFEE")
    assert sliders(win) == (192, 255, 238)
    enter_hex(win, qapp, "#abc")
    assert sliders(win) == (170, 187, 204)
    assert hex_text(win) == "#AABBCC"
    assert preview_colour(win, qapp) == "#AABBCC"


def test_invalid_codes_leave_the_sliders_alone(win, qapp):
    set_sliders(win, qapp, (1, 2, 3))
    status = child(win, QLabel, "statusLabel")
    for bad in ("#12345G", "#1234", "синий", "#1E90FF00"):
        status.setText("")
        enter_hex(win, qapp, bad)
        assert sliders(win) == (1, 2, 3), f"{bad!r} must not move the sliders"
        assert status.text().strip(), f"statusLabel must explain why {bad!r} is wrong"


def test_text_colour_advice_follows_wcag_contrast(win, qapp):
    expected = {(255, 255, 255): "black", (0, 0, 0): "white", (0, 0, 128): "white",
                (255, 255, 0): "black", (255, 0, 0): "black", (0, 0, 255): "white",
                (0, 128, 0): "white", (128, 128, 128): "black"}
    got = {}
    for rgb in expected:
        set_sliders(win, qapp, rgb)
        got[rgb] = advice(win, qapp)
    assert got == expected


def test_copy_button_copies_the_code(win, qapp):
    set_sliders(win, qapp, (30, 144, 255))
    QApplication.clipboard().setText("something else")
    child(win, QPushButton, "copyButton").click()
    qapp.processEvents()
    assert QApplication.clipboard().text().strip() == "#1E90FF"
