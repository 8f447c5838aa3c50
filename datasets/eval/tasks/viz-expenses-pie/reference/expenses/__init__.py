"""Расходы по категориям из банковской выписки CSV и их круговая диаграмма."""

from expenses.chart import OTHER, group_small, pie_chart
from expenses.statement import StatementError, parse_amount, totals_by_category

__all__ = ["OTHER", "StatementError", "group_small", "parse_amount", "pie_chart",
           "totals_by_category"]
