"""Checking single URLs against the local server."""

from __future__ import annotations

import socket
import time

import pytest

from statuscheck.checker import Result, check_url, request_for
from tests.conftest import Routes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(("path", "status"), [
    ("/health", "200"), ("/gone", "410"), ("/boom", "503"), ("/nowhere", "404")])
def test_status_codes(server: str, path: str, status: str) -> None:
    result = check_url(server + path, timeout=5)
    assert result.status == status
    assert result.ok == (status == "200")


def test_redirect_is_followed_to_the_final_status(server: str) -> None:
    assert check_url(f"{server}/moved", timeout=5).status == "200"


def test_redirect_loop_is_an_error(server: str) -> None:
    result = check_url(f"{server}/loop", timeout=5)
    assert (result.status, result.ok) == ("ERROR", False)
    assert "redirect" in result.detail


def test_user_agent_is_sent(server: str) -> None:
    assert check_url(f"{server}/ua", timeout=5).status == "200"
    assert Routes.seen_agents == ["statuscheck/1.0"]


def test_time_is_measured_in_milliseconds(server: str) -> None:
    result = check_url(f"{server}/wait?ms=250", timeout=5)
    assert result.status == "200"
    assert 250 <= result.ms < 3000


def test_slow_server_times_out_quickly(server: str) -> None:
    start = time.monotonic()
    result = check_url(f"{server}/hang", timeout=0.3)
    assert result.status == "TIMEOUT"
    assert time.monotonic() - start < 2
    assert 250 <= result.ms < 2000


def test_refused_connection_is_an_error() -> None:
    result = check_url(f"http://127.0.0.1:{free_port()}/", timeout=2)
    assert result.status == "ERROR"


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/file", "http://", "//x/y",
                                 "javascript:alert(1)", "file:///etc/passwd"])
def test_non_http_urls_are_errors_without_a_request(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        request_for(url)
    assert check_url(url, timeout=1).status == "ERROR"


def test_non_ascii_path_is_encoded(server: str) -> None:
    assert check_url(f"{server}/страница", timeout=5).status == "404"


def test_line_format() -> None:
    assert Result("http://x/", "200", 35).line() == "http://x/ 200 35ms"
    assert Result("bad", "ERROR", 0).line() == "bad ERROR 0ms"
