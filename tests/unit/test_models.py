import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agents.cassette import Cassette, CassetteError, Interaction, ResponseRecord, ToolCallRecord
from agents.models import (
    ModelConfigError,
    ModelRef,
    ModelSelector,
    ProviderConfig,
)
from agents.schemas import SafetyVerdict
from agents.structured import AnswerFormatError, parse_answer


def write_cassette(path, items):
    path.write_text("\n".join(i.model_dump_json() for i in items) + "\n", encoding="utf-8")
    return path


def selector(tmp_path, roles, providers=None, keys=None):
    providers = providers or {
        "openai": ProviderConfig(base_url="http://127.0.0.1:9/v1", api_key_env="OPENAI_API_KEY"),
        "replay": ProviderConfig(kind="replay", needs_key=False, cassette_dir=tmp_path),
    }
    keys = keys or {}
    return ModelSelector(
        roles={r: [ModelRef.parse(x) for x in refs] for r, refs in roles.items()},
        providers=providers, key_lookup=lambda name, cfg: keys.get(name))


def test_model_ref_parsing_keeps_colons_and_slashes_in_the_model():
    ref = ModelRef.parse("openrouter:deepseek/deepseek-r1:free")
    assert (ref.provider, ref.model) == ("openrouter", "deepseek/deepseek-r1:free")
    with pytest.raises(ModelConfigError, match="PROVIDER:MODEL"):
        ModelRef.parse("gpt-4.1")


def test_missing_key_names_the_variable_to_set(tmp_path):
    s = selector(tmp_path, {"planner": ["openai:o3"], "coder": ["openai:gpt-4.1"],
                            "judge": ["openai:gpt-4.1-mini"]})
    with pytest.raises(ModelConfigError, match="set OPENAI_API_KEY"):
        s.validate()


def test_a_fallback_without_key_is_skipped_when_another_model_is_usable(tmp_path):
    write_cassette(tmp_path / "demo.jsonl", [])
    s = selector(tmp_path, {r: ["openai:x", "replay:demo"] for r in ("planner", "coder", "judge")})
    s.validate()


def test_unknown_provider_and_unknown_cassette_are_clear(tmp_path):
    s = selector(tmp_path, {r: ["nope:x"] for r in ("planner", "coder", "judge")})
    with pytest.raises(ModelConfigError, match="unknown provider 'nope'"):
        s.validate()
    s = selector(tmp_path, {r: ["replay:missing"] for r in ("planner", "coder", "judge")})
    with pytest.raises(ModelConfigError, match="unknown replay cassette 'missing'"):
        s.validate()


def test_replay_answers_by_call_key_with_tool_calls_and_usage(tmp_path):
    write_cassette(tmp_path / "demo.jsonl", [
        Interaction(key="coder/0/0", role="coder", response=ResponseRecord(tool_calls=[
            ToolCallRecord(id="call_1", name="write_file", args={"path": "a.py", "content": "x"})]),
            usage={"input_tokens": 10, "output_tokens": 5}),
        Interaction(key="coder/0/1", role="coder", response=ResponseRecord(content="done")),
    ])
    s = selector(tmp_path, {r: ["replay:demo"] for r in ("planner", "coder", "judge")})
    second = s.invoke("coder", [HumanMessage("go")], key="coder/0/1")
    first = s.invoke("coder", [HumanMessage("go")], key="coder/0/0", tools=[{"type": "function"}])
    assert second.content == "done"
    assert first.tool_calls[0]["args"] == {"path": "a.py", "content": "x"}
    assert s.usage["replay:demo"].input_tokens == 10
    with pytest.raises(CassetteError, match="no answer for model call 'coder/9/9'"):
        s.invoke("coder", [HumanMessage("go")], key="coder/9/9")


def test_cassette_line_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "a", "role": "coder", "response": {}}\nnot json\n', encoding="utf-8")
    with pytest.raises(CassetteError, match=r"bad.jsonl:2"):
        Cassette.load(bad)


VERDICT = {"level": "green", "recommendation": "approve", "reasons": ["a converter"]}


@pytest.mark.parametrize("text", [
    json.dumps(VERDICT),
    "Here is my analysis:\n```json\n" + json.dumps(VERDICT, indent=2) + "\n```\nThanks.",
    "Verdict: " + json.dumps(VERDICT) + " — end.",
])
def test_structured_answers_parse_from_plain_fenced_or_embedded_json(text):
    verdict = parse_answer(AIMessage(text), SafetyVerdict)
    assert verdict.level == "green" and verdict.reasons == ["a converter"]


def test_structured_answer_errors_say_which_field_is_wrong():
    with pytest.raises(AnswerFormatError, match="level"):
        parse_answer(AIMessage('{"level": "purple", "recommendation": "approve"}'), SafetyVerdict)
    with pytest.raises(AnswerFormatError, match="JSON"):
        parse_answer(AIMessage("I think it is fine."), SafetyVerdict)


def conversation(result):
    from langchain_core.messages import ToolMessage

    call = {"id": "call_1", "name": "read_file", "args": {"path": "a.py"}, "type": "tool_call"}
    return [HumanMessage("go"), AIMessage(content="", tool_calls=[call]),
            ToolMessage(result, tool_call_id="call_1")]


def test_a_recorded_answer_is_reused_only_for_the_same_conversation(tmp_path):
    from agents.cassette import CassetteRecorder

    write_cassette(tmp_path / "demo.jsonl", [
        Interaction(key="coder/0/1", role="coder", response=ResponseRecord(content="live"))])
    events = []
    s = selector(tmp_path, {r: ["replay:demo"] for r in ("planner", "coder", "judge")})
    s.on_event = events.append
    s.recorder = CassetteRecorder(tmp_path / "run" / "cassette.jsonl", str)
    (tmp_path / "run").mkdir()
    old = Interaction(key="coder/0/1", role="coder", request_hash=s.recorder.fingerprint(
        conversation('{"content": "A"}')), response=ResponseRecord(content="recorded"))
    (tmp_path / "run" / "cassette.jsonl").write_text(old.model_dump_json() + "\n")

    # same conversation: the run's own answer, the provider is not asked
    assert s.invoke("coder", conversation('{"content": "A"}'), key="coder/0/1").content == \
        "recorded"
    assert "replay:demo" not in s.usage
    # same key and message count, another tool result: stale, the provider is asked
    answer = s.invoke("coder", conversation('{"content": "B"}'), key="coder/0/1")
    assert answer.content == "live" and s.usage["replay:demo"].calls == 1
    assert [e["type"] for e in events] == ["model_reused", "recorded_answer_stale", "model_call"]
    # the new answer is recorded with its own fingerprint and reused for that conversation
    assert s.invoke("coder", conversation('{"content": "B"}'), key="coder/0/1").content == "live"
    assert s.usage["replay:demo"].calls == 1


def test_request_fingerprints_are_stable_across_processes_and_mask_timings():
    import subprocess
    import sys

    from agents.cassette import request_fingerprint

    here = request_fingerprint(conversation('{"output": "1 passed in 0.52s"}'))
    code = ("from tests.unit.test_models import conversation;"
            "from agents.cassette import request_fingerprint;"
            "print(request_fingerprint(conversation('{\"output\": \"1 passed in 0.52s\"}')))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout.strip()
    assert there == here and len(here) == 64
    assert request_fingerprint(conversation('{"output": "1 passed in 3.1s"}')) == here
    assert request_fingerprint(conversation('{"output": "2 passed in 0.52s"}')) != here
    # redacted before hashing: a secret changes nothing the hash could reveal
    assert request_fingerprint(conversation("sk-" + "a" * 30), lambda t: t.replace(
        "sk-" + "a" * 30, "[REDACTED]")) == request_fingerprint(conversation("[REDACTED]"))


def test_cassette_lines_without_a_fingerprint_still_load(tmp_path):
    line = json.dumps({"key": "coder/0/0", "role": "coder", "request": [],
                       "response": {"content": "x"}})
    item = Interaction.model_validate_json(line)
    assert item.request_hash is None
    path = tmp_path / "old.jsonl"
    path.write_text(line + "\n")
    assert Cassette.load(path).get("coder/0/0").response.content == "x"
