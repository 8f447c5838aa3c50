"""Decoding files: UTF-8 with or without BOM, Windows-1251, line ends, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from textstats.reading import ReadError, decode, read_text

TEXT = "Съешь же ещё этих мягких французских булок — да выпей чаю…"


def test_utf8_and_utf8_with_bom() -> None:
    assert decode(TEXT.encode("utf-8")) == (TEXT, "utf-8")
    assert decode(TEXT.encode("utf-8-sig")) == (TEXT, "utf-8")


def test_windows_1251() -> None:
    assert decode(TEXT.encode("cp1251")) == (TEXT, "cp1251")


def test_windows_line_ends_are_normalised() -> None:
    assert decode(b"one\r\ntwo\rthree\n") == ("one\ntwo\nthree\n", "utf-8")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="файл не найден"):
        read_text(tmp_path / "нет.txt")


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="папка"):
        read_text(tmp_path)
