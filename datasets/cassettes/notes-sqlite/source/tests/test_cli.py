"""Every command end to end through ``main()``, plus the entry script as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

ROOT = Path(__file__).resolve().parent.parent
Notes = Callable[..., Result]


def titles(listing: str) -> list[str]:
    """Titles (with their tags) of ``list``/``search`` output: ``id  date time  title  [tags]``."""
    return [line.split(maxsplit=3)[3] for line in listing.splitlines()]


def test_add_and_show_russian_text(notes: Notes) -> None:
    added = notes("add", "Заметка о встрече", "--body", "Обсудить план.\nВторая строка.",
                  "-t", "работа", "--tag", "встречи, важное")
    assert added.code == 0, added.err
    assert added.out == "Added note 1: Заметка о встрече\n"
    shown = notes("show", "1")
    assert shown.code == 0
    lines = shown.out.splitlines()
    assert lines[0] == "#1 Заметка о встрече"
    assert lines[1] == "Tags: работа, встречи, важное"
    assert lines[2].startswith("Created: ")
    assert lines[-2:] == ["Обсудить план.", "Вторая строка."]


def test_body_from_stdin_and_from_file(notes: Notes, tmp_path: Path) -> None:
    assert notes("add", "From stdin", "--body", "-", stdin="piped text\n").code == 0
    body_file = tmp_path / "body.txt"
    body_file.write_text("из файла", encoding="utf-8")
    assert notes("add", "From file", "--body-file", str(body_file)).code == 0
    assert notes("show", "1").out.rstrip().endswith("piped text")
    assert notes("show", "2").out.rstrip().endswith("из файла")


def test_list_newest_first_with_tag_filter_and_limit(notes: Notes) -> None:
    assert notes("list").out == "No notes yet.\n"
    notes("add", "Первая", "-t", "дом")
    notes("add", "Second", "-t", "work")
    notes("add", "Третья", "-t", "Дом")
    listing = notes("list")
    assert listing.code == 0
    assert titles(listing.out) == ["Третья  [Дом]", "Second  [work]", "Первая  [дом]"]
    tagged = notes("list", "--tag", "ДОМ").out.splitlines()
    assert [line.split()[0] for line in tagged] == ["3", "1"]
    assert len(notes("list", "-n", "2").out.splitlines()) == 2
    assert notes("list", "--tag", "nope").out == "No notes tagged 'nope'.\n"


def test_edit_changes_only_what_is_given(notes: Notes) -> None:
    notes("add", "Old title", "--body", "old body", "-t", "a")
    edited = notes("edit", "1", "--title", "Новый заголовок")
    assert edited.code == 0
    assert edited.out == "Updated note 1: Новый заголовок\n"
    shown = notes("show", "1").out
    assert "#1 Новый заголовок" in shown
    assert "old body" in shown
    assert "Tags: a" in shown
    notes("edit", "1", "--tag", "x, y")
    assert "Tags: x, y" in notes("show", "1").out
    notes("edit", "1", "--clear-tags")
    assert "Tags:" not in notes("show", "1").out


def test_delete(notes: Notes) -> None:
    notes("add", "one")
    notes("add", "two")
    deleted = notes("delete", "1", "2")
    assert deleted.code == 0
    assert deleted.out == "Deleted note 1: one\nDeleted note 2: two\n"
    assert notes("list").out == "No notes yet.\n"


def test_search_ascii(notes: Notes) -> None:
    notes("add", "Shopping", "--body", "Milk and BREAD")
    found = notes("search", "bread")
    assert found.code == 0
    assert "Shopping" in found.out
    assert notes("search", "caviar").out == "No notes match 'caviar'.\n"


def test_search_finds_cyrillic_in_any_case(notes: Notes) -> None:
    notes("add", "Заметка", "--body", "про отпуск")
    notes("add", "Список дел")
    found = notes("search", "заметка")
    assert found.code == 0
    assert titles(found.out) == ["Заметка"], found.out
    assert "Заметка" in notes("search", "ОТПУСК").out


def test_export_json_to_stdout(notes: Notes) -> None:
    notes("add", "Заметка", "--body", "текст", "-t", "a,b")
    notes("add", "Second")
    exported = notes("export", "--format", "json")
    assert exported.code == 0
    document = json.loads(exported.out)
    assert document["format"] == "notes-export"
    assert document["count"] == 2
    first = document["notes"][0]
    assert (first["id"], first["title"], first["body"], first["tags"]) == (
        1, "Заметка", "текст", ["a", "b"])
    assert set(first) == {"id", "title", "body", "tags", "created", "updated"}
    assert "Заметка" in exported.out  # real UTF-8, not \u escapes


def test_export_markdown_to_file(notes: Notes, tmp_path: Path) -> None:
    notes("add", "Заметка", "--body", "Первая строка\nвторая", "-t", "дом")
    notes("add", "Empty body")
    target = tmp_path / "out" / "notes.md"
    exported = notes("export", "-o", str(target))
    assert exported.code == 0
    assert exported.out == ""
    assert "Exported 2 notes to" in exported.err
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Notes\n")
    assert "## Заметка\n" in text
    assert "tags: дом" in text
    assert "Первая строка\nвторая\n" in text
    assert "## Empty body\n" in text
    assert not list(target.parent.glob(".*.part"))


def test_export_of_an_empty_database(notes: Notes) -> None:
    exported = notes("export", "-f", "json")
    assert json.loads(exported.out)["notes"] == []


@pytest.mark.parametrize("command", [["show", "7"], ["edit", "7", "--title", "x"],
                                     ["delete", "7"]])
def test_unknown_id_exits_1_with_a_message(notes: Notes, command: list[str]) -> None:
    result = notes(*command)
    assert result.code == 1
    assert result.err == "notes: error: no note with id 7\n"
    assert result.out == ""


@pytest.mark.parametrize(("args", "message"), [
    (["add", "   "], "the title is empty"),
    (["edit", "1"], "nothing to change"),
    (["search", " "], "the search text is empty"),
    (["add", "x", "--body-file", "/no/such/file.txt"], "cannot read"),
])
def test_bad_input_exits_2(notes: Notes, args: list[str], message: str) -> None:
    notes("add", "existing")
    result = notes(*args)
    assert result.code == 2
    assert message in result.err
    assert result.err.startswith("notes: error: ")


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["show", "abc"], ["show", "0"],
                                  ["list", "--limit", "0"], ["export", "--format", "pdf"],
                                  ["add", "t", "--body", "x", "--body-file", "f"]])
def test_usage_errors_exit_2(notes: Notes, args: list[str]) -> None:
    assert notes(*args).code == 2


def test_a_broken_database_exits_1(notes: Notes, db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"garbage" * 200)
    result = notes("list")
    assert result.code == 1
    assert "not a usable notes database" in result.err


def test_notes_db_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from notes.cli import main

    target = tmp_path / "env" / "notes.db"
    monkeypatch.setenv("NOTES_DB", str(target))
    assert main(["add", "via env"]) == 0
    assert target.is_file()
    assert "via env" in capsys.readouterr().out


def test_default_database_is_in_the_home_folder(isolated_home: Path) -> None:
    from notes.cli import main

    assert main(["add", "at home"]) == 0
    assert (isolated_home / ".notes" / "notes.db").is_file()


def test_smoke_command_as_documented(tmp_path: Path) -> None:
    """``python notes/main.py --db .tmp/smoke.db add "Smoke test" --body "It works"``."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    db = tmp_path / "smoke.db"
    result = subprocess.run(
        [sys.executable, str(ROOT / "notes" / "main.py"), "--db", str(db), "add", "Smoke test",
         "--body", "It works"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
        env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Added note 1: Smoke test\n"
    shown = subprocess.run(
        [sys.executable, "-m", "notes", "--db", str(db), "show", "1"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
        env=env)
    assert shown.returncode == 0, shown.stderr
    assert "It works" in shown.stdout
