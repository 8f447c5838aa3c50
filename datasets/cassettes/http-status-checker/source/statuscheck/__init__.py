"""statuscheck: the HTTP status and response time of every URL in a list."""

__version__ = "1.0.0"
