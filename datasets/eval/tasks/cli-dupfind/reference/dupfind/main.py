"""dupfind DIR [--min-size BYTES]: find groups of files with identical content."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

CHUNK = 1 << 20
HEAD = 4096


def walk_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (symbolic links are not followed)."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                yield path


def digest(path: Path, limit: int | None = None) -> str:
    """SHA-256 of the file's first ``limit`` bytes (all of it when None)."""
    sha = hashlib.sha256()
    left = limit
    with path.open("rb") as handle:
        while left is None or left > 0:
            block = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                break
            sha.update(block)
            if left is not None:
                left -= len(block)
    return sha.hexdigest()


def regroup(groups: Iterable[list[Path]], key: Callable[[Path], str]) -> list[list[Path]]:
    """Split each group by ``key(path)``; keep the parts holding two files or more."""
    result: list[list[Path]] = []
    for group in groups:
        parts: dict[str, list[Path]] = defaultdict(list)
        for path in group:
            parts[key(path)].append(path)
        result.extend(part for part in parts.values() if len(part) > 1)
    return result


def find_duplicates(root: Path, min_size: int) -> list[tuple[int, list[str]]]:
    """Groups of identical files as ``(size in bytes, sorted relative paths)``, biggest first.

    Files are compared by size, then by a hash of their first bytes, then by a full hash, so
    a file whose size is unique is never read.
    """
    by_size: dict[int, list[Path]] = defaultdict(list)
    for path in walk_files(root):
        size = path.stat().st_size
        if size > 0 and size >= min_size:
            by_size[size].append(path)
    groups = [group for group in by_size.values() if len(group) > 1]
    groups = regroup(groups, lambda p: digest(p, HEAD))
    groups = regroup(groups, digest)
    found = [(group[0].stat().st_size, sorted(p.relative_to(root).as_posix() for p in group))
             for group in groups]
    return sorted(found, key=lambda item: (-item[0], item[1]))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, print the groups and return the exit code."""
    parser = argparse.ArgumentParser(prog="dupfind", description=__doc__)
    parser.add_argument("dir", type=Path, help="the folder to search (with subfolders)")
    parser.add_argument("--min-size", type=int, default=0, metavar="BYTES",
                        help="ignore files smaller than this")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"dupfind: {args.dir} is not a folder", file=sys.stderr)
        return 1
    try:
        groups = find_duplicates(args.dir, args.min_size)
    except OSError as exc:
        print(f"dupfind: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    if not groups:
        print("No duplicates found.")
        return 0
    print("\n\n".join("\n".join(paths) for _size, paths in groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
