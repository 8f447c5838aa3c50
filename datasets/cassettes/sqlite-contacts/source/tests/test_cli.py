"""The command line: output format, exit codes, separate books, the smoke command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from contacts.cli import main
from tests.conftest import Result

PROJECT = Path(__file__).resolve().parent.parent


def test_add_prints_only_the_new_id(cli: Callable[..., Result]) -> None:
    first = cli("add", "Анна Петрова", "--phone", "+7 900 123-45-67")
    second = cli("add", "Bob", "--email", "bob@example.com")
    assert (first.code, first.out, first.err) == (0, "1\n", "")
    assert second.out == "2\n"


def test_list_prints_tab_separated_rows_sorted_by_name(cli: Callable[..., Result]) -> None:
    cli("add", "bob", "--phone", "555-0101")
    cli("add", "Alice", "--email", "alice@example.org")
    cli("add", "Zoë")
    result = cli("list")
    assert result.code == 0
    assert result.rows() == [["2", "Alice", "", "alice@example.org"],
                             ["1", "bob", "555-0101", ""],
                             ["3", "Zoë", "", ""]]


def test_list_of_an_empty_book_prints_nothing(cli: Callable[..., Result]) -> None:
    result = cli("list")
    assert (result.code, result.out) == (0, "")


def test_find_prints_matches_in_the_same_format(cli: Callable[..., Result]) -> None:
    cli("add", "Анна Петрова", "--phone", "555-0101")
    cli("add", "Boris", "--email", "boris@example.org")
    assert cli("find", "АННА").rows() == [["1", "Анна Петрова", "555-0101", ""]]
    assert cli("find", "EXAMPLE").rows() == [["2", "Boris", "", "boris@example.org"]]
    assert cli("find", "%").out == ""


def test_delete_and_unknown_id(cli: Callable[..., Result]) -> None:
    cli("add", "Keep")
    cli("add", "Gone")
    assert cli("delete", "2").code == 0
    missing = cli("delete", "99")
    assert (missing.code, missing.out) == (1, "")
    assert missing.err == "contacts: error: no contact with id 99\n"
    assert cli("list").rows() == [["1", "Keep", "", ""]]


def test_invalid_input_exits_2_and_saves_nothing(cli: Callable[..., Result]) -> None:
    for args in (["add", ""], ["add", "Ann", "--email", "ann.example.org"], ["find", " "]):
        result = cli(*args)
        assert result.code == 2, args
        assert result.err.startswith("contacts: error:"), args
    assert cli("list").out == ""


def test_usage_errors_exit_2(cli: Callable[..., Result]) -> None:
    assert cli("delete", "abc").code == 2
    assert cli("delete", "0").code == 2
    assert cli("frobnicate").code == 2


def test_each_db_file_is_its_own_book(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    one, two = tmp_path / "one" / "book.db", tmp_path / "two" / "book.db"
    assert main(["--db", str(one), "add", "In One"]) == 0
    assert main(["--db", str(two), "add", "In Two"]) == 0
    assert main(["--db", str(one), "list"]) == 0
    assert main(["--db", str(two), "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["1", "1", "1\tIn One\t\t", "1\tIn Two\t\t"]


def test_unusable_database_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"\x00garbage" * 200)
    assert main(["--db", str(path), "list"]) == 1
    err = capsys.readouterr().err
    assert "not a usable address book" in err


def test_smoke_command_as_a_subprocess(tmp_path: Path) -> None:
    db = tmp_path / "smoke.db"
    done = subprocess.run(
        [sys.executable, "contacts/main.py", "--db", str(db), "add", "Smoke Test",
         "--phone", "555-0100"],
        cwd=PROJECT, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().isdigit()
    assert db.is_file()
