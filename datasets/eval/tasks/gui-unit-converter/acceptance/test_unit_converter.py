import re

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton

NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


@pytest.fixture
def win(qapp):
    import unitconv

    window = unitconv.MainWindow()
    window.show()
    qapp.processEvents()
    yield window
    window.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def choose(window, name, text):
    combo = child(window, QComboBox, name)
    index = combo.findText(text)
    assert index >= 0, f"{name} has no item {text!r}: {items(window, name)}"
    combo.setCurrentIndex(index)


def items(window, name):
    combo = child(window, QComboBox, name)
    return [combo.itemText(i) for i in range(combo.count())]


def type_value(window, qapp, text):
    edit = child(window, QLineEdit, "valueEdit")
    edit.clear()
    QTest.keyClicks(edit, text)
    qapp.processEvents()


def label_text(window, qapp):
    qapp.processEvents()
    return child(window, QLabel, "resultLabel").text().strip()


def result(window, qapp):
    text = label_text(window, qapp).replace("\u2212", "-")
    match = NUMBER.search(text)
    assert match, f"resultLabel shows no number: {text!r}"
    return float(match.group().replace(",", "."))


def setup(window, category, source, target):
    choose(window, "categoryCombo", category)
    choose(window, "fromCombo", source)
    choose(window, "toCombo", target)


def test_length_uses_exact_factors(win, qapp):
    setup(win, "Length", "km", "mi")
    type_value(win, qapp, "1")
    assert result(win, qapp) == pytest.approx(0.621371192, rel=1e-5)
    setup(win, "Length", "in", "ft")
    type_value(win, qapp, "12")
    assert result(win, qapp) == pytest.approx(1.0, abs=1e-9)
    assert "9999" not in label_text(win, qapp)
    setup(win, "Length", "mi", "km")
    type_value(win, qapp, "5")
    assert result(win, qapp) == pytest.approx(8.04672, rel=1e-6)


def test_temperatures_and_absolute_zero(win, qapp):
    setup(win, "Temperature", "°C", "°F")
    type_value(win, qapp, "100")
    assert result(win, qapp) == pytest.approx(212, abs=1e-6)
    type_value(win, qapp, "-40")
    choose(win, "fromCombo", "°F")
    choose(win, "toCombo", "°C")
    assert result(win, qapp) == pytest.approx(-40, abs=1e-6)
    setup(win, "Temperature", "K", "°C")
    type_value(win, qapp, "0")
    assert result(win, qapp) == pytest.approx(-273.15, abs=1e-6)
    setup(win, "Temperature", "°C", "K")
    type_value(win, qapp, "-300")
    text = label_text(win, qapp)
    assert text, "below absolute zero must show an error message"
    assert "-26.85" not in text and "−26.85" not in text, text


def test_category_refills_both_unit_lists(win, qapp):
    choose(win, "categoryCombo", "Mass")
    assert items(win, "fromCombo") == ["g", "kg", "lb", "oz"]
    assert items(win, "toCombo") == ["g", "kg", "lb", "oz"]
    setup(win, "Mass", "lb", "g")
    type_value(win, qapp, "1")
    assert result(win, qapp) == pytest.approx(453.59237, rel=1e-7)
    choose(win, "fromCombo", "oz")
    type_value(win, qapp, "16")
    assert result(win, qapp) == pytest.approx(453.59237, rel=1e-7)
    choose(win, "categoryCombo", "Temperature")
    assert items(win, "fromCombo") == ["°C", "°F", "K"]
    assert items(win, "toCombo") == ["°C", "°F", "K"]


def test_swap_button_swaps_units_and_result(win, qapp):
    setup(win, "Length", "km", "mi")
    type_value(win, qapp, "1")
    assert result(win, qapp) == pytest.approx(0.621371192, rel=1e-5)
    child(win, QPushButton, "swapButton").click()
    qapp.processEvents()
    assert child(win, QComboBox, "fromCombo").currentText() == "mi"
    assert child(win, QComboBox, "toCombo").currentText() == "km"
    assert result(win, qapp) == pytest.approx(1.609344, rel=1e-7)


def test_live_update_comma_empty_and_bad_input(win, qapp):
    setup(win, "Length", "m", "cm")
    type_value(win, qapp, "2,5")
    assert result(win, qapp) == pytest.approx(250, abs=1e-9)
    type_value(win, qapp, "5")
    assert result(win, qapp) == pytest.approx(500, abs=1e-9)
    type_value(win, qapp, "abc")
    text = label_text(win, qapp)
    assert text, "text that is not a number must give an error message"
    assert "500" not in text, f"the old result is still shown: {text!r}"
    type_value(win, qapp, "")
    assert label_text(win, qapp) == ""
