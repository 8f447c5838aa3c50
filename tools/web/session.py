"""The web client of a run and the per-round session that tracks where addresses came from.

The rule the coder's web actions follow (G10): a read whose address came verbatim from the
task or from an earlier result card runs at once; an address the model composed itself (it
could carry leaked data in its query string) needs the person's approval first, like every
download. :class:`WebSession` holds the known addresses and the approvals granted.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from tools.web.base import Card, WebError
from tools.web.cache import RateLimiter, TTLCache
from tools.web.fetch import PageFetcher
from tools.web.github import GITHUB_URL, GitHubClient, parse_repo
from tools.web.http import WebHttp
from tools.web.search import DdgsSearch, SearchProvider, SearxngSearch

_URL = re.compile(r"https?://[^\s<>\"'`\)\]\}|\\^]+")


def urls_in(text: str) -> list[str]:
    """The http(s) URLs written in ``text``, trailing punctuation (``.,;:!?``) removed."""
    return [m.group(0).rstrip(".,;:!?") for m in _URL.finditer(text)]


@dataclass
class WebClient:
    """Everything a run uses to reach the web, built once per run from the settings.

    Attributes:
        search: the search provider.
        github: the GitHub REST client.
        pages: fetches pages as text.
        http: the shared HTTP client (downloads, HEAD requests).
        max_download_bytes: largest download or repository archive, in bytes.

    """

    search: SearchProvider
    github: GitHubClient
    pages: PageFetcher
    http: WebHttp
    max_download_bytes: int = 50_000_000

    @classmethod
    def create(cls, *, search: Literal["ddgs", "searxng"] = "ddgs",
               searxng_url: str = "http://localhost:8888",
               github_api: str = "https://api.github.com", github_token: str | None = None,
               cache_path: Path | None = None, cache_ttl_s: float = 3600.0,
               min_interval_s: float = 1.0, timeout_s: float = 20.0,
               max_download_bytes: int = 50_000_000,
               transport: httpx.BaseTransport | None = None) -> WebClient:
        """Build the client.

        Args:
            search: "ddgs" or "searxng".
            searxng_url: the SearXNG instance (used when ``search`` is "searxng").
            github_api: the GitHub REST API root.
            github_token: optional; sent only to the API's host, never logged.
            cache_path: the SQLite cache file, or None for an in-memory cache.
            cache_ttl_s: how long answers are reused, in seconds.
            min_interval_s: minimum seconds between two requests to one host.
            timeout_s: per-request time-out in seconds.
            max_download_bytes: cap of downloads and repository archives.
            transport: an httpx transport for tests.

        Only public addresses are reached, also through redirects, except the origins of
        ``github_api`` and (when used) ``searxng_url`` (see :class:`tools.web.http.AddressGuard`).

        Raises:
            WebError: a URL in the settings is not http(s).

        """
        cache = TTLCache(cache_path, ttl_s=cache_ttl_s)
        limiter = RateLimiter(min_interval_s)
        # the person's own servers (a local SearXNG, a GitHub Enterprise API) may be private
        configured = [github_api] + ([searxng_url] if search == "searxng" else [])
        http = WebHttp(cache, limiter, timeout_s=timeout_s, transport=transport,
                       allowed=configured)
        provider: SearchProvider = (SearxngSearch(http, searxng_url) if search == "searxng"
                                    else DdgsSearch(cache, limiter, timeout_s=timeout_s))
        return cls(search=provider, github=GitHubClient(http, github_api, github_token),
                   pages=PageFetcher(http), http=http, max_download_bytes=max_download_bytes)

    def session(self, seed_text: str = "") -> WebSession:
        """A fresh session whose known addresses are the URLs written in ``seed_text``."""
        session = WebSession(self)
        session.learn_text(seed_text)
        return session

    def close(self) -> None:
        """Close connections and the cache."""
        self.http.close()
        self.http.cache.close()


@dataclass
class WebSession:
    """One coder round's view of the web: known addresses and granted approvals.

    Built afresh at the start of every round and grown only by that round's own results, so
    a round re-run after an interrupt reaches the same approval questions in the same order.

    Attributes:
        client: the run's web client.
        known_urls: addresses from the task and from result cards, verbatim.
        known_repos: ``owner/name`` of repositories in those addresses or results.
        cards: result cards found so far (for showing to the person; the coder empties it).

    """

    client: WebClient
    known_urls: set[str] = field(default_factory=set)
    known_repos: set[str] = field(default_factory=set)
    cards: list[Card] = field(default_factory=list, init=False)
    _grants: set[str] = field(default_factory=set, init=False, repr=False)

    def learn_text(self, text: str) -> None:
        """Add the URLs written in ``text`` (the task) and the GitHub repositories among them."""
        for url in urls_in(text):
            self.learn_url(url)

    def learn_url(self, url: str) -> None:
        """Add one address taken verbatim from a result card (and its repository if GitHub)."""
        self.known_urls.add(url)
        if GITHUB_URL.match(url):
            with contextlib.suppress(WebError):
                self.known_repos.add(parse_repo(url).lower())

    def knows_url(self, url: str) -> bool:
        """Whether ``url`` is, character for character, a known address."""
        return url in self.known_urls

    def knows_repo(self, repo: str) -> bool:
        """Whether the repository (``owner/name`` or its GitHub URL) is known."""
        try:
            return parse_repo(repo).lower() in self.known_repos
        except WebError:
            return False

    def grant(self, key: str) -> None:
        """Record that the person approved the call identified by ``key`` (one use)."""
        self._grants.add(key)

    def granted(self, key: str) -> bool:
        """Whether an unused approval for ``key`` exists."""
        return key in self._grants

    def take_grant(self, key: str) -> bool:
        """Use up the approval for ``key``; False when there was none."""
        if key in self._grants:
            self._grants.discard(key)
            return True
        return False
