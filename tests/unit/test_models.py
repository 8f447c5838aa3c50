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
