"""Reading a text file whose encoding is not known: UTF-8 first, then Windows-1251."""

from __future__ import annotations

from pathlib import Path

class ReadError(Exception):
    """The file cannot be read; the message is one sentence for the user."""


def decode(raw: bytes) -> tuple[str, str]:
    """Decode ``raw`` as UTF-8 (a BOM is dropped), else as Windows-1251.

    Line ends are normalised to ``\\n``, so a Windows file gives the same counts as a Unix one.

    Returns:
        ``(text, encoding)`` — the encoding is "utf-8" or "cp1251".

    """
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1251", errors="replace"), "cp1251"
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def read_text(path: Path) -> tuple[str, str]:
    """Read and :func:`decode` a file.

    Raises:
        ReadError: the file does not exist, is a folder or cannot be read.

    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReadError(f"файл не найден: {path}") from None
    except IsADirectoryError:
        raise ReadError(f"{path} — это папка, а не файл") from None
    except OSError as exc:
        raise ReadError(f"не удалось прочитать {path}: {exc.strerror}") from None
    return decode(raw)
