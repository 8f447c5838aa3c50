import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SLOW_S = 5.0
DELAY_S = 0.3


class Handler(BaseHTTPRequestHandler):
    stop = threading.Event()

    def log_message(self, *args):
        pass

    def answer(self, code, headers=()):
        try:
            self.send_response(code)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"ok")
        except OSError:
            pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/ok":
            self.answer(200)
        elif path == "/error":
            self.answer(500)
        elif path == "/delay":
            time.sleep(DELAY_S)
            self.answer(200)
        elif path == "/slow":
            self.stop.wait(SLOW_S)
            self.answer(200)
        elif path == "/redirect":
            self.answer(301, [("Location", "/ok")])
        elif path == "/agent":
            agent = self.headers.get("User-Agent", "")
            self.answer(200 if agent.startswith("statuscheck/1.0") else 403)
        else:
            self.answer(404)

    do_HEAD = do_GET


@pytest.fixture
def server():
    Handler.stop.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    Handler.stop.set()
    httpd.shutdown()
    httpd.server_close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(run_app, tmp_path, lines, *options):
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_app(path, *options, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    rows = [line.rsplit(" ", 2) for line in result.stdout.splitlines() if line.strip()]
    return result, rows


def test_status_codes_in_file_order(run_app, tmp_path, server):
    urls = [f"{server}/ok", f"{server}/missing", f"{server}/error", f"{server}/ok?again=1"]
    result, rows = check(run_app, tmp_path, urls)
    assert [row[:2] for row in rows] == [[urls[0], "200"], [urls[1], "404"], [urls[2], "500"],
                                         [urls[3], "200"]]
    assert result.returncode == 1


def test_all_good_exit_zero_and_time_in_milliseconds(run_app, tmp_path, server):
    urls = [f"{server}/ok", f"{server}/delay"]
    result, rows = check(run_app, tmp_path, urls)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [row[:2] for row in rows] == [[urls[0], "200"], [urls[1], "200"]]
    times = []
    for row in rows:
        match = re.fullmatch(r"(\d+)ms", row[2])
        assert match, row
        times.append(int(match.group(1)))
    assert times[0] < 2000
    assert DELAY_S * 1000 <= times[1] < 4000


def test_redirects_followed_and_user_agent_sent(run_app, tmp_path, server):
    urls = [f"{server}/redirect", f"{server}/agent"]
    result, rows = check(run_app, tmp_path, urls)
    assert [row[:2] for row in rows] == [[urls[0], "200"], [urls[1], "200"]]
    assert result.returncode == 0


def test_slow_server_times_out(run_app, tmp_path, server):
    urls = [f"{server}/slow", f"{server}/ok"]
    start = time.monotonic()
    result, rows = check(run_app, tmp_path, urls, "--timeout", "0.5")
    elapsed = time.monotonic() - start
    assert [row[:2] for row in rows] == [[urls[0], "TIMEOUT"], [urls[1], "200"]]
    assert result.returncode == 1
    assert elapsed < SLOW_S - 1, f"took {elapsed:.1f} s: the timeout was not applied"


def test_comments_blank_lines_and_bad_entries(run_app, tmp_path, server):
    dead = f"http://127.0.0.1:{free_port()}/"
    lines = ["# morning checks", "", f"   {server}/ok   ", "not a url", "   ", dead,
             "#" + f"{server}/missing"]
    result, rows = check(run_app, tmp_path, lines)
    assert [row[:2] for row in rows] == [[f"{server}/ok", "200"], ["not a url", "ERROR"],
                                         [dead, "ERROR"]]
    assert result.returncode == 1


def test_missing_or_empty_url_file(run_app, tmp_path):
    result = run_app(tmp_path / "nope.txt")
    assert result.returncode == 2
    assert result.stderr.strip() and "Traceback" not in result.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n", encoding="utf-8")
    result = run_app(empty)
    assert result.returncode == 2
    assert result.stderr.strip() and "Traceback" not in result.stderr
