"""Recall in the prompts: what memory finds reaches the spec, plan and repair prompts, sourced.

The graph runs with scripted answers (an in-test cassette) and a fake semantic memory, so these
tests are about the nodes: which prompt gets which collections, the budget, the sources, that a
node run again sends the same prompt, and that memory failures never fail a run.
"""

import json
from dataclasses import replace

import pytest
from langgraph.runtime import Runtime

from agents.cassette import request_fingerprint
from agents.context import Context, Limits, RunCancelled
from agents.structured import prompt, recalled_section
from memory.recall import Recall, RecalledItem
from tests.unit.test_graph import (
    FIXED,
    OPEN_RECORDS,
    ScriptedChecks,
    drive,
    happy_cassette,
    make,
)

OLD_RUN = "20260101-120000-abcdef"
LESSON = RecalledItem(
    collection="lessons", item_id="L1a2b", run_id=OLD_RUN, score=0.81,
    text="The person rejected a plan that used click: greeting tools use argparse.",
    source=f"lesson L1a2b from run {OLD_RUN} (a rejected plan, 2026-01-01)")
TASK = RecalledItem(collection="tasks", item_id=f"{OLD_RUN}-task", run_id=OLD_RUN, score=0.7,
                    text="a greeting program that prints Hello, NAME",
                    source=f"task of run {OLD_RUN} (done)")
PAST_PLAN = RecalledItem(collection="plans", item_id=f"{OLD_RUN}-plan", run_id=OLD_RUN,
                         score=0.6, text="1. write greet/main.py with argparse 2. run_tests",
                         source=f"plan of run {OLD_RUN}")
FIX = RecalledItem(collection="errors", item_id="E77", run_id=OLD_RUN, score=0.9,
                   text="AssertionError 'Helo' != 'Hello': fixed by correcting the typo",
                   source=f"error fixed in run {OLD_RUN}, repair round 1")
APPROVE = [{"action": "approve"}, {"action": "approve"}]


class FakeMemory(Recall):
    """Semantic memory with fixed contents; records what the nodes asked."""

    def __init__(self, items=(), fail=False, learn_fail=False):
        self.items = list(items)
        self.fail = fail
        self.learn_fail = learn_fail
        self.calls = []
        self.learned = []

    def recall(self, query, collections, *, budget_tokens, exclude_run=None, limit=8,
               count_tokens=None):
        self.calls.append({"query": query, "collections": tuple(collections),
                           "budget": budget_tokens, "exclude": exclude_run,
                           "count_tokens": count_tokens})
        if self.fail:
            raise RuntimeError("database disk image is malformed")
        return [i for i in self.items if i.collection in collections]

    @staticmethod
    def render(items):
        return "\n".join(f"- [{i.collection}] {i.text}\n  (source: {i.source})" for i in items)

    def learn_from_run(self, run_dir):
        self.learned.append(run_dir)
        if self.learn_fail:
            raise OSError("disk full")
        return 3


@pytest.fixture(autouse=True)
def close_records():
    yield
    while OPEN_RECORDS:
        OPEN_RECORDS.pop().close()


def capture(services):
    """Keep every prompt sent to the models, by call key."""
    prompts = {}
    invoke = services.models.invoke

    def recording(role, messages, *, key, tools=None):
        prompts[key] = [m.text for m in messages]
        return invoke(role, messages, key=key, tools=tools)

    services.models.invoke = recording
    return prompts


def events(record, kind):
    return [e for e in record.iter_events() if e["type"] == kind]


def test_the_spec_plan_and_repair_prompts_carry_what_memory_recalls_with_sources(tmp_path):
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    memory = FakeMemory([LESSON, TASK, PAST_PLAN, FIX])
    services.memory = memory
    prompts = capture(services)
    values, _ = drive(graph, services, APPROVE, task="a hello program")
    assert values["status"] == "done"

    spec_request = prompts["spec_expander/0"][-1]
    assert "# Recalled from earlier runs" in spec_request
    for item in (LESSON, TASK):
        assert item.text in spec_request and item.source in spec_request
    assert PAST_PLAN.text not in spec_request and FIX.text not in spec_request
    plan_request = prompts["planner/0"][-1]
    assert LESSON.source in plan_request and PAST_PLAN.source in plan_request
    assert TASK.text not in plan_request
    assert not any("Recalled" in text for text in prompts["coder/0/0"])  # a first build
    repair = prompts["coder/1/0"][-1]
    assert FIX.text in repair and FIX.source in repair and "'Helo' != 'Hello'" in repair
    # a tester's finding alone: the repair names the tester, not the spec judge
    assert repair.startswith("The paranoid tester checked the workspace (repair round 1)")
    assert "spec judge" not in repair

    asked = {call["collections"]: call for call in memory.calls}
    assert set(asked) == {("tasks", "summaries", "lessons"), ("plans", "lessons"),
                          ("errors", "lessons")}
    assert asked[("tasks", "summaries", "lessons")]["query"] == "a hello program"
    assert "Hello" in asked[("plans", "lessons")]["query"]  # the task and the spec
    assert "AssertionError" in asked[("errors", "lessons")]["query"]  # the findings
    for call in memory.calls:
        assert call["exclude"] == "run-1"  # never the run's own items
        assert 0 < call["budget"] <= services.limits.recall_tokens
        assert call["count_tokens"]("word " * 30) > 0

    recalled = events(record, "recalled")
    assert [e["node"] for e in recalled] == ["spec_expander", "planner", "coder"]
    assert recalled[0]["items"][0] == {"collection": "lessons", "id": "L1a2b",
                                       "source": LESSON.source, "run_id": OLD_RUN,
                                       "score": 0.81}
    assert LESSON.source in record.chat_md.read_text()  # the request, as sent, is archived
    assert (record.run_dir / "recall" / "spec_expander-0.json").is_file()
    assert (record.run_dir / "recall" / "coder-1.json").is_file()
    report = (record.run_dir / "report.md").read_text()
    assert "## Memory" in report and f"recalled for planner: {LESSON.source}" in report
    # at the end, the run is learnt from
    assert memory.learned == [record.run_dir]
    assert [e["count"] for e in events(record, "learned")] == [3]


def test_without_memory_the_prompts_are_what_they_always_were(tmp_path):
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    prompts = capture(services)
    values, _ = drive(graph, services, APPROVE, task="a hello program")
    assert values["status"] == "done"
    assert prompts["spec_expander/0"][-1] == (
        'The request:\n<request untrusted="true">\na hello program\n</request>\n\n')
    assert prompts["planner/0"][-1].endswith("\n")
    assert not any("Recalled" in text for texts in prompts.values() for text in texts)
    # the empty sections are kept, so a resume with memory available sends these prompts again
    kept = {p.name: json.loads(p.read_text()) for p in (record.run_dir / "recall").iterdir()}
    assert set(kept) == {"spec_expander-0.json", "planner-0.json", "coder-1.json"}
    assert all(k["section"] == "" and k["skipped"] == "no memory" for k in kept.values())
    assert "## Memory" not in (record.run_dir / "report.md").read_text()


def test_a_broken_memory_never_fails_the_run(tmp_path):
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    services.memory = FakeMemory([LESSON], fail=True, learn_fail=True)
    prompts = capture(services)
    values, _ = drive(graph, services, APPROVE, task="a hello program")
    assert values["status"] == "done"
    assert not any("Recalled" in text for texts in prompts.values() for text in texts)
    assert {e["node"] for e in events(record, "recall_failed")} == {
        "spec_expander", "planner", "coder"}
    assert "disk full" in events(record, "learn_failed")[0]["error"]
    log = record.program_log.read_text()
    assert "recall failed, continuing without" in log and "database disk image" in log


def test_recall_off_asks_memory_nothing(tmp_path):
    graph, services, _ = make(tmp_path, happy_cassette(), ScriptedChecks())
    memory = FakeMemory([LESSON])
    services.memory = memory
    services.limits = replace(services.limits, recall_tokens=0)
    prompts = capture(services)
    assert drive(graph, services, APPROVE)[0]["status"] == "done"
    assert memory.calls == []
    assert not any("Recalled" in text for texts in prompts.values() for text in texts)


def test_a_node_run_again_sends_the_same_recalled_section_though_memory_learnt_more(tmp_path):
    _, services, record = make(tmp_path, [], ScriptedChecks())
    memory = FakeMemory([LESSON])
    services.memory = memory
    runtime = Runtime(context=Context(run_id="run-1", services=services))

    def section(query="a hello program"):
        return recalled_section(runtime, node="spec_expander", revision=0, role="planner",
                                query=query, collections=("tasks", "summaries", "lessons"))

    first = section()
    assert LESSON.source in first
    assert first == prompt("recalled", items=FakeMemory.render([LESSON])).rstrip("\n")
    memory.items = [TASK, LESSON]  # another run finished and was learnt from meanwhile
    assert section() == first  # a resume re-runs the node: its recorded answer stays valid
    assert len(memory.calls) == 1
    stored = json.loads((record.run_dir / "recall" / "spec_expander-0.json").read_text())
    assert stored["items"][0]["source"] == LESSON.source and stored["section"] == first
    assert TASK.text in section("an edited task")  # a different question is asked afresh


def repair_round_resumed(tmp_path, memory_before, memory_after, limits_after=None):
    """A run cancelled in its repair round, resumed with other memory; the coder/1/0 prompts.

    Returns the prompt of the repair round's first call as first sent and as sent again on
    resume (the round re-runs from its start).
    """
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    services.memory = memory_before
    sent = []
    invoke = services.models.invoke

    def recording(role, messages, *, key, tools=None):
        if key == "coder/1/0":
            sent.append((request_fingerprint(messages), [m.text for m in messages]))
        return invoke(role, messages, key=key, tools=tools)

    services.models.invoke = recording
    fixed = record.workspace / "hello" / "main.py"
    services.cancelled = lambda: fixed.exists() and fixed.read_text() == FIXED  # mid-repair
    with pytest.raises(RunCancelled):
        drive(graph, services, APPROVE)
    config = {"configurable": {"thread_id": "run-1"}}
    assert graph.get_state(config).next == ("coder",) and len(sent) == 1
    services.cancelled = lambda: False
    services.memory = memory_after  # the store broke, was turned off, or came back
    if limits_after is not None:
        services.limits = limits_after
    for _ in graph.stream(None, config, context=Context(run_id="run-1", services=services)):
        pass
    assert graph.get_state(config).values["status"] == "done"
    assert len(sent) == 2
    return sent[0], sent[1]


@pytest.mark.parametrize("off", ["memory gone", "recall off"])
def test_a_resume_without_the_memory_the_run_had_sends_the_same_prompt(tmp_path, off):
    later = FakeMemory([FIX, LESSON]) if off == "recall off" else None
    limits = Limits(max_repair_rounds=3, recall_tokens=0) if off == "recall off" else None
    first, again = repair_round_resumed(tmp_path, FakeMemory([FIX]), later, limits)
    assert FIX.source in first[1][-1]  # the repair request carried the recalled fix
    assert again == first  # byte for byte: its recorded answer stays valid


def test_a_resume_with_memory_the_run_did_not_have_sends_the_same_prompt(tmp_path):
    memory = FakeMemory([FIX, LESSON])
    first, again = repair_round_resumed(tmp_path, None, memory)
    assert not any("Recalled" in text for text in first[1])
    assert again == first
    assert memory.calls == []  # what was (not) recalled is kept: memory is not asked again
