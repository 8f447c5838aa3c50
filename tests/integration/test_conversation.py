"""Conversations: what a chat stores for the person's messages and the runs' events.

The coordinator's events are applied on its worker thread here (an interface passes them on
from its own thread); runs replay the notes-sqlite cassette offline, and a scripted model
with always-failing checks brings a run to the "ask_human" question.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from graph.chats import ChatStore, Message
from graph.conversation import (
    MAX_EVENTS,
    SUMMARY_CHARS,
    ChatUpdate,
    Conversations,
    run_summary,
)
from graph.coordinator import Coordinator
from graph.engine import Engine, RunEvent
from graph.errors import InputError
from graph.settings import Settings
from tests.integration.test_long_conversation import GREEN, PLAN, SPEC, call, scripted_engine
from tests.integration.test_web_injection import FakeEnvironment
from tests.support.judge import judge_reply
from tools.checks.base import CheckReport, CheckResult, Finding

REPLAY = {role: ["replay:notes-sqlite"] for role in ("planner", "coder", "judge")}
TASK = "A command-line notes manager on SQLite"
WAIT_S = 60.0


class Chats:
    """A chat store, a coordinator and the conversations joining them, with every update."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.store = ChatStore.for_data_dir(data_dir)
        self.updates: list[tuple[RunEvent, ChatUpdate]] = []
        self.lock = threading.Lock()
        self.coordinator = Coordinator(engine, self.on_event)
        self.conversations = Conversations(self.store, self.coordinator)

    def on_event(self, event: RunEvent) -> None:
        update = self.conversations.apply(event)
        with self.lock:
            self.updates.append((event, update))

    def thread(self, chat_id: str) -> list[Message]:
        return self.store.thread(chat_id)

    def wait_for(self, chat_id: str, kind: str, count: int = 1) -> list[Message]:
        """Wait until the chat's thread holds ``count`` messages of ``kind`` and nothing of
        the chat is working; returns the thread."""
        for _ in range(int(WAIT_S * 20)):
            thread = self.thread(chat_id)
            if (sum(m.kind == kind for m in thread) >= count
                    and not self.conversations.busy(chat_id)):
                return thread
            threading.Event().wait(0.05)
        raise AssertionError(f"no {count} '{kind}' in {[m.kind for m in self.thread(chat_id)]}")

    def close(self) -> None:
        self.coordinator.shutdown(timeout_s=30)
        self.store.close()


@pytest.fixture
def chats(isolated_settings):
    settings = Settings(data_dir=isolated_settings.data_dir, sandbox={"backend": "local"},
                        models=REPLAY)  # every run replays, also those started without models
    made = Chats(Engine(settings), settings.data_dir)
    yield made
    made.close()


def kinds(thread: list[Message]) -> list[str]:
    return [m.kind for m in thread]


def test_a_message_starts_a_run_whose_progress_and_safety_card_appear(chats):
    chat = chats.store.create_chat()
    added = chats.conversations.send(chat.chat_id, TASK, models=REPLAY)
    assert [m.role for m in added] == ["user"] and added[0].content == TASK
    run_id = added[0].run_id
    assert run_id and chats.conversations.chat_of_run(run_id) == chat.chat_id

    thread = chats.wait_for(chat.chat_id, "safety")
    assert kinds(thread) == ["text", "progress", "safety"]
    progress, card = thread[1], thread[2]
    assert progress.run_id == card.run_id == run_id and progress.role == "assistant"
    events = progress.data["events"]
    assert events[0]["type"] == "node_started" and events[0]["node"] == "safety_gate"
    assert any(e["type"] == "safety_verdict" for e in events)
    assert progress.content.startswith("start:")  # the latest activity, in one line
    assert card.data["kind"] == "confirm_start" and card.content == card.data["summary"]
    assert chats.store.get_chat(chat.chat_id).title  # titled from the first message

    with chats.lock:
        updates = [u for e, u in chats.updates if e.run_id == run_id]
    changes = [(u.message.kind, u.change) for u in updates if u.message is not None]
    assert changes[0] == ("progress", "added") and ("progress", "updated") in changes
    assert changes[-1] == ("safety", "added")
    assert all(u.chat_id == chat.chat_id for u in updates if u.message is not None)
    assert any(u.message is None and u.chat_id == chat.chat_id
               for u in updates)  # task_changed: nothing to show
    last = next(u for u in reversed(updates) if u.message is not None)
    assert last.busy is False  # waiting for the person: no Stop button
    assert not chats.conversations.busy(chat.chat_id)


def test_a_decision_is_stored_and_the_run_goes_on_to_the_plan(chats):
    chat = chats.store.create_chat()
    run_id = chats.conversations.send(chat.chat_id, TASK, models=REPLAY)[0].run_id
    safety = chats.wait_for(chat.chat_id, "safety")[-1]

    with pytest.raises(InputError, match="not a question"):
        chats.conversations.decide(chats.thread(chat.chat_id)[1].message_id,
                                   {"action": "approve"})
    with pytest.raises(InputError, match="does not answer this card"):
        chats.conversations.decide(safety.message_id, {"action": "continue"})

    decision = chats.conversations.decide(safety.message_id, {"action": "approve"})
    assert decision.kind == "decision" and decision.role == "user"
    assert decision.content == "Approved" and decision.data == {"action": "approve"}
    assert decision.parent_id == safety.message_id and decision.run_id == run_id

    thread = chats.wait_for(chat.chat_id, "plan")
    assert kinds(thread) == ["text", "progress", "safety", "decision", "progress", "plan"]
    second = thread[4]  # a new progress message for the new segment
    assert [e["node"] for e in second.data["events"] if e["type"] == "node_started"] == [
        "confirm_start", "spec_expander", "planner", "approve_plan"]
    assert thread[-1].data["kind"] == "approve_plan" and "plan" in thread[-1].data["details"]

    with pytest.raises(InputError, match="already answered"):
        chats.conversations.decide(safety.message_id, {"action": "approve"})
    rejected = chats.conversations.decide(thread[-1].message_id,
                                          {"action": "edit", "content": "not json"})
    assert rejected.content == "Edited: not json"
    thread = chats.wait_for(chat.chat_id, "plan", count=2)  # asked again, with the error
    assert "not valid" in thread[-1].data["error"]


def test_regenerate_adds_a_sibling_branch_and_edit_forks_at_the_message(chats):
    chat = chats.store.create_chat()
    first = chats.conversations.send(chat.chat_id, TASK, models=REPLAY)[0]
    safety = chats.wait_for(chat.chat_id, "safety")[-1]
    chats.conversations.decide(safety.message_id, {"action": "approve"})
    before = chats.wait_for(chat.chat_id, "plan")

    new_run = chats.conversations.regenerate(chat.chat_id)
    assert new_run != first.run_id and chats.conversations.chat_of_run(new_run) == chat.chat_id
    for _ in range(int(WAIT_S * 20)):
        thread = chats.thread(chat.chat_id)
        if thread[-1].kind == "plan" and thread[-1].run_id == new_run:
            break
        threading.Event().wait(0.05)
    else:
        raise AssertionError(kinds(chats.thread(chat.chat_id)))
    assert kinds(thread) == kinds(before)  # the same shape, in a new branch
    assert thread[:4] == before[:4]  # up to the decision, the conversation is unchanged
    assert thread[4].message_id != before[4].message_id
    branches = chats.store.branches(thread[4].message_id)
    assert branches.count == 2 and branches.index == 2  # ‹ 2/2 ›: a sibling of the old answer
    assert before[4].message_id in branches.sibling_ids

    edited = chats.conversations.edit(first.message_id, "A notes manager with tags")
    assert edited[0].parent_id == first.parent_id and edited[0].run_id not in (
        first.run_id, new_run)
    assert chats.store.branches(edited[0].message_id).count == 2
    thread = chats.wait_for(chat.chat_id, "safety")
    assert kinds(thread) == ["text", "progress", "safety"]
    assert thread[0].content == "A notes manager with tags"

    with pytest.raises(InputError, match="Only your own messages"):
        chats.conversations.edit(thread[-1].message_id, "no")
    with pytest.raises(InputError, match="empty"):
        chats.conversations.edit(thread[0].message_id, "  ")


def test_a_run_that_cannot_start_leaves_the_message_and_an_error(chats):
    chat = chats.store.create_chat()
    with pytest.raises(InputError) as raised:
        chats.conversations.send(chat.chat_id, TASK, models={"coder": ["nowhere:model"]})
    thread = chats.thread(chat.chat_id)
    assert kinds(thread) == ["text", "error"]
    assert thread[0].content == TASK and thread[0].run_id is None
    assert thread[1].content == str(raised.value) and thread[1].data["error"]
    assert not chats.conversations.busy(chat.chat_id)

    with pytest.raises(InputError, match="empty"):
        chats.conversations.send(chat.chat_id, "   ")
    assert len(chats.thread(chat.chat_id)) == 2  # nothing stored for an empty message
    with pytest.raises(InputError, match="nothing to regenerate"):
        chats.conversations.regenerate(chat.chat_id)


def test_stop_cancels_the_working_run_and_a_new_session_finds_the_chat(chats, isolated_settings):
    chat = chats.store.create_chat()
    run_id = chats.conversations.send(chat.chat_id, TASK, models=REPLAY)[0].run_id
    chats.conversations.stop(chat.chat_id)  # queued or running: cancelled either way
    for _ in range(int(WAIT_S * 20)):
        if chats.thread(chat.chat_id)[-1].kind in ("error", "safety") and \
                not chats.conversations.busy(chat.chat_id):
            break
        threading.Event().wait(0.05)
    assert chats.coordinator.task(run_id).status == "cancelled"
    last = chats.thread(chat.chat_id)[-1]
    assert last.kind == "error"  # stopped while queued, running, or as it asked
    assert last.content == "Cancelled" and last.data["resumable"]
    chats.conversations.stop(chat.chat_id)  # nothing works now: no-op

    # a new session (the app restarted): the run's chat is found from its messages
    fresh = Conversations(chats.store, chats.coordinator)
    assert fresh.chat_of_run(run_id) == chat.chat_id
    assert fresh.chat_of_run("20990101-000000-000000") is None
    update = fresh.apply(RunEvent("20990101-000000-000000", "progress", {"type": "x"}))
    assert update.chat_id is None and update.message is None
    chats.conversations = fresh
    with pytest.raises(InputError, match="Only a stopped run"):
        fresh.resume(chats.thread(chat.chat_id)[0].message_id)
    fresh.resume(last.message_id)  # the error card's Resume
    thread = chats.wait_for(chat.chat_id, "safety")
    resumed = thread[[m.message_id for m in thread].index(last.message_id) + 1:]
    assert [m.kind for m in resumed] in (["safety"], ["progress", "safety"])
    assert {m.run_id for m in resumed} == {run_id}


def failing_checks(context, on_result):
    result = CheckResult(check="pytest", passed=False, findings=[
        Finding(check="pytest", file="tests/test_main.py", line=3, message="assert 1 == 2")])
    on_result(result)
    return CheckReport(results=[result])


def stubborn_coder(key: str, messages) -> AIMessage:
    """Spec, plan, then a coder that writes one file per round and says it is done."""
    node = key.split("/")[0]
    if node == "safety_gate":
        return AIMessage(GREEN)
    if node == "spec_expander":
        return AIMessage(json.dumps(SPEC))
    if node == "planner":
        return AIMessage(json.dumps(PLAN))
    if node == "spec_judge":
        return judge_reply(SPEC)
    turn = int(key.split("/")[2]) if key.count("/") >= 2 and key.split("/")[2].isdigit() else 1
    if turn == 0:
        return call(turn, "write_file", path="data/part0.txt", content=f"round {key}\n")
    return AIMessage("Done.")


def test_text_sent_while_the_run_asks_for_help_answers_the_question(tmp_path, monkeypatch):
    engine, model = scripted_engine(tmp_path, monkeypatch, stubborn_coder,
                                    {"max_repair_rounds": 1})
    services = engine.services
    monkeypatch.setattr(engine, "services", lambda run_id: replace(
        services(run_id), checks=failing_checks, environment=FakeEnvironment()))
    chats = Chats(engine, tmp_path / "data")
    try:
        chat = chats.store.create_chat()
        run_id = chats.conversations.send(chat.chat_id, "write the parts")[0].run_id
        card = chats.wait_for(chat.chat_id, "safety")[-1]
        chats.conversations.decide(card.message_id, {"action": "approve"})
        card = chats.wait_for(chat.chat_id, "plan")[-1]
        chats.conversations.decide(card.message_id, {"action": "approve"})
        thread = chats.wait_for(chat.chat_id, "question")
        question = thread[-1]
        assert question.data["kind"] == "ask_human" and question.run_id == run_id
        checks = [m for m in thread if m.kind == "checks"]
        assert checks and checks[-1].content.startswith("Checks: 0 passed, 1 failed")
        assert checks[-1].data["results"][-1]["check"] == "pytest"

        answer = chats.conversations.send(chat.chat_id, "try writing it differently")
        assert answer[0].run_id == run_id and answer[0].parent_id == question.message_id
        thread = chats.wait_for(chat.chat_id, "question", count=2)
        assert thread[-1].run_id == run_id  # the same run went on, and asked again
        hints = [key for key, messages, _ in model.prompts if key.startswith("coder/")
                 for m in messages if "try writing it differently" in str(m.content)]
        assert hints, "the answer did not reach the coder"
        events = [e for e in engine.services(run_id).record.iter_events()
                  if e["type"] == "decision"]
        assert events[-1]["decision"] == {"action": "continue",
                                          "feedback": "try writing it differently"}
    finally:
        chats.close()


def test_text_sent_while_the_run_asks_to_confirm_the_start_edits_the_request(
        tmp_path, monkeypatch):
    engine, _ = scripted_engine(tmp_path, monkeypatch, stubborn_coder)
    chats = Chats(engine, tmp_path / "data")
    try:
        chat = chats.store.create_chat()
        run_id = chats.conversations.send(chat.chat_id, "write the parts")[0].run_id
        card = chats.wait_for(chat.chat_id, "safety")[-1]
        edited = chats.conversations.send(chat.chat_id, "write the parts, in Russian")
        assert edited[0].run_id == run_id and edited[0].parent_id == card.message_id
        thread = chats.wait_for(chat.chat_id, "safety", count=2)
        assert thread[-1].run_id == run_id  # the gate judged the edited request
        assert thread[-1].data["details"]["task"] == "write the parts, in Russian"
        with pytest.raises(InputError, match="already answered"):
            chats.conversations.decide(card.message_id, {"action": "approve"})
    finally:
        chats.close()


def test_a_progress_message_keeps_only_the_latest_events(chats):
    chat = chats.store.create_chat()
    user = chats.store.add_message(chat.chat_id, "user", "a task", run_id="r-1")
    conversations = chats.conversations
    for n in range(MAX_EVENTS + 20):
        update = conversations.apply(RunEvent("r-1", "progress", {
            "type": "tool_call", "action": "write_file", "target": f"app{n}.py",
            "success": True}))
    assert update.change == "updated" and update.chat_id == chat.chat_id
    message = update.message
    assert message.parent_id == user.message_id
    assert len(message.data["events"]) == MAX_EVENTS
    assert message.data["events"][-1]["target"] == f"app{MAX_EVENTS + 19}.py"
    assert message.content == f"run: writing app{MAX_EVENTS + 19}.py"
    update = conversations.apply(RunEvent("r-1", "failed", {"error": "boom",
                                                            "resumable": True}))
    assert update.message.kind == "error" and update.message.content == "boom"
    update = conversations.apply(RunEvent("r-1", "progress", {"type": "node_started",
                                                              "node": "coder"}))
    assert update.change == "added" and update.message.content == "coder: writing code"


@pytest.mark.slow
def test_a_conversation_ends_with_the_artifact(chats):
    chat = chats.store.create_chat()
    task = (Path(__file__).resolve().parents[2] / "datasets" / "tasks" / "notes-sqlite.md"
            ).read_text(encoding="utf-8")
    chats.conversations.send(chat.chat_id, task, models=REPLAY)
    card = chats.wait_for(chat.chat_id, "safety")[-1]
    chats.conversations.decide(card.message_id, {"action": "approve"})
    card = chats.wait_for(chat.chat_id, "plan")[-1]
    chats.conversations.decide(card.message_id, {"action": "approve"})
    for _ in range(600 * 10):
        thread = chats.thread(chat.chat_id)
        if thread[-1].kind in ("artifact", "error", "question"):
            break
        threading.Event().wait(0.1)
    assert thread[-1].kind == "artifact", [(m.kind, m.content) for m in thread[-3:]]
    artifact = thread[-1]
    assert artifact.data["status"] == "done" and Path(artifact.data["artifact"]["path"]).is_file()
    assert artifact.content.startswith("Done: ")
    answer = thread[-2]  # the run's answer, before its card
    assert answer.kind == "text" and answer.role == "assistant" and "**Status:** done" in (
        answer.content)
    assert any(m.kind == "checks" for m in thread)
    assert not chats.conversations.busy(chat.chat_id)


def finishing_coder(key: str, messages) -> AIMessage:
    """Spec, plan, then a coder that writes one file and says it is done."""
    node = key.split("/")[0]
    if node == "coder" and key.count("/") >= 2 and key.split("/")[2] == "0":
        return call(0, "write_file", path="parts/main.py", content="print('parts')\n")
    return stubborn_coder(key, messages)


def test_a_finished_run_answers_with_its_report_before_the_artifact_card(tmp_path, monkeypatch):
    engine, _ = scripted_engine(tmp_path, monkeypatch, finishing_coder)
    services = engine.services
    monkeypatch.setattr(engine, "services", lambda run_id: replace(
        services(run_id), environment=FakeEnvironment()))
    chats = Chats(engine, tmp_path / "data")
    try:
        chat = chats.store.create_chat()
        run_id = chats.conversations.send(chat.chat_id, "write the parts")[0].run_id
        for kind in ("safety", "plan"):
            card = chats.wait_for(chat.chat_id, kind)[-1]
            chats.conversations.decide(card.message_id, {"action": "approve"})
        thread = chats.wait_for(chat.chat_id, "artifact")
        answer, card = thread[-2], thread[-1]
        assert (answer.kind, answer.role, answer.run_id) == ("text", "assistant", run_id)
        assert card.parent_id == answer.message_id and card.data["report"]
        assert answer.data["report"] == card.data["report"]
        report = Path(card.data["report"]).read_text(encoding="utf-8")
        assert len(report) < SUMMARY_CHARS
        assert answer.content.startswith("**Status:** done")
        assert "## Specification" in answer.content and "## Checks (last pass)" in answer.content
        assert "## Task" not in answer.content and "# MultiCoder run" not in answer.content
        with chats.lock:
            update = next(u for e, u in chats.updates if e.kind == "finished")
        assert [m.message_id for m in update.before] == [answer.message_id]
        assert update.message.message_id == card.message_id
    finally:
        chats.close()


def test_a_long_report_is_cut_at_whole_sections_and_no_report_gives_a_short_summary(tmp_path):
    sections = "\n".join(f"## Section {n}\n\n" + "words of the section\n" * 40
                          for n in range(10))
    report = tmp_path / "report.md"
    report.write_text(f"# MultiCoder run r-1\n\n**Status:** done\n\n## Task\n\nthe task\n\n"
                      f"{sections}", encoding="utf-8")
    summary = run_summary({"status": "done", "report": str(report)})
    assert len(summary) <= SUMMARY_CHARS + 100
    assert summary.startswith("**Status:** done") and "the task" not in summary
    assert "## Section 0" in summary and "## Section 9" not in summary
    assert summary.count("words of the section") % 40 == 0  # whole sections only
    assert summary.endswith("*The full report opens from the card below.*")

    huge = tmp_path / "huge.md"
    huge.write_text("## Plan\n\n" + "a step of the plan\n" * 1000, encoding="utf-8")
    assert len(run_summary({"status": "done", "report": str(huge)})) <= SUMMARY_CHARS + 100

    composed = run_summary({"status": "done", "title": "Notes", "checks_passed": True,
                            "artifact": {"path": "/runs/r-1/dist/notes"},
                            "report": str(tmp_path / "missing.md")})
    assert composed == ("**Status:** done — Notes\n\nAll checks passed.\n\n"
                        "The executable: `notes`.")
    refused = run_summary({"status": "refused", "error": "a keylogger"})
    assert refused == "**Status:** refused\n\n**Reason:** a keylogger"


def test_deleting_a_chat_stops_its_runs_first(chats):
    waiting = chats.store.create_chat()
    waiting_run = chats.conversations.send(waiting.chat_id, TASK, models=REPLAY)[0].run_id
    chats.wait_for(waiting.chat_id, "safety")
    working = chats.store.create_chat()
    working_run = chats.conversations.send(working.chat_id, TASK, models=REPLAY)[0].run_id

    chats.conversations.delete_chat(waiting.chat_id)
    assert chats.coordinator.task(waiting_run).status == "cancelled"
    with pytest.raises(InputError):
        chats.store.get_chat(waiting.chat_id)
    chats.conversations.delete_chat(working.chat_id)  # queued or running: stopped as well
    for _ in range(int(WAIT_S * 20)):
        if not chats.coordinator.busy():
            break
        threading.Event().wait(0.05)
    assert chats.coordinator.task(working_run).status == "cancelled", (
        chats.coordinator.task(working_run), [(e.kind, e.data) for e, _ in chats.updates
                                              if e.run_id == working_run])
    assert chats.coordinator.task(working_run).resumable
    with pytest.raises(InputError):
        chats.store.get_chat(working.chat_id)
    assert chats.conversations.chat_of_run(working_run) is None
    with chats.lock:
        late = [u for e, u in chats.updates if e.run_id == working_run and e.kind == "failed"]
    assert all(u.chat_id is None for u in late)  # nothing stored in the deleted chat
    with pytest.raises(InputError):
        chats.conversations.delete_chat(working.chat_id)


def test_secrets_in_run_events_and_errors_never_reach_the_chats(tmp_path, monkeypatch):
    import graph.engine

    secret = "plainKEYvalue-7f3a9c2e1b"  # no key-like shape: hidden because the engine knows it
    monkeypatch.setattr(graph.engine, "lookup_key", lambda name, config: secret)
    monkeypatch.setattr(graph.engine, "lookup_keys", lambda name, config: [secret])

    def leaking(key: str, messages) -> AIMessage:
        node = key.split("/")[0]
        if node == "safety_gate":
            return AIMessage(json.dumps({"level": "green", "recommendation": "approve",
                                         "categories": [], "reasons": [f"uses {secret}"]}))
        raise ValueError(f"the provider echoed the key {secret}")

    engine, _ = scripted_engine(tmp_path, monkeypatch, leaking)
    seen: list[RunEvent] = []
    chats = Chats(engine, tmp_path / "data")
    apply = chats.on_event

    def on_event(event: RunEvent) -> None:
        seen.append(event)
        apply(event)

    chats.coordinator._on_event = on_event
    try:
        chat = chats.store.create_chat()
        chats.conversations.send(chat.chat_id, "write the parts")
        card = chats.wait_for(chat.chat_id, "safety")[-1]
        assert "[REDACTED]" in json.dumps(card.data)  # the verdict's reason, hidden
        chats.conversations.decide(card.message_id, {"action": "approve"})
        error = chats.wait_for(chat.chat_id, "error")[-1]
        assert "[REDACTED]" in error.content
    finally:
        chats.close()
    assert seen and all(secret not in json.dumps(e.data, default=str) for e in seen)
    stored = b"".join(path.read_bytes() for path in (tmp_path / "data").glob("chats.sqlite*"))
    assert stored and secret.encode() not in stored
