"""scatter FILE XCOL YCOL [-o OUT]: scatter plot of two CSV columns with a trend line."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scatter.trend import fit_line, scatter_plot

FORMATS = {".png": "png", ".svg": "svg"}


class InputError(ValueError):
    """The file or the columns cannot be plotted; the message says what to fix."""


def read_points(path: Path, x_col: str, y_col: str) -> tuple[list[float], list[float]]:
    """The (x, y) values of two columns; rows with an empty value are skipped.

    Raises:
        InputError: unreadable file, missing column or a value that is not a number.

    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            for column in (x_col, y_col):
                if column not in header:
                    raise InputError(f"no column {column!r} in {path}; "
                                     f"columns: {', '.join(header) or 'none'}")
            xs: list[float] = []
            ys: list[float] = []
            for line, row in enumerate(reader, start=2):
                x_text, y_text = (row.get(x_col) or "").strip(), (row.get(y_col) or "").strip()
                if not x_text or not y_text:
                    continue
                try:
                    xs.append(float(x_text))
                    ys.append(float(y_text))
                except ValueError:
                    raise InputError(f"line {line}: {x_text!r} / {y_text!r} is not a number"
                                     ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    return xs, ys


def main(argv: list[str] | None = None) -> int:
    """Save the chart and print the fit; 0 on success, 1 on bad input."""
    parser = argparse.ArgumentParser(prog="scatter", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("x_column")
    parser.add_argument("y_column")
    parser.add_argument("-o", "--output", type=Path, default=Path("scatter.png"),
                        help=".png or .svg (default scatter.png)")
    args = parser.parse_args(argv)
    try:
        kind = FORMATS.get(args.output.suffix.lower())
        if kind is None:
            raise InputError(f"cannot save {args.output.name}: use .png or .svg")
        xs, ys = read_points(args.file, args.x_column, args.y_column)
        slope, intercept, r2 = fit_line(xs, ys)
        figure = scatter_plot(xs, ys, title=f"{args.y_column} vs {args.x_column}")
        figure.axes[0].set_xlabel(args.x_column)
        figure.axes[0].set_ylabel(args.y_column)
        figure.savefig(args.output, format=kind, dpi=120)
    except (InputError, ValueError, OSError) as exc:
        print(f"scatter: {exc}", file=sys.stderr)
        return 1
    print(f"slope={slope:.4f} intercept={intercept:.4f} r2={r2:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
