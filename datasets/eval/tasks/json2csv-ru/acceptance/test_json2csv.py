import csv
import io
import json

BOM = b"\xef\xbb\xbf"


def write_json(tmp_path, data, name="in.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def convert(run_app, tmp_path, data, *options):
    source = write_json(tmp_path, data)
    out = tmp_path / "out.csv"
    result = run_app(source, "-o", out, *options)
    assert result.returncode == 0, result.stderr
    return out


def read_csv(path, delimiter=","):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.reader(handle, delimiter=delimiter) if row]


def test_nested_objects_flattened_with_dots(run_app, tmp_path):
    data = [{"id": 1, "клиент": {"имя": "Анна", "адрес": {"город": "Казань", "дом": 7}}}]
    rows = read_csv(convert(run_app, tmp_path, data))
    assert rows == [["id", "клиент.имя", "клиент.адрес.город", "клиент.адрес.дом"],
                    ["1", "Анна", "Казань", "7"]]


def test_columns_in_first_seen_order_missing_values_empty(run_app, tmp_path):
    data = [{"b": 1, "a": 2},
            {"a": 3, "c": {"x": 4}},
            {"d": "последний", "b": None}]
    rows = read_csv(convert(run_app, tmp_path, data))
    assert rows == [["b", "a", "c.x", "d"],
                    ["1", "2", "", ""],
                    ["", "3", "4", ""],
                    ["", "", "", "последний"]]


def test_lists_nulls_booleans_and_numbers(run_app, tmp_path):
    data = [{"теги": ["vip", "опт"], "пусто": None, "активен": True, "удалён": False,
             "сумма": 3.5, "кол": 42}]
    header, row = read_csv(convert(run_app, tmp_path, data))
    cells = dict(zip(header, row, strict=True))
    assert json.loads(cells["теги"]) == ["vip", "опт"]
    assert "опт" in cells["теги"], "Cyrillic inside a list must not be escaped"
    assert cells["пусто"] == ""
    assert (cells["активен"], cells["удалён"]) == ("true", "false")
    assert (cells["сумма"], cells["кол"]) == ("3.5", "42")


def test_delimiters_quotes_and_newlines_read_back(run_app, tmp_path):
    tricky = ['Иванов, Иван', 'ООО "Ромашка"', "строка 1\nстрока 2", "a;b"]
    data = [{"v": value} for value in tricky]
    assert read_csv(convert(run_app, tmp_path, data)) == [["v"], *[[v] for v in tricky]]
    assert read_csv(convert(run_app, tmp_path, data, "-d", ";"), ";") == [
        ["v"], *[[v] for v in tricky]]


def test_bom_and_delimiter_options(run_app, tmp_path):
    data = [{"город": "Москва", "население": 13000000}]
    plain = convert(run_app, tmp_path, data).read_bytes()
    assert not plain.startswith(BOM)
    assert plain.decode("utf-8").splitlines()[0] == "город,население"

    out = convert(run_app, tmp_path, data, "--bom", "-d", ";")
    raw = out.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM * 2)
    text = raw[3:].decode("utf-8")
    assert text.splitlines() == ["город;население", "Москва;13000000"]


def test_stdout_without_output_file(run_app, tmp_path):
    source = write_json(tmp_path, [{"имя": "Ёжик", "n": 1}, {"имя": "Заяц", "n": 2}])
    result = run_app(source, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [row for row in csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))) if row]
    assert rows == [["имя", "n"], ["Ёжик", "1"], ["Заяц", "2"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json"], "no file may be created"

    empty = write_json(tmp_path, [], "empty.json")
    result = run_app(empty, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not result.stdout.strip("\ufeff\r\n ")


def test_bad_input_gives_clear_error_and_no_output_file(run_app, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"a": 1},\n  {"a": 2,,}\n]', encoding="utf-8")
    not_array = write_json(tmp_path, {"a": 1}, "object.json")
    not_objects = write_json(tmp_path, [1, 2, 3], "numbers.json")
    for source in (tmp_path / "missing.json", broken, not_array, not_objects):
        out = tmp_path / "out.csv"
        result = run_app(source, "-o", out)
        assert result.returncode == 1, (source.name, result.stderr)
        assert result.stderr.strip(), source.name
        assert "Traceback" not in result.stderr, result.stderr
        assert not out.exists(), f"{source.name}: an output file was created"
