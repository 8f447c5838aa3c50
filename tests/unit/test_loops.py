"""Loops stop and ask the person; a budget stop mid-round resumes without paying twice."""

import json

import pytest

from agents.budget import RunBudget
from agents.cassette import CassetteRecorder
from agents.config import BudgetExceeded, Limits
from agents.context import Context
from agents.loops import finding_signature, from_judge
from tests.unit.test_graph import (
    FIXED,
    OPEN_RECORDS,
    ScriptedChecks,
    answer,
    drive,
    happy_cassette,
    make,
)


@pytest.fixture(autouse=True)
def close_records():
    yield
    while OPEN_RECORDS:
        OPEN_RECORDS.pop().close()


APPROVE = [{"action": "approve"}, {"action": "approve"}]


def coder_rounds(record):
    events = [json.loads(line) for line in record.events_path.read_text().splitlines()]
    return [e["round"] for e in events if e["type"] == "coder_round"]


def test_the_same_finding_after_a_repair_round_asks_the_person_instead_of_another_round(
        tmp_path):
    items = [*happy_cassette(), answer("coder/2/0", "", [("edit_file", {
        "path": "hello/main.py", "old_text": "Hello", "new_text": "Hello"})]),
        answer("coder/2/1", "Tried the hint.")]
    graph, services, record = make(tmp_path, items, ScriptedChecks(always_fail=True),
                                   max_rounds=3)
    values, interrupts = drive(graph, services, [
        *APPROVE, {"action": "continue", "feedback": "the test expects 'Hello, Bob!'"},
        {"action": "stop"}])
    assert [i["kind"] for i in interrupts] == ["confirm_start", "approve_plan", "ask_human",
                                               "ask_human"]
    stuck = interrupts[2]
    assert stuck["details"]["loop"]["kind"] == "finding"
    assert stuck["summary"].startswith("**Loop detected — repair round 1 made no progress")
    assert "AssertionError: 'Helo' != 'Hello'" in stuck["summary"]
    # asked after round 1 although 3 rounds were allowed; the hint reached round 2's coder
    assert coder_rounds(record) == [0, 1, 2]
    assert "the test expects 'Hello, Bob!'" in record.chat_md.read_text()
    assert values["status"] == "stopped" and "made no progress" in values["error"]


def test_progress_between_rounds_is_not_a_loop(tmp_path):
    class Improving(ScriptedChecks):
        def __call__(self, context, on_result):
            report = super().__call__(context, on_result)
            for result in report.results:  # a different failure each round: progress
                for finding in result.findings:
                    finding.message += f" (attempt {len(self.seen)})"
            return report

    items = [*happy_cassette(), answer("coder/2/0", "Nothing more to do.")]
    graph, services, record = make(tmp_path, items, Improving(always_fail=True), max_rounds=2)
    _, interrupts = drive(graph, services, [*APPROVE, {"action": "stop"}])
    assert interrupts[-1]["details"]["loop"] is None  # asked at the round limit, not a loop
    assert coder_rounds(record) == [0, 1, 2]


def test_a_coder_going_in_circles_asks_the_person_after_the_tests(tmp_path):
    same = ("read_file", {"path": "missing.py"})
    items = [*happy_cassette()[:3]] + [answer(f"coder/0/{t}", "", [same]) for t in range(5)]
    graph, services, record = make(tmp_path, items, ScriptedChecks(always_fail=True),
                                   max_rounds=3)
    values, interrupts = drive(graph, services, [*APPROVE, {"action": "stop"}])
    loop = interrupts[-1]["details"]["loop"]
    assert loop["kind"] == "tool_call" and "three times" in loop["detail"]
    assert "Loop detected — the coder went in circles in round 0" in interrupts[-1]["summary"]
    assert coder_rounds(record) == [0]  # no repair round was paid for
    assert values["status"] == "stopped"


def test_finding_signatures_ignore_volatile_details():
    a = {"check": "pytest", "message": "tests/test_x.py:12: boom at 0x7f00aa in 0.52s"}
    b = {"check": "pytest", "message": "tests/test_x.py:14:  boom at 0x7f11bb in 1.3s"}
    assert finding_signature(a) == finding_signature(b)
    assert finding_signature(a) != finding_signature({"check": "ruff", "message": a["message"]})


def test_a_budget_stop_mid_round_resumes_from_the_snapshot_without_paying_twice(tmp_path):
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    cassette = record.run_dir / "cassette.jsonl"
    services.models.recorder = CassetteRecorder(cassette, str)
    unlimited = {"max_tokens": None, "max_cost_usd": None, "max_wall_time_s": None}
    services.models.budget = RunBudget(Limits(max_model_calls=4, **unlimited), run_id="run-1")
    # safety gate, spec, plan and coder/0/0 (which writes the file) fit; coder/0/1 does not
    with pytest.raises(BudgetExceeded, match="calls budget"):
        drive(graph, services, APPROVE)
    config = {"configurable": {"thread_id": "run-1"}}
    assert graph.get_state(config).next == ("coder",)  # saved before the round
    assert services.models.usage["replay:t"].calls == 4

    (record.workspace / "hello" / "main.py").write_text("half-finished")  # a torn round
    services.models.usage.clear()
    services.models.budget = RunBudget.restore(
        record.run_dir, Limits(max_model_calls=200, **unlimited), services.models.providers)
    for _ in graph.stream(None, config, context=Context(run_id="run-1", services=services)):
        pass
    values = graph.get_state(config).values
    assert values["status"] == "done"
    assert (record.workspace / "hello/main.py").read_text() == FIXED
    # coder/0/0 was replayed from the run's records; only the 4 new calls (coder/0/1, the
    # repair round's two, the spec judge's) reached the model
    assert services.models.usage["replay:t"].calls == 4
    keys = [json.loads(line)["key"] for line in cassette.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 8 and keys[-1] == "spec_judge/1"
    report = (record.run_dir / "report.md").read_text()
    assert "## Spending" in report and "- model calls: 8" in report


def test_continue_with_zero_repair_rounds_still_allows_one_more_round(tmp_path):
    graph, services, _ = make(tmp_path, happy_cassette(), ScriptedChecks(), max_rounds=0)
    values, interrupts = drive(graph, services, [*APPROVE, {"action": "continue"}])
    assert interrupts[-1]["kind"] == "ask_human"
    assert values["status"] == "done" and values["round"] == 1
    assert values["rounds_allowed"] == 1


def test_a_judge_finding_is_the_same_failure_whatever_its_evidence_says():
    from agents.loops import finding_signature

    first = {"check": "judge", "message": "acceptance criterion not met: totals are exact"
             " — main.py:12 adds floats"}
    reworded = {"check": "judge", "message": "acceptance criterion not met: totals are exact"
                " — main.py:40 still sums float values"}
    other = {"check": "judge", "message": "acceptance criterion not met: dates sort"
             " — main.py:12 adds floats"}
    assert finding_signature(first) == finding_signature(reworded)
    assert finding_signature(first) != finding_signature(other)


def test_work_is_from_the_judge_only_when_every_finding_is_the_judges():
    judge = {"check": "judge", "message": "acceptance criterion not met: x — a.py:1"}
    tester = {"check": "pytest", "message": "test_x failed"}
    assert from_judge([judge, judge])
    assert not from_judge([judge, tester]) and not from_judge([tester])
    assert not from_judge([])  # nothing sent back at all
