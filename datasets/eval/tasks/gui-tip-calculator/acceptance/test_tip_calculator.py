import re
from decimal import Decimal

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QCheckBox, QLabel, QLineEdit

RESULTS = ("tipLabel", "totalLabel", "perPersonLabel")


@pytest.fixture
def win(qapp):
    import tipcalc

    window = tipcalc.MainWindow()
    window.show()
    qapp.processEvents()
    yield window
    window.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def key(widget, code, text=""):
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, text))


def enter(window, qapp, bill, tip=None, people=None, round_up=None):
    if tip is not None:
        child(window, QAbstractSpinBox, "tipSpin").setValue(tip)
    if people is not None:
        child(window, QAbstractSpinBox, "peopleSpin").setValue(people)
    if round_up is not None:
        child(window, QCheckBox, "roundUpCheck").setChecked(round_up)
    edit = child(window, QLineEdit, "billEdit")
    edit.setFocus()
    edit.selectAll()
    key(edit, Qt.Key.Key_Backspace)
    for char in bill:  # typed key by key: the results must follow without a button
        key(edit, Qt.Key.Key_unknown, char)
    qapp.processEvents()


def text(window, name):
    raw = child(window, QLabel, name).text()
    return re.sub(r"[\u00a0\u202f]", " ", raw).strip()


def amount(window, name):
    shown = text(window, name)
    digits = re.sub(r"[^\d,.]", "", shown).replace(",", ".")
    assert re.fullmatch(r"\d+\.\d\d", digits), f"{name} shows no amount with kopecks: {shown!r}"
    return Decimal(digits)


def results(window):
    return tuple(amount(window, name) for name in RESULTS)


def test_live_results_and_number_format(win, qapp):
    assert child(win, QAbstractSpinBox, "tipSpin").value() == 10
    assert child(win, QAbstractSpinBox, "peopleSpin").value() == 1
    enter(win, qapp, "1000")
    assert results(win) == (Decimal("100.00"), Decimal("1100.00"), Decimal("1100.00"))
    enter(win, qapp, "1 234 567,89", tip=20)
    assert results(win) == (Decimal("246913.58"), Decimal("1481481.47"),
                            Decimal("1481481.47"))
    assert re.fullmatch(r"1 481 481,47(\s*₽)?", text(win, "totalLabel")), text(win, "totalLabel")
    assert re.fullmatch(r"246 913,58(\s*₽)?", text(win, "tipLabel")), text(win, "tipLabel")
    enter(win, qapp, "84.5", tip=15)
    assert results(win)[:2] == (Decimal("12.68"), Decimal("97.18"))


def test_tip_is_rounded_half_up_exactly(win, qapp):
    enter(win, qapp, "150,50", tip=15)
    assert results(win)[:2] == (Decimal("22.58"), Decimal("173.08"))
    enter(win, qapp, "1000.50", tip=15)
    assert results(win)[:2] == (Decimal("150.08"), Decimal("1150.58"))
    enter(win, qapp, "10,5", tip=5)
    assert results(win)[:2] == (Decimal("0.53"), Decimal("11.03"))


def test_share_is_rounded_up_to_the_kopeck(win, qapp):
    enter(win, qapp, "1000", tip=15, people=3)
    assert results(win) == (Decimal("150.00"), Decimal("1150.00"), Decimal("383.34"))
    enter(win, qapp, "100", tip=0, people=7)
    assert amount(win, "perPersonLabel") == Decimal("14.29")
    enter(win, qapp, "100", tip=0, people=4)
    assert amount(win, "perPersonLabel") == Decimal("25.00")


def test_round_up_to_whole_rubles(win, qapp):
    enter(win, qapp, "987,65", tip=10, people=2)
    assert results(win) == (Decimal("98.77"), Decimal("1086.42"), Decimal("543.21"))
    child(win, QCheckBox, "roundUpCheck").setChecked(True)
    qapp.processEvents()
    assert results(win) == (Decimal("99.35"), Decimal("1087.00"), Decimal("543.50"))
    enter(win, qapp, "1000", tip=10, people=1)
    assert results(win) == (Decimal("100.00"), Decimal("1100.00"), Decimal("1100.00"))


def test_bad_and_empty_bills_show_dashes(win, qapp):
    status = child(win, QLabel, "statusLabel")
    for bad in ("abc", "-5", "12,3,4"):
        enter(win, qapp, "100")
        assert amount(win, "totalLabel") == Decimal("110.00")
        enter(win, qapp, bad)
        for name in RESULTS:
            shown = text(win, name)
            assert not re.search(r"\d", shown), f"{name} shows {shown!r} for the bill {bad!r}"
            assert "—" in shown, f"{name} should show a dash for the bill {bad!r}: {shown!r}"
        assert status.text().strip(), f"statusLabel must explain what is wrong with {bad!r}"
    enter(win, qapp, "")
    for name in RESULTS:
        assert "—" in text(win, name) and not re.search(r"\d", text(win, name))
