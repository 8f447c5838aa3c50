"""Reading the URL list: one URL per line, blank lines and ``#`` comments skipped."""

from __future__ import annotations

from pathlib import Path


class UrlFileError(Exception):
    """The URL file cannot be used; the message is one sentence for the user."""


def parse_urls(text: str) -> list[str]:
    """The URLs of a list, in order: lines stripped, blank lines and ``#`` lines dropped.

    Lines are kept as written otherwise (a line that is not a URL is checked and reported
    as ERROR, so a typo is visible instead of silently skipped).
    """
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def read_urls(path: Path) -> list[str]:
    """Read and :func:`parse_urls` a UTF-8 file (a BOM is allowed).

    Raises:
        UrlFileError: the file is missing, unreadable, not UTF-8, or holds no URLs.

    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UrlFileError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise UrlFileError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise UrlFileError(f"cannot read {path}: {exc.strerror}") from None
    urls = parse_urls(text)
    if not urls:
        raise UrlFileError(f"{path} contains no URLs (blank lines and # comments are skipped)")
    return urls
