"""linechart FILE --x COLUMN --y COLUMN [--y COLUMN ...] [--title TEXT] [-o OUTPUT]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linechart.chart import FORMATS, ChartError, line_chart, save_chart


def main(argv: list[str] | None = None) -> int:
    """Draw the chart and save it; 0 on success, 2 on bad input (message on stderr)."""
    parser = argparse.ArgumentParser(prog="linechart", description="Line chart of a CSV file.")
    parser.add_argument("file", type=Path, help="comma-separated file with a header row")
    parser.add_argument("--x", required=True, help="the column for the X axis")
    parser.add_argument("--y", action="append", required=True,
                        help="a column to draw as a line (repeat for more lines)")
    parser.add_argument("--title", help="the chart's title")
    parser.add_argument("-o", "--output", type=Path, default=Path("chart.png"),
                        help="where to save: .png or .svg (default chart.png)")
    args = parser.parse_args(argv)
    try:
        if args.output.suffix.lower() not in FORMATS:
            raise ChartError(f"cannot save {args.output.name}: use a .png or .svg file name")
        save_chart(line_chart(args.file, args.x, args.y, args.title), args.output)
    except ChartError as exc:
        print(f"linechart: {exc}", file=sys.stderr)
        return 2
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
