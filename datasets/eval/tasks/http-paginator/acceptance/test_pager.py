import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pager import PaginationError, fetch_all


class Api(BaseHTTPRequestHandler):
    """Answers from server.routes: path -> list of (status, headers, body); the last repeats."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("Authorization")))
        answers = server.routes.get(self.path)
        if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
            answers = [(401, {}, {"error": "unauthorized"})]
        elif answers is None:
            answers = [(404, {}, {"error": "not found"})]
        status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value.replace("BASE", server.base))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.routes, server.requests, server.token = {}, [], None
    server.base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def page(items, **extra):
    return [(200, {}, {"items": items, **extra})]


def paths(api):
    return [path for path, _ in api.requests]


def test_follows_absolute_and_relative_next_links(api):
    api.routes = {
        "/v1/users?page=1": page([{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}],
                                 next="/v1/people/list?page=2"),
        "/v1/people/list?page=2": page([{"id": 3, "name": "Сергей"}], next="list?page=3"),
        "/v1/people/list?page=3": page([], next=f"{api.base}/v1/users?page=4"),
        "/v1/users?page=4": page([{"id": 4, "name": "Zoë"}], next=None),
    }
    items = fetch_all(f"{api.base}/v1/users?page=1")
    assert [item["id"] for item in items] == [1, 2, 3, 4]
    assert items[2]["name"] == "Сергей"
    assert paths(api) == ["/v1/users?page=1", "/v1/people/list?page=2",
                          "/v1/people/list?page=3", "/v1/users?page=4"]


def test_follows_the_link_header_when_the_body_has_no_next(api):
    api.routes = {
        "/v2/orders": [(200, {"Link": '<BASE/v2/orders?cursor=zz>; rel="last", '
                                      '<BASE/v2/orders?cursor=b2>; rel="next"'},
                        {"items": ["o1", "o2"]})],
        "/v2/orders?cursor=b2": [(200, {"Link": '</v2/orders?cursor=c3>; rel="next"'},
                                  {"items": ["o3"]})],
        "/v2/orders?cursor=c3": [(200, {"Link": '<BASE/v2/orders>; rel="first"'},
                                  {"items": ["o4"]})],
    }
    assert fetch_all(f"{api.base}/v2/orders") == ["o1", "o2", "o3", "o4"]
    assert len(api.requests) == 3


def test_headers_go_with_every_page(api):
    api.token = "t0ken"
    api.routes = {
        "/items": page([1], next="/items?p=2"),
        "/items?p=2": page([2], next="/items?p=3"),
        "/items?p=3": page([3]),
    }
    assert fetch_all(f"{api.base}/items", headers={"Authorization": "Bearer t0ken"}) == [1, 2, 3]
    assert [auth for _, auth in api.requests] == ["Bearer t0ken"] * 3
    with pytest.raises(PaginationError):
        fetch_all(f"{api.base}/items")


def test_429_is_retried_after_retry_after(api):
    api.routes = {
        "/feed": page(["a"], next="/feed?p=2"),
        "/feed?p=2": [(429, {"Retry-After": "0"}, {"error": "slow down"}),
                      (429, {"Retry-After": "0"}, {"error": "slow down"}),
                      (200, {}, {"items": ["b"], "next": None})],
        "/always-busy": [(429, {"Retry-After": "0"}, {"error": "slow down"})],
    }
    assert fetch_all(f"{api.base}/feed") == ["a", "b"]
    assert paths(api) == ["/feed", "/feed?p=2", "/feed?p=2", "/feed?p=2"]
    api.requests.clear()
    with pytest.raises(PaginationError):
        fetch_all(f"{api.base}/always-busy")
    assert 2 <= len(api.requests) <= 4


def test_loops_and_too_many_pages_are_stopped(api):
    api.routes = {
        "/a": page([1], next="/b"),
        "/b": page([2], next="/a"),
    }
    with pytest.raises(PaginationError):
        fetch_all(f"{api.base}/a")
    assert paths(api) == ["/a", "/b"]
    api.requests.clear()
    api.routes = {f"/n/{i}": page([i], next=f"/n/{i + 1}") for i in range(50)}
    with pytest.raises(PaginationError):
        fetch_all(f"{api.base}/n/0", max_pages=5)
    assert len(api.requests) in (5, 6)
    api.routes = {f"/n/{i}": page([i], next=f"/n/{i + 1}") for i in range(4)}
    api.routes["/n/4"] = page([4])
    assert fetch_all(f"{api.base}/n/0", max_pages=5) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("answer", [
    (500, {}, {"error": "boom"}),
    (200, {}, b"<html>not json</html>"),
    (200, {}, {"results": [1, 2]}),
])
def test_bad_pages_raise_pagination_error_naming_the_url(api, answer):
    api.routes = {"/list?page=1": page([1], next="/list?page=2"), "/list?page=2": [answer]}
    with pytest.raises(PaginationError) as error:
        fetch_all(f"{api.base}/list?page=1")
    assert "page=2" in str(error.value)


def test_unreachable_server_raises_pagination_error(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(PaginationError):
        fetch_all(f"http://127.0.0.1:{port}/items")
