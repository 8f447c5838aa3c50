"""Token counts: the provider's tokenizer when it can be had at once, else a safe estimate;
each role keeps the counter its run started with."""

import json
import threading
import time

import pytest
import tiktoken
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents import tokens
from agents.config import ModelRef, ProviderConfig
from agents.models import ModelSelector
from agents.tokens import (
    ESTIMATE,
    PINNED_FILE,
    counter_for,
    counter_named,
    pinned_counters,
    run_counter,
)
from memory.records import RunRecord
from memory.redaction import Redactor

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


class OneTokenPerWord:
    """Stands in for tiktoken's o200k_base (its BPE files are not here offline)."""

    def encode_ordinary(self, text):
        return text.split()


def selector(ref):
    """A role -> model selector whose coder and planner use ``ref``."""
    providers = {"openai": OPENAI,
                 "replay": ProviderConfig(kind="replay", needs_key=False)}
    return ModelSelector(roles={r: [ModelRef.parse(ref)] for r in ("coder", "planner")},
                         providers=providers, key_lookup=lambda *_: None)


@pytest.fixture
def record(tmp_path):
    with RunRecord.create(tmp_path / "runs", "run-1", Redactor()) as record:
        yield record


def test_a_roles_first_counter_is_pinned_in_the_run_folder(monkeypatch, record):
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: OneTokenPerWord())
    chosen = run_counter(record, selector("openai:gpt-4.1"), "coder")
    assert chosen.new and not chosen.differs and chosen.counter.name == "tiktoken:o200k_base"
    assert json.loads((record.run_dir / PINNED_FILE).read_text()) == {
        "coder": "tiktoken:o200k_base"}
    run_counter(record, selector("replay:csv2xlsx-gui"), "planner")  # another role, another pin
    assert pinned_counters(record.run_dir) == {"coder": "tiktoken:o200k_base",
                                               "planner": ESTIMATE}


def test_a_later_session_counts_with_the_pinned_tiktoken_counter_whatever_its_models(
        monkeypatch, record):
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: OneTokenPerWord())
    run_counter(record, selector("openai:gpt-4.1"), "coder")
    # a replay (or a fork) of the run: its roles play the cassette, which has no tokenizer
    again = run_counter(record, selector("replay:csv2xlsx-gui"), "coder")
    assert not again.new and not again.differs and not again.counter.estimated
    assert again.counter.name == "tiktoken:o200k_base"
    assert again.counter.count_text("one two three") == 3
    assert counter_for(ModelRef.parse("replay:csv2xlsx-gui"), None).estimated  # unpinned


def test_a_pinned_estimate_stays_when_a_tokenizer_becomes_available(monkeypatch, record):
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: (_ for _ in ()).throw(
        ConnectionError("offline")))
    first = run_counter(record, selector("openai:gpt-4.1"), "coder")
    assert first.counter.name == ESTIMATE
    monkeypatch.setattr(tokens, "_ENCODINGS", {})  # a new process, with tiktoken's files now
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: OneTokenPerWord())
    assert counter_for(GPT, OPENAI).name == "tiktoken:o200k_base"
    again = run_counter(record, selector("openai:gpt-4.1"), "coder")
    assert again.counter.name == ESTIMATE and not again.differs


def test_a_pinned_tokenizer_that_cannot_load_here_falls_back_to_the_estimate_and_says_so(
        monkeypatch, record):
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: OneTokenPerWord())
    run_counter(record, selector("openai:gpt-4.1"), "coder")
    monkeypatch.setattr(tokens, "_ENCODINGS", {})  # a new process, offline
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: (_ for _ in ()).throw(
        ConnectionError("Failed to resolve 'openaipublic.blob.core.windows.net'")))
    again = run_counter(record, selector("openai:gpt-4.1"), "coder", timeout_s=0.5)
    assert again.counter.estimated and again.differs and again.pinned == "tiktoken:o200k_base"
    assert pinned_counters(record.run_dir) == {"coder": "tiktoken:o200k_base"}  # kept as it was


@pytest.mark.parametrize("name", ["tiktoken:no_such_encoding", "sentencepiece:llama", "tiktoken:"])
def test_counters_are_found_by_name_or_not_at_all(name):
    assert counter_named(ESTIMATE).estimated
    assert counter_named(name, timeout_s=0.5) is None
