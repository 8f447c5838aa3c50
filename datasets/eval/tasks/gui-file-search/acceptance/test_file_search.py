import re

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QListWidget, QPushButton

ALL_TXT = ["a.txt", "B.TXT", "sub/c.txt", "sub/deeper/d.txt", "sub/Данные.TXT"]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("Привет, мир", encoding="utf-8")
    (root / "B.TXT").write_text("просто текст", encoding="utf-8")
    (root / "notes.md").write_text("# Заметки\nПРИВЕТ всем\n", encoding="utf-8")
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0" + "привет".encode("utf-8"))
    (root / "sub" / "c.txt").write_bytes("Привет из Windows".encode("cp1251"))
    (root / "sub" / "deeper" / "d.txt").write_text("ничего", encoding="utf-8")
    (root / "sub" / "Данные.TXT").write_text("и тут привет", encoding="utf-8")
    return root


@pytest.fixture
def win(qapp):
    import filesearch

    window = filesearch.MainWindow()
    window.show()
    qapp.processEvents()
    yield window
    window.close()
    qapp.processEvents()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def search(window, wait_until, folder, mask="", text="", case=False, subfolders=True):
    child(window, QLineEdit, "folderEdit").setText(str(folder))
    child(window, QLineEdit, "maskEdit").setText(mask)
    child(window, QLineEdit, "textEdit").setText(text)
    child(window, QCheckBox, "caseCheck").setChecked(case)
    child(window, QCheckBox, "subfoldersCheck").setChecked(subfolders)
    button = child(window, QPushButton, "searchButton")
    button.click()
    status = child(window, QLabel, "statusLabel")
    wait_until(lambda: button.isEnabled() and status.text().strip(), timeout_s=10)
    widget = child(window, QListWidget, "resultList")
    return [widget.item(row).text() for row in range(widget.count())]


def found_count(window):
    text = child(window, QLabel, "statusLabel").text()
    match = re.search(r"Найдено:\s*(\d+)", text)
    assert match, f"statusLabel should say «Найдено: N»: {text!r}"
    return int(match.group(1))


def test_masks_are_case_insensitive_and_results_sorted(win, wait_until, tree):
    assert search(win, wait_until, tree, "*.txt") == ALL_TXT
    assert found_count(win) == 5
    assert search(win, wait_until, tree, "*.md; *.PNG") == ["img.png", "notes.md"]
    assert found_count(win) == 2
    assert search(win, wait_until, tree, "") == [
        "a.txt", "B.TXT", "img.png", "notes.md", "sub/c.txt", "sub/deeper/d.txt",
        "sub/Данные.TXT"]
    assert found_count(win) == 7


def test_subfolders_switch_and_new_search_replaces_results(win, wait_until, tree):
    assert child(win, QCheckBox, "subfoldersCheck").isChecked(), "subfolders are on by default"
    assert search(win, wait_until, tree, "*.txt", subfolders=False) == ["a.txt", "B.TXT"]
    assert found_count(win) == 2
    assert search(win, wait_until, tree / "sub", "*.txt") == [
        "c.txt", "deeper/d.txt", "Данные.TXT"]
    assert search(win, wait_until, tree, "*.doc") == []
    assert found_count(win) == 0


def test_text_search_encodings_case_and_binary_files(win, wait_until, tree):
    assert not child(win, QCheckBox, "caseCheck").isChecked()
    assert search(win, wait_until, tree, "", "привет") == [
        "a.txt", "notes.md", "sub/c.txt", "sub/Данные.TXT"]
    assert found_count(win) == 4
    assert search(win, wait_until, tree, "", "Привет", case=True) == ["a.txt", "sub/c.txt"]
    assert search(win, wait_until, tree, "*.txt", "ПРИВЕТ") == [
        "a.txt", "sub/c.txt", "sub/Данные.TXT"]


def test_search_runs_in_the_background(win, qapp, wait_until, tree):
    for index in range(200):
        (tree / "sub" / f"file{index:03d}.log").write_text(f"строка {index}\n" * 50,
                                                          encoding="utf-8")
    child(win, QLineEdit, "folderEdit").setText(str(tree))
    child(win, QLineEdit, "textEdit").setText("строка 199")
    button = child(win, QPushButton, "searchButton")
    button.click()
    assert not button.isEnabled(), (
        "searchButton must be disabled while the search runs (in the background)")
    wait_until(button.isEnabled, timeout_s=10)
    qapp.processEvents()
    assert found_count(win) == 1
    widget = child(win, QListWidget, "resultList")
    assert [widget.item(row).text() for row in range(widget.count())] == ["sub/file199.log"]


def test_missing_folder_is_reported(win, wait_until, tree):
    assert search(win, wait_until, tree, "*.txt") == ALL_TXT
    assert search(win, wait_until, tree / "нет такой папки", "*.txt") == []
    assert child(win, QLabel, "statusLabel").text().strip()
