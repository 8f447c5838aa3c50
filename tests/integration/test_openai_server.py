"""The real langchain-openai client against the local cassette server, over a socket.

Each test builds a small cassette in memory, points ``ChatOpenAI(base_url=...)`` at a
:class:`CassetteServer` and checks what the client got back and what the server saw.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agents.cassette import (
    HEADER_CALL_KEY,
    Cassette,
    Interaction,
    ResponseRecord,
    ToolCallRecord,
)
from tests.support.openai_server import CassetteServer

ROOT = Path(__file__).resolve().parents[2]
MODEL = "gpt-4.1"
KEY = "test-key"
PLAN_TEXT = "1. Read the CSV file.\n2. Sum the amounts per month.\n3. Print a table. Done."
WRITE_ARGS = {"path": "app/main.py", "content": "def main() -> None:\n    print('héllo')\n"}


def _cassette() -> Cassette:
    return Cassette([
        Interaction(key="planner/0", role="planner", model=f"openai:{MODEL}",
                    response=ResponseRecord(content=PLAN_TEXT),
                    usage={"input_tokens": 120, "output_tokens": 30}),
        Interaction(key="coder/0/1", role="coder", model=f"openai:{MODEL}",
                    response=ResponseRecord(content="", tool_calls=[
                        ToolCallRecord(id="call_w1", name="write_file", args=WRITE_ARGS),
                        ToolCallRecord(id="call_r1", name="run_tests", args={}),
                    ]),
                    usage={"input_tokens": 900, "output_tokens": 80}),
        Interaction(key="reporter/0", role="reporter", model="anthropic:claude-sonnet-4-5",
                    response=ResponseRecord(content="All checks passed."),
                    usage={"input_tokens": 50, "output_tokens": 5}),
    ])


@pytest.fixture(autouse=True)
def _no_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep LangSmith tracing (and its network calls) out of these tests."""
    for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[CassetteServer]:
    with CassetteServer(_cassette(), api_key=KEY, extra_models=["gpt-4.1-mini"]) as srv:
        yield srv


def _chat(server: CassetteServer, **kwargs: Any) -> ChatOpenAI:
    options: dict[str, Any] = {"model": MODEL, "base_url": server.base_url, "api_key": KEY,
                               "max_retries": 0, "timeout": 5}
    options.update(kwargs)
    return ChatOpenAI(**options)


def _key(key: str) -> dict[str, Any]:
    """Per-call kwargs that make langchain-openai send the call-key header."""
    return {"extra_headers": {HEADER_CALL_KEY: key}}


def _join(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


# -- answers -------------------------------------------------------------------------------


def test_models_lists_cassette_ids_without_provider_prefix(server: CassetteServer) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    ids = [model.id for model in client.models.list()]
    assert ids == [MODEL, "claude-sonnet-4-5", "gpt-4.1-mini"]
    assert client.models.retrieve("claude-sonnet-4-5").id == "claude-sonnet-4-5"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-0")


def test_plain_answer_in_recorded_order(server: CassetteServer) -> None:
    answer = _chat(server).invoke([HumanMessage("Plan a CSV summariser.")])
    assert answer.content == PLAN_TEXT
    assert answer.tool_calls == []
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == 120
    assert answer.usage_metadata["output_tokens"] == 30
    assert answer.usage_metadata["total_tokens"] == 150
    assert answer.response_metadata["finish_reason"] == "stop"
    assert answer.response_metadata["model_name"] == MODEL
    (request,) = server.requests
    assert (request.method, request.path, request.fault) == ("POST", "/v1/chat/completions",
                                                             None)
    assert request.call_key is None
    assert request.body["model"] == MODEL
    assert request.body["messages"] == [{"role": "user", "content": "Plan a CSV summariser."}]


def test_tool_call_answer_by_key(server: CassetteServer) -> None:
    answer = _chat(server).invoke("Write the app.", **_key("coder/0/1"))
    assert answer.content == ""
    assert [(c["id"], c["name"], c["args"]) for c in answer.tool_calls] == [
        ("call_w1", "write_file", WRITE_ARGS), ("call_r1", "run_tests", {})]
    assert answer.response_metadata["finish_reason"] == "tool_calls"
    assert server.requests[0].call_key == "coder/0/1"


def test_streaming_answer_concatenates_to_recorded_content(server: CassetteServer) -> None:
    chunks = list(_chat(server).stream("Plan it.", stream_usage=True, **_key("planner/0")))
    assert len([c for c in chunks if c.content]) >= 3  # really streamed in pieces
    total = _join(chunks)
    assert total.content == PLAN_TEXT
    assert total.usage_metadata is not None
    assert total.usage_metadata["total_tokens"] == 150
    body = server.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_streaming_tool_calls_parse_back(server: CassetteServer) -> None:
    chunks = list(_chat(server).stream("Write the app.", **_key("coder/0/1")))
    assert sum(1 for c in chunks if c.tool_call_chunks) > 2  # args arrive in pieces
    total = _join(chunks)
    assert [(c["id"], c["name"], c["args"]) for c in total.tool_calls] == [
        ("call_w1", "write_file", WRITE_ARGS), ("call_r1", "run_tests", {})]
    assert total.usage_metadata is None  # the client did not ask for usage


def test_lookup_by_key_through_each_header_route(server: CassetteServer) -> None:
    per_model = _chat(server, default_headers={HEADER_CALL_KEY: "reporter/0"})
    assert per_model.invoke("Report.").content == "All checks passed."
    bound = _chat(server).bind(**_key("coder/0/1"))
    assert bound.invoke("Code.").tool_calls[0]["name"] == "write_file"
    assert _chat(server).invoke("Plan.", **_key("planner/0")).content == PLAN_TEXT
    assert [r.call_key for r in server.requests] == ["reporter/0", "coder/0/1", "planner/0"]


def test_async_client_reaches_the_server(server: CassetteServer) -> None:
    answer = asyncio.run(_chat(server).ainvoke("Report.", **_key("reporter/0")))
    assert answer.content == "All checks passed."


def test_unknown_key_is_404_naming_the_key(server: CassetteServer) -> None:
    with pytest.raises(openai.NotFoundError, match="coder/9/9"):
        _chat(server).invoke("?", **_key("coder/9/9"))


def test_used_up_cassette_is_404(server: CassetteServer) -> None:
    model = _chat(server)
    for _ in range(3):
        model.invoke("next")
    with pytest.raises(openai.NotFoundError, match="used up"):
        model.invoke("one too many")


def test_client_only_ever_sends_the_test_key(server: CassetteServer) -> None:
    model = _chat(server, max_retries=1)
    server.inject("500")
    model.invoke("a", **_key("planner/0"))
    list(model.stream("b", **_key("coder/0/1")))
    assert len(server.requests) == 3
    for request in server.requests:
        assert request.authorization == f"Bearer {KEY}"
        assert "api-key" not in request.headers


# -- faults --------------------------------------------------------------------------------


def test_429_then_success_is_retried(server: CassetteServer) -> None:
    server.inject("429")
    started = time.monotonic()
    answer = _chat(server, max_retries=2).invoke("Plan.", **_key("planner/0"))
    assert answer.content == PLAN_TEXT
    assert [r.fault for r in server.requests] == ["429", None]
    assert [r.call_key for r in server.requests] == ["planner/0", "planner/0"]
    assert time.monotonic() - started < 3


def test_500_twice_then_success_is_retried(server: CassetteServer) -> None:
    server.inject("500", times=2)
    answer = _chat(server, max_retries=2).invoke("Plan.", **_key("planner/0"))
    assert answer.content == PLAN_TEXT
    assert [r.fault for r in server.requests] == ["500", "500", None]
    assert server.pending_faults == 0


def test_faults_are_served_in_order_and_do_not_use_up_answers(
        server: CassetteServer) -> None:
    server.inject("503").inject("drop")
    answer = _chat(server, max_retries=2).invoke("Plan.")  # in order: the first interaction
    assert answer.content == PLAN_TEXT
    assert [r.fault for r in server.requests] == ["503", "drop", None]


def test_retries_exhausted_raises_the_last_error(server: CassetteServer) -> None:
    server.inject("503", times=2)
    with pytest.raises(openai.InternalServerError) as caught:
        _chat(server, max_retries=1).invoke("Plan.")
    assert caught.value.status_code == 503
    assert len(server.requests) == 2


def test_timeout_raises_api_timeout_error_and_stop_is_not_blocked(
        server: CassetteServer) -> None:
    server.inject("timeout", delay_s=30)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError) as caught:
        _chat(server, timeout=1, max_retries=0).invoke("Plan.", **_key("planner/0"))
    assert 0.9 < time.monotonic() - started < 5
    # langchain-openai 1.7 re-raises its own subclass of the openai error.
    assert type(caught.value).__name__ == "OpenAITimeoutError"
    assert server.requests[0].fault == "timeout"
    started = time.monotonic()
    server.stop()  # the handler still holds the request: stop must not wait for it
    assert time.monotonic() - started < 2


def test_stop_releases_a_held_request() -> None:
    server = CassetteServer(_cassette()).start()
    server.inject("timeout", delay_s=30)
    outcome: list[BaseException | httpx.Response] = []

    def call() -> None:
        try:
            outcome.append(httpx.post(f"{server.base_url}/chat/completions", json={},
                                      timeout=20))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    caller.join(timeout=5)
    assert time.monotonic() - started < 2
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.RemoteProtocolError)  # closed, never answered


def test_malformed_body_raises_a_json_error(server: CassetteServer) -> None:
    server.inject("malformed", times=2)
    model = _chat(server, max_retries=2)
    with pytest.raises(json.JSONDecodeError):
        model.invoke("Plan.", **_key("planner/0"))
    with pytest.raises(json.JSONDecodeError):
        list(model.stream("Plan.", **_key("planner/0")))
    assert [r.fault for r in server.requests] == ["malformed", "malformed"]  # not retried


def test_401_fault_raises_authentication_error(server: CassetteServer) -> None:
    server.inject("401")
    with pytest.raises(openai.AuthenticationError) as caught:
        _chat(server, max_retries=2).invoke("Plan.")
    assert caught.value.code == "invalid_api_key"
    assert len(server.requests) == 1  # 401 is not retried


def test_wrong_key_is_rejected_and_no_key_server_accepts_any(
        server: CassetteServer) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _chat(server, api_key="sk-wrong").invoke("Plan.")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.code == "invalid_api_key"
    with CassetteServer(_cassette(), api_key=None) as open_server:
        assert _chat(open_server, api_key="anything").invoke("Plan.").content == PLAN_TEXT


def test_faults_can_target_the_models_path(server: CassetteServer) -> None:
    server.inject("429", path="/v1/models")
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.models.list()
    assert caught.value.response.headers["retry-after"] == "0"
    assert caught.value.code == "rate_limit_exceeded"
    assert MODEL in {m.id for m in client.models.list()}


def test_inject_rejects_unknown_faults(server: CassetteServer) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject("418")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        server.inject("500", times=0)


# -- command line --------------------------------------------------------------------------


def test_command_line_help() -> None:
    result = subprocess.run([sys.executable, "-m", "tests.support.openai_server", "--help"],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "CASSETTE.jsonl" in result.stdout
    assert "--fault" in result.stdout


def test_command_line_serves_a_cassette_file(tmp_path: Path) -> None:
    path = tmp_path / "cassette.jsonl"
    path.write_text("".join(_cassette().get(k).model_dump_json() + "\n"
                            for k in _cassette().order), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.openai_server", str(path), "--port", "0",
         "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            if "base_url:" in line:
                base_url = line.split("base_url:", 1)[1].strip()
                break
        assert base_url.startswith("http://127.0.0.1:")
        model = ChatOpenAI(model=MODEL, base_url=base_url, api_key=SecretStr(KEY),
                           max_retries=0, timeout=5)
        assert model.invoke("Plan.", **_key("reporter/0")).content == "All checks passed."
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=30) == 0  # a loaded machine is slow to shut it down
        finally:
            if process.poll() is None:
                process.kill()
