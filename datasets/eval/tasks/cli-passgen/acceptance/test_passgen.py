import string

ALLOWED = set(string.ascii_letters + string.digits + string.punctuation)


def passwords(result):
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_default_is_one_password_of_sixteen_characters(run_app):
    lines = passwords(run_app())
    assert len(lines) == 1
    assert len(lines[0]) == 16
    assert set(lines[0]) <= ALLOWED


def test_count_and_length(run_app):
    lines = passwords(run_app("--count", "7", "--length", "30"))
    assert len(lines) == 7
    assert all(len(line) == 30 for line in lines)
    assert len(set(lines)) == 7


def test_every_kind_appears_even_in_short_passwords(run_app):
    lines = passwords(run_app("--length", "4", "--count", "200"))
    assert len(lines) == 200
    for line in lines:
        assert len(line) == 4
        assert any(c in string.ascii_lowercase for c in line), line
        assert any(c in string.ascii_uppercase for c in line), line
        assert any(c in string.digits for c in line), line
        assert any(c in string.punctuation for c in line), line


def test_kinds_can_be_switched_off(run_app):
    lines = passwords(run_app("--no-upper", "--no-symbols", "--length", "20", "--count", "50"))
    for line in lines:
        assert set(line) <= set(string.ascii_lowercase + string.digits), line
        assert any(c in string.digits for c in line), line
    lines = passwords(run_app("--no-digits", "--length", "20", "--count", "50"))
    for line in lines:
        assert not any(c in string.digits for c in line), line
        assert any(c in string.ascii_uppercase for c in line), line


def test_exclude_similar(run_app):
    lines = passwords(run_app("--exclude-similar", "--length", "40", "--count", "100"))
    assert len(lines) == 100
    for line in lines:
        assert not set(line) & set("0Oo1lI"), line


def test_two_runs_differ(run_app):
    first = passwords(run_app("--count", "3"))
    second = passwords(run_app("--count", "3"))
    assert first != second
    assert not set(first) & set(second)


def test_bad_arguments_are_clear_errors(run_app):
    for args in (["--length", "3"], ["--length", "2000"], ["--count", "0"],
                 ["--length", "abc"]):
        result = run_app(*args)
        assert result.returncode != 0, args
        assert result.stderr.strip(), args
        assert "Traceback" not in result.stderr, args
        assert not result.stdout.strip(), args
