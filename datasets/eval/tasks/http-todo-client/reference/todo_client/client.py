"""TodoClient: the todo service's REST API (``/todos``) over HTTP with httpx."""

from __future__ import annotations

from typing import Any

import httpx

Todo = dict[str, Any]
"""A todo as the server sends it: {"id": int, "title": str, "done": bool}."""


class TodoError(Exception):
    """A request to the todo service failed.

    Attributes:
        status: the HTTP status code, or None when no response arrived (unreachable,
            timed out).

    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TodoClient:
    """The todo service at ``base_url`` (e.g. ``http://localhost:8000/api``).

    Args:
        base_url: the service root, with or without a trailing slash.
        token: sent as ``Authorization: Bearer <token>`` when given.
        timeout: seconds to wait for a connection and for each read.

    """

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10) -> None:
        self._base = base_url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connections to the service."""
        self._http.close()

    def list_todos(self, done: bool | None = None) -> list[Todo]:
        """All todos, or only finished (True) / unfinished (False) ones."""
        params = None if done is None else {"done": "true" if done else "false"}
        result = self._request("GET", "todos", params=params)
        if not isinstance(result, list):
            raise TodoError("the server did not send a list of todos", 200)
        return result

    def add(self, title: str) -> Todo:
        """Create a todo; returns it with its id. Raises ValueError: blank title."""
        if not title.strip():
            raise ValueError("a todo needs a title")
        return self._request("POST", "todos", json={"title": title})

    def complete(self, todo_id: int) -> Todo:
        """Mark a todo done; returns the updated todo."""
        return self._request("PATCH", f"todos/{int(todo_id)}", json={"done": True})

    def delete(self, todo_id: int) -> None:
        """Delete a todo."""
        self._request("DELETE", f"todos/{int(todo_id)}")

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; the decoded JSON body, or None for an empty one.

        Raises:
            TodoError: no response, an error status, or a body that is not JSON.

        """
        url = f"{self._base}/{path}"
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise TodoError(f"{method} {url} failed: {exc}") from exc
        if response.is_error:
            raise TodoError(f"{method} {url}: {response.status_code} {_error_text(response)}",
                            response.status_code)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise TodoError(f"{method} {url}: the answer is not JSON",
                            response.status_code) from exc


def _error_text(response: httpx.Response) -> str:
    """The server's {"error": ...} message, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return response.text[:200]
