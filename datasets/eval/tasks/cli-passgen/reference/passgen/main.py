"""passgen: generate random passwords with a guaranteed mix of character kinds."""

from __future__ import annotations

import argparse
import secrets
import string
import sys

MIN_LENGTH = 4
MAX_LENGTH = 1024
SIMILAR = frozenset("0Oo1lI")
_RANDOM = secrets.SystemRandom()


def character_kinds(upper: bool, digits: bool, symbols: bool,
                    exclude_similar: bool) -> list[str]:
    """The alphabets to draw from: lowercase always, then each enabled kind."""
    kinds = [string.ascii_lowercase]
    if upper:
        kinds.append(string.ascii_uppercase)
    if digits:
        kinds.append(string.digits)
    if symbols:
        kinds.append(string.punctuation)
    if exclude_similar:
        kinds = ["".join(ch for ch in kind if ch not in SIMILAR) for kind in kinds]
    return kinds


def generate(length: int, kinds: list[str]) -> str:
    """One password of ``length`` characters holding at least one character of every kind."""
    chars = [_RANDOM.choice(kind) for kind in kinds]
    pool = "".join(kinds)
    chars += [_RANDOM.choice(pool) for _ in range(length - len(chars))]
    _RANDOM.shuffle(chars)
    return "".join(chars)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and print the passwords; returns the exit code."""
    parser = argparse.ArgumentParser(prog="passgen", description=__doc__)
    parser.add_argument("--length", type=int, default=16, help="characters per password")
    parser.add_argument("--count", type=int, default=1, help="how many passwords")
    parser.add_argument("--no-upper", action="store_true", help="no uppercase letters")
    parser.add_argument("--no-digits", action="store_true", help="no digits")
    parser.add_argument("--no-symbols", action="store_true", help="no punctuation")
    parser.add_argument("--exclude-similar", action="store_true",
                        help="leave out look-alikes: 0 O o 1 l I")
    args = parser.parse_args(argv)
    if not MIN_LENGTH <= args.length <= MAX_LENGTH:
        parser.error(f"--length must be between {MIN_LENGTH} and {MAX_LENGTH}, "
                     f"not {args.length}")
    if args.count < 1:
        parser.error(f"--count must be at least 1, not {args.count}")
    kinds = character_kinds(not args.no_upper, not args.no_digits, not args.no_symbols,
                            args.exclude_similar)
    for _ in range(args.count):
        print(generate(args.length, kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
