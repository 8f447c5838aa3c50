"""csv2xlsx: convert CSV files into one Excel workbook, from a window or the command line."""

__version__ = "1.0.0"
