"""Token counts: the provider's tokenizer when it can be had at once, else a safe estimate."""

import threading
import time

import pytest
import tiktoken
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents import tokens
from agents.config import ModelRef, ProviderConfig
from agents.tokens import ESTIMATE, counter_for

OPENAI = ProviderConfig(kind="openai", base_url="https://api.openai.com/v1")
GPT = ModelRef.parse("openai:gpt-4.1")


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Each test starts as a new process would: no encoding tried yet."""
    monkeypatch.setattr(tokens, "_ENCODINGS", {})


def test_without_tiktoken_files_counts_are_estimated_at_once(monkeypatch):
    calls = []

    def offline(name):
        calls.append(name)
        raise ConnectionError("Failed to resolve 'openaipublic.blob.core.windows.net'")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    started = time.monotonic()
    counter = counter_for(GPT, OPENAI)
    assert time.monotonic() - started < 1.0
    assert counter.estimated and counter.name == ESTIMATE
    assert counter.count_text("x" * 300) == 100  # UTF-8 bytes / 3
    counter_for(GPT, OPENAI)
    assert calls == ["o200k_base"]  # tried once per process, not on every count


def test_a_tiktoken_download_that_hangs_is_given_up_after_the_timeout(monkeypatch):
    release = threading.Event()
    calls = []

    def hanging(name):  # a firewall that drops packets: the fetch never returns
        calls.append(name)
        release.wait(30)
        raise ConnectionError("timed out")

    monkeypatch.setattr(tiktoken, "get_encoding", hanging)
    try:
        started = time.monotonic()
        counter = counter_for(GPT, OPENAI, timeout_s=0.3)
        first = time.monotonic() - started
        started = time.monotonic()
        again = counter_for(GPT, OPENAI, timeout_s=0.3)
        second = time.monotonic() - started
    finally:
        release.set()
    assert counter.estimated and again.estimated
    assert 0.25 <= first < 2.0
    assert second < 0.1  # the next prompt does not wait again
    assert calls == ["o200k_base"]


def test_the_models_own_tokenizer_is_used_when_it_loads(monkeypatch):
    class Encoding:  # stands in for tiktoken's o200k_base: one token per word
        def encode_ordinary(self, text):
            return text.split()

    asked = []
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: asked.append(name) or Encoding())
    counter = counter_for(GPT, OPENAI)
    assert not counter.estimated and counter.name == "tiktoken:o200k_base"
    assert counter.count_text("one two three") == 3
    assert asked == ["o200k_base"]
    # OpenRouter spells OpenAI models with a vendor prefix
    assert counter_for(ModelRef.parse("openrouter:openai/gpt-4o"), OPENAI).name.startswith(
        "tiktoken:")


@pytest.mark.parametrize("ref, provider", [
    ("deepseek:deepseek-chat", OPENAI),       # an OpenAI-compatible endpoint, not OpenAI's model
    ("replay:csv2xlsx-gui", ProviderConfig(kind="replay", needs_key=False)),
])
def test_other_models_are_estimated_without_trying_a_download(monkeypatch, ref, provider):
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: pytest.fail("no download"))
    counter = counter_for(ModelRef.parse(ref), provider)
    assert counter.estimated


def test_whole_conversations_are_counted_with_their_tool_calls_and_results():
    counter = tokens.TokenCounter()
    content = "def main() -> None:\n    print('hello')\n" * 100  # 3,900 characters of code
    call = AIMessage(content="", tool_calls=[{"id": "call_1", "name": "write_file",
                                              "args": {"path": "app/main.py", "content": content},
                                              "type": "tool_call"}])
    result = ToolMessage(content='{"success": true, "data": {"bytes": 3900}}',
                         tool_call_id="call_1")
    bare = AIMessage(content="")
    assert counter.count_message(call) - counter.count_message(bare) >= len(content) / 3
    conversation = [SystemMessage("You are the coder."), HumanMessage("Build it."), call, result]
    total = counter.count_messages(conversation)
    assert total == 3 + sum(counter.count_message(m) for m in conversation)
    assert total > counter.count_messages(conversation[:2]) + len(content) / 3
    schema = [{"type": "function", "function": {"name": "write_file", "parameters": {}}}]
    assert counter.count_tools(schema) > 0 and counter.count_tools(None) == 0


def test_the_estimate_does_not_undercount_russian_text():
    counter = tokens.TokenCounter()
    text = "Программа конвертирует файлы CSV в формат Excel и проверяет кодировку."
    # tokenizers take at most about 4 letters of Cyrillic per token; the estimate must not
    # promise more room than the model has
    assert counter.count_text(text) >= len(text) / 2
