"""propis AMOUNT: print an amount of roubles in Russian words."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if not __package__:  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from propis.words import amount_in_words  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Print the amount in words; a bad amount goes to stderr with exit code 1."""
    parser = argparse.ArgumentParser(prog="propis", description=__doc__)
    parser.add_argument("amount", help="for example 1234.56 or 1234,56")
    args = parser.parse_args(argv)
    try:
        print(amount_in_words(args.amount))
    except ValueError as exc:
        print(f"propis: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
