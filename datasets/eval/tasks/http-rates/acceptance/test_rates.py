import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
RATES = {"base": "EUR", "date": "2024-05-31", "rates": {"USD": 1.08, "RUB": 97.2, "JPY": 170.0}}
NEW_RATES = {"base": "EUR", "date": "2024-06-01", "rates": {"USD": 1.25, "RUB": 100.0,
                                                             "JPY": 160.0}}


class RatesApi(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.hits += 1
        status, body = 200, json.dumps(server.rates).encode()
        if server.mode == "down":
            status, body = 503, b'{"error": "maintenance"}'
        elif server.mode == "garbage":
            body = b"<html>rates are temporarily unavailable</html>"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RatesApi)
    server.hits, server.mode, server.rates = 0, "ok", RATES
    server.url = f"http://127.0.0.1:{server.server_port}/latest"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def rates(run_app, api, tmp_path):
    cache = tmp_path / "cache" / "rates.json"

    def run(*args, max_age=None):
        options = ["--max-age", max_age] if max_age is not None else []
        return run_app("--api", api.url, "--cache", cache, *options, *args, env={
            **NO_PROXY, "XDG_CACHE_HOME": str(tmp_path / "xdg")}, timeout=30)

    return run


def value(result):
    assert result.returncode == 0, result.stderr
    text = result.stdout.strip()
    assert re.fullmatch(r"-?\d+\.\d\d", text), text
    return text


def test_converts_through_the_base_currency(rates, api):
    assert value(rates("100", "USD", "RUB")) == "9000.00"
    assert value(rates("50", "EUR", "USD")) == "54.00"
    assert value(rates("1000", "RUB", "EUR")) == "10.29"
    assert value(rates("10", "usd", "jpy")) == "1574.07"
    assert value(rates("12,5", "RUB", "rub")) == "12.50"


def test_fresh_cache_means_no_second_request(rates, api):
    assert value(rates("100", "USD", "RUB")) == "9000.00"
    assert value(rates("2", "EUR", "JPY")) == "340.00"
    assert value(rates("1", "EUR", "RUB", max_age=600)) == "97.20"
    assert api.hits == 1


def test_expired_cache_fetches_fresh_rates(rates, api):
    assert value(rates("100", "USD", "RUB")) == "9000.00"
    api.rates = NEW_RATES
    assert value(rates("100", "USD", "RUB")) == "9000.00"
    assert value(rates("100", "USD", "RUB", max_age=0)) == "8000.00"
    assert api.hits == 2
    assert value(rates("100", "USD", "RUB")) == "8000.00"
    assert api.hits == 2


def test_stale_cache_is_used_with_a_warning_when_the_api_fails(rates, api):
    assert value(rates("100", "USD", "RUB")) == "9000.00"
    for mode in ("down", "garbage"):
        api.mode = mode
        result = rates("100", "USD", "RUB", max_age=0)
        assert value(result) == "9000.00"
        assert result.stderr.strip()
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("mode", ["down", "garbage"])
def test_no_cache_and_a_failing_api_is_an_error(rates, api, mode, tmp_path):
    api.mode = mode
    result = rates("100", "USD", "RUB")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not result.stdout.strip()


@pytest.mark.parametrize("args", [("100", "USD", "XYZ"), ("сто", "USD", "RUB")])
def test_unknown_currency_or_bad_amount_exits_2(rates, args):
    result = rates(*args)
    assert result.returncode == 2
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
