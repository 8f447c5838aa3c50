import configparser
import json

SETTINGS = """; main settings
[server]
Host = localhost
Port = 8080
Ratio = 0.75
Offset = -3
Debug = TRUE
Verbose = false
answer = yes

# paths
[paths]
Data = ${HOME}/data
Progress = 100%
Empty =
"""


def convert(run_app, tmp_path, source_name, text, target_name):
    source = tmp_path / source_name
    source.write_text(text, encoding="utf-8")
    target = tmp_path / target_name
    result = run_app(source, target)
    assert result.returncode == 0, result.stderr
    return target


def read_ini(path):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return {name: dict(parser[name]) for name in parser.sections()}


def ini_to_json(run_app, tmp_path, text, name="settings"):
    target = convert(run_app, tmp_path, f"{name}.ini", text, f"{name}.json")
    return json.loads(target.read_text(encoding="utf-8"))


def test_ini_to_json_types_and_key_case(run_app, tmp_path):
    data = ini_to_json(run_app, tmp_path, SETTINGS)
    assert list(data) == ["server", "paths"]
    server = data["server"]
    assert server == {"Host": "localhost", "Port": 8080, "Ratio": 0.75, "Offset": -3,
                      "Debug": True, "Verbose": False, "answer": "yes"}
    assert type(server["Port"]) is int and type(server["Debug"]) is bool


def test_percent_placeholders_and_default_section_stay_as_written(run_app, tmp_path):
    data = ini_to_json(run_app, tmp_path, "[DEFAULT]\nTimeout = 30\n\n" + SETTINGS)
    assert data["paths"] == {"Data": "${HOME}/data", "Progress": "100%", "Empty": ""}
    assert data["DEFAULT"] == {"Timeout": 30}
    assert "Timeout" not in data["server"]


def test_json_to_ini_and_round_trip(run_app, tmp_path):
    source = {"db": {"Name": "shop", "Port": 5432, "Ssl": True, "Pool": 2.5, "Password": None},
              "log": {"Level": "debug", "Format": "%(asctime)s %(message)s"}}
    ini = convert(run_app, tmp_path, "db.json", json.dumps(source), "db.ini")
    assert read_ini(ini) == {
        "db": {"Name": "shop", "Port": "5432", "Ssl": "true", "Pool": "2.5", "Password": ""},
        "log": {"Level": "debug", "Format": "%(asctime)s %(message)s"},
    }
    first = ini_to_json(run_app, tmp_path, SETTINGS, "first")
    again = convert(run_app, tmp_path, "again.json", json.dumps(first), "again.ini")
    second = ini_to_json(run_app, tmp_path, again.read_text(encoding="utf-8"), "second")
    assert second == first


def test_unicode_is_kept_readable_and_json_is_indented(run_app, tmp_path):
    target = convert(run_app, tmp_path, "ru.ini", "[окно]\nЗаголовок = Привет, мир ✓\n",
                     "ru.json")
    raw = target.read_text(encoding="utf-8")
    assert "Привет, мир ✓" in raw and "\\u" not in raw
    assert "\n" in raw.strip()
    assert json.loads(raw) == {"окно": {"Заголовок": "Привет, мир ✓"}}
    back = convert(run_app, tmp_path, "back.json", raw, "back.ini")
    assert read_ini(back) == {"окно": {"Заголовок": "Привет, мир ✓"}}


def test_bad_input_is_a_clear_error_and_writes_nothing(run_app, tmp_path):
    cases = {
        "orphan.ini": "key = value\n[section]\nother = 1\n",
        "broken.json": '{"section": {"key": 1,}}',
        "nested.json": '{"section": {"key": {"deeper": 1}}}',
        "listed.json": '{"section": {"key": [1, 2]}}',
        "notes.txt": "[a]\nb = 1\n",
    }
    targets = {".ini": ".json", ".json": ".ini", ".txt": ".json"}
    for name, text in cases.items():
        source = tmp_path / name
        source.write_text(text, encoding="utf-8")
        target = source.with_suffix(targets[source.suffix])
        result = run_app(source, target)
        assert result.returncode == 1, name
        assert result.stderr.strip() and "Traceback" not in result.stderr, name
        assert not target.exists(), name
    missing = run_app(tmp_path / "missing.ini", tmp_path / "missing.json")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert not (tmp_path / "missing.json").exists()
