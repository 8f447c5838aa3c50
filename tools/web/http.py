"""The HTTP client of the web tools: http/https only, time-outs, size caps, cache, rate limit.

Headers given by a caller (a GitHub token) go only to that request's host: httpx drops the
``Authorization`` header when a redirect leaves the origin, and nothing here logs headers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tools.web.base import WebError
from tools.web.cache import RateLimiter, TTLCache, cache_key

logger = logging.getLogger(__name__)

USER_AGENT = "MultiCoder/0.1 (+https://github.com/multicoder; web tools)"
#: Response headers kept (in lower case) for callers and in the cache.
KEPT_HEADERS = ("content-type", "content-length", "x-ratelimit-remaining", "x-ratelimit-reset",
                "retry-after", "location")


@dataclass(frozen=True)
class Response:
    """A finished response.

    ``url`` is the final address after redirects; ``headers`` are the kept ones (lower-case
    names, see :data:`KEPT_HEADERS`); ``body`` is empty for HEAD requests and downloads.
    """

    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def text(self) -> str:
        """The body decoded with the charset of its content type (UTF-8 by default)."""
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def check_url(url: str) -> str:
    """Return ``url`` when it is an absolute http(s) URL with a host.

    Raises:
        WebError: another scheme (file:, ftp:, data: ...), no host, or credentials in it.

    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebError(f"only http and https addresses can be fetched, not '{url[:200]}'")
    if not parts.hostname:
        raise WebError(f"'{url[:200]}' has no host")
    if parts.username or parts.password:
        raise WebError("addresses with a user name or password are refused")
    return url


def host_of(url: str) -> str:
    """The ``host[:port]`` part of ``url`` (the rate limiter's key)."""
    return urlsplit(url).netloc.lower()


class WebHttp:
    """GET, HEAD and streamed downloads with caching and per-host spacing.

    Args:
        cache: where successful GET bodies are kept for the cache's time-to-live.
        limiter: spaces requests to one host.
        timeout_s: connect/read time-out of each request, in seconds.
        max_redirects: redirects followed (each must stay http/https).
        transport: an httpx transport (tests pass ``httpx.MockTransport``), else the network.

    """

    def __init__(self, cache: TTLCache, limiter: RateLimiter, *, timeout_s: float = 20.0,
                 max_redirects: int = 5, transport: httpx.BaseTransport | None = None) -> None:
        self.cache = cache
        self.limiter = limiter
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), follow_redirects=True,
            max_redirects=max_redirects, transport=transport, trust_env=False,
            headers={"User-Agent": USER_AGENT})

    def get(self, url: str, *, params: Mapping[str, str | int] | None = None,
            headers: Mapping[str, str] | None = None, max_bytes: int = 2_000_000,
            use_cache: bool = True) -> Response:
        """GET ``url`` (answering from the cache when possible); any status is returned.

        Only 2xx answers are cached. The body is capped at ``max_bytes``.

        Raises:
            WebError: bad URL, network error or time-out, or a body above ``max_bytes``.

        """
        check_url(url)
        key = cache_key("GET", url, params)
        if use_cache:
            cached = self.cache.get(key)
            if cached is not None:
                return _decode(cached)
        response = self._request("GET", url, params=params, headers=headers, max_bytes=max_bytes)
        if use_cache and response.ok:
            self.cache.put(key, _encode(response))
        return response

    def head(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        """HEAD ``url`` (not cached); returns status and headers.

        Raises:
            WebError: bad URL, network error or time-out.

        """
        check_url(url)
        return self._request("HEAD", url, headers=headers, max_bytes=0)

    def download(self, url: str, target: Path, *, max_bytes: int,
                 headers: Mapping[str, str] | None = None) -> tuple[Response, int, str]:
        """Stream ``url`` into ``target`` (created with its folder; replaced when present).

        Returns:
            ``(response, size in bytes, sha256 hex)``; ``response.body`` is empty.

        Raises:
            WebError: bad URL, network error, a non-2xx status, or more than ``max_bytes``
                (the partial file is removed).

        """
        check_url(url)
        self.limiter.wait(host_of(url))
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with self._client.stream("GET", url, headers=dict(headers or {})) as reply:
                response = _response(reply, b"")
                if not response.ok:
                    raise WebError(f"{url} answered HTTP {reply.status_code}")
                _check_length(reply, url, max_bytes)
                target.parent.mkdir(parents=True, exist_ok=True)
                with partial.open("wb") as handle:
                    for chunk in reply.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise WebError(f"{url} is larger than {max_bytes} bytes")
                        digest.update(chunk)
                        handle.write(chunk)
            partial.replace(target)
        except httpx.HTTPError as exc:
            raise WebError(f"cannot download {url}: {_reason(exc)}") from None
        finally:
            partial.unlink(missing_ok=True)
        return response, size, digest.hexdigest()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _request(self, method: str, url: str, *, params: Mapping[str, str | int] | None = None,
                 headers: Mapping[str, str] | None = None, max_bytes: int) -> Response:
        self.limiter.wait(host_of(url))
        logger.debug("%s %s", method, url)
        try:
            with self._client.stream(method, url, params=dict(params or {}),
                                     headers=dict(headers or {})) as reply:
                if method == "HEAD":
                    return _response(reply, b"")
                _check_length(reply, url, max_bytes)
                body = bytearray()
                for chunk in reply.iter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise WebError(f"{url} is larger than {max_bytes} bytes")
                return _response(reply, bytes(body))
        except httpx.HTTPError as exc:
            raise WebError(f"cannot fetch {url}: {_reason(exc)}") from None


def _check_length(reply: httpx.Response, url: str, max_bytes: int) -> None:
    length = reply.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise WebError(f"{url} is {int(length)} bytes; the limit is {max_bytes} bytes")


def _response(reply: httpx.Response, body: bytes) -> Response:
    kept = {name: reply.headers[name] for name in KEPT_HEADERS if name in reply.headers}
    return Response(url=str(reply.url), status=reply.status_code, headers=kept, body=body)


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{type(exc).__name__}: {exc}"[:300]


def _encode(response: Response) -> bytes:
    return json.dumps({"url": response.url, "status": response.status,
                       "headers": response.headers,
                       "body": base64.b64encode(response.body).decode("ascii")}).encode()


def _decode(raw: bytes) -> Response:
    data = json.loads(raw)
    return Response(url=data["url"], status=data["status"], headers=data["headers"],
                    body=base64.b64decode(data["body"]), from_cache=True)
