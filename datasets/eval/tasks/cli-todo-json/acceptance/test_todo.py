import json
import re

LINE = re.compile(r"^\d+ \[[ xX]\] ")


def todo(run_app, tmp_path, *args):
    return run_app("--file", tmp_path / "tasks.json", *args)


def shown(result):
    assert result.returncode == 0, result.stderr
    return [line.rstrip() for line in result.stdout.splitlines() if LINE.match(line)]


def test_add_and_list(run_app, tmp_path):
    assert todo(run_app, tmp_path, "add", "купить", "молоко").returncode == 0
    assert todo(run_app, tmp_path, "add", "позвонить маме").returncode == 0
    assert shown(todo(run_app, tmp_path, "list")) == ["1 [ ] купить молоко",
                                                      "2 [ ] позвонить маме"]


def test_done_hides_from_list_but_not_from_all(run_app, tmp_path):
    for text in ("купить молоко", "позвонить маме", "оплатить интернет"):
        todo(run_app, tmp_path, "add", text)
    assert todo(run_app, tmp_path, "done", "2").returncode == 0
    assert shown(todo(run_app, tmp_path, "list")) == ["1 [ ] купить молоко",
                                                      "3 [ ] оплатить интернет"]
    assert shown(todo(run_app, tmp_path, "list", "--all")) == [
        "1 [ ] купить молоко", "2 [x] позвонить маме", "3 [ ] оплатить интернет"]


def test_numbers_stay_after_remove(run_app, tmp_path):
    for text in ("раз", "два", "три"):
        todo(run_app, tmp_path, "add", text)
    assert todo(run_app, tmp_path, "remove", "2").returncode == 0
    todo(run_app, tmp_path, "add", "четыре")
    assert shown(todo(run_app, tmp_path, "list")) == ["1 [ ] раз", "3 [ ] три", "4 [ ] четыре"]
    assert todo(run_app, tmp_path, "remove", "4").returncode == 0
    todo(run_app, tmp_path, "add", "пять")
    assert shown(todo(run_app, tmp_path, "list")) == ["1 [ ] раз", "3 [ ] три", "4 [ ] пять"]


def test_json_file_format_and_default_location(run_app, tmp_path):
    todo(run_app, tmp_path, "add", 'сказать "привет"')
    todo(run_app, tmp_path, "add", "второе")
    todo(run_app, tmp_path, "done", "1")
    raw = (tmp_path / "tasks.json").read_text(encoding="utf-8")
    assert "привет" in raw
    data = json.loads(raw)
    assert [(t["id"], t["text"], t["done"]) for t in data] == [
        (1, 'сказать "привет"', True), (2, "второе", False)]
    assert not (tmp_path / "todo.json").exists()
    work = tmp_path / "work"
    work.mkdir()
    assert run_app("add", "в файле по умолчанию", cwd=work).returncode == 0
    data = json.loads((work / "todo.json").read_text(encoding="utf-8"))
    assert [(t["id"], t["text"], t["done"]) for t in data] == [(1, "в файле по умолчанию", False)]


def test_unknown_number_is_an_error(run_app, tmp_path):
    todo(run_app, tmp_path, "add", "единственная")
    before = (tmp_path / "tasks.json").read_text(encoding="utf-8")
    for command in ("done", "remove"):
        result = todo(run_app, tmp_path, command, "7")
        assert result.returncode == 1, command
        assert result.stderr.strip(), command
        assert "Traceback" not in result.stderr
    assert (tmp_path / "tasks.json").read_text(encoding="utf-8") == before


def test_corrupted_file_is_left_alone(run_app, tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text('[{"id": 1, "text": "важное", "done": false}', encoding="utf-8")
    for args in (("add", "новое"), ("list",), ("done", "1")):
        result = todo(run_app, tmp_path, *args)
        assert result.returncode != 0, args
        assert result.stderr.strip(), args
        assert "Traceback" not in result.stderr
    assert path.read_text(encoding="utf-8") == '[{"id": 1, "text": "важное", "done": false}'
