import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from todo_client import TodoClient, TodoError


class TodoService(BaseHTTPRequestHandler):
    """The todo API under /api, kept in memory on the server object."""

    def log_message(self, *args):
        pass

    def send_json(self, status, body=None, raw=None):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json" if raw is None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self, method):
        server = self.server
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server.requests.append((method, self.path, self.headers.get("Authorization")))
        if server.mode == "broken":
            return self.send_json(500, raw=b"<html><body>Internal Server Error</body></html>")
        if server.mode == "garbage":
            return self.send_json(200, raw=b"this is not json")
        if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
            return self.send_json(401, {"error": "bad or missing token"})
        segments = parts.path.split("/")[1:]
        if segments[:2] != ["api", "todos"] or len(segments) > 3 or "" in segments:
            return self.send_json(404, {"error": "no such endpoint"})
        todos = server.todos
        if len(segments) == 2 and method == "GET":
            wanted = parse_qs(parts.query).get("done")
            items = list(todos.values())
            if wanted:
                items = [t for t in items if t["done"] == (wanted[0] == "true")]
            return self.send_json(200, items)
        if len(segments) == 2 and method == "POST":
            title = json.loads(body.decode("utf-8")).get("title", "")
            if not title.strip():
                return self.send_json(400, {"error": "title is required"})
            server.next_id += 1
            todos[server.next_id] = {"id": server.next_id, "title": title, "done": False}
            return self.send_json(201, todos[server.next_id])
        if len(segments) == 3:
            todo = todos.get(int(segments[2])) if segments[2].isdigit() else None
            if todo is None:
                return self.send_json(404, {"error": "no such todo"})
            if method == "PATCH":
                todo.update(json.loads(body.decode("utf-8")))
                return self.send_json(200, todo)
            if method == "DELETE":
                del todos[todo["id"]]
                return self.send_json(204)
        return self.send_json(405, {"error": "method not allowed"})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")


@pytest.fixture
def service(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), TodoService)
    server.todos, server.next_id, server.requests = {}, 0, []
    server.token, server.mode = None, "ok"
    server.url = f"http://127.0.0.1:{server.server_port}/api"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_add_and_list_with_or_without_trailing_slash(service):
    client = TodoClient(service.url + "/")
    created = client.add("Купить молоко 🥛")
    assert created["title"] == "Купить молоко 🥛"
    assert created["done"] is False
    assert isinstance(created["id"], int)
    TodoClient(service.url).add("Write report")
    assert [t["title"] for t in service.todos.values()] == ["Купить молоко 🥛", "Write report"]
    listed = TodoClient(service.url).list_todos()
    assert [(t["id"], t["title"]) for t in listed] == [
        (t["id"], t["title"]) for t in service.todos.values()]


def test_complete_and_filter_by_done(service):
    client = TodoClient(service.url)
    first = client.add("one")
    second = client.add("two")
    client.add("three")
    updated = client.complete(second["id"])
    assert updated["done"] is True
    assert service.todos[second["id"]]["done"] is True
    assert [t["title"] for t in client.list_todos(done=True)] == ["two"]
    assert [t["title"] for t in client.list_todos(done=False)] == ["one", "three"]
    assert len(client.list_todos()) == 3
    assert service.todos[first["id"]]["done"] is False


def test_delete_and_missing_todo(service):
    client = TodoClient(service.url)
    todo = client.add("temporary")
    client.delete(todo["id"])
    assert client.list_todos() == []
    with pytest.raises(TodoError) as error:
        client.complete(todo["id"])
    assert error.value.status == 404
    assert "no such todo" in str(error.value)
    with pytest.raises(TodoError) as error:
        client.delete(12345)
    assert error.value.status == 404


def test_token_is_sent_as_bearer_and_rejection_is_reported(service):
    service.token = "s3cret-token"
    assert TodoClient(service.url, token="s3cret-token").add("private")["title"] == "private"
    assert service.requests[-1][2] == "Bearer s3cret-token"
    for client in (TodoClient(service.url), TodoClient(service.url, token="wrong")):
        with pytest.raises(TodoError) as error:
            client.list_todos()
        assert error.value.status == 401
        assert "bad or missing token" in str(error.value)


def test_failures_raise_todo_error_not_library_exceptions(service):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(TodoError) as error:
        TodoClient(f"http://127.0.0.1:{closed_port}/api", timeout=3).list_todos()
    assert error.value.status is None
    service.mode = "broken"
    with pytest.raises(TodoError) as error:
        TodoClient(service.url).add("anything")
    assert error.value.status == 500
    service.mode = "garbage"
    with pytest.raises(TodoError):
        TodoClient(service.url).list_todos()


def test_blank_title_is_rejected_before_sending(service):
    client = TodoClient(service.url)
    for title in ("", "   "):
        with pytest.raises(ValueError):
            client.add(title)
    assert service.requests == []
