"""csvstat: summary statistics of CSV columns, printed as a table."""

__version__ = "1.0.0"
