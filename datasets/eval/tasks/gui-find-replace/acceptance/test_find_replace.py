import re

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPlainTextEdit, QPushButton


@pytest.fixture
def win(qapp):
    import editor

    window = editor.MainWindow()
    window.show()
    qapp.processEvents()
    yield window
    window.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def set_text(window, text):
    edit = child(window, QPlainTextEdit, "textEdit")
    edit.setPlainText(text)
    cursor = edit.textCursor()
    cursor.setPosition(0)
    edit.setTextCursor(cursor)
    return edit


def search(window, find, replace="", case=False, words=False):
    child(window, QLineEdit, "findEdit").setText(find)
    child(window, QLineEdit, "replaceEdit").setText(replace)
    child(window, QCheckBox, "caseCheck").setChecked(case)
    child(window, QCheckBox, "wordsCheck").setChecked(words)


def press(window, qapp, name):
    child(window, QPushButton, name).click()
    qapp.processEvents()


def selection(window):
    cursor = child(window, QPlainTextEdit, "textEdit").textCursor()
    return cursor.selectionStart(), cursor.selectionEnd()


def status(window, qapp):
    qapp.processEvents()
    return child(window, QLabel, "statusLabel").text()


def test_find_next_selects_each_match_and_wraps(win, qapp):
    set_text(win, "cat Cat cat")
    search(win, "cat")
    seen = []
    for _ in range(4):
        press(win, qapp, "findNextButton")
        seen.append(selection(win))
    assert seen == [(0, 3), (4, 7), (8, 11), (0, 3)]
    search(win, "dog")
    press(win, qapp, "findNextButton")
    assert status(win, qapp).strip(), "statusLabel must say that nothing was found"


def test_match_case_and_whole_words(win, qapp):
    set_text(win, "cat Cat cat")
    search(win, "cat", case=True)
    seen = []
    for _ in range(3):
        press(win, qapp, "findNextButton")
        seen.append(selection(win))
    assert seen == [(0, 3), (8, 11), (0, 3)]
    edit = set_text(win, "Ёлка ёлка ЁЛКА, ёлками")
    search(win, "ёлка", "сосна", words=True)
    press(win, qapp, "replaceAllButton")
    assert edit.toPlainText() == "сосна сосна сосна, ёлками"
    edit = set_text(win, "cat concatenate cat.")
    search(win, "cat", "dog", words=True)
    press(win, qapp, "replaceAllButton")
    assert edit.toPlainText() == "dog concatenate dog."


def test_replace_all_is_literal_counted_and_one_undo(win, qapp):
    original = "1+1=2, a.b or axb; (1+1)*3 [x]"
    edit = set_text(win, original)
    search(win, "1+1", "two")
    press(win, qapp, "replaceAllButton")
    assert edit.toPlainText() == "two=2, a.b or axb; (two)*3 [x]"
    assert re.findall(r"\d+", status(win, qapp)) == ["2"], status(win, qapp)
    search(win, "a.b", r"\1$&")
    press(win, qapp, "replaceAllButton")
    assert edit.toPlainText() == r"two=2, \1$& or axb; (two)*3 [x]"
    edit.undo()
    assert edit.toPlainText() == "two=2, a.b or axb; (two)*3 [x]"
    edit.undo()
    assert edit.toPlainText() == original
    search(win, "", "zzz")
    press(win, qapp, "replaceAllButton")
    press(win, qapp, "findNextButton")
    press(win, qapp, "replaceButton")
    assert edit.toPlainText() == original


def test_replace_replaces_selected_match_and_selects_next(win, qapp):
    edit = set_text(win, "one two one two one")
    search(win, "one", "1")
    press(win, qapp, "replaceButton")  # nothing selected yet: only finds
    assert edit.toPlainText() == "one two one two one"
    assert selection(win) == (0, 3)
    press(win, qapp, "replaceButton")
    assert edit.toPlainText() == "1 two one two one"
    assert selection(win) == (6, 9)
    press(win, qapp, "replaceButton")
    assert edit.toPlainText() == "1 two 1 two one"
    assert selection(win) == (12, 15)


def test_open_save_utf8_and_unreadable_file(win, qapp, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Привет, мир!\nвторая строка 🥛\n", encoding="utf-8")
    win.open_file(str(source))
    qapp.processEvents()
    edit = child(win, QPlainTextEdit, "textEdit")
    assert edit.toPlainText() == "Привет, мир!\nвторая строка 🥛\n"
    search(win, "МИР", "world")
    press(win, qapp, "replaceAllButton")
    target = tmp_path / "out.txt"
    win.save_file(str(target))
    assert target.read_bytes().decode("utf-8") == "Привет, world!\nвторая строка 🥛\n"
    win.open_file(str(tmp_path / "missing.txt"))
    qapp.processEvents()
    assert edit.toPlainText() == "Привет, world!\nвторая строка 🥛\n"
    assert status(win, qapp).strip(), "statusLabel must explain why the file did not open"
