"""Web search providers: DuckDuckGo and others through ``ddgs``, or a SearXNG instance (G10).

Both return :class:`~tools.web.base.Card` s, cache answers for the cache's time-to-live and
space their requests with the rate limiter.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from tools.web.base import Card, WebError
from tools.web.cache import RateLimiter, TTLCache, cache_key
from tools.web.http import WebHttp, check_url

MAX_SUMMARY_CHARS = 400


class SearchProvider(Protocol):
    """Something that answers a web search with result cards."""

    name: str

    def search(self, query: str, max_results: int = 8) -> list[Card]:
        """Up to ``max_results`` cards for ``query``, best first.

        Raises:
            WebError: the engine failed, refused or answered something unreadable.

        """
        ...


def _card(title: Any, url: Any, summary: Any, source: str) -> Card | None:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    text = " ".join(str(summary or "").split())
    return Card(title=" ".join(str(title or url).split()), url=url,
                summary=text[:MAX_SUMMARY_CHARS], source=source)


class DdgsSearch:
    """Search through ``ddgs`` (the successor of duckduckgo-search; several engines).

    Args:
        cache: answers are kept for its time-to-live, keyed by query and count.
        limiter: spaces searches (one host key, ``ddgs``).
        timeout_s: ddgs' own time-out, in seconds.
        backend: the ddgs backend(s), e.g. ``"auto"`` or ``"duckduckgo"``.

    """

    name = "ddgs"

    def __init__(self, cache: TTLCache, limiter: RateLimiter, timeout_s: float = 10.0,
                 backend: str = "auto") -> None:
        self.cache = cache
        self.limiter = limiter
        self.timeout_s = timeout_s
        self.backend = backend

    def search(self, query: str, max_results: int = 8) -> list[Card]:
        """See :meth:`SearchProvider.search`.

        Raises:
            WebError: ddgs raised (no results, rate limited, time-out, network error).

        """
        from ddgs import DDGS
        from ddgs.exceptions import DDGSException

        key = cache_key("DDGS", "text", {"q": query, "n": max_results, "b": self.backend})
        cached = self.cache.get(key)
        if cached is not None:
            return [Card.model_validate(c) for c in json.loads(cached)]
        self.limiter.wait("ddgs")
        try:
            rows = DDGS(timeout=max(1, round(self.timeout_s))).text(
                query, max_results=max_results, backend=self.backend)
        except DDGSException as exc:
            raise WebError(f"web search failed: {exc}"[:300]) from None
        except Exception as exc:  # ddgs' engines raise their HTTP client's own errors too
            raise WebError(f"web search failed: {type(exc).__name__}: {exc}"[:300]) from None
        cards = [c for r in rows if (c := _card(r.get("title"), r.get("href"), r.get("body"),
                                                "ddgs")) is not None]
        self.cache.put(key, json.dumps([c.model_dump() for c in cards]).encode())
        return cards[:max_results]


class SearxngSearch:
    """Search a SearXNG instance through its JSON API (``GET /search?q=...&format=json``).

    The instance must allow the ``json`` format (``search.formats`` in its settings.yml).

    Args:
        http: the shared client (cache, rate limit).
        base_url: the instance, e.g. ``http://localhost:8888``.

    Raises:
        WebError: ``base_url`` is not an http(s) URL.

    """

    name = "searxng"

    def __init__(self, http: WebHttp, base_url: str) -> None:
        self.http = http
        self.base_url = check_url(base_url).rstrip("/")

    def search(self, query: str, max_results: int = 8) -> list[Card]:
        """See :meth:`SearchProvider.search`.

        Raises:
            WebError: the instance is unreachable, answers an error (403: the JSON format is
                not enabled) or not JSON.

        """
        response = self.http.get(f"{self.base_url}/search",
                                 params={"q": query, "format": "json"})
        if response.status == 403:
            raise WebError("the SearXNG instance refused the JSON format; enable 'json' in"
                           " search.formats of its settings.yml")
        if not response.ok:
            raise WebError(f"the SearXNG instance answered HTTP {response.status}")
        try:
            rows = json.loads(response.body).get("results", [])
        except (ValueError, AttributeError):
            raise WebError("the SearXNG instance did not answer JSON") from None
        cards = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                continue
            engine = row.get("engine")
            source = f"searxng:{engine}" if isinstance(engine, str) and engine else "searxng"
            card = _card(row.get("title"), row.get("url"), row.get("content"), source)
            if card is not None:
                cards.append(card)
        return cards[:max_results]
