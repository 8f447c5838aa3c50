"""Line charts from CSV files."""

from linechart.chart import ChartError, line_chart, save_chart

__all__ = ["ChartError", "line_chart", "save_chart"]
