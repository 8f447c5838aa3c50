"""activity ФАЙЛ [--year ГОД] [-o КАРТИНКА]: календарь активности за год."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activity.grid import longest_streak
from activity.log import LogError, read_counts
from activity.plot import plot_year

FORMATS = {".png": "png", ".svg": "svg"}


def main(argv: list[str] | None = None) -> int:
    """Save the calendar and print the year's totals; 0 on success, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="activity", description=__doc__)
    parser.add_argument("file", type=Path, help="CSV со столбцами date и (необязательно) count")
    parser.add_argument("--year", type=int, help="год (по умолчанию год самой поздней даты)")
    parser.add_argument("-o", "--output", type=Path, default=Path("activity.png"),
                        help="картинка .png или .svg (по умолчанию activity.png)")
    args = parser.parse_args(argv)
    try:
        kind = FORMATS.get(args.output.suffix.lower())
        if kind is None:
            raise LogError(f"не умею сохранять {args.output.name}: нужен .png или .svg")
        counts = read_counts(args.file)
        if not counts and args.year is None:
            raise LogError("в файле нет ни одной даты: укажите --year")
        year = args.year if args.year is not None else max(counts).year
        plot_year(counts, year).savefig(args.output, format=kind, dpi=120)
    except (LogError, OSError) as exc:
        print(f"activity: {exc}", file=sys.stderr)
        return 2
    in_year = {day: n for day, n in counts.items() if day.year == year}
    active = sum(1 for n in in_year.values() if n > 0)
    print(f"Всего: {sum(in_year.values())}, активных дней: {active}, "
          f"самая длинная серия: {longest_streak(counts, year)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
