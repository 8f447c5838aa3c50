"""The chat store (graph.chats over memory.chats): chats, projects, titles, groups, search,
branches, persistence, threads, export.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from graph.chats import (
    GROUPS,
    Chat,
    ChatStore,
    Message,
    group_by_recency,
    title_from,
)
from graph.errors import InputError
from memory.chats import SCHEMA_VERSION


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ChatStore]:
    chats = ChatStore.for_data_dir(tmp_path / "data")
    yield chats
    chats.close()


def contents(messages: list[Message]) -> list[str]:
    return [message.content for message in messages]


# -- chats ------------------------------------------------------------------------------------

def test_create_rename_archive_move_delete(store: ChatStore) -> None:
    chat = store.create_chat()
    assert (chat.title, chat.project_id, chat.archived, chat.head) == ("", None, False, None)
    assert store.get_chat(chat.chat_id) == chat
    assert store.thread(chat.chat_id) == []

    renamed = store.rename_chat(chat.chat_id, "  My converter  ")
    assert renamed.title == "My converter"
    with pytest.raises(InputError, match="cannot be empty"):
        store.rename_chat(chat.chat_id, "   ")

    other = store.create_chat("Second")
    assert [c.chat_id for c in store.list_chats()] == [other.chat_id, chat.chat_id]

    assert store.set_archived(chat.chat_id, True).archived
    assert [c.chat_id for c in store.list_chats()] == [other.chat_id]
    assert [c.chat_id for c in store.list_chats(archived=True)] == [chat.chat_id]
    assert not store.set_archived(chat.chat_id, False).archived

    project = store.create_project("Tools")
    moved = store.move_chat(chat.chat_id, project.project_id)
    assert moved.project_id == project.project_id
    assert [c.chat_id for c in store.list_chats(project_id=project.project_id)] == [chat.chat_id]
    assert store.move_chat(chat.chat_id, None).project_id is None

    store.add_message(chat.chat_id, "user", "hello")
    store.delete_chat(chat.chat_id)
    assert [c.chat_id for c in store.list_chats()] == [other.chat_id]
    with pytest.raises(InputError, match="no chat"):
        store.get_chat(chat.chat_id)


def test_a_new_message_moves_the_chat_to_the_top(store: ChatStore) -> None:
    first = store.create_chat("First")
    second = store.create_chat("Second")
    assert store.list_chats()[0].chat_id == second.chat_id
    store.add_message(first.chat_id, "user", "more")
    assert [c.title for c in store.list_chats()] == ["First", "Second"]
    assert store.get_chat(first.chat_id).updated_at > first.updated_at


def test_projects_delete_keeps_their_chats(store: ChatStore) -> None:
    beta = store.create_project("beta")
    alpha = store.create_project("  Alpha ")
    assert alpha.name == "Alpha"
    assert [p.name for p in store.list_projects()] == ["Alpha", "beta"]
    with pytest.raises(InputError, match="already exists"):
        store.create_project("ALPHA")
    with pytest.raises(InputError, match="cannot be empty"):
        store.create_project(" ")
    with pytest.raises(InputError, match="already exists"):
        store.rename_project(beta.project_id, "alpha")
    assert store.rename_project(beta.project_id, "Gamma").name == "Gamma"

    chat = store.create_chat("in alpha", project_id=alpha.project_id)
    store.delete_project(alpha.project_id)
    assert [p.name for p in store.list_projects()] == ["Gamma"]
    kept = store.get_chat(chat.chat_id)
    assert kept.title == "in alpha" and kept.project_id is None
    with pytest.raises(InputError, match="no project"):
        store.create_chat(project_id=alpha.project_id)


# -- titles -----------------------------------------------------------------------------------

def test_title_from_text() -> None:
    assert title_from("Сделай конвертер CSV в XLSX") == "Сделай конвертер CSV в XLSX"
    assert title_from("\n\n  Build a   todo app \nwith SQLite") == "Build a todo app"
    assert title_from("") == "" and title_from("  \n ") == ""

    long_ru = "Напиши программу, которая конвертирует CSV в XLSX и показывает прогресс"
    title = title_from(long_ru)
    assert title == "Напиши программу, которая конвертирует CSV в…"
    assert len(title) <= 48
    long_en = "Please write a desktop application that converts CSV files into XLSX"
    title = title_from(long_en, limit=30)
    assert title == "Please write a desktop…"
    assert long_en.startswith(title[:-1])  # cut between words, not inside one

    assert title_from("## **Make** a `csv2xlsx` tool with a [GUI](https://x.example)") == (
        "Make a csv2xlsx tool with a GUI")
    assert title_from("> - [ ] keep snake_case_names and *stress*") == (
        "keep snake_case_names and stress")
    assert title_from("```python\nprint('hi')\n```") == "print('hi')"


def test_the_first_user_message_titles_the_chat(store: ChatStore) -> None:
    chat = store.create_chat()
    store.add_message(chat.chat_id, "system", "Welcome")
    assert store.get_chat(chat.chat_id).title == ""
    store.add_message(chat.chat_id, "user", "# Конвертер **CSV** в XLSX\nс прогрессом")
    assert store.get_chat(chat.chat_id).title == "Конвертер CSV в XLSX"
    store.add_message(chat.chat_id, "user", "Another request")
    assert store.get_chat(chat.chat_id).title == "Конвертер CSV в XLSX"

    named = store.create_chat()
    store.rename_chat(named.chat_id, "Mine")
    store.add_message(named.chat_id, "user", "Something else")
    assert store.get_chat(named.chat_id).title == "Mine"


# -- groups -----------------------------------------------------------------------------------

def _chat_at(name: str, when: datetime) -> Chat:
    stamp = when.astimezone(UTC).isoformat(timespec="microseconds")
    return Chat(chat_id=name, title=name, created_at=stamp, updated_at=stamp)


def test_group_by_recency_with_a_fixed_now() -> None:
    now = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    chats = [
        _chat_at("this morning", now - timedelta(hours=2)),
        _chat_at("just after midnight", datetime(2026, 3, 10, 0, 5, tzinfo=UTC)),
        _chat_at("last night", datetime(2026, 3, 9, 23, 55, tzinfo=UTC)),
        _chat_at("yesterday morning", datetime(2026, 3, 9, 6, 0, tzinfo=UTC)),
        _chat_at("two days ago", now - timedelta(days=2)),
        _chat_at("a week ago", now - timedelta(days=7)),
        _chat_at("eight days ago", now - timedelta(days=8)),
        _chat_at("last year", datetime(2025, 1, 1, tzinfo=UTC)),
    ]
    groups = group_by_recency(chats, now=now)
    assert [(key, [c.title for c in found]) for key, found in groups] == [
        ("today", ["this morning", "just after midnight"]),
        ("yesterday", ["last night", "yesterday morning"]),
        ("previous_7_days", ["two days ago", "a week ago"]),
        ("older", ["eight days ago", "last year"]),
    ]
    assert [key for key, _ in groups] == list(GROUPS)
    # empty groups are left out; the calendar day follows now's time zone
    only_old = group_by_recency([_chat_at("old", now - timedelta(days=30))], now=now)
    assert only_old == [("older", [only_old[0][1][0]])]
    assert group_by_recency([], now=now) == []
    plus3 = now.astimezone(timezone(timedelta(hours=3)))  # 12:30 on the 10th
    late = _chat_at("22:00 UTC on the 9th = 01:00 on the 10th",
                    datetime(2026, 3, 9, 22, 0, tzinfo=UTC))
    assert group_by_recency([late], now=plus3)[0][0] == "today"
    assert group_by_recency([late], now=now)[0][0] == "yesterday"
    # default and naive "now": the machine's local time
    fresh = _chat_at("fresh", datetime.now(UTC))
    assert group_by_recency([fresh]) == [("today", [fresh])]
    assert group_by_recency([fresh], now=datetime.now())[0][0] == "today"


# -- search -----------------------------------------------------------------------------------

def test_search_titles_and_messages(store: ChatStore) -> None:
    greeting = store.create_chat()
    store.add_message(greeting.chat_id, "user", "привет, сделай конвертер CSV")
    store.add_message(greeting.chat_id, "assistant", "Готово: конвертер умеет XLSX и ODS")
    notes = store.create_chat("Notes app on SQLite")
    store.add_message(notes.chat_id, "user", "Make it store notes")
    archived = store.create_chat()
    store.add_message(archived.chat_id, "user", "Ёлка и прочие заметки")
    store.set_archived(archived.chat_id, True)

    hits = store.search("ПРИВЕТ")
    assert [hit.chat.chat_id for hit in hits] == [greeting.chat_id]
    assert hits[0].message_id is None  # the title (from the first message) matched
    assert "привет" in hits[0].snippet

    hits = store.search("конвертер xlsx")  # both words in one message
    assert [(hit.chat.chat_id, hit.message_id) for hit in hits] == [
        (greeting.chat_id, store.thread(greeting.chat_id)[1].message_id)]
    assert "XLSX" in hits[0].snippet
    assert store.search("привет ODS") == []  # the words are in two different messages

    hits = store.search("sqlite notes")
    assert [hit.chat.chat_id for hit in hits] == [notes.chat_id]
    assert hits[0].message_id is None and hits[0].snippet == "Notes app on SQLite"

    assert [hit.chat.chat_id for hit in store.search("елка ЗАМЕТ")] == [archived.chat_id]
    assert store.search("   ") == [] and store.search("nothing-like-this") == []
    assert len(store.search("s")) == 2  # "CSV" and "Notes"
    assert [hit.chat.chat_id for hit in store.search("s", limit=1)] == [notes.chat_id]


def test_search_snippet_is_short_and_around_the_match(store: ChatStore) -> None:
    chat = store.create_chat("Long one")
    text = "начало " + "слово " * 60 + "ИСКОМОЕ место " + "хвост " * 60
    message = store.add_message(chat.chat_id, "assistant", text)
    [hit] = store.search("искомое")
    assert hit.message_id == message.message_id
    assert "ИСКОМОЕ место" in hit.snippet
    assert len(hit.snippet) <= 120 and hit.snippet.startswith("…") and hit.snippet.endswith("…")


# -- messages and branches --------------------------------------------------------------------

def test_thread_and_update(store: ChatStore) -> None:
    chat = store.create_chat()
    question = store.add_message(chat.chat_id, "user", "Build it")
    progress = store.add_message(chat.chat_id, "assistant", "Working", kind="progress",
                                 data={"events": []}, run_id="run-1")
    assert progress.parent_id == question.message_id
    assert store.get_chat(chat.chat_id).head == progress.message_id
    updated = store.update_message(progress.message_id,
                                   data={"events": [{"type": "node", "node": "coder"}]})
    assert updated.content == "Working" and updated.data["events"][0]["node"] == "coder"
    answer = store.add_message(chat.chat_id, "assistant", "")
    store.update_message(answer.message_id, content="Done: **app** built")
    assert contents(store.thread(chat.chat_id)) == ["Build it", "Working", "Done: **app** built"]
    assert store.get_message(progress.message_id).data == updated.data
    assert store.last_run(chat.chat_id) == "run-1"
    assert store.last_run(store.create_chat().chat_id) is None


def test_edit_creates_a_branch_and_switching_moves_the_head(store: ChatStore) -> None:
    chat = store.create_chat()
    first = store.add_message(chat.chat_id, "user", "Make a CSV converter")
    store.add_message(chat.chat_id, "assistant", "Here is the CSV converter")
    store.add_message(chat.chat_id, "user", "Add a progress bar")
    old_answer = store.add_message(chat.chat_id, "assistant", "Progress bar added")

    # editing the first message: a sibling of it, shown at once
    edited = store.add_message(chat.chat_id, "user", "Make an XLSX converter", parent_id=None)
    new_answer = store.add_message(chat.chat_id, "assistant", "Here is the XLSX converter")
    assert contents(store.thread(chat.chat_id)) == [
        "Make an XLSX converter", "Here is the XLSX converter"]
    info = store.branches(edited.message_id)
    assert (info.index, info.count, info.sibling_ids) == (
        2, 2, [first.message_id, edited.message_id])
    assert store.branches(first.message_id).index == 1
    assert store.branches(new_answer.message_id).count == 1

    # ‹ 1/2 ›: back to the first version, down to the newest message of its subtree
    switched = store.switch_branch(edited.message_id, 1)
    assert switched.head == old_answer.message_id
    assert contents(store.thread(chat.chat_id)) == [
        "Make a CSV converter", "Here is the CSV converter", "Add a progress bar",
        "Progress bar added"]
    assert store.switch_branch(first.message_id, 2).head == new_answer.message_id
    assert store.thread(chat.chat_id)[-1].content == "Here is the XLSX converter"
    with pytest.raises(InputError, match="no version 3"):
        store.switch_branch(first.message_id, 3)
    with pytest.raises(InputError, match="no version 0"):
        store.switch_branch(first.message_id, 0)


def test_regenerate_adds_a_sibling_of_the_answer(store: ChatStore) -> None:
    chat = store.create_chat()
    question = store.add_message(chat.chat_id, "user", "Write a notes app")
    answer = store.add_message(chat.chat_id, "assistant", "First answer")
    again = store.add_message(chat.chat_id, "assistant", "Second answer",
                              parent_id=question.message_id)
    assert again.parent_id == question.message_id
    assert contents(store.thread(chat.chat_id)) == ["Write a notes app", "Second answer"]
    info = store.branches(again.message_id)
    assert (info.index, info.count) == (2, 2)
    assert info.sibling_ids == [answer.message_id, again.message_id]
    store.switch_branch(again.message_id, 1)
    assert contents(store.thread(chat.chat_id)) == ["Write a notes app", "First answer"]
    # a new message goes after the head now shown
    follow = store.add_message(chat.chat_id, "user", "Thanks")
    assert follow.parent_id == answer.message_id


def test_a_parent_from_another_chat_is_refused(store: ChatStore) -> None:
    one, two = store.create_chat(), store.create_chat()
    message = store.add_message(one.chat_id, "user", "in one")
    with pytest.raises(InputError, match="no message"):
        store.add_message(two.chat_id, "user", "in two", parent_id=message.message_id)
    with pytest.raises(InputError, match="no message"):
        store.add_message(two.chat_id, "user", "in two", parent_id="missing")
    assert store.thread(two.chat_id) == []


# -- persistence and threads ------------------------------------------------------------------

def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "chats.sqlite"
    store = ChatStore(path)
    project = store.create_project("Keep")
    chat = store.create_chat(project_id=project.project_id)
    store.add_message(chat.chat_id, "user", "Привет")
    store.add_message(chat.chat_id, "assistant", "Card", kind="plan",
                      data={"steps": ["a", "б"], "n": 1.5, "ok": True})
    before = store.thread(chat.chat_id)
    store.close()

    again = ChatStore(path)
    try:
        assert again.thread(chat.chat_id) == before
        assert again.get_chat(chat.chat_id).title == "Привет"
        assert again.list_projects() == [project]
        assert again.search("привет")[0].chat.chat_id == chat.chat_id
    finally:
        again.close()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        connection.close()


def test_a_newer_schema_is_refused_with_a_clear_sentence(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite"
    ChatStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(InputError, match="upgrade MultiCoder"):
        ChatStore(path)


def test_two_threads_adding_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite"
    store = ChatStore(path)
    second_store = ChatStore(path)  # a second connection, as another window or process
    chat = store.create_chat()
    errors: list[BaseException] = []

    def add(target: ChatStore, name: str) -> None:
        try:
            for number in range(100):
                target.add_message(chat.chat_id, "assistant", f"{name}-{number}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=add, args=(store, "a")),
               threading.Thread(target=add, args=(store, "b")),
               threading.Thread(target=add, args=(second_store, "c"))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    thread = store.thread(chat.chat_id)
    assert len(thread) == 300  # one chain: every message follows the one before
    assert sorted(contents(thread)) == sorted(
        f"{name}-{number}" for name in "abc" for number in range(100))
    for name in "abc":  # each writer's messages in its own order
        mine = [text for text in contents(thread) if text.startswith(name)]
        assert mine == [f"{name}-{number}" for number in range(100)]
    store.close()
    second_store.close()


def test_a_thousand_message_thread_loads_quickly(store: ChatStore) -> None:
    chat = store.create_chat()
    started = time.perf_counter()
    for number in range(1000):
        store.add_message(chat.chat_id, "user" if number % 2 == 0 else "assistant",
                          f"message {number} " + "text " * 40, data={"n": number})
    assert (time.perf_counter() - started) / 1000 < 0.05  # typical: well under 5 ms each
    started = time.perf_counter()
    thread = store.thread(chat.chat_id)
    assert time.perf_counter() - started < 0.5  # typical: about 15 ms
    assert len(thread) == 1000 and thread[-1].data == {"n": 999}


# -- bad input --------------------------------------------------------------------------------

def test_unknown_ids_and_bad_input_raise_input_error(store: ChatStore, tmp_path: Path) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.get_chat("nope"),
        lambda: store.list_chats(project_id="nope"),
        lambda: store.rename_chat("nope", "x"),
        lambda: store.set_archived("nope", True),
        lambda: store.move_chat("nope", None),
        lambda: store.delete_chat("nope"),
        lambda: store.rename_project("nope", "x"),
        lambda: store.delete_project("nope"),
        lambda: store.add_message("nope", "user", "x"),
        lambda: store.update_message("nope", content="x"),
        lambda: store.get_message("nope"),
        lambda: store.thread("nope"),
        lambda: store.branches("nope"),
        lambda: store.switch_branch("nope", 1),
        lambda: store.last_run("nope"),
        lambda: store.export(tmp_path / "x.json", chat_ids=["nope"]),
    ]
    for call in calls:
        with pytest.raises(InputError, match="nope"):
            call()
    chat = store.create_chat()
    with pytest.raises(InputError, match="no project"):
        store.move_chat(chat.chat_id, "nope")
    with pytest.raises(InputError, match="role"):
        store.add_message(chat.chat_id, "robot", "x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="kind"):
        store.add_message(chat.chat_id, "user", "x", kind="poem")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="JSON"):
        store.add_message(chat.chat_id, "user", "x", data={"bad": object()})
    with pytest.raises(InputError, match="JSON"):
        store.add_message(chat.chat_id, "user", "x", data={"nan": float("nan")})
    with pytest.raises(InputError, match="at least 1"):
        store.list_chats(limit=0)
    with pytest.raises(InputError, match="format"):
        store.export(tmp_path / "x.txt", fmt="txt")  # type: ignore[arg-type]
    assert store.thread(chat.chat_id) == []  # nothing half-stored
    assert not (tmp_path / "x.json").exists()


# -- export -----------------------------------------------------------------------------------

def test_export_json_and_markdown(store: ChatStore, tmp_path: Path) -> None:
    project = store.create_project("Converters")
    chat = store.create_chat(project_id=project.project_id)
    first = store.add_message(chat.chat_id, "user", "Сделай конвертер CSV → XLSX")
    store.add_message(chat.chat_id, "assistant", "Plan ready", kind="plan",
                      data={"steps": ["read", "write"]}, run_id="run-7")
    store.add_message(chat.chat_id, "user", "Другая версия", parent_id=None)  # a branch
    other = store.create_chat("Other")
    store.add_message(other.chat_id, "user", "Second chat text")

    target = store.export(tmp_path / "out" / "chats.json")
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [c["chat_id"] for c in document["chats"]] == [other.chat_id, chat.chat_id]
    exported = document["chats"][1]
    assert exported["title"] == "Сделай конвертер CSV → XLSX"
    assert exported["project"] == "Converters"
    assert [p["name"] for p in document["projects"]] == ["Converters"]
    assert [m["content"] for m in exported["messages"]] == [  # the whole tree
        "Сделай конвертер CSV → XLSX", "Plan ready", "Другая версия"]
    assert exported["messages"][1]["data"] == {"steps": ["read", "write"]}
    assert exported["messages"][1]["run_id"] == "run-7"
    assert Message.model_validate(exported["messages"][0]).message_id == first.message_id

    markdown = store.export(tmp_path / "chats.md", fmt="md",
                            chat_ids=[chat.chat_id]).read_text(encoding="utf-8")
    assert markdown.startswith("# Сделай конвертер CSV → XLSX")
    assert "Другая версия" in markdown  # the current thread
    assert "Plan ready" not in markdown  # on the other branch
    assert "Second chat text" not in markdown
    store.switch_branch(first.message_id, 1)
    markdown = store.export(tmp_path / "chats.md", fmt="md").read_text(encoding="utf-8")
    assert "## You" in markdown and "## MultiCoder · plan" in markdown
    assert "Plan ready" in markdown and "Second chat text" in markdown


def test_export_to_an_unwritable_place_says_so(store: ChatStore, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="Cannot write"):
        store.export(blocker / "chats.json")


def test_messages_of_a_run_are_found_on_any_branch(tmp_path):
    from graph.chats import ChatStore

    store = ChatStore(tmp_path / "chats.sqlite")
    chat = store.create_chat()
    first = store.add_message(chat.chat_id, "user", "build a timer")
    answer = store.add_message(chat.chat_id, "assistant", "plan", run_id="run-1")
    store.add_message(chat.chat_id, "user", "build a clock", parent_id=None)  # another branch
    assert [m.message_id for m in store.messages_of_run("run-1")] == [answer.message_id]
    assert all(m.run_id != "run-1" for m in store.thread(chat.chat_id))  # not on screen
    assert store.messages_of_run("run-2") == []
    assert first.run_id is None


# -- the head follows what is shown (finding 14) ---------------------------------------------

def test_a_run_working_in_a_branch_switched_away_from_leaves_the_head(store: ChatStore
                                                                     ) -> None:
    chat = store.create_chat()
    task = store.add_message(chat.chat_id, "user", "Make a CSV converter", run_id="run-1")
    progress = store.add_message(chat.chat_id, "assistant", "Working", kind="progress",
                                 run_id="run-1", parent_id=task.message_id)
    # the person edits the task: a new branch, shown at once
    edited = store.add_message(chat.chat_id, "user", "Make an XLSX converter",
                               parent_id=None, run_id="run-2")
    assert store.get_chat(chat.chat_id).head == edited.message_id
    # run-1 still works in the old branch: its messages are stored, the view stays
    late = store.add_message(chat.chat_id, "assistant", "Plan", kind="plan", run_id="run-1",
                             parent_id=progress.message_id)
    assert store.get_chat(chat.chat_id).head == edited.message_id
    assert contents(store.thread(chat.chat_id)) == ["Make an XLSX converter"]
    # run-2 continues the branch shown: the head follows it
    answer = store.add_message(chat.chat_id, "assistant", "Plan B", kind="plan",
                               run_id="run-2", parent_id=edited.message_id)
    assert store.get_chat(chat.chat_id).head == answer.message_id
    # switching back shows the old run's late message
    store.switch_branch(edited.message_id, 1)
    assert store.get_chat(chat.chat_id).head == late.message_id
    assert contents(store.thread(chat.chat_id)) == ["Make a CSV converter", "Working", "Plan"]


def test_edits_and_regenerated_answers_deeper_in_the_path_become_the_head(store: ChatStore
                                                                         ) -> None:
    chat = store.create_chat()
    first = store.add_message(chat.chat_id, "user", "Build a notes app")
    store.add_message(chat.chat_id, "assistant", "Notes app ready")
    second = store.add_message(chat.chat_id, "user", "Add search")
    store.add_message(chat.chat_id, "assistant", "Search added")
    # edit the second question: a sibling under the first answer (an ancestor of the head)
    edited = store.add_message(chat.chat_id, "user", "Add tags", parent_id=second.parent_id)
    assert store.get_chat(chat.chat_id).head == edited.message_id
    assert contents(store.thread(chat.chat_id)) == [
        "Build a notes app", "Notes app ready", "Add tags"]
    # regenerate the first answer: a sibling of it, under the first question
    again = store.add_message(chat.chat_id, "assistant", "Notes app, take two",
                              parent_id=first.message_id)
    assert store.get_chat(chat.chat_id).head == again.message_id
    assert contents(store.thread(chat.chat_id)) == ["Build a notes app", "Notes app, take two"]


# -- a damaged or unusable chats file (finding 12) ---------------------------------------------

def test_a_chats_file_that_is_not_a_database_is_kept_aside_and_a_new_store_starts(
        tmp_path: Path) -> None:
    path = tmp_path / "data" / "chats.sqlite"
    path.parent.mkdir()
    garbage = b"this is not a database, just bytes " * 200
    path.write_bytes(garbage)
    store = ChatStore(path)
    try:
        kept = store.recovered_from
        assert kept is not None and kept.parent == path.parent
        assert kept.name.startswith("chats.sqlite.damaged-")
        assert kept.read_bytes() == garbage  # nothing lost
        chat = store.create_chat()
        store.add_message(chat.chat_id, "user", "after the rescue")
        assert contents(store.thread(chat.chat_id)) == ["after the rescue"]
    finally:
        store.close()
    again = ChatStore(path)  # the new file is sound: nothing to recover the next time
    try:
        assert again.recovered_from is None
        assert len(again.list_chats()) == 1
    finally:
        again.close()


def test_a_chats_file_that_cannot_be_opened_is_a_clear_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(InputError, match="cannot open the chat history at") as error:
        ChatStore(blocker / "chats.sqlite")
    assert "\n" not in str(error.value)
    folder_in_the_way = tmp_path / "data" / "chats.sqlite"
    folder_in_the_way.mkdir(parents=True)
    with pytest.raises(InputError, match="cannot open the chat history at"):
        ChatStore(folder_in_the_way)
    assert folder_in_the_way.is_dir()  # not moved aside: it is not a damaged database
