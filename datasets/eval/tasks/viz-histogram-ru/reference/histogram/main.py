"""histogram ФАЙЛ СТОЛБЕЦ [--bins N] [-o КАРТИНКА]: гистограмма столбца CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from histogram.plot import build_histogram
from histogram.reader import ColumnError, read_column

FORMATS = {".png": "png", ".svg": "svg"}


def main(argv: list[str] | None = None) -> int:
    """Save the histogram; 0 on success, 2 on bad input (message on stderr)."""
    parser = argparse.ArgumentParser(prog="histogram", description=__doc__)
    parser.add_argument("file", type=Path, help="CSV с заголовком")
    parser.add_argument("column", help="название столбца")
    parser.add_argument("--bins", type=int, default=10, help="число интервалов (10)")
    parser.add_argument("-o", "--output", type=Path,
                        help="картинка .png или .svg (по умолчанию рядом с CSV, .png)")
    args = parser.parse_args(argv)
    output = args.output or args.file.with_suffix(".png")
    try:
        kind = FORMATS.get(output.suffix.lower())
        if kind is None:
            raise ColumnError(f"не умею сохранять {output.name}: нужен .png или .svg")
        if args.bins < 1:
            raise ColumnError("--bins должно быть не меньше 1")
        values, skipped = read_column(args.file, args.column)
        figure = build_histogram(values, bins=args.bins, label=args.column)
        figure.savefig(output, format=kind, dpi=120)
    except (ColumnError, OSError) as exc:
        print(f"histogram: {exc}", file=sys.stderr)
        return 2
    print(f"учтено: {len(values)}, пропущено: {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
