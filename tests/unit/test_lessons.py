"""Lessons (M4): what a run folder teaches, stable per run, and a person's edits that stick.

The run folders here are written with the real writers (RunRecord for events.jsonl and the
reports, the tester's CheckReport for checks-round-N.json, the coder's snapshot layout), so
they have the formats a real run leaves behind. A run replayed end to end from a cassette is
learnt in tests/integration/test_memory_cli.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memory.lessons import MAX_WORDS_CHARS, LessonBook, LessonNotFound, derive_run
from memory.recall import Recall
from memory.records import RunRecord
from memory.redaction import Redactor
from memory.semantic import SemanticMemory
from tools.checks.base import CheckReport, CheckResult, Finding

RUN = "20261120-101500-ab12cd"
TASK = "Менеджер заметок на SQLite: поиск по-русски без учёта регистра"
PLAN_FEEDBACK = "Не надо click — только argparse из стандартной библиотеки, и без ORM!"
NEW_TASK = "Менеджер заметок на SQLite с экспортом в Markdown"
FETCH_WORDS = "не качай ничего с этого сайта, используй только stdlib"
HINT = "Сравнивай casefold() обеих строк, LIKE тут не поможет"
BUGGY = 'def search(rows, needle):\n    return [r for r in rows if needle in r]\n'
FIXED = ('def search(rows, needle):\n    folded = needle.casefold()\n'
         '    return [r for r in rows if folded in r.casefold()]\n')
CODER_NOTE = "Поиск теперь сравнивает casefold() обеих строк, регистр не важен на любом языке."


def checks(round_: int, findings: list[Finding]) -> dict:
    report = CheckReport(results=[
        CheckResult(check="ruff", passed=True),
        CheckResult(check="pytest", passed=not any(f.severity == "error" for f in findings),
                    findings=findings)])
    return report.model_dump(mode="json") | {"passed": report.passed, "round": round_}


CYRILLIC = Finding(check="pytest", file="tests/test_db.py", line=14,
                   message="tests.test_db.test_search_cyrillic failed: AssertionError: "
                           "assert [] == ['Заметка']")
GREEK = Finding(check="pytest", file="tests/test_db.py", line=20,
                message="tests.test_db.test_search_greek failed: AssertionError: assert [] =="
                        " ['ΣΟΦΊΑ']")
STUBBORN = Finding(check="pytest", file="tests/test_cli.py", line=7,
                   message="tests.test_cli.test_export failed: AssertionError: no file")
STYLE = Finding(check="pytest", file="notes/db.py", line=1, severity="warning",
                message="a warning that is not an error")


def make_run(runs_root: Path, run_id: str = RUN, *, decisions: bool = True) -> Path:
    """A finished run with one repair round and every kind of decision a person gives."""
    record = RunRecord.create(runs_root, run_id, Redactor([]))
    try:
        record.write_json("run.json", {"task": TASK, "models": {}, "attachments": [],
                                       "sandbox": "local", "created_at":
                                       "2026-11-20T10:15:00+00:00", "limits": {}})
        record.event("run_created", task=TASK)
        record.event("safety_verdict", level="yellow", recommendation="modify",
                     categories=["privacy"], reasons=["хранит личные заметки"],
                     escalated=False, needs_person=True)
        record.event("interrupt", interrupt="confirm_start", summary="Safety verdict: YELLOW")
        if decisions:
            record.event("decision", key="confirm_start/0/0", interrupt="confirm_start",
                         decision={"action": "edit", "content": NEW_TASK})
            record.event("decision", key="confirm_start/1/0", interrupt="confirm_start",
                         decision={"action": "approve", "feedback": "это мои заметки"})
            record.event("interrupt", interrupt="approve_plan",
                         summary="**Plan:** notes/ with click and SQLAlchemy\n\n1. ...")
            record.event("decision", key="approve_plan/0/0", interrupt="approve_plan",
                         decision={"action": "reject", "feedback": PLAN_FEEDBACK})
            record.event("decision", key="approve_plan/1/0", interrupt="approve_plan",
                         decision={"action": "approve"})
            record.event("approval_requested", round=0, action="fetch_url",
                         url="https://example.com/notes.zip", dest="inputs/notes.zip",
                         reason="the coder wants an example database")
            record.event("decision", key="approve_fetch/0/0", interrupt="approve_fetch",
                         decision={"action": "reject", "feedback": FETCH_WORDS})
            record.event("decision", key="approve_fetch/0/1", interrupt="approve_fetch",
                         decision={"action": "reject", "feedback": "refused automatically:"
                                   " nobody was at the terminal to approve it"})
            record.event("decision", key="ask_human/1/0", interrupt="ask_human",
                         decision={"action": "continue", "feedback": HINT})
        record.write_text("spec.md", "# Заметки\n\nПоиск без учёта регистра на любом языке.\n")
        record.write_text("plan.md", "**Plan:** notes/ на стандартной библиотеке\n")
        record.write_json("checks-round-0.json", checks(0, [CYRILLIC, GREEK, STUBBORN, STYLE]))
        record.write_json("checks-round-1.json", checks(1, [STUBBORN]))
        record.write_json("checks-round-2.json", checks(2, []))
        for round_, text in ((0, None), (1, BUGGY), (2, FIXED)):
            folder = record.run_dir / "snapshots" / f"round-{round_}"
            folder.mkdir(parents=True)
            if text is not None:
                (folder / "notes").mkdir()
                (folder / "notes" / "db.py").write_text(text, encoding="utf-8")
                (folder / "README.md").write_text("# notes\n", encoding="utf-8")
        (record.workspace / "notes").mkdir()
        (record.workspace / "notes" / "db.py").write_text(FIXED, encoding="utf-8")
        (record.workspace / "notes" / "cli.py").write_text("print('export')\n", "utf-8")
        (record.workspace / "README.md").write_text("# notes\n", encoding="utf-8")
        (record.workspace / ".venv").mkdir()
        (record.workspace / ".venv" / "junk.py").write_text("x = 1\n", encoding="utf-8")
        record.write_json("report.json", {
            "run_id": run_id, "status": "done", "task": NEW_TASK, "error": None,
            "rounds": 2, "artifact": {"path": str(record.dist_dir / "notes"),
                                      "size_bytes": 1234, "sha256": "0" * 64},
            "coder_notes": ["round 0: built notes/", f"round 1: {CODER_NOTE}",
                            "round 2: the export test writes its file now"]})
    finally:
        record.close()
    return record.run_dir


def by_id(items):
    return {item.item_id: item for item in items}


# -- secrets a run folder may hold ---------------------------------------------------------

#: OPENAI_API_KEY in the environment (key-shaped too).
OPENAI_LIKE = "sk-proj-Q7vLx2RmT9wKp4ZbN8cYh3Jd6Fs1Ge5U"
#: DB_PASSWORD in the environment; written in the app's code as a plain comment.
ENV_SECRET = "Hx7q2Lm93vBpw0Zr"
#: Only in an attached .env file, as ``DB_PASSWORD=...`` (the environment does not know it).
FILE_SECRET = "Tr0ub4dor-and-3x"
SECRETS = (OPENAI_LIKE, ENV_SECRET, FILE_SECRET)


def plant_secrets(run_dir: Path, *, extra: str = "") -> None:
    """Put secrets everywhere :func:`derive_run` reads in a :func:`make_run` folder.

    An attachment (``inputs/db.env``: ``DB_PASSWORD=...``, ``OPENAI_API_KEY=...``) and the
    app's code change in repair round 1, so both show in the fix's diff; the task, a person's
    words and a failure message hold them too, the last just where the message is cut short.
    ``extra`` (a secret only the caller's redactor knows) goes into the coder's note.
    """
    env_file = "DB_HOST={}\nDB_PASSWORD=" + FILE_SECRET + "\nOPENAI_API_KEY=" + OPENAI_LIKE + "\n"
    for folder in ("snapshots/round-0", "snapshots/round-1", "snapshots/round-2", "workspace"):
        target = run_dir / folder / "inputs" / "db.env"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(env_file.format("old" if folder[-1] in "01" else "localhost"), "utf-8")
    for folder in ("snapshots/round-2", "workspace"):
        (run_dir / folder / "notes" / "db.py").write_text(
            FIXED + f"# the database login: notes / {ENV_SECRET}\n", encoding="utf-8")
    prefix = "tests.test_db.test_login failed: AssertionError: "
    message = prefix + "x" * (590 - len(prefix) - len(" password ")) + f" password {ENV_SECRET}"
    assert message.index(ENV_SECRET) == 590  # the message is cut at 600 characters: inside it
    leaky = Finding(check="pytest", file="tests/test_db.py", line=30, message=message)
    (run_dir / "checks-round-0.json").write_text(json.dumps(
        checks(0, [CYRILLIC, GREEK, STUBBORN, STYLE, leaky])), encoding="utf-8")
    long_words = "y" * (MAX_WORDS_CHARS - 5) + ENV_SECRET  # a person's words, cut too
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "decision", "key": "ask_human/2/0",
                                 "interrupt": "ask_human", "decision": {
                                     "action": "stop", "feedback": long_words}}) + "\n")
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    report["task"] = f"{NEW_TASK}; ключ OpenAI: {OPENAI_LIKE}"
    report["coder_notes"][1] = f"round 1: {CODER_NOTE} The login is notes / {ENV_SECRET}. {extra}"
    (run_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")


def leaked(text: str, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    """The secrets of which any 8 characters in a row appear in ``text``."""
    return [secret for secret in secrets
            if any(secret[i:i + 8] in text for i in range(len(secret) - 7))]


def test_secrets_are_redacted_from_what_a_run_teaches_before_it_is_cut_short(
        tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_LIKE)
    monkeypatch.setenv("DB_PASSWORD", ENV_SECRET)
    run_dir = make_run(tmp_path / "runs")
    plant_secrets(run_dir)
    items = derive_run(run_dir)
    every = "\n".join(f"{i.text}\n{json.dumps(dict(i.metadata), ensure_ascii=False)}"
                      for i in items)
    assert leaked(every) == []
    fix = next(i for i in items if i.collection == "errors" and "test_login" in i.text)
    assert "DB_HOST=localhost" in fix.text and "DB_PASSWORD=[REDACTED]" in fix.text
    assert "# the database login: notes / [REDACTED]" in fix.text  # the code's diff is kept
    assert "password [REDACTED]" in fix.text  # redacted before the message was cut
    stopped = next(i for i in items if i.metadata.get("kind") == "stopped_repairs")
    assert "yyyy" in stopped.text
    assert "ключ OpenAI: [REDACTED]" in by_id(items)[f"task-{RUN}"].text
    monkeypatch.delenv("DB_PASSWORD")  # what the environment does not know stays visible
    assert ENV_SECRET in "\n".join(i.text for i in derive_run(run_dir))


# -- forks -----------------------------------------------------------------------------------

FORK = "20261121-120000-f0f0f0"
FORK_HINT = "Экспорт пиши в один файл notes.md, без папок"
FORK_NOTE = "The export writes one notes.md file now."


def make_fork(runs_root: Path, original: Path, *, forked: bool = True) -> Path:
    """A fork of ``original`` from its question to a person after round 1, as graph.replay does.

    It starts with the original's snapshots of rounds 0-2 and check reports of rounds 0-1 (and
    a copy of a decision the original's person gave, before ``run_forked``); then the person
    gives a hint, and the fork's own coder round 2 fixes round 1's failing export test. With
    ``forked=False``, run.json does not say it is a fork.
    """
    record = RunRecord.create(runs_root, FORK, Redactor([]))
    try:
        for number in range(3):
            shutil.copytree(original / "snapshots" / f"round-{number}",
                            record.run_dir / "snapshots" / f"round-{number}")
        for number in range(2):
            shutil.copy2(original / f"checks-round-{number}.json", record.run_dir)
        shutil.copytree(original / "snapshots" / "round-2", record.workspace, dirs_exist_ok=True)
        (record.workspace / "notes" / "cli.py").write_text("print('export to notes.md')\n",
                                                           encoding="utf-8")
        origin = {"run_id": original.name, "checkpoint_id": "1f0c2a9e", "node": "paranoid_tester"}
        config = {"task": NEW_TASK, "models": {}, "attachments": [], "sandbox": "local",
                  "created_at": "2026-11-21T12:00:00+00:00", "limits": {}}
        record.write_json("run.json", config | ({"forked_from": origin} if forked else {}))
        record.event("run_created", task=NEW_TASK)
        record.event("decision", key="approve_plan/0/0", interrupt="approve_plan",
                     decision={"action": "reject", "feedback": PLAN_FEEDBACK})
        record.event("run_forked", forked_from=origin, next=["ask_human"], changed=[])
        record.event("decision", key="ask_human/1/0", interrupt="ask_human",
                     decision={"action": "continue", "feedback": FORK_HINT})
        record.event("coder_round", round=2)
        record.event("tester_started", round=2)
        record.write_json("checks-round-2.json", checks(2, []))
        record.write_json("report.json", {
            "run_id": FORK, "status": "done", "task": NEW_TASK, "error": None, "rounds": 2,
            "coder_notes": ["round 0: built notes/", f"round 1: {CODER_NOTE}",
                            f"round 2: {FORK_NOTE}"]})
    finally:
        record.close()
    return record.run_dir


def test_a_fork_learns_only_what_happened_in_it_not_its_originals_fixes_again(tmp_path):
    runs = tmp_path / "runs"
    original = make_run(runs)
    items = derive_run(make_fork(runs, original))
    errors = [i for i in items if i.collection == "errors"]
    assert [e.metadata["round"] for e in errors] == [1]  # fixed by the fork's own round 2
    assert "test_export" in errors[0].text and FORK_NOTE in errors[0].text
    assert "+print('export to notes.md')" in errors[0].text  # the fork's own change
    lessons = {i.metadata["kind"]: i for i in items if i.collection == "lessons"}
    assert sorted(lessons) == ["fixed_error", "hint"]
    assert FORK_HINT in lessons["hint"].text and FORK_NOTE in lessons["fixed_error"].text
    learned = "\n".join(i.text for i in items if i.collection in ("errors", "lessons"))
    assert "test_search_cyrillic" not in learned and CODER_NOTE not in learned
    assert PLAN_FEEDBACK not in learned  # the original's person said it, before the fork

    # the same folder, not marked as a fork, would teach the original's round 0 again
    shutil.rmtree(runs / FORK)
    unmarked = derive_run(make_fork(runs, original, forked=False))
    assert sorted({i.metadata["round"] for i in unmarked if i.collection == "errors"}) == [0, 1]
    assert PLAN_FEEDBACK in "\n".join(i.text for i in unmarked)


def test_a_fixed_error_keeps_the_finding_the_coders_note_and_the_diff(tmp_path):
    items = derive_run(make_run(tmp_path / "runs"))
    errors = [i for i in items if i.collection == "errors"]
    texts = "\n".join(i.text for i in errors)
    # round 0's two Cyrillic/Greek failures were fixed in round 1; the export test only in 2
    round0 = [i for i in errors if i.metadata["round"] == 0]
    assert len(round0) == 2
    assert {("test_search_cyrillic" in i.text, "test_search_greek" in i.text)
            for i in round0} == {(True, False), (False, True)}
    cyrillic = next(i for i in round0 if "test_search_cyrillic" in i.text)
    assert "AssertionError: assert [] == ['Заметка']" in cyrillic.text
    assert CODER_NOTE in cyrillic.text
    assert "Files changed: notes/db.py" in cyrillic.text
    assert "-    return [r for r in rows if needle in r]" in cyrillic.text
    assert "+    folded = needle.casefold()" in cyrillic.text
    assert cyrillic.metadata["run_id"] == RUN and cyrillic.metadata["date"] == "2026-11-20"
    # the fix of round 2 is diffed against the final workspace (its .venv left out)
    export = next(i for i in errors if "test_export" in i.text)
    assert export.metadata["round"] == 1 and "notes/cli.py" in export.text
    assert ".venv" not in texts and "a warning that is not an error" not in texts


def test_one_lesson_per_fixed_error_kind_says_when_and_what_to_do(tmp_path):
    items = derive_run(make_run(tmp_path / "runs"))
    fixes = [i for i in items if i.collection == "lessons" and i.metadata["kind"] == "fixed_error"]
    assert len(fixes) == 2  # pytest in round 0, pytest in round 1
    first = next(i for i in fixes if i.metadata["round"] == 0)
    assert first.text.startswith("When the pytest check reports “tests.test_db.test_search_")
    assert "(and 1 more like it, in tests/test_db.py)" in first.text
    assert CODER_NOTE in first.text
    errors = [i for i in items if i.collection == "errors" and i.metadata["round"] == 0]
    assert {e.metadata["fix_group"] for e in errors} == {first.item_id}


def test_every_rejection_a_person_gave_becomes_a_lesson_in_their_own_words(tmp_path):
    items = derive_run(make_run(tmp_path / "runs"))
    lessons = {i.metadata["kind"]: i for i in items if i.collection == "lessons"}
    assert PLAN_FEEDBACK in lessons["rejected_plan"].text
    assert "notes/ with click and SQLAlchemy" in lessons["rejected_plan"].text
    assert lessons["rejected_plan"].metadata["what"] == "a rejected plan"
    assert NEW_TASK in lessons["edited_task"].text and TASK in lessons["edited_task"].text
    assert "https://example.com/notes.zip" in lessons["refused_download"].text
    assert FETCH_WORDS in lessons["refused_download"].text
    overruled = lessons["overruled_safety"].text
    assert "YELLOW" in overruled and "modify" in overruled and "это мои заметки" in overruled
    assert HINT in lessons["hint"].text
    every_text = "\n".join(i.text for i in items)
    assert "refused automatically" not in every_text  # the CLI's own answer, not a person's
    assert len([i for i in items if i.metadata.get("kind") == "refused_download"]) == 1


def test_task_plan_and_summary_of_the_run(tmp_path):
    items = by_id(derive_run(make_run(tmp_path / "runs")))
    task = items[f"task-{RUN}"].text
    assert NEW_TASK in task and "Поиск без учёта регистра на любом языке." in task
    assert "notes/ на стандартной библиотеке" in items[f"plan-{RUN}"].text
    summary = items[f"summary-{RUN}"].text
    assert "Outcome: done" in summary and "Repair rounds: 2" in summary
    assert "Artifact: notes (1,234 bytes)" in summary and "test_search_cyrillic" in summary


def test_an_unfinished_or_empty_folder_teaches_what_it_has(tmp_path):
    empty = tmp_path / "runs" / "20261120-000000-000000"
    empty.mkdir(parents=True)
    assert derive_run(empty) == []
    run_dir = make_run(tmp_path / "runs", decisions=False)
    (run_dir / "report.json").unlink()
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"type": "decision", "torn')  # a crash mid-line
    items = derive_run(run_dir)
    assert f"task-{RUN}" in by_id(items)
    assert "Outcome: unfinished" in by_id(items)[f"summary-{RUN}"].text


@pytest.fixture
def recall(tmp_path):
    memory = SemanticMemory(tmp_path / "data")
    yield Recall(memory)
    memory.close()


def test_learning_a_run_again_replaces_its_items_and_keeps_the_persons_changes(tmp_path,
                                                                              recall):
    run_dir = make_run(tmp_path / "data" / "runs")
    stored = recall.learn_from_run(run_dir)
    counts = recall.semantic.counts()
    assert stored == sum(counts.values()) and counts["lessons"] == 7 and counts["errors"] == 3
    assert recall.learn_from_run(run_dir) == stored
    assert recall.semantic.counts() == counts  # no duplicates

    lessons = recall.lessons
    rejected = next(les for les in lessons.list_all() if les.what == "a rejected plan")
    hint = next(les for les in lessons.list_all() if les.what == "a person's hint")
    lessons.edit(rejected.lesson_id, "Use argparse; the person refuses click.")
    lessons.delete(hint.lesson_id)
    own = lessons.add("Always ask before adding a dependency.")
    assert own.origin == "person" and own.lesson_id.startswith("L")

    # the person drops the hint from the record: learning again removes its lesson too
    events = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    (run_dir / "events.jsonl").write_text(
        "\n".join(e for e in events if "ask_human" not in e) + "\n", encoding="utf-8")
    recall.learn_from_run(run_dir)
    after = {les.lesson_id: les for les in lessons.list_all()}
    assert after[rejected.lesson_id].text == "Use argparse; the person refuses click."
    assert after[rejected.lesson_id].edited
    assert hint.lesson_id not in after
    assert own.lesson_id in after
    book = json.loads((tmp_path / "data" / "lessons.json").read_text(encoding="utf-8"))
    assert {e["op"] for e in book["lessons"].values()} == {"edited", "deleted", "added"}


def test_a_fresh_store_gets_the_persons_lessons_back(tmp_path, recall):
    runs = tmp_path / "data" / "runs"
    make_run(runs)
    recall.rebuild(runs)
    lessons = recall.lessons
    fixed = next(les for les in lessons.list_all() if les.what == "a fixed error")
    lessons.delete(fixed.lesson_id)
    own = lessons.add("Prefer the standard library.")
    recall.semantic.close()
    moved = SemanticMemory.set_aside(tmp_path / "data")
    assert moved is not None and moved.is_dir()
    fresh = Recall(SemanticMemory(tmp_path / "data"))
    try:
        report = fresh.rebuild(runs)
        assert (report.runs, report.restored) == (1, 1)
        ids = {les.lesson_id for les in fresh.lessons.list_all()}
        assert own.lesson_id in ids and fixed.lesson_id not in ids
    finally:
        fresh.semantic.close()


def test_lessons_are_found_by_id_or_unique_prefix_and_unknown_ids_say_so(tmp_path, recall):
    recall.learn_from_run(make_run(tmp_path / "data" / "runs"))
    lessons = recall.lessons
    one = lessons.list_all()[0]
    assert lessons.get(one.lesson_id[:6]).lesson_id == one.lesson_id
    with pytest.raises(LessonNotFound, match="no lesson 'Lzzzzzz'"):
        lessons.get("Lzzzzzz")
    with pytest.raises(LessonNotFound, match="no lesson 'L'"):
        lessons.get("L")  # too short for a prefix: only a whole id
    with pytest.raises(ValueError, match="empty"):
        lessons.edit(one.lesson_id, "  ")
    with pytest.raises(LessonNotFound):
        lessons.delete("Lnope")


def test_the_lesson_book_refuses_a_broken_file_instead_of_losing_edits(tmp_path):
    book = LessonBook(tmp_path / "lessons.json")
    book.record("Labc1234", "deleted")
    assert book.entries()["Labc1234"]["op"] == "deleted"
    (tmp_path / "lessons.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not readable JSON"):
        book.entries()
