"""expenses ФАЙЛ [-o диаграмма.png]: круговая диаграмма расходов по категориям."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from expenses.chart import pie_chart
from expenses.statement import StatementError, totals_by_category


def money(value: float) -> str:
    """Two decimals with a decimal comma, no grouping: 1500.5 -> ``1500,50``."""
    return f"{value:.2f}".replace(".", ",")


def main(argv: list[str] | None = None) -> int:
    """Save the chart and print the totals; 0 on success, 1 on bad input."""
    parser = argparse.ArgumentParser(prog="expenses", description=__doc__)
    parser.add_argument("file", type=Path, help="выписка CSV: Дата;Категория;Сумма")
    parser.add_argument("-o", "--output", type=Path, default=Path("expenses.png"),
                        help="куда сохранить диаграмму (по умолчанию expenses.png)")
    args = parser.parse_args(argv)
    try:
        totals = totals_by_category(args.file)
        if not totals:
            raise StatementError("в выписке нет ни одного расхода (сумм со знаком минус)")
        pie_chart(totals, title=f"Расходы: {args.file.stem}").savefig(args.output, dpi=120)
    except (StatementError, OSError) as exc:
        print(f"expenses: {exc}", file=sys.stderr)
        return 1
    for name, amount in totals.items():
        print(f"{name}: {money(amount)}")
    print(f"Итого: {money(sum(totals.values()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
