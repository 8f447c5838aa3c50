"""Read a CSV file and draw its columns as lines with matplotlib."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = {".png": "png", ".svg": "svg"}


class ChartError(ValueError):
    """The CSV file or the options cannot make a chart; the message says what to fix."""


def read_rows(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a comma-separated file (UTF-8, an Excel BOM is fine).

    Raises:
        ChartError: the file cannot be read or has no header.

    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError) as exc:
        raise ChartError(f"cannot read {path}: {exc}") from exc
    if not header:
        raise ChartError(f"{path} is empty: the first row must name the columns")
    return header, rows


def parse_x(text: str, line: int) -> float | date:
    """An X value: a number or a YYYY-MM-DD date.

    Raises:
        ChartError: it is neither (the message names the file line).

    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ChartError(f"line {line}: {text!r} is neither a number nor a YYYY-MM-DD date"
                         ) from None


def parse_y(text: str, column: str, line: int) -> float:
    """A Y value as a float.

    Raises:
        ChartError: it is not a number.

    """
    try:
        return float(text)
    except ValueError:
        raise ChartError(f"line {line}: {column} = {text!r} is not a number") from None


def series(path: str | Path, x: str, ys: list[str]
           ) -> dict[str, tuple[list[float | date], list[float]]]:
    """For each Y column, its (xs, ys) points sorted by X; empty cells are left out.

    Raises:
        ChartError: a column is missing, a value is bad, or X mixes numbers and dates.

    """
    if not ys:
        raise ChartError("name at least one Y column with --y")
    header, rows = read_rows(path)
    for column in (x, *ys):
        if column not in header:
            raise ChartError(f"no column {column!r} in {path}; columns: {', '.join(header)}")
    points: dict[str, list[tuple[float | date, float]]] = {column: [] for column in ys}
    kinds: set[type] = set()
    for line, row in enumerate(rows, start=2):
        x_text = (row.get(x) or "").strip()
        if not x_text:
            continue
        x_value = parse_x(x_text, line)
        kinds.add(type(x_value))
        for column in ys:
            y_text = (row.get(column) or "").strip()
            if y_text:
                points[column].append((x_value, parse_y(y_text, column, line)))
    if len(kinds) > 1:
        raise ChartError(f"column {x!r} mixes numbers and dates")
    result: dict[str, tuple[list[float | date], list[float]]] = {}
    for column, pairs in points.items():
        pairs.sort(key=lambda pair: pair[0])
        result[column] = ([p[0] for p in pairs], [p[1] for p in pairs])
    return result


def line_chart(path: str | Path, x: str, ys: list[str], title: str | None = None) -> Figure:
    """A Figure with one Axes: one labelled line per Y column, sorted by X.

    Raises:
        ChartError: see :func:`series`.

    """
    data = series(path, x, list(ys))  # bad input fails before matplotlib loads

    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5), layout="constrained")
    axes = figure.add_subplot()
    for column, (xs, values) in data.items():
        points: list[Any] = list(xs)  # numbers or dates: matplotlib converts both
        axes.plot(points, values, marker="o", markersize=3, label=column)
    axes.set_xlabel(x)
    axes.set_title(title if title is not None else f"{', '.join(ys)} by {x}")
    axes.grid(True, alpha=0.3)
    axes.legend()
    if any(isinstance(v, date) for xs, _ in data.values() for v in xs):
        figure.autofmt_xdate()
    return figure


def save_chart(figure: Figure, output: str | Path) -> None:
    """Save ``figure`` as PNG or SVG, chosen by the extension of ``output``.

    Raises:
        ChartError: the extension is neither .png nor .svg, or the file cannot be written.

    """
    target = Path(output)
    kind = FORMATS.get(target.suffix.lower())
    if kind is None:
        raise ChartError(f"cannot save {target.name}: use a .png or .svg file name")
    try:
        figure.savefig(target, format=kind, dpi=120)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise ChartError(f"cannot write {target}: {exc.strerror}") from exc
