"""pager URL [-H 'Name: value']... [--max-pages N]: print every item as a JSON line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pager.fetch import PaginationError, fetch_all


def main(argv: list[str] | None = None) -> int:
    """0 when every page was read, 1 on a pagination error, 2 on a malformed header."""
    parser = argparse.ArgumentParser(prog="pager", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--max-pages", type=int, default=100)
    args = parser.parse_args(argv)
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            print(f"pager: a header must look like 'Name: value', not {header!r}",
                  file=sys.stderr)
            return 2
        headers[name.strip()] = value.strip()
    try:
        items = fetch_all(args.url, headers=headers, max_pages=args.max_pages)
    except PaginationError as exc:
        print(f"pager: {exc}", file=sys.stderr)
        return 1
    for item in items:
        print(json.dumps(item, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
