"""translit TEXT...: print the passport transliteration of TEXT (or of each stdin line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if not __package__:  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from translit.core import to_latin  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Transliterate the arguments, or standard input when there are none."""
    parser = argparse.ArgumentParser(prog="translit", description=__doc__)
    parser.add_argument("text", nargs="*", help="the text (default: read standard input)")
    args = parser.parse_args(argv)
    if args.text:
        print(to_latin(" ".join(args.text)))
    else:
        for line in sys.stdin:
            print(to_latin(line.rstrip("\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
