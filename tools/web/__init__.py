"""tools/web: web search, GitHub inspection, page fetching, caching and untrusted marking (G10).

Nothing here decides whether a request may happen: the coder's actions
(:mod:`tools.actions.web_actions`) and the person's approval do.
"""

from tools.web.base import Card, WebError
from tools.web.cache import RateLimiter, TTLCache, cache_key
from tools.web.fetch import Page, PageFetcher, html_to_text
from tools.web.github import GitHubClient, RepoInfo, parse_repo
from tools.web.http import Response, WebHttp, check_url
from tools.web.search import DdgsSearch, SearchProvider, SearxngSearch
from tools.web.session import WebClient, WebSession, urls_in
from tools.web.untrusted import CLOSE_TAG, OPEN_TAG, is_marked, mark_untrusted, neutralise

__all__ = [
    "CLOSE_TAG",
    "OPEN_TAG",
    "Card",
    "DdgsSearch",
    "GitHubClient",
    "Page",
    "PageFetcher",
    "RateLimiter",
    "RepoInfo",
    "Response",
    "SearchProvider",
    "SearxngSearch",
    "TTLCache",
    "WebClient",
    "WebError",
    "WebHttp",
    "WebSession",
    "cache_key",
    "check_url",
    "html_to_text",
    "is_marked",
    "mark_untrusted",
    "neutralise",
    "parse_repo",
    "urls_in",
]
