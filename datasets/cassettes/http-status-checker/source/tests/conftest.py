"""A local HTTP server with routes for every outcome, started per test on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

#: Seconds the /hang route waits before answering (tests use a much shorter --timeout).
HANG_S = 4.0


class Routes(BaseHTTPRequestHandler):
    """/health 200, /gone 410, /boom 503, /wait?ms=N 200 after N ms, /hang 200 after HANG_S,
    /moved 301 → /health, /loop 302 → /loop, /ua 200 only for our User-Agent, else 404."""

    release = threading.Event()
    seen_agents: list[str] = []  # noqa: RUF012 - shared on purpose, reset per server

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def send(self, code: int, location: str | None = None) -> None:
        try:
            self.send_response(code)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:  # the client gave up (a timeout test)
            pass

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        self.seen_agents.append(self.headers.get("User-Agent", ""))
        if path == "/health":
            self.send(200)
        elif path == "/gone":
            self.send(410)
        elif path == "/boom":
            self.send(503)
        elif path == "/wait":
            time.sleep(int(query.removeprefix("ms=")) / 1000)
            self.send(200)
        elif path == "/hang":
            self.release.wait(HANG_S)
            self.send(200)
        elif path == "/moved":
            self.send(301, "/health")
        elif path == "/loop":
            self.send(302, "/loop")
        elif path == "/ua":
            self.send(200 if self.headers.get("User-Agent") == "statuscheck/1.0" else 403)
        else:
            self.send(404)


@pytest.fixture
def server() -> Iterator[str]:
    """The base URL of a running server, e.g. ``http://127.0.0.1:40123``."""
    Routes.release.clear()
    Routes.seen_agents = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Routes)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        Routes.release.set()
        httpd.shutdown()
        httpd.server_close()
