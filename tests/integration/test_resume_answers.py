"""An answer given to one question is never handed to another after a stop and a resume (S1).

The engine drives the real graph with a scripted coder that downloads two files, each needing
the person's approval. The person approves the first; the round then stops at its model-call
budget; ``resume`` with a higher budget re-runs the round, which must ask about the second
download instead of reusing the first answer, and must download nothing before it asks.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from agents.cassette import Interaction, ResponseRecord, ToolCallRecord
from agents.models import ProviderConfig
from graph import Engine, Settings
from tests.integration.test_web_injection import fake_package, passing_checks
from tests.support.judge import judge_interaction
from tests.support.web_server import BINARY, WebServer

SPEC = {"title": "Hello", "summary": "Prints a greeting", "features": ["greets"],
        "user_interface": "hello NAME", "data": "none", "error_handling": ["no name: usage"],
        "acceptance_criteria": ["hello Bob prints Hello, Bob!"]}
PLAN = {"summary": "one module", "app": {"name": "hello", "entry": "hello/main.py",
                                         "smoke_args": ["Bob"]},
        "steps": [{"id": "s1", "tool": "write_file", "params": {"path": "hello/main.py"},
                   "description": "the program"},
                  {"id": "s2", "tool": "run_tests", "params": {}, "description": "tests"}]}
GREEN = json.dumps({"level": "green", "recommendation": "approve", "categories": [],
                    "reasons": ["harmless"]})


def answer(key: str, content: str = "", calls=()) -> Interaction:
    role = {"safety_gate": "judge", "spec_expander": "planner"}.get(key.split("/")[0],
                                                                     key.split("/")[0])
    return Interaction(key=key, role=role, response=ResponseRecord(content=content, tool_calls=[
        ToolCallRecord(id=f"call_{key}_{i}", name=n, args=a) for i, (n, a) in enumerate(calls)]))


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    with WebServer() as server:
        first, second = server.binary_url + "?copy=a", server.binary_url + "?copy=b"
        cassettes = tmp_path / "cassettes"
        cassettes.mkdir()
        items = [answer("safety_gate/0", GREEN), answer("spec_expander/0", json.dumps(SPEC)),
                 answer("planner/0", json.dumps(PLAN)),
                 answer("coder/0/0", "", [("download", {"url": first, "dest": "bin/a"})]),
                 answer("coder/0/1", "", [("download", {"url": second, "dest": "bin/b"})]),
                 answer("coder/0/2", "Done."), judge_interaction(SPEC, 0)]
        (cassettes / "t.jsonl").write_text("\n".join(i.model_dump_json() for i in items))
        settings = Settings(
            data_dir=tmp_path / "data", sandbox={"backend": "local"},
            providers={"replay": ProviderConfig(kind="replay", needs_key=False,
                                                cassette_dir=cassettes)},
            models={r: ["replay:t"] for r in ("planner", "coder", "judge")},
            web={"search": "searxng", "searxng_url": server.base_url,
                 "github_api": server.api_url, "min_interval_s": 0, "timeout_s": 5})
        engine = Engine(settings)
        services = engine.services

        def with_fakes(run_id):  # no real checks or packaging: this test is about approvals
            return replace(services(run_id), checks=passing_checks, package=fake_package)

        monkeypatch.setattr(engine, "services", with_fakes)
        yield engine, server, first, second


def last_event(engine: Engine, run_id: str, decision=None):
    events = [e for e in engine.stream(run_id, decision) if e.kind != "progress"]
    assert len(events) == 1, events
    return events[0]


def test_an_answer_is_not_reused_for_a_new_question_after_a_budget_stop(setup):
    engine, server, first, second = setup
    # safety gate, spec, plan and coder/0/0 fit the budget; coder/0/1 does not
    run_id = engine.start("a hello program", limits={"max_model_calls": 4})
    assert last_event(engine, run_id).data["kind"] == "confirm_start"
    assert last_event(engine, run_id, {"action": "approve"}).data["kind"] == "approve_plan"
    asked = last_event(engine, run_id, {"action": "approve"})
    assert asked.data["kind"] == "approve_fetch" and asked.data["details"]["url"] == first
    assert server.count("/files/") == 0

    # the person approves download A; the round goes on and stops at its budget
    stopped = last_event(engine, run_id, {"action": "approve"})
    assert stopped.kind == "failed" and stopped.data["budget"] == "calls"
    workspace = engine.services(run_id).record.workspace
    assert (workspace / "bin/a").read_bytes() == BINARY
    assert server.count("/files/tool.bin?copy=b") == 0

    # resume with a higher budget: the round re-runs and asks about download B
    engine.set_limits(run_id, {"max_model_calls": 50})
    resumed = last_event(engine, run_id)
    asked_again = 0
    while resumed.kind == "interrupt" and resumed.data["details"].get("url") == first:
        asked_again += 1  # a person shown A's question again would approve it again
        assert asked_again < 3
        resumed = last_event(engine, run_id, {"action": "approve"})
    # B is asked about (not approved with A's answer), and nothing was downloaded for it
    assert server.count("/files/tool.bin?copy=b") == 0
    assert not (workspace / "bin/b").exists()
    assert resumed.kind == "interrupt", resumed.data
    assert resumed.data["kind"] == "approve_fetch"
    assert resumed.data["details"]["url"] == second
    assert asked_again == 0  # A's answer was kept: the person is not asked twice

    # only the person's own answers are recorded as decisions, each for its own request
    record = engine.services(run_id).record
    decisions = [(e["key"], e["decision"]["action"]) for e in record.iter_events()
                 if e.get("type") == "decision" and e.get("interrupt") == "approve_fetch"]
    assert decisions == [("approve_fetch/0/0", "approve")]

    # the person refuses B: nothing is downloaded for it
    rejected = last_event(engine, run_id, {"action": "reject", "feedback": "not this one"})
    assert server.count("/files/tool.bin?copy=b") == 0
    assert not (workspace / "bin/b").exists()
    assert rejected.kind == "finished" and rejected.data["status"] == "done", rejected.data
    decisions = [(e["key"], e["decision"]["action"]) for e in record.iter_events()
                 if e.get("type") == "decision" and e.get("interrupt") == "approve_fetch"]
    assert decisions == [("approve_fetch/0/0", "approve"), ("approve_fetch/0/1", "reject")]


def test_a_decision_for_a_run_that_waits_for_none_is_refused(setup):
    from graph import InputError

    engine, *_ = setup
    run_id = engine.start("a hello program")
    with pytest.raises(InputError, match="not waiting for a decision"):
        list(engine.stream(run_id, {"action": "approve"}))
