"""renamer FOLDER PATTERN REPLACEMENT [--dry-run]: rename files by a regular expression."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


class RenameError(Exception):
    """The renaming cannot be done; the message says why, in one line."""


def plan_renames(folder: Path, pattern: re.Pattern[str], replacement: str
                 ) -> list[tuple[str, str]]:
    """The ``(old name, new name)`` pairs for the files directly in ``folder``, sorted.

    Raises:
        RenameError: two files would get one name, a new name is taken or invalid, or the
            replacement refers to a group the pattern does not have.

    """
    files = sorted(entry.name for entry in folder.iterdir() if entry.is_file())
    plan: list[tuple[str, str]] = []
    for name in files:
        try:
            new = pattern.sub(replacement, name)
        except (re.error, IndexError) as exc:
            raise RenameError(f"bad replacement {replacement!r}: {exc}") from exc
        if new == name:
            continue
        if not new or "/" in new or "\\" in new or new in (".", ".."):
            raise RenameError(f"{name!r} would be renamed to an invalid name {new!r}")
        plan.append((name, new))
    targets: dict[str, str] = {}
    for old, new in plan:
        if new in targets:
            raise RenameError(f"{targets[new]!r} and {old!r} would both become {new!r}")
        if (folder / new).exists():
            raise RenameError(f"cannot rename {old!r}: {new!r} already exists")
        targets[new] = old
    return plan


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, rename (or only show) and return the exit code."""
    parser = argparse.ArgumentParser(prog="renamer", description=__doc__)
    parser.add_argument("folder", type=Path, help="the folder whose files are renamed")
    parser.add_argument("pattern", help="a Python regular expression")
    parser.add_argument("replacement", help="what matches become; \\1, \\2 ... are groups")
    parser.add_argument("--dry-run", action="store_true", help="only show what would happen")
    args = parser.parse_args(argv)
    try:
        if not args.folder.is_dir():
            raise RenameError(f"{args.folder} is not a folder")
        try:
            pattern = re.compile(args.pattern)
        except re.error as exc:
            raise RenameError(f"bad regular expression {args.pattern!r}: {exc}") from exc
        plan = plan_renames(args.folder, pattern, args.replacement)
        for old, new in plan:
            if not args.dry_run:
                (args.folder / old).rename(args.folder / new)
            print(f"{old} -> {new}")
    except (RenameError, OSError) as exc:
        print(f"renamer: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
