"""The search itself: walk a folder, match names and contents (no Qt here)."""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_CONTENT_BYTES = 64 * 1024 * 1024
"""Bigger files are not searched for text (they are still found by name)."""
ENCODINGS = ("utf-8", "cp1251")


@dataclass(frozen=True)
class Query:
    """What to look for.

    Attributes:
        folder: where to search.
        masks: shell-style name masks (``*.txt``), compared case-insensitively; empty = all.
        text: text the file must contain; empty = names only.
        match_case: compare ``text`` case-sensitively.
        subfolders: descend into subfolders.

    """

    folder: Path
    masks: tuple[str, ...] = ()
    text: str = ""
    match_case: bool = False
    subfolders: bool = True


def parse_masks(text: str) -> tuple[str, ...]:
    """``"*.txt; *.md"`` as ``("*.txt", "*.md")`` (blank parts dropped)."""
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _name_matches(name: str, masks: tuple[str, ...]) -> bool:
    folded = name.casefold()
    return not masks or any(fnmatch.fnmatchcase(folded, mask.casefold()) for mask in masks)


def _read_text(path: Path) -> str | None:
    """The file's text (UTF-8, else Windows-1251); None for binary or unreadable files."""
    try:
        if path.stat().st_size > MAX_CONTENT_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _contains(path: Path, text: str, match_case: bool) -> bool:
    content = _read_text(path)
    if content is None:
        return False
    if match_case:
        return text in content
    return text.casefold() in content.casefold()


def walk(query: Query, stop: threading.Event | None = None) -> Iterator[str]:
    """Relative ``/``-paths of matching files, in walking order; stops early when ``stop`` is set.

    Raises:
        NotADirectoryError: ``query.folder`` is not an existing folder.

    """
    if not query.folder.is_dir():
        raise NotADirectoryError(str(query.folder))
    for root, dirs, files in os.walk(query.folder):
        if not query.subfolders:
            dirs.clear()
        for name in files:
            if stop is not None and stop.is_set():
                return
            path = Path(root, name)
            if not _name_matches(name, query.masks):
                continue
            if query.text and not _contains(path, query.text, query.match_case):
                continue
            yield path.relative_to(query.folder).as_posix()


def sort_results(paths: list[str]) -> list[str]:
    """Alphabetical, case-insensitive (ties broken case-sensitively, so the order is stable)."""
    return sorted(paths, key=lambda p: (p.casefold(), p))
