"""fetch_all: follow a JSON API's `next` links (body or Link header) and gather the items."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx

MAX_RETRIES = 3
DEFAULT_RETRY_AFTER_S = 1.0
TIMEOUT_S = 30.0


class PaginationError(Exception):
    """Collecting the pages failed; the message names the URL and the reason."""


def fetch_all(url: str, headers: Mapping[str, str] | None = None,
              max_pages: int = 100) -> list[Any]:
    """Every item of every page, in order, starting at ``url``.

    Each page is a JSON object ``{"items": [...], "next": URL | null}``; without a ``next``
    key the ``Link`` header's rel="next" is followed. Relative links are resolved against
    the page they came from. ``headers`` go with every request.

    Raises:
        PaginationError: an error status (after up to 3 retries of a 429), no connection,
            a body that is not JSON or has no ``items`` list, a link back to a page already
            fetched, or more than ``max_pages`` pages.

    """
    items: list[Any] = []
    seen: set[str] = set()
    pages = 0
    next_url: str | None = url
    with httpx.Client(headers=dict(headers or {}), timeout=TIMEOUT_S) as client:
        while next_url is not None:
            if next_url in seen:
                raise PaginationError(f"{next_url}: the next link points back to a page "
                                      "already fetched (a loop)")
            if pages >= max_pages:
                raise PaginationError(f"{next_url}: more than {max_pages} pages")
            seen.add(next_url)
            pages += 1
            response = _get(client, next_url)
            page_items, link = _parse(response, next_url)
            items.extend(page_items)
            next_url = urljoin(next_url, link) if link else None
    return items


def _get(client: httpx.Client, url: str) -> httpx.Response:
    """GET ``url``, retrying a 429 after its Retry-After. Raises PaginationError."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise PaginationError(f"{url}: {exc}") from exc
        if response.status_code != 429 or attempt == MAX_RETRIES:
            break
        time.sleep(_retry_after(response))
    if response.is_error:
        raise PaginationError(f"{url}: the server answered {response.status_code}"
                              f"{' after retries' if response.status_code == 429 else ''}")
    return response


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait from Retry-After (seconds form); 1 s when missing or unreadable."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER_S)))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


def _parse(response: httpx.Response, url: str) -> tuple[list[Any], str | None]:
    """The page's items and its next link (body first, then the Link header)."""
    try:
        body = response.json()
    except ValueError as exc:
        raise PaginationError(f"{url}: the answer is not JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise PaginationError(f"{url}: the answer has no 'items' list")
    if "next" in body:
        link = body["next"]
    else:
        link = response.links.get("next", {}).get("url")
    if link is not None and not isinstance(link, str):
        raise PaginationError(f"{url}: 'next' is not a URL: {link!r}")
    return body["items"], link or None
