"""statuscheck URLS_FILE [--timeout SECONDS]: the HTTP status and response time of each URL."""

from __future__ import annotations

import argparse
import http.client
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

USER_AGENT = "statuscheck/1.0"


def read_urls(path: Path) -> list[str]:
    """The URLs of the file: stripped, without blank lines and ``#`` comments."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check(url: str, timeout: float) -> tuple[str, int]:
    """GET ``url`` (following redirects); returns (status or TIMEOUT/ERROR, milliseconds)."""
    start = time.monotonic()
    try:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url}")
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = str(response.status)
    except urllib.error.HTTPError as exc:
        status = str(exc.code)
    except TimeoutError:
        status = "TIMEOUT"
    except urllib.error.URLError as exc:
        status = "TIMEOUT" if isinstance(exc.reason, TimeoutError) else "ERROR"
    except (ValueError, OSError, http.client.HTTPException):
        status = "ERROR"
    return status, round((time.monotonic() - start) * 1000)


def positive_seconds(value: str) -> float:
    """argparse type: a number of seconds above zero."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError("the timeout must be above zero")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="statuscheck", description=__doc__)
    parser.add_argument("urls_file", type=Path)
    parser.add_argument("--timeout", type=positive_seconds, default=5.0)
    args = parser.parse_args(argv)
    try:
        urls = read_urls(args.urls_file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"statuscheck: cannot read {args.urls_file}: {exc}", file=sys.stderr)
        return 2
    if not urls:
        print(f"statuscheck: {args.urls_file} contains no URLs", file=sys.stderr)
        return 2
    failed = False
    for url in urls:
        status, elapsed_ms = check(url, args.timeout)
        failed |= not (status.isdigit() and 200 <= int(status) < 400)
        print(f"{url} {status} {elapsed_ms}ms", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
