"""Checking one URL: GET it (redirects followed), report the final status and the time.

The status is the final HTTP status code as text ("200", "404" ...), ``TIMEOUT`` when the
server did not answer within the timeout, or ``ERROR`` when no request could be made
(connection refused, unknown host, TLS failure, not an http/https URL). Nothing here raises
for a bad URL or a bad server: every outcome is a :class:`Result`.
"""

from __future__ import annotations

import http.client
import string
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

USER_AGENT = "statuscheck/1.0"
TIMEOUT = "TIMEOUT"
ERROR = "ERROR"
SCHEMES = ("http", "https")
#: Printable ASCII is kept as is; anything else (spaces, Cyrillic paths) is percent-encoded.
_SAFE = string.ascii_letters + string.digits + string.punctuation


@dataclass(frozen=True)
class Result:
    """The outcome of one URL: ``status`` is a code, TIMEOUT or ERROR; ``ms`` whole ms."""

    url: str
    status: str
    ms: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True for a final 2xx or 3xx status."""
        return self.status.isdigit() and 200 <= int(self.status) < 400

    def line(self) -> str:
        """``URL STATUS TIMEms``, the output format."""
        return f"{self.url} {self.status} {self.ms}ms"


def request_for(url: str) -> urllib.request.Request:
    """A GET request with our User-Agent for an http(s) URL.

    Raises:
        ValueError: not an absolute http or https URL with a host.

    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url}")
    return urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        urllib.parse.quote(url, safe=_SAFE), headers={"User-Agent": USER_AGENT}, method="GET")


def _timed_out(exc: BaseException) -> bool:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, TimeoutError)


def check_url(url: str, timeout: float) -> Result:
    """GET ``url`` following redirects and time it (to the response headers).

    Args:
        url: the URL as written in the list.
        timeout: seconds to wait for the connection and for each answer from the server.

    Returns:
        The final status, or TIMEOUT / ERROR with a short ``detail``.

    """
    start = time.monotonic()

    def done(status: str, detail: str = "") -> Result:
        return Result(url, status, round((time.monotonic() - start) * 1000), detail)

    try:
        request = request_for(url)
        # request_for() lets only http and https through, so urlopen never sees file: URLs.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 # nosec
            return done(str(response.status))
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:  # urllib gives up on a redirect loop or chain
            return done(ERROR, f"too many redirects (last answer {exc.code})")
        return done(str(exc.code))  # 4xx and 5xx are answers, not failures to ask
    except (urllib.error.URLError, TimeoutError) as exc:
        if _timed_out(exc):
            return done(TIMEOUT, f"no answer within {timeout:g} s")
        return done(ERROR, str(getattr(exc, "reason", exc)))
    except (ValueError, OSError, http.client.HTTPException) as exc:
        return done(ERROR, str(exc) or type(exc).__name__)
