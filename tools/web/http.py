"""The HTTP client of the web tools: http/https only, time-outs, size caps, cache, rate limit.

Headers given by a caller (a GitHub token) go only to that request's host: httpx drops the
``Authorization`` header when a redirect leaves the origin, and nothing here logs headers.
Every request and every redirect hop must reach a public address (:class:`AddressGuard`), except
the origins the person configured.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Iterable, Mapping
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


Resolver = Callable[[str, int], list[str]]
"""Host and port -> the IP addresses a connection to them may reach."""


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an IP literal is its own address).

    Raises:
        WebError: the name does not resolve.

    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebError(f"cannot resolve the host {host[:200]}: {exc}") from None
    return [str(info[4][0]) for info in infos]


def non_public_kind(address: str) -> str | None:
    """Why ``address`` is not a public internet address ("loopback", "private" ...), or None.

    IPv4 addresses inside IPv6 (mapped, 6to4, Teredo) are judged as the IPv4 address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            ip = inner
    for kind, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("unspecified", ip.is_unspecified), ("multicast", ip.is_multicast),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return kind
    return None if ip.is_global else "non-public"


def origin_of(url: str | httpx.URL) -> tuple[str, int]:
    """``(lower-case host, port)`` of an http(s) URL, the port defaulted by scheme."""
    parsed = httpx.URL(str(url))
    return parsed.host.lower(), parsed.port or (443 if parsed.scheme == "https" else 80)


class AddressGuard:
    """Refuses requests to addresses that are not public (server-side request forgery guard).

    Every request, and every hop of a redirect, is checked: its host is resolved and a
    loopback, link-local (cloud metadata at 169.254.169.254), private, multicast, reserved or
    otherwise non-public address is refused with a :class:`WebError` before anything is sent.
    The origins the person configured (``[web]`` ``searxng_url`` and ``github_api``, which may
    well be a local SearXNG) are allowed as they are, and only on their own port.

    The check resolves the name itself; the connection resolves it again, so a name whose
    answer changes between the two (DNS rebinding) is not covered.

    Args:
        allowed: URLs whose origin (host and port) is always allowed.
        resolve: host, port -> addresses (tests pass a fake).

    """

    def __init__(self, allowed: Iterable[str] = (), resolve: Resolver = resolve_host) -> None:
        self.allowed = {origin_of(url) for url in allowed}
        self._resolve = resolve

    def check(self, url: str | httpx.URL) -> None:
        """Return when ``url`` may be requested.

        Raises:
            WebError: its host is not public and not configured (the message names the host,
                the address and why).

        """
        host, port = origin_of(url)
        if (host, port) in self.allowed:
            return
        for address in self._resolve(host, port):
            kind = non_public_kind(address)
            if kind is not None:
                shown = str(httpx.URL(str(url)).copy_with(query=None, fragment=None))[:200]
                raise WebError(
                    f"refused {shown}: {host} is a {kind} address ({address}); the web tools"
                    " reach only public addresses, also after a redirect (except the"
                    " searxng_url and github_api configured in [web])")

    def on_request(self, request: httpx.Request) -> None:
        """Check one request (the client's request hook: each redirect hop too)."""
        self.check(request.url)


class WebHttp:
    """GET, HEAD and streamed downloads with caching and per-host spacing.

    Args:
        cache: where successful GET bodies are kept for the cache's time-to-live.
        limiter: spaces requests to one host.
        timeout_s: connect/read time-out of each request, in seconds.
        max_redirects: redirects followed (each must stay http/https and public).
        transport: an httpx transport (tests pass ``httpx.MockTransport``), else the network.
        allowed: URLs the person configured whose origin may be a non-public address (see
            :class:`AddressGuard`); every other request, and every redirect hop, must reach a
            public address.
        guard: the address check (default: an :class:`AddressGuard` of ``allowed``).

    """

    def __init__(self, cache: TTLCache, limiter: RateLimiter, *, timeout_s: float = 20.0,
                 max_redirects: int = 5, transport: httpx.BaseTransport | None = None,
                 allowed: Iterable[str] = (), guard: AddressGuard | None = None) -> None:
        self.cache = cache
        self.limiter = limiter
        self.guard = guard or AddressGuard(allowed)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), follow_redirects=True,
            event_hooks={"request": [self.guard.on_request]},
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

        The bytes go to a new temporary file (``mkstemp``, never opened through a link) in
        ``target``'s resolved folder, renamed over ``target`` at the end; a rename replaces a
        link itself, not its target. Sandboxed code may plant links in the workspace.

        Returns:
            ``(response, size in bytes, sha256 hex)``; ``response.body`` is empty.

        Raises:
            WebError: bad URL, ``target`` is a symbolic link, network error, a non-2xx
                status, more than ``max_bytes`` (the partial file is removed), or the file
                could not be written.

        """
        check_url(url)
        if target.is_symlink():
            raise WebError(f"{target.name} is a symbolic link; refusing to download over it")
        self.limiter.wait(host_of(url))
        digest = hashlib.sha256()
        size = 0
        partial: Path | None = None
        try:
            with self._client.stream("GET", url, headers=dict(headers or {})) as reply:
                response = _response(reply, b"")
                if not response.ok:
                    raise WebError(f"{url} answered HTTP {reply.status_code}")
                _check_length(reply, url, max_bytes)
                target.parent.mkdir(parents=True, exist_ok=True)
                folder = target.parent.resolve(strict=True)
                fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.",
                                            suffix=".part")
                partial = Path(name)
                with os.fdopen(fd, "wb") as handle:
                    for chunk in reply.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise WebError(f"{url} is larger than {max_bytes} bytes")
                        digest.update(chunk)
                        handle.write(chunk)
                    if hasattr(os, "fchmod"):
                        os.fchmod(handle.fileno(), 0o644)
            if target.is_symlink():
                raise WebError(f"{target.name} became a symbolic link; download discarded")
            partial.replace(folder / target.name)
            partial = None
        except httpx.HTTPError as exc:
            raise WebError(f"cannot download {url}: {_reason(exc)}") from None
        except OSError as exc:
            raise WebError(f"cannot save {url} to {target.name}: {exc}") from None
        finally:
            if partial is not None:
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
            # no params: None, as an empty dict would drop the query string already in ``url``
            with self._client.stream(method, url, params=dict(params) if params else None,
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
