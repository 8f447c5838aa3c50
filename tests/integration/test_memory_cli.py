"""`multicoder memory`: rebuild, lessons, search and status, as a person uses them.

A real run is built once from the notes-sqlite cassette (its round 0 has a real bug the app's
tests catch, fixed in repair round 1); each test works on its own copy of the data folder.
The provider path talks to tests/support/openai_server.py's /v1/embeddings.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from agents.cassette import Cassette
from tests.conftest import isolated_env, run_cli, run_id_of
from tests.support.openai_server import CassetteServer
from tests.unit.test_lessons import PLAN_FEEDBACK, make_run

LESSON_ID = re.compile(r"\bL[0-9a-f]{7}\b")


@pytest.fixture(scope="module")
def notes_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("memory-build")
    env = isolated_env(base)
    built = run_cli(["build", "--spec-file", "datasets/tasks/notes-sqlite.md", "--replay",
                     "notes-sqlite", "--auto-approve"], env, timeout=1500)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return base, run_id_of(built)


@pytest.fixture
def env(notes_build, tmp_path):
    """A copy of the built run's data folder (without its virtual environment and binary)."""
    base, run_id = notes_build
    shutil.copytree(base / "data", tmp_path / "data",
                    ignore=shutil.ignore_patterns(".venv", "dist", "semantic*", "lessons.json*"))
    environment = isolated_env(tmp_path)
    environment["RUN_ID"] = run_id
    return environment


def memory(env, *args, timeout=600):
    return run_cli(["memory", *args], env, timeout=timeout)


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stdout + result.stderr
    return lines[0]


def test_lessons_from_a_real_run_listed_shown_edited_deleted_and_kept(env):
    rebuilt = memory(env, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "learned 1 runs" in rebuilt.stdout

    listed = memory(env, "lessons")  # list is the default
    assert listed.returncode == 0, listed.stderr
    assert env["RUN_ID"] in listed.stdout and "a fixed error" in listed.stdout
    lesson_id = LESSON_ID.search(listed.stdout).group(0)

    shown = memory(env, "lessons", "show", lesson_id[:5])  # a unique start is enough
    assert shown.returncode == 0, shown.stderr
    assert f"lesson {lesson_id} · from run {env['RUN_ID']}" in shown.stdout
    assert "When the pytest check reports" in shown.stdout and "casefold" in shown.stdout

    edited = memory(env, "lessons", "edit", lesson_id, "--text",
                    "Fold both sides with casefold(): SQLite LIKE folds ASCII only")
    assert edited.returncode == 0, edited.stderr
    assert "Fold both sides with casefold()" in edited.stdout and "edited" in edited.stdout
    assert "--text" in one_error_line(memory(env, "lessons", "edit", lesson_id))  # no terminal

    added = memory(env, "lessons", "add", "--text", "Ask before adding any dependency")
    assert added.returncode == 0, added.stderr
    own_id = LESSON_ID.search(added.stdout).group(0)

    again = memory(env, "rebuild", "--fresh")  # a new store: the person's changes come back
    assert again.returncode == 0, again.stderr
    assert "the old store was set aside" in again.stdout
    shown = memory(env, "lessons", "show", lesson_id)
    assert "Fold both sides with casefold()" in shown.stdout
    deleted = memory(env, "lessons", "delete", lesson_id)
    assert deleted.returncode == 0 and f"lesson {lesson_id} deleted" in deleted.stdout
    listed = memory(env, "lessons", "list")
    assert lesson_id not in listed.stdout and own_id in listed.stdout
    assert "a person" in listed.stdout
    assert f"no lesson '{lesson_id}'" in one_error_line(memory(env, "lessons", "show", lesson_id))
    assert "no lesson 'Lnothing'" in one_error_line(memory(env, "lessons", "delete", "Lnothing"))


def test_search_finds_full_text_and_vector_matches_in_one_table(env):
    assert memory(env, "rebuild").returncode == 0
    found = memory(env, "search", "casefold регистра", "--limit", "3")
    assert found.returncode == 0, found.stderr
    rows = [line for line in found.stdout.splitlines() if line.startswith("│ ")
            and line.split("│")[1].strip().isdigit()]
    kinds = [line.split("│")[2].strip() for line in rows]
    assert "full text" in kinds and "lexical-vector" in kinds, found.stdout
    assert env["RUN_ID"] in found.stdout
    assert "matched by lexical" in found.stderr  # says plainly that it is not semantic

    elsewhere = memory(env, "search", "casefold", "--run", "20200101-000000-000000")
    assert elsewhere.returncode == 0 and "no matches" in elsewhere.stdout

    status = memory(env, "status")
    assert status.returncode == 0, status.stderr
    assert "lexical only" in status.stdout
    counts = {line.split("│")[1].strip(): line.split("│")[2].strip()
              for line in status.stdout.splitlines() if line.count("│") == 3}
    assert counts["tasks"] == "1" and counts["plans"] == "1" and counts["summaries"] == "1"
    assert counts["errors"] == "6" and int(counts["lessons"]) >= 1


def test_a_providers_embeddings_are_semantic_and_a_refused_key_falls_back_saying_why(tmp_path):
    make_run(tmp_path / "data" / "runs")
    with CassetteServer(Cassette([]), api_key="right-key") as server:
        (tmp_path / "settings.toml").write_text(
            f'[providers.embtest]\nbase_url = "{server.base_url}"\n'
            'api_key_env = "EMBTEST_KEY"\n\n[memory]\nembeddings = "embtest:hash-embed"\n',
            encoding="utf-8")
        env = isolated_env(tmp_path) | {"EMBTEST_KEY": "right-key"}
        assert memory(env, "rebuild").returncode == 0
        status = memory(env, "status")
        assert "in use: semantic — semantic (embtest:hash-embed embeddings)" in status.stdout
        found = memory(env, "search", "не надо click, только argparse", "--limit", "2")
        assert found.returncode == 0, found.stderr
        semantic = [line for line in found.stdout.splitlines() if "│ semantic " in line]
        assert semantic and "a rejected plan" in semantic[0], found.stdout
        assert PLAN_FEEDBACK.split(" — ")[0] in found.stdout
        assert any(r.path == "/v1/embeddings" for r in server.requests)

        refused = memory(env | {"EMBTEST_KEY": "wrong"}, "status")
        assert refused.returncode == 0, refused.stderr
        assert "lexical only" in refused.stdout and "refused the API key" in refused.stdout

    unknown = memory(env | {"MULTICODER_MEMORY__EMBEDDINGS": "nosuch:model"}, "status")
    assert "memory.embeddings names the unknown provider 'nosuch'" in one_error_line(unknown)


def test_with_semantic_memory_off_search_is_full_text_and_lessons_say_so(tmp_path):
    make_run(tmp_path / "data" / "runs")
    env = isolated_env(tmp_path) | {"MULTICODER_MEMORY__SEMANTIC": "false"}
    assert "semantic memory is off" in one_error_line(memory(env, "lessons"))
    found = memory(env, "search", "argparse")
    assert found.returncode == 0, found.stderr
    assert "full text only" in found.stderr and "│ full text" in found.stdout
    assert not (Path(env["MULTICODER_DATA_DIR"]) / "semantic").exists()


def test_secrets_in_a_run_folder_or_a_persons_lesson_never_reach_memory(tmp_path):
    from tests.unit.test_lessons import (
        ENV_SECRET,
        FILE_SECRET,
        OPENAI_LIKE,
        leaked,
        plant_secrets,
    )

    run_dir = make_run(tmp_path / "data" / "runs")
    plant_secrets(run_dir)  # an attached db.env with DB_PASSWORD=..., the app's code, the task
    env = isolated_env(tmp_path) | {"OPENAI_API_KEY": OPENAI_LIKE, "DB_PASSWORD": ENV_SECRET}
    assert memory(env, "rebuild").returncode == 0
    added = memory(env, "lessons", "add", "--text",
                   f"DB_PASSWORD={FILE_SECRET} is the old one; log in with {ENV_SECRET}")
    assert added.returncode == 0, added.stderr
    assert "DB_PASSWORD=[REDACTED] is the old one; log in with [REDACTED]" in added.stdout
    found = memory(env, "search", "test_login DB_PASSWORD db.env", "--limit", "5")
    assert found.returncode == 0, found.stderr
    assert "[REDACTED]" in found.stdout and "lexical-vector" in found.stdout
    shown = [memory(env, "lessons", "list"), found, added]
    assert leaked("\n".join(r.stdout + r.stderr for r in shown)) == []
    data = Path(env["MULTICODER_DATA_DIR"])
    files = [*(data / "semantic").rglob("*"), data / "lessons.json"]  # Chroma's files too
    assert (data / "semantic" / "chroma.sqlite3") in files
    for path in files:  # (the archive copies the run folder's lines, written redacted)
        if path.is_file():
            assert leaked(path.read_bytes().decode("utf-8", "replace")) == [], path


def test_the_engines_memory_hides_the_keys_it_learns_after_opening(tmp_path, monkeypatch):
    from graph import Engine, Settings

    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    engine = Engine(Settings(data_dir=tmp_path / "data", sandbox={"backend": "local"},
                             models={r: ["replay:notes-sqlite"]
                                     for r in ("planner", "coder", "judge")}))
    run_id = engine.start("a notes app")
    recall = engine.services(run_id).memory
    assert recall is not None
    keyring_key = "kr9fJ2mQ8zL1xW4vB7nP"
    engine.redactor.add(keyring_key)  # as a provider's key is, when a run's models are set up
    run_dir = make_run(tmp_path / "data" / "runs", "20261120-111111-aaaaaa")
    report = (run_dir / "report.json").read_text(encoding="utf-8")
    (run_dir / "report.json").write_text(report.replace(
        "the export test writes its file now", f"the export uses the key {keyring_key}"),
        encoding="utf-8")
    assert recall.learn_from_run(run_dir) > 5
    stored = "\n".join(item.text for collection in ("lessons", "errors")
                       for item in recall.semantic.get(collection))
    assert "the export uses the key [REDACTED]" in stored and keyring_key not in stored
    recall.semantic.close()
