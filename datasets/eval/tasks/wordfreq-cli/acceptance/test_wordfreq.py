def write(tmp_path, text):
    path = tmp_path / "in.txt"
    path.write_text(text, encoding="utf-8")
    return path


def lines(result):
    return [line.split() for line in result.stdout.strip().splitlines()]


def test_most_frequent_first_ties_alphabetical(run_app, tmp_path):
    path = write(tmp_path, "pear kiwi apple pear fig apple pear")
    result = run_app(path)
    assert result.returncode == 0, result.stderr
    assert lines(result) == [["pear", "3"], ["apple", "2"], ["fig", "1"], ["kiwi", "1"]]


def test_top_limits_and_defaults_to_ten(run_app, tmp_path):
    path = write(tmp_path, " ".join(f"w{i:02d} " * (30 - i) for i in range(15)))
    assert len(lines(run_app(path))) == 10
    assert lines(run_app(path, "--top", "3")) == [["w00", "30"], ["w01", "29"], ["w02", "28"]]


def test_case_punctuation_and_apostrophes(run_app, tmp_path):
    path = write(tmp_path, "Don't stop! don't, STOP... Stop; it's fine.")
    assert lines(run_app(path)) == [["stop", "3"], ["don't", "2"], ["fine", "1"], ["it's", "1"]]


def test_unicode_words(run_app, tmp_path):
    path = write(tmp_path, "Привет, мир! привет ёлка Ёлка ёлка")
    assert lines(run_app(path)) == [["ёлка", "3"], ["привет", "2"], ["мир", "1"]]


def test_missing_file_is_an_error(run_app, tmp_path):
    result = run_app(tmp_path / "nope.txt")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
