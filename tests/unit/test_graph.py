"""The graph's behaviour with scripted models (an in-test cassette) and fake checks/packaging."""

import json
from datetime import UTC, datetime

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agents.cassette import Interaction, ResponseRecord, ToolCallRecord
from agents.context import Context, Limits, Services
from agents.models import ModelRef, ModelSelector, ProviderConfig
from graph.builder import build_graph
from memory.records import RunRecord
from memory.redaction import Redactor
from tests.support.judge import judge_interaction
from tools.actions import Policy, default_registry
from tools.checks.base import CheckReport, CheckResult, Finding
from tools.packaging import Artifact
from tools.sandbox.local import LocalSandbox

SPEC = {"title": "Hello", "summary": "Prints a greeting", "features": ["greets"],
        "user_interface": "hello NAME", "data": "none", "error_handling": ["no name: usage"],
        "acceptance_criteria": ["hello Bob prints Hello, Bob!"]}
PLAN = {"summary": "one module", "app": {"name": "hello", "entry": "hello/main.py",
                                         "smoke_args": ["Bob"]},
        "steps": [{"id": "s1", "tool": "write_file", "params": {"path": "hello/main.py"},
                   "description": "the program"},
                  {"id": "s2", "tool": "run_tests", "params": {}, "description": "tests"}]}


def answer(key, content="", calls=()):
    role = key.split("/")[0]
    role = {"safety_gate": "judge", "spec_expander": "planner"}.get(role, role)
    return Interaction(key=key, role=role, response=ResponseRecord(content=content, tool_calls=[
        ToolCallRecord(id=f"call_{key}_{i}", name=n, args=a) for i, (n, a) in enumerate(calls)]))


def verdict(level):
    return json.dumps({"level": level, "recommendation": "reject" if level == "red" else "approve",
                       "categories": ["keylogger"] if level == "red" else [],
                       "reasons": ["because"]})


BUGGY = "print('Helo')\n"
FIXED = "print('Hello')\n"


def happy_cassette():
    return [
        answer("safety_gate/0", verdict("green")),
        answer("spec_expander/0", json.dumps(SPEC)),
        answer("planner/0", json.dumps(PLAN)),
        answer("coder/0/0", "", [("write_file", {"path": "hello/main.py", "content": BUGGY})]),
        answer("coder/0/1", "Written."),
        answer("coder/1/0", "", [("edit_file", {"path": "hello/main.py", "old_text": "Helo",
                                                "new_text": "Hello"})]),
        answer("coder/1/1", "Fixed the typo."),
        judge_interaction(SPEC, 1),  # round 1 passes the checks: the spec judge accepts it
    ]


class FakeEnvironment:
    def ensure(self):
        return []

    def program(self, name):
        return name

    def variables(self):
        return {}


class ScriptedChecks:
    """Fails until the workspace holds the fixed program; records what it saw."""

    def __init__(self, always_fail=False):
        self.always_fail = always_fail
        self.seen = []

    def __call__(self, context, on_result):
        path = context.workspace / "hello/main.py"
        text = path.read_text() if path.exists() else ""
        self.seen.append(text)
        ok = text == FIXED and not self.always_fail
        result = CheckResult(check="pytest", passed=ok, findings=[] if ok else [
            Finding(check="pytest", file="tests/test_main.py", line=3,
                    message="AssertionError: 'Helo' != 'Hello'")])
        on_result(result)
        return CheckReport(results=[result])


def fake_package(context, dist_dir, timeout_s):
    exe = dist_dir / "hello"
    exe.write_bytes(b"binary")
    artifact = Artifact(path=exe, sha256="0" * 64, size_bytes=6, build_log_path=dist_dir / "b",
                        built_at=datetime.now(UTC))
    return artifact, CheckResult(check="packaged-run", passed=True)


OPEN_RECORDS = []


@pytest.fixture(autouse=True)
def close_records():
    """Run records hold a handler on a logger shared by run id: close them after each test."""
    yield
    while OPEN_RECORDS:
        OPEN_RECORDS.pop().close()


def make(tmp_path, items, checks, max_rounds=3):
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    (cassettes / "t.jsonl").write_text("\n".join(i.model_dump_json() for i in items))
    record = RunRecord.create(tmp_path / "runs", "run-1", Redactor())
    OPEN_RECORDS.append(record)
    providers = {"replay": ProviderConfig(kind="replay", needs_key=False, cassette_dir=cassettes)}
    selector = ModelSelector(roles={r: [ModelRef.parse("replay:t")]
                                    for r in ("planner", "coder", "judge")},
                             providers=providers, key_lookup=lambda *_: None)
    sandbox = LocalSandbox(record.workspace)
    services = Services(record=record, models=selector, sandbox=sandbox,
                        environment=FakeEnvironment(), registry=default_registry(),
                        policy=Policy(workspace=record.workspace),
                        limits=Limits(max_repair_rounds=max_rounds), checks=checks,
                        package=fake_package)
    graph = build_graph().compile(checkpointer=InMemorySaver())
    return graph, services, record


def drive(graph, services, decisions, task="a hello program"):
    """Run to the end, answering interrupts in order; returns (final values, interrupts seen)."""
    config = {"configurable": {"thread_id": "run-1"}}
    context = Context(run_id="run-1", services=services)
    payload = {"run_id": "run-1", "task": task, "round": 0,
               "rounds_allowed": services.limits.max_repair_rounds}
    seen = []
    decisions = list(decisions)
    while True:
        for chunk in graph.stream(payload, config, context=context, stream_mode="updates"):
            if "__interrupt__" in chunk:
                seen.append(chunk["__interrupt__"][0].value)
        state = graph.get_state(config)
        if not state.interrupts:
            return state.values, seen
        payload = Command(resume=decisions.pop(0))


def test_a_failing_check_goes_back_to_the_coder_and_the_fixed_app_is_packaged(tmp_path):
    checks = ScriptedChecks()
    graph, services, record = make(tmp_path, happy_cassette(), checks)
    values, interrupts = drive(graph, services, [{"action": "approve"}, {"action": "approve"}])
    assert [i["kind"] for i in interrupts] == ["confirm_start", "approve_plan"]
    assert values["status"] == "done" and values["round"] == 1
    assert checks.seen == [BUGGY, FIXED]
    assert (record.workspace / "hello/main.py").read_text() == FIXED
    chat = record.chat_md.read_text()
    assert "AssertionError: 'Helo' != 'Hello'" in chat  # the finding reached the coder
    assert chat.index("Written.") < chat.index("Fixed the typo.")
    report = (record.run_dir / "report.md").read_text()
    assert "**Status:** done" in report and "sha256" in report


def test_a_red_verdict_ends_the_run_before_any_code_even_when_approved(tmp_path):
    items = [answer("safety_gate/0", verdict("red"))]  # no coder answers: reaching it would fail
    graph, services, record = make(tmp_path, items, ScriptedChecks())
    values, interrupts = drive(graph, services, [{"action": "approve"}] * 3,
                               task="a keylogger that hides from antivirus")
    assert values["status"] == "refused" and interrupts == []
    assert list(record.workspace.iterdir()) == []
    assert "refused" in (record.run_dir / "report.md").read_text()


def test_a_rejected_plan_is_replanned_with_the_persons_feedback(tmp_path):
    items = [*happy_cassette(), answer("planner/1", json.dumps(PLAN | {"summary": "revised"}))]
    graph, services, record = make(tmp_path, items, ScriptedChecks())
    values, interrupts = drive(graph, services, [
        {"action": "approve"}, {"action": "reject", "feedback": "use argparse please"},
        {"action": "approve"}])
    assert [i["kind"] for i in interrupts] == ["confirm_start", "approve_plan", "approve_plan"]
    assert interrupts[2]["summary"].startswith("**Plan:** revised")
    assert values["status"] == "done"
    assert "use argparse please" in record.chat_md.read_text()


def test_an_invalid_edited_plan_is_refused_and_asked_again(tmp_path):
    graph, services, _ = make(tmp_path, happy_cassette(), ScriptedChecks())
    bad = json.dumps(PLAN | {"steps": [{"id": "x", "tool": "rm_rf", "params": {},
                                        "description": "nope"}]})
    values, interrupts = drive(graph, services, [
        {"action": "approve"}, {"action": "edit", "content": bad}, {"action": "approve"}])
    assert "unknown tool 'rm_rf'" in interrupts[2]["error"]
    assert values["status"] == "done"


def test_after_the_repair_limit_the_person_is_asked_and_can_stop(tmp_path):
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks(always_fail=True),
                                   max_rounds=1)
    values, interrupts = drive(graph, services, [{"action": "approve"}, {"action": "approve"},
                                                 {"action": "stop"}])
    assert [i["kind"] for i in interrupts] == ["confirm_start", "approve_plan", "ask_human"]
    assert "1 repair rounds" in interrupts[2]["summary"]
    assert values["status"] == "stopped" and values["round"] == 1
    assert not (record.dist_dir / "hello").exists()


def test_loop_detection_cuts_a_repeating_coder_short(tmp_path):
    same = ("read_file", {"path": "missing.py"})
    items = [*happy_cassette()[:3]] + [answer(f"coder/0/{t}", "", [same]) for t in range(5)]
    graph, services, record = make(tmp_path, items, ScriptedChecks(always_fail=True),
                                   max_rounds=0)
    values, interrupts = drive(graph, services, [{"action": "approve"}, {"action": "approve"},
                                                 {"action": "stop"}])
    assert interrupts[-1]["kind"] == "ask_human"
    assert any("three times" in note for note in values["coder_notes"])
    events = [json.loads(line) for line in record.events_path.read_text().splitlines()]
    assert any(e["type"] == "loop_detected" for e in events)


def test_cancelling_stops_the_coder_between_turns_and_keeps_the_run_resumable(tmp_path):
    from agents.context import RunCancelled

    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    services.cancelled = lambda: (record.workspace / "hello").exists()  # after the first write
    with pytest.raises(RunCancelled):
        drive(graph, services, [{"action": "approve"}, {"action": "approve"}])
    config = {"configurable": {"thread_id": "run-1"}}
    assert graph.get_state(config).next == ("coder",)
    services.cancelled = lambda: False
    for _ in graph.stream(None, config, context=Context(run_id="run-1", services=services)):
        pass
    assert graph.get_state(config).values["status"] == "done"
