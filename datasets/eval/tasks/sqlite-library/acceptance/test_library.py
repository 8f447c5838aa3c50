import re

import pytest

MASTER = ("111", "Мастер и Маргарита", "Михаил Булгаков")
ANNA = ("222", "Анна Каренина", "Лев Толстой")
WAR = ("333", "Война и мир", "Лев Толстой")
DUNE = ("444", "Дюна", "Frank Herbert")


@pytest.fixture
def lib(run_app, tmp_path):
    db = tmp_path / "library.db"

    def run(*args, ok=True):
        result = run_app("--db", db, *args)
        if ok:
            assert result.returncode == 0, (args, result.stderr)
        return result

    return run


def table(result):
    return [line.split("\t") for line in result.stdout.strip().splitlines() if line.strip()]


def refused(result, code=1):
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def fine(result):
    match = re.search(r"штраф\W*(\d+)", result.stdout)
    assert match, result.stdout
    return int(match.group(1))


def test_copies_add_up_and_books_are_listed_by_title(lib):
    lib("add-book", *MASTER, "--copies", "2")
    lib("add-book", *ANNA)
    lib("add-book", *MASTER)
    lib("add-reader", "1", "Иван Петров")
    assert "2024-03-15" in lib("lend", "111", "1", "--date", "2024-03-01").stdout
    assert table(lib("books")) == [["222", "Анна Каренина", "Лев Толстой", "1/1"],
                                   ["111", "Мастер и Маргарита", "Михаил Булгаков", "2/3"]]


def test_lending_is_refused_by_the_rules(lib):
    for book in (MASTER, ANNA, WAR, DUNE):
        lib("add-book", *book, "--copies", "2")
    lib("add-book", "555", "Сказки", "Пушкин")
    lib("add-reader", "1", "Иван Петров")
    lib("add-reader", "2", "Ольга Сидорова")
    lib("lend", "555", "2", "--date", "2024-03-01")
    refused(lib("lend", "555", "1", "--date", "2024-03-01", ok=False))  # no copy left
    for isbn in ("111", "222"):
        lib("lend", isbn, "1", "--date", "2024-03-01")
    refused(lib("lend", "111", "1", "--date", "2024-03-02", ok=False))  # already has it
    lib("lend", "333", "1", "--date", "2024-03-02")
    refused(lib("lend", "444", "1", "--date", "2024-03-02", ok=False))  # three on hand
    refused(lib("lend", "999", "2", "--date", "2024-03-02", ok=False))  # unknown book
    refused(lib("lend", "444", "77", "--date", "2024-03-02", ok=False))  # unknown reader
    assert {row[0]: row[3] for row in table(lib("books"))} == {
        "111": "1/2", "222": "1/2", "333": "1/2", "444": "2/2", "555": "0/1"}


def test_overdue_report_and_an_overdue_reader_gets_no_more_books(lib):
    for book in (MASTER, ANNA, WAR):
        lib("add-book", *book)
    lib("add-reader", "1", "Иван Петров")
    lib("add-reader", "2", "Ольга Сидорова")
    lib("lend", "111", "1", "--date", "2024-03-01")
    lib("lend", "222", "2", "--date", "2024-03-10")
    assert table(lib("overdue", "--date", "2024-03-15")) == []
    assert table(lib("overdue", "--date", "2024-03-25")) == [
        ["1", "Иван Петров", "111", "10"], ["2", "Ольга Сидорова", "222", "1"]]
    refused(lib("lend", "333", "1", "--date", "2024-03-16", ok=False))
    lib("lend", "333", "2", "--date", "2024-03-16")


def test_return_charges_ten_roubles_a_day_and_frees_the_copy(lib):
    for book in (MASTER, ANNA, WAR):
        lib("add-book", *book)
    lib("add-reader", "1", "Иван Петров")
    lib("lend", "111", "1", "--date", "2024-03-01")
    lib("lend", "222", "1", "--date", "2024-03-01")
    assert fine(lib("return", "111", "1", "--date", "2024-03-15")) == 0
    assert fine(lib("return", "222", "1", "--date", "2024-03-18")) == 30
    refused(lib("return", "222", "1", "--date", "2024-03-19", ok=False))  # already back
    refused(lib("return", "333", "1", "--date", "2024-03-19", ok=False))  # never lent
    assert table(lib("overdue", "--date", "2024-04-30")) == []
    assert [row[3] for row in table(lib("books"))] == ["1/1", "1/1", "1/1"]
    lib("lend", "333", "1", "--date", "2024-03-19")


def test_search_ignores_case_in_russian(lib):
    for book in (MASTER, ANNA, WAR, DUNE):
        lib("add-book", *book)
    assert [row[0] for row in table(lib("search", "толстой"))] == ["222", "333"]
    assert [row[0] for row in table(lib("search", "МАСТЕР"))] == ["111"]
    assert [row[0] for row in table(lib("search", "herbert"))] == ["444"]
    assert table(lib("search", "Чехов")) == []


def test_bad_arguments_and_duplicate_card_are_clear_errors(lib):
    lib("add-book", *MASTER)
    lib("add-reader", "1", "Иван Петров")
    refused(lib("add-reader", "1", "Пётр Иванов", ok=False), code=1)
    refused(lib("lend", "111", "1", "--date", "2024-02-30", ok=False), code=2)
    refused(lib("add-book", *ANNA, "--copies", "0", ok=False), code=2)
    assert table(lib("books")) == [["111", "Мастер и Маргарита", "Михаил Булгаков", "1/1"]]
