"""Collect every item of a paginated JSON API: ``fetch_all`` and ``PaginationError``."""

from pager.fetch import PaginationError, fetch_all

__all__ = ["PaginationError", "fetch_all"]
