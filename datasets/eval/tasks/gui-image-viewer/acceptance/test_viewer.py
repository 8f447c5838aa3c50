import re

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel, QPushButton


@pytest.fixture
def win(qapp):
    import viewer

    window = viewer.MainWindow()
    window.show()
    qapp.processEvents()
    yield window
    window.close()


def make_image(path, width=40, height=20, left="#ff0000", right="#0000ff", fmt=None):
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(left))
    for x in range(width // 2, width):
        for y in range(height):
            image.setPixelColor(x, y, QColor(right))
    assert image.save(str(path), fmt)
    return path


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name!r}"
    return found


def press(window, qapp, name, times=1):
    for _ in range(times):
        child(window, QPushButton, name).click()
        qapp.processEvents()


def shown(window):
    pixmap = child(window, QLabel, "imageLabel").pixmap()
    assert pixmap is not None and not pixmap.isNull(), "imageLabel shows no picture"
    return pixmap


def shown_size(window):
    pixmap = shown(window)
    return pixmap.width(), pixmap.height()


def colour(window, x, y):
    return shown(window).toImage().pixelColor(x, y).name()


def zoom(window):
    text = child(window, QLabel, "zoomLabel").text()
    match = re.search(r"(\d+)\s*%", text)
    assert match, f"zoomLabel shows no percentage: {text!r}"
    return int(match.group(1))


def info(window):
    return child(window, QLabel, "infoLabel").text()


def test_open_shows_actual_size_and_info(win, qapp, tmp_path):
    path = make_image(tmp_path / "Кот в саду.png")
    win.open_image(str(path))
    qapp.processEvents()
    assert shown_size(win) == (40, 20)
    assert colour(win, 5, 10) == "#ff0000" and colour(win, 35, 10) == "#0000ff"
    assert zoom(win) == 100
    assert "Кот в саду.png" in info(win)
    assert re.search(r"40\s*[×x]\s*20", info(win)), info(win)


def test_zoom_steps_are_exact_and_limited(win, qapp, tmp_path):
    win.open_image(str(make_image(tmp_path / "a.png")))
    qapp.processEvents()
    press(win, qapp, "zoomInButton")
    assert (zoom(win), shown_size(win)) == (200, (80, 40))
    press(win, qapp, "zoomInButton", times=3)
    assert (zoom(win), shown_size(win)) == (400, (160, 80))
    assert colour(win, 20, 40) == "#ff0000" and colour(win, 140, 40) == "#0000ff"
    press(win, qapp, "actualSizeButton")
    assert (zoom(win), shown_size(win)) == (100, (40, 20))
    press(win, qapp, "zoomOutButton")
    assert (zoom(win), shown_size(win)) == (50, (20, 10))
    press(win, qapp, "zoomOutButton", times=3)
    assert (zoom(win), shown_size(win)) == (25, (10, 5))
    assert colour(win, 1, 2) == "#ff0000" and colour(win, 8, 2) == "#0000ff"
    press(win, qapp, "zoomInButton")
    assert (zoom(win), shown_size(win)) == (50, (20, 10))


def test_next_and_previous_go_through_the_folder(win, qapp, tmp_path):
    make_image(tmp_path / "a.png", 10, 10)
    make_image(tmp_path / "b.jpg", 20, 10, fmt="JPG")
    make_image(tmp_path / "c.bmp", 30, 10, fmt="BMP")
    make_image(tmp_path / "d.PNG", 40, 10, fmt="PNG")
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    win.open_image(str(tmp_path / "a.png"))
    qapp.processEvents()
    press(win, qapp, "zoomInButton")
    widths = []
    for _ in range(4):
        press(win, qapp, "nextButton")
        widths.append(shown_size(win)[0])
        assert zoom(win) == 100, "a newly opened image starts at 100%"
    assert widths == [20, 30, 40, 10]
    assert "a.png" in info(win)
    press(win, qapp, "prevButton")
    assert shown_size(win) == (40, 10)
    assert "d.PNG" in info(win)
    press(win, qapp, "prevButton")
    assert shown_size(win) == (30, 10)


def test_bad_files_keep_the_current_image(win, qapp, tmp_path):
    win.open_image(str(make_image(tmp_path / "good.png")))
    qapp.processEvents()
    press(win, qapp, "zoomInButton")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    for bad in (broken, text, tmp_path / "missing.png"):
        child(win, QLabel, "statusLabel").setText("")
        win.open_image(str(bad))
        qapp.processEvents()
        assert child(win, QLabel, "statusLabel").text().strip(), f"no message for {bad.name}"
        assert shown_size(win) == (80, 40), f"the current image must stay after {bad.name}"
        assert "good.png" in info(win)
