"""Reading the URL list."""

from __future__ import annotations

from pathlib import Path

import pytest

from statuscheck.urls import UrlFileError, parse_urls, read_urls


def test_blank_lines_comments_and_spaces() -> None:
    text = "# nightly\n\n  https://a.example/  \n\t\nhttp://b.example/x\n  # indented comment\n"
    assert parse_urls(text) == ["https://a.example/", "http://b.example/x"]


def test_non_url_lines_are_kept_to_be_reported() -> None:
    assert parse_urls("oops not a url\n") == ["oops not a url"]


def test_windows_line_ends_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_bytes("\ufeffhttp://a.example/\r\nhttp://b.example/\r\n".encode())
    assert read_urls(path) == ["http://a.example/", "http://b.example/"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UrlFileError, match="no such file"):
        read_urls(tmp_path / "nope.txt")


def test_file_without_urls(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("# later\n\n", encoding="utf-8")
    with pytest.raises(UrlFileError, match="contains no URLs"):
        read_urls(path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "urls.bin"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UrlFileError, match="not UTF-8"):
        read_urls(path)
