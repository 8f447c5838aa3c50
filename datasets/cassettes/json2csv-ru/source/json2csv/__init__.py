"""json2csv: a JSON array of objects as a CSV table."""

__version__ = "1.0.0"
