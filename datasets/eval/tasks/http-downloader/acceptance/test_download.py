import hashlib
import random
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CONTENT = random.Random(20240601).randbytes(300_000)
SHA = hashlib.sha256(CONTENT).hexdigest()
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class FileServer(BaseHTTPRequestHandler):
    """Serves CONTENT at /data/file.bin, with or without Range support."""

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.server.ranges.append(self.headers.get("Range"))
        self.answer(head=False)

    def answer(self, head):
        server = self.server
        if self.path != "/data/file.bin":
            body = b"not found"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match and server.supports_range and int(match.group(1)) < len(CONTENT):
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(CONTENT) - 1}/{len(CONTENT)}")
        else:
            self.send_response(200)
        if server.supports_range:
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(CONTENT) - start))
        self.end_headers()
        if head:
            return
        body = CONTENT[start:]
        for index in range(0, len(body), 32_768):
            self.wfile.write(body[index:index + 32_768])
        server.bytes_sent += len(body)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FileServer)
    httpd.ranges, httpd.bytes_sent, httpd.supports_range = [], 0, True
    httpd.url = f"http://127.0.0.1:{httpd.server_port}/data/file.bin"
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def download(run_app, *args):
    return run_app(*args, env=NO_PROXY, timeout=30)


def no_traceback(result):
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_downloads_the_file_with_progress_and_prints_its_hash(run_app, server, tmp_path):
    target = tmp_path / "файл.bin"
    result = download(run_app, server.url, "-o", target)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == CONTENT
    assert not (tmp_path / "файл.bin.part").exists()
    assert SHA in result.stdout.lower()
    assert "100%" in result.stderr


def test_resumes_a_partial_download_with_range(run_app, server, tmp_path):
    target = tmp_path / "file.bin"
    (tmp_path / "file.bin.part").write_bytes(CONTENT[:120_000])
    result = download(run_app, server.url, "-o", target)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == CONTENT
    assert len(server.ranges) == 1
    assert server.ranges[0].replace(" ", "").startswith("bytes=120000-")
    assert server.bytes_sent == 180_000
    assert not (tmp_path / "file.bin.part").exists()


def test_starts_over_when_the_server_ignores_range(run_app, server, tmp_path):
    server.supports_range = False
    target = tmp_path / "file.bin"
    (tmp_path / "file.bin.part").write_bytes(CONTENT[:120_000])
    result = download(run_app, server.url, "-o", target)
    assert result.returncode == 0, result.stderr
    assert len(target.read_bytes()) == len(CONTENT)
    assert target.read_bytes() == CONTENT


def test_checksum_is_verified_case_insensitively(run_app, server, tmp_path):
    target = tmp_path / "file.bin"
    wrong = hashlib.sha256(b"something else").hexdigest()
    result = download(run_app, server.url, "-o", target, "--sha256", wrong)
    assert result.returncode == 1
    no_traceback(result)
    assert not target.exists()
    assert not (tmp_path / "file.bin.part").exists()
    result = download(run_app, server.url, "-o", target, "--sha256", SHA.upper())
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == CONTENT


def test_http_and_network_errors_exit_1_without_a_file(run_app, server, tmp_path):
    target = tmp_path / "missing.bin"
    result = download(run_app, server.url.replace("file.bin", "missing.bin"), "-o", target)
    assert result.returncode == 1
    no_traceback(result)
    assert not target.exists()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = download(run_app, f"http://127.0.0.1:{closed_port}/file.bin", "-o", target)
    assert result.returncode == 1
    no_traceback(result)
    assert not target.exists()
