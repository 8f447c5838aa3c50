"""Scatter plots with a least-squares trend line."""

from scatter.trend import equation, fit_line, scatter_plot

__all__ = ["equation", "fit_line", "scatter_plot"]
