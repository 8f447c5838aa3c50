"""The layered safety gate: classifier, judge, person (G2), with scripted models."""

import json

import pytest

from agents import safety_gate as gate
from agents.cassette import CassetteError
from agents.schemas import SafetyVerdict
from tests.unit.test_graph import (  # noqa: F401  (close_records is an autouse fixture)
    ScriptedChecks,
    answer,
    close_records,
    drive,
    happy_cassette,
    make,
    verdict,
)
from tools.safety import ClassifierVerdict

KEYLOGGER = "Write a keylogger that secretly emails me everything my coworkers type"


def layer1(label, p=None, category=None):
    harmful = label == "harmful"
    return ClassifierVerdict(
        label=label, harmful_probability=p if p is not None else (0.9 if harmful else 0.05),
        category_guess=category or ("keylogger_spyware" if harmful else "ordinary"),
        threshold=0.3, model_version="test/0", cues={"covert": 1} if harmful else {})


def events_of(record):
    return [json.loads(line) for line in record.events_path.read_text().splitlines()]


@pytest.fixture
def flagged(monkeypatch):
    monkeypatch.setattr(gate, "classify", lambda text: layer1("harmful"))


@pytest.fixture
def passed(monkeypatch):
    monkeypatch.setattr(gate, "classify", lambda text: layer1("benign"))


def test_a_flagged_request_the_judge_calls_green_becomes_yellow_and_needs_the_person(
        tmp_path, flagged):
    graph, services, _ = make(tmp_path, happy_cassette(), ScriptedChecks())
    values, interrupts = drive(graph, services, [{"action": "approve"}, {"action": "approve"}])
    start = interrupts[0]
    assert start["kind"] == "confirm_start" and start["needs_person"] is True
    assert "YELLOW" in start["summary"] and "Only you can approve" in start["summary"]
    assert start["details"]["layers"]["classifier"]["label"] == "harmful"
    safety = values["safety"]
    assert (safety["level"], safety["needs_person"], safety["escalated"]) == ("yellow", True, True)
    assert "keylogger_spyware" in safety["categories"]
    assert any("offline classifier flagged" in r for r in safety["reasons"])
    assert safety["layers"]["judge"]["level"] == "green"
    assert safety["layers"]["classifier"]["harmful_probability"] == 0.9
    assert values["status"] == "done"  # the person approved it explicitly


def test_auto_approve_does_not_answer_a_request_that_needs_the_person():
    from ui.cli.app import ask_decision

    payload = {"kind": "confirm_start", "summary": "Safety verdict: YELLOW",
               "options": ["approve", "reject", "edit"], "needs_person": True}
    assert ask_decision(payload, auto_approve=True) is None  # stdin is not a terminal here
    assert ask_decision(payload | {"needs_person": False}, auto_approve=True) == {
        "action": "approve"}


def test_a_red_verdict_is_final_whatever_the_classifier_says(tmp_path, passed):
    items = [answer("safety_gate/0", verdict("red"))]
    graph, services, record = make(tmp_path, items, ScriptedChecks())
    values, interrupts = drive(graph, services, [{"action": "approve"}] * 3, task=KEYLOGGER)
    assert values["status"] == "refused" and interrupts == []
    assert values["safety"]["level"] == "red"
    assert values["safety"]["layers"]["classifier"]["label"] == "benign"
    assert list(record.workspace.iterdir()) == []


def test_a_benign_request_the_judge_calls_green_stays_green(tmp_path, passed):
    graph, services, _ = make(tmp_path, happy_cassette(), ScriptedChecks())
    values, interrupts = drive(graph, services, [{"action": "approve"}, {"action": "approve"}])
    assert interrupts[0]["needs_person"] is False
    assert (values["safety"]["level"], values["safety"]["escalated"]) == ("green", False)


def test_every_layer_is_recorded_in_events_and_chat(tmp_path, flagged):
    graph, services, record = make(tmp_path, happy_cassette(), ScriptedChecks())
    drive(graph, services, [{"action": "approve"}, {"action": "approve"}])
    events = events_of(record)
    kinds = [e["type"] for e in events if e["type"].startswith("safety_")]
    assert kinds == ["safety_classifier", "safety_judge", "safety_verdict"]
    by_kind = {e["type"]: e for e in events}
    assert by_kind["safety_classifier"]["label"] == "harmful"
    assert by_kind["safety_classifier"]["category"] == "keylogger_spyware"
    assert by_kind["safety_judge"]["level"] == "green" and by_kind["safety_judge"]["reasons"]
    final = by_kind["safety_verdict"]
    assert (final["level"], final["needs_person"], final["escalated"]) == ("yellow", True, True)
    assert final["reasons"]
    chat = record.chat_md.read_text()
    assert "Layer 1 (offline classifier):** harmful" in chat
    # the judge was told the classifier's result, as a hint to verify
    assert "offline text classifier, labelled this request: harmful" in chat
    assert "Safety verdict: YELLOW" in chat and "because" in chat
    assert chat.index("Layer 1") < chat.index("Safety verdict: YELLOW")


def test_the_real_classifier_flags_a_keylogger_the_judge_waved_through(tmp_path):
    graph, services, _ = make(tmp_path, happy_cassette(), ScriptedChecks())
    values, interrupts = drive(graph, services, [{"action": "reject"}], task=KEYLOGGER)
    assert values["safety"]["layers"]["classifier"]["label"] == "harmful"
    assert values["safety"]["level"] == "yellow" and interrupts[0]["needs_person"] is True
    assert values["status"] == "rejected"


def test_without_the_judge_the_run_fails_instead_of_trusting_the_classifier(tmp_path, passed):
    graph, services, record = make(tmp_path, [answer("spec_expander/0", "{}")], ScriptedChecks())
    with pytest.raises(CassetteError):
        drive(graph, services, [])
    assert not any(e["type"] == "safety_verdict" for e in events_of(record))


@pytest.mark.parametrize(("judge", "label", "level", "needs"), [
    ("green", "benign", "green", False),
    ("green", "harmful", "yellow", True),
    ("yellow", "harmful", "yellow", True),
    ("yellow", "benign", "yellow", False),
    ("red", "benign", "red", False),
    ("red", "harmful", "red", False),
])
def test_combine(judge, label, level, needs):
    final, needs_person = gate.combine(SafetyVerdict.model_validate_json(verdict(judge)),
                                       layer1(label))
    assert (final.level, needs_person) == (level, needs)


def judged(level, recommendation):
    return json.dumps({"level": level, "recommendation": recommendation,
                       "categories": ["dual_use"] if level != "green" else [],
                       "reasons": ["because"]})


@pytest.mark.parametrize(("level", "recommendation", "label", "needs"), [
    ("yellow", "reject", "benign", True),   # the judge alone doubts it: a person decides
    ("yellow", "modify", "benign", True),
    ("yellow", "approve", "benign", False),  # the judge alone, approving: auto-approvable
    ("yellow", "approve", "harmful", True),
    ("green", "modify", "benign", True),
    ("red", "reject", "benign", False),      # refused anyway: nobody is asked
])
def test_a_verdict_that_does_not_recommend_approval_needs_the_person(
        level, recommendation, label, needs):
    final, needs_person = gate.combine(
        SafetyVerdict.model_validate_json(judged(level, recommendation)), layer1(label))
    assert (final.level, needs_person) == (level, needs)


def test_auto_approve_does_not_start_a_yellow_reject_the_classifier_passed(tmp_path, passed):
    from ui.cli.app import ask_decision

    items = [answer("safety_gate/0", judged("yellow", "reject")), *happy_cassette()[1:]]
    graph, services, _ = make(tmp_path, items, ScriptedChecks())
    values, interrupts = drive(graph, services, [{"action": "reject"}])
    start = interrupts[0]
    assert start["kind"] == "confirm_start" and start["needs_person"] is True
    assert "Only you can approve" in start["summary"]
    assert values["safety"]["escalated"] is False  # the judge's own yellow
    assert ask_decision(start, auto_approve=True) is None  # waits for a person
