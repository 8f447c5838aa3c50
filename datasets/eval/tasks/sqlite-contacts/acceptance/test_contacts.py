import re
import sqlite3


def ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def add(run_app, db, name, *options):
    out = ok(run_app("--db", db, "add", name, *options))
    match = re.search(r"\d+", out)
    assert match, f"add printed no id: {out!r}"
    return match.group(0)


def rows(out):
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def names(out):
    return [row[1] for row in rows(out)]


def test_add_prints_id_and_stores_in_the_sqlite_file(run_app, tmp_path):
    db = tmp_path / "data" / "nested" / "book.db"
    first = add(run_app, db, "Анна Петрова", "--phone", "+7 900 123-45-67")
    second = add(run_app, db, "Bob")
    assert first != second
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        stored = [str(value) for table in tables
                  for row in conn.execute(f'SELECT * FROM "{table}"') for value in row]
    finally:
        conn.close()
    assert "Анна Петрова" in stored and "+7 900 123-45-67" in stored


def test_list_is_tab_separated_and_sorted_ignoring_case(run_app, tmp_path):
    db = tmp_path / "book.db"
    bob = add(run_app, db, "bob", "--phone", "555-0101")
    alice = add(run_app, db, "Alice", "--email", "alice@example.org")
    zoe = add(run_app, db, "Zoë")
    carol = add(run_app, db, "carol", "--phone", "555-0199", "--email", "carol@example.com")
    assert rows(ok(run_app("--db", db, "list"))) == [
        [alice, "Alice", "", "alice@example.org"],
        [bob, "bob", "555-0101", ""],
        [carol, "carol", "555-0199", "carol@example.com"],
        [zoe, "Zoë", "", ""],
    ]


def test_find_matches_any_field_in_any_case_and_language(run_app, tmp_path):
    db = tmp_path / "book.db"
    add(run_app, db, "Анна Петрова", "--phone", "555-0101")
    add(run_app, db, "Zoë Smith", "--email", "zoe@Example.org")
    add(run_app, db, "Bob Stone")
    assert names(ok(run_app("--db", db, "find", "анна"))) == ["Анна Петрова"]
    assert names(ok(run_app("--db", db, "find", "ZOË"))) == ["Zoë Smith"]
    assert names(ok(run_app("--db", db, "find", "EXAMPLE.ORG"))) == ["Zoë Smith"]
    assert names(ok(run_app("--db", db, "find", "0101"))) == ["Анна Петрова"]
    assert names(ok(run_app("--db", db, "find", "o"))) == ["Bob Stone", "Zoë Smith"]
    assert rows(run_app("--db", db, "find", "nobody").stdout) == []


def test_find_treats_percent_and_underscore_literally(run_app, tmp_path):
    db = tmp_path / "book.db"
    for name in ("100% Juice Ltd", "a_b", "abc", "1000 Things"):
        add(run_app, db, name)
    assert names(ok(run_app("--db", db, "find", "%"))) == ["100% Juice Ltd"]
    assert names(ok(run_app("--db", db, "find", "_"))) == ["a_b"]
    assert names(ok(run_app("--db", db, "find", "100%"))) == ["100% Juice Ltd"]


def test_delete_and_unknown_id(run_app, tmp_path):
    db = tmp_path / "book.db"
    keep = add(run_app, db, "Keep Me")
    gone = add(run_app, db, "Delete Me")
    ok(run_app("--db", db, "delete", gone))
    assert names(ok(run_app("--db", db, "list"))) == ["Keep Me"]
    result = run_app("--db", db, "delete", "999")
    assert result.returncode == 1
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert rows(ok(run_app("--db", db, "list")))[0][0] == keep


def test_invalid_input_is_rejected_and_not_saved(run_app, tmp_path):
    db = tmp_path / "book.db"
    for args in (("",), ("Ann", "--email", "ann.example.org")):
        result = run_app("--db", db, "add", *args)
        assert result.returncode == 2, (args, result.stdout)
        assert result.stderr.strip() and "Traceback" not in result.stderr
    assert rows(run_app("--db", db, "list").stdout) == []


def test_each_database_file_is_a_separate_book(run_app, tmp_path):
    one = tmp_path / "one" / "book.db"
    two = tmp_path / "two" / "book.db"
    add(run_app, one, "Only In One")
    add(run_app, two, "Only In Two")
    assert names(ok(run_app("--db", one, "list"))) == ["Only In One"]
    assert names(ok(run_app("--db", two, "list"))) == ["Only In Two"]
    assert one.is_file() and two.is_file()
