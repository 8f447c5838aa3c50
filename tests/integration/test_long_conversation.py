"""A conversation ten times larger than the model's budget runs to the end; the prompts stay
within the budget (issue 4, done-when).

The engine drives the real graph with a scripted model that checks nothing itself but keeps
every prompt it receives: its coder writes big files and reads them back, turn after turn, until
the conversation is more than ten times ``limits.context_tokens``, then writes one file too
large for any prompt, reads it back, and finishes. Checks and packaging are faked (this test is
about the conversation, not the build).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import tiktoken
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agents import tokens
from agents.cassette import HEADER_CALL_KEY
from agents.models import ModelSelector, ProviderConfig
from agents.tokens import ESTIMATE, PINNED_FILE, TokenCounter
from graph import Engine, Settings
from tests.integration.test_web_injection import fake_package, passing_checks
from tests.support.judge import judge_reply

CONTEXT = 16_000
FILES = 40
SPEC = {"title": "Parts", "summary": "Writes the parts of a data set", "features": ["parts"],
        "user_interface": "parts DIR", "data": "text files", "error_handling": ["none"],
        "acceptance_criteria": ["every part is written"]}
PLAN = {"summary": "write the parts", "app": {"name": "parts", "entry": "parts/main.py",
                                              "smoke_args": []},
        "steps": [{"id": "s1", "tool": "write_file", "params": {"path": "data/part0.txt"},
                   "description": "the parts"},
                  {"id": "s2", "tool": "run_tests", "params": {}, "description": "tests"}]}
GREEN = json.dumps({"level": "green", "recommendation": "approve", "categories": [],
                    "reasons": ["harmless"]})
HUGE = "HUGE-HEAD\n" + "filler line of the huge file\n" * 1_000 + "HUGE-MIDDLE\n" + (
    "filler line of the huge file\n" * 1_000) + "HUGE-TAIL\n"

Script = Callable[[str, list[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """A chat model answering by a Python function of (call key, prompt); keeps every prompt.

    ``prompts`` holds ``(key, messages, tools)`` for each call, in order. Bound tools are kept
    per call (``bind_tools`` returns a copy sharing ``prompts``).
    """

    script: Any
    prompts: list[tuple[str, list[BaseMessage], list[dict[str, Any]]]] = Field(
        default_factory=list)
    bound: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        # a replay model is given the call key; an OpenAI model sends it as a request header
        key = kwargs.get("call_key") or kwargs["extra_headers"][HEADER_CALL_KEY]
        self.prompts.append((key, list(messages), list(self.bound)))
        return ChatResult(generations=[ChatGeneration(message=self.script(key, messages))])

    def bind_tools(self, tools, **kwargs):
        return self.model_copy(update={"bound": list(tools)})


def scripted_engine(tmp_path, monkeypatch, script: Script, limits: dict[str, Any] | None = None,
                    model_ref: str = "replay:scripted") -> tuple[Engine, ScriptedChatModel]:
    """An engine whose every role is ``script`` (through the replay provider's call keys).

    ``model_ref`` names the models the run is recorded with: ``openai:gpt-4.1`` is an OpenAI
    model (tokens counted with tiktoken's encoding), answered by ``script`` all the same.
    """
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir(exist_ok=True)
    (cassettes / "scripted.jsonl").write_text("")
    model = ScriptedChatModel(script=script)
    monkeypatch.setattr(ModelSelector, "_build", lambda self, ref, config: model)
    monkeypatch.setattr(ModelSelector, "preflight", lambda self, timeout_s=20.0: None)
    settings = Settings(
        data_dir=tmp_path / "data", sandbox={"backend": "local"}, web={"enabled": False},
        providers={"replay": ProviderConfig(kind="replay", needs_key=False,
                                            cassette_dir=cassettes),
                   "openai": ProviderConfig(kind="openai", needs_key=False,
                                            base_url="http://127.0.0.1:9/v1")},
        models={r: [model_ref] for r in ("planner", "coder", "judge")},
        limits=limits or {})
    engine = Engine(settings)
    services = engine.services

    def with_fakes(run_id):
        return replace(services(run_id), checks=passing_checks, package=fake_package)

    monkeypatch.setattr(engine, "services", with_fakes)
    return engine, model


def run_to_the_end(engine: Engine, task: str, decisions: list[dict[str, Any]] | None = None
                   ) -> tuple[str, Any]:
    """Start a run and answer its questions (approve, unless ``decisions`` says otherwise)."""
    run_id = engine.start(task)
    decisions = list(decisions or [])
    decision = None
    while True:
        last = [e for e in engine.stream(run_id, decision) if e.kind != "progress"][-1]
        if last.kind != "interrupt":
            return run_id, last
        decision = decisions.pop(0) if decisions else {"action": "approve"}


def part(k: int) -> str:
    return f"PART{k}-START\n" + "".join(f"row {k}.{i}: {'value ' * 10}\n"
                                        for i in range(100)) + f"PART{k}-END\n"


def call(turn: int, name: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"id": f"call_{turn}", "name": name, "args": args,
                                              "type": "tool_call"}])


def long_coder(key: str, messages: list[BaseMessage]) -> AIMessage:
    """Spec, plan, then a coder that writes and reads back FILES parts and one huge file."""
    node = key.split("/")[0]
    if node == "safety_gate":
        return AIMessage(GREEN)
    if node == "spec_expander":
        return AIMessage(json.dumps(SPEC))
    if node == "planner":
        return AIMessage(json.dumps(PLAN))
    if node == "spec_judge":
        return judge_reply(SPEC)
    if "/summary" in key:
        folded = re.findall(r"PART\d+-START", messages[-1].text)
        return AIMessage(f"Parts written and read back so far (including {len(folded)} just"
                         " folded); all fine, continue with the next part.")
    turn = int(key.split("/")[2])
    if turn < 2 * FILES:
        path = f"data/part{turn // 2}.txt"
        return call(turn, "write_file", path=path, content=part(turn // 2)) if turn % 2 == 0 \
            else call(turn, "read_file", path=path, max_lines=5000)
    if turn == 2 * FILES:
        return call(turn, "write_file", path="data/huge.txt", content=HUGE)
    if turn == 2 * FILES + 1:
        return call(turn, "read_file", path="data/huge.txt", max_lines=5000)
    return AIMessage("Done: every part is written and checked.")


def test_a_conversation_ten_times_the_budget_runs_to_the_end_within_the_budget(
        tmp_path, monkeypatch):
    engine, model = scripted_engine(tmp_path, monkeypatch, long_coder,
                                    {"context_tokens": CONTEXT, "max_coder_turns": 100})
    run_id, last = run_to_the_end(engine, "write the parts of my data set")
    assert last.kind == "finished" and last.data["status"] == "done", last.data

    counter = TokenCounter()  # a replay has no tokenizer: the run counted with the estimate
    coder_turns = [(k, m, t) for k, m, t in model.prompts if re.fullmatch(r"coder/0/\d+", k)]
    summaries = [(k, m, t) for k, m, t in model.prompts if "/summary" in k]
    assert len(coder_turns) == 2 * FILES + 3  # every turn was asked, the last one answered
    assert summaries, "the conversation was never summarised"
    for key, messages, tools in model.prompts:
        size = counter.count_messages(messages) + counter.count_tools(tools)
        assert size <= CONTEXT, f"{key}: {size} tokens for a budget of {CONTEXT}"
    for key, _, tools in coder_turns:
        assert tools, f"{key} was sent without its tools"

    # the conversation itself: what the coder wrote plus every result it was sent (newest
    # turn of each prompt), far more than ten budgets
    produced = sum(counter.count_message(long_coder(k, [])) for k, _, _ in coder_turns)
    results = sum(counter.count_message(m) for _, messages, _ in coder_turns[1:]
                  for m in messages[-1:] if isinstance(m, ToolMessage))
    assert produced + results > 10 * CONTEXT

    # the prompts kept their instructions and the newest turn; the huge file was cut in them
    last_prompt = coder_turns[-1][1]
    assert last_prompt[0].type == "system" and "# Approved plan" in last_prompt[1].text
    assert "HUGE-HEAD" in last_prompt[-1].text and "characters cut here" in last_prompt[-1].text
    assert not any("HUGE-MIDDLE" in m.text or "HUGE-MIDDLE" in str(getattr(m, "tool_calls", ""))
                   for _, messages, _ in model.prompts for m in messages)
    assert any("Parts written and read back so far" in m.text for m in last_prompt)

    # nothing is lost: the workspace has the whole file, chat.md every line and the summaries
    record = engine.services(run_id).record
    assert (record.workspace / "data" / "huge.txt").read_text() == HUGE
    chat = record.chat_md.read_text(encoding="utf-8")
    assert all(f"PART{k}-START" in chat for k in range(FILES)) and "HUGE-MIDDLE" in chat
    assert chat.count("multicoder (context summary)") == len(summaries)
    events = [e for e in record.iter_events() if e["type"] == "context_compressed"]
    assert len(events) >= 2 and all(e["estimated"] and e["counter"] == ESTIMATE for e in events)
    assert all(e["tokens_after"] <= e["budget"] < e["tokens_before"] for e in events)
    assert events[-1]["conversation_tokens"] > 10 * CONTEXT
    report = (record.run_dir / "report.md").read_text()
    assert "context was compressed" in report and "estimated" in report


def test_a_budget_too_small_for_the_coder_stops_the_run_with_a_clear_reason(
        tmp_path, monkeypatch):
    # 2,500 tokens cannot hold the answer's room and the tool schemas (about 1,700 tokens)
    engine, _ = scripted_engine(tmp_path, monkeypatch, long_coder, {"context_tokens": 2_500})
    run_id, last = run_to_the_end(engine, "write the parts of my data set")
    assert last.kind == "failed" and last.data["resumable"]
    assert "limits.context_tokens (2,500)" in last.data["error"]
    assert "internal error" not in last.data["error"]
    assert engine.get_run(run_id).status == "failed"


def stopped_in_a_compressed_round(tmp_path, monkeypatch, model_ref: str = "replay:scripted"
                                  ) -> tuple[Engine, ScriptedChatModel, str, list[str]]:
    """A run the person cancels in its coder round after the conversation was compressed.

    Returns ``(engine, model, run id, the call keys asked so far)``.
    """
    runs = tmp_path / "data" / "runs"
    stopped = []

    def stopping_coder(key: str, messages: list[BaseMessage]) -> AIMessage:
        if key == "coder/0/40" and not stopped:  # the person cancels here (once): the round
            stopped.append(key)                  # stops before turn 41
            (next(runs.iterdir()) / "CANCEL").touch()
        return long_coder(key, messages)

    engine, model = scripted_engine(tmp_path, monkeypatch, stopping_coder,
                                    {"context_tokens": CONTEXT, "max_coder_turns": 100},
                                    model_ref)
    run_id = engine.start("write the parts of my data set")
    decision = None
    for _ in range(2):  # confirm the start, approve the plan
        last = [e for e in engine.stream(run_id, decision) if e.kind != "progress"][-1]
        decision = {"action": "approve"}
    last = [e for e in engine.stream(run_id, decision) if e.kind != "progress"][-1]
    assert last.kind == "failed" and last.data["error"] == "cancelled"
    before = [key for key, _, _ in model.prompts]
    assert any("/summary" in key for key in before)
    return engine, model, run_id, before


def test_a_compressed_round_resumed_after_a_stop_sends_the_same_prompts(tmp_path, monkeypatch):
    engine, model, run_id, before = stopped_in_a_compressed_round(tmp_path, monkeypatch)

    last = [e for e in engine.stream(run_id) if e.kind != "progress"][-1]  # resume
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    after = [key for key, _, _ in model.prompts][len(before):]
    # the round ran again from its start: every answer already given, summaries included,
    # was reused because the prompts were the same; the model was asked only what was new
    assert not set(after) & set(before), sorted(set(after) & set(before))
    record = engine.services(run_id).record
    assert not [e for e in record.iter_events() if e["type"] == "recorded_answer_stale"]
    reused = {e["key"] for e in record.iter_events() if e["type"] == "model_reused"}
    assert {key for key in before if key.startswith("coder/")} <= reused


class OneTokenPerWord:
    """Stands in for tiktoken's o200k_base, whose BPE files are not here offline.

    It counts far fewer tokens than the estimate (a word is about six bytes), so a
    conversation counted with it is compressed at other turns than with the estimate.
    """

    def encode_ordinary(self, text: str) -> list[str]:
        return text.split()


def tiktoken_files(monkeypatch, available: bool) -> None:
    """A new process: tiktoken's encoding files can (or cannot) be had."""
    def get_encoding(name: str) -> OneTokenPerWord:
        if not available:
            raise ConnectionError("Failed to resolve 'openaipublic.blob.core.windows.net'")
        return OneTokenPerWord()

    monkeypatch.setattr(tokens, "_ENCODINGS", {})
    monkeypatch.setattr(tiktoken, "get_encoding", get_encoding)


def compressions(record) -> list[dict[str, Any]]:
    return [e for e in record.iter_events() if e["type"] == "context_compressed"]


def test_a_resumed_round_counts_with_the_counter_its_run_started_with(tmp_path, monkeypatch):
    tiktoken_files(monkeypatch, available=False)  # the run starts offline: it estimates
    engine, model, run_id, before = stopped_in_a_compressed_round(tmp_path, monkeypatch,
                                                                  "openai:gpt-4.1")
    record = engine.services(run_id).record
    assert json.loads((record.run_dir / PINNED_FILE).read_text())["coder"] == ESTIMATE
    folded = len(compressions(record))

    tiktoken_files(monkeypatch, available=True)  # resumed later, with tiktoken's files
    last = [e for e in engine.stream(run_id) if e.kind != "progress"][-1]
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    after = [key for key, _, _ in model.prompts][len(before):]
    assert not set(after) & set(before), sorted(set(after) & set(before))  # answers reused
    assert not [e for e in record.iter_events() if e["type"] == "recorded_answer_stale"]
    resumed = compressions(record)[folded:]
    assert resumed and all(e["counter"] == ESTIMATE for e in resumed)
    assert not [e for e in record.iter_events() if e["type"] == "token_counter_differs"]


def test_a_resume_that_cannot_load_the_runs_tokenizer_says_its_counts_differ(
        tmp_path, monkeypatch):
    tiktoken_files(monkeypatch, available=True)
    engine, _, run_id, _ = stopped_in_a_compressed_round(tmp_path, monkeypatch, "openai:gpt-4.1")
    record = engine.services(run_id).record
    assert all(e["counter"] == "tiktoken:o200k_base" and not e["estimated"]
               for e in compressions(record))
    pinned = (record.run_dir / PINNED_FILE).read_text()
    assert json.loads(pinned)["coder"] == "tiktoken:o200k_base"
    folded = len(compressions(record))

    tiktoken_files(monkeypatch, available=False)  # resumed on a machine without internet
    last = [e for e in engine.stream(run_id) if e.kind != "progress"][-1]
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    told = [e for e in record.iter_events() if e["type"] == "token_counter_differs"]
    assert len(told) == 1, told  # once per role and session, not at every prompt
    assert told[0]["role"] == "coder" and told[0]["pinned"] == "tiktoken:o200k_base"
    assert told[0]["counter"] == ESTIMATE and "differ" in told[0]["message"]
    assert all(e["counter"] == ESTIMATE and e["estimated"] for e in compressions(record)[folded:])
    assert "counts differ from the original run's" in record.program_log.read_text()
    # the run's own counters stay pinned (a role counted first now, the judge, is added)
    now = json.loads((record.run_dir / PINNED_FILE).read_text())
    assert now.items() >= json.loads(pinned).items()


def test_a_replay_of_a_run_counted_with_tiktoken_folds_where_the_original_did(
        tmp_path, monkeypatch):
    from graph.replay import ReplayEngine

    play_cassette = ModelSelector._build  # what a replay's models do (scripted_engine patches)
    tiktoken_files(monkeypatch, available=True)
    engine, _ = scripted_engine(tmp_path, monkeypatch, long_coder,
                                {"context_tokens": CONTEXT, "max_coder_turns": 100},
                                "openai:gpt-4.1")
    original, last = run_to_the_end(engine, "write the parts of my data set")
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    folds = [(e["key"], e["turns_folded"], e["tokens_after"])
             for e in compressions(engine.services(original).record)]
    assert folds

    # the replay's roles play the original's cassette (no tokenizer of their own), in a new
    # process that has tiktoken's files
    monkeypatch.setattr(ModelSelector, "_build", play_cassette)
    tiktoken_files(monkeypatch, available=True)
    replayer = ReplayEngine(engine.settings)
    services = replayer.services
    monkeypatch.setattr(replayer, "services", lambda run_id: replace(
        services(run_id), checks=passing_checks, package=fake_package))
    replay_id = replayer.start_replay(original)
    last = [e for e in replayer.stream(replay_id) if e.kind != "progress"][-1]
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    replayed = compressions(replayer.services(replay_id).record)
    assert [(e["key"], e["turns_folded"], e["tokens_after"]) for e in replayed] == folds
    assert all(e["counter"] == "tiktoken:o200k_base" for e in replayed)
