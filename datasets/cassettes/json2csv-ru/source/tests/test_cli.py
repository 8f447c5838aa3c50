"""The command line: output to a file or stdout, options, errors, the smoke command."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result

BOM = b"\xef\xbb\xbf"
PROJECT = Path(__file__).resolve().parent.parent

RECORDS = [
    {"id": 1, "клиент": {"имя": "Анна", "адрес": {"город": "Казань"}}, "теги": ["vip", "опт"]},
    {"id": 2, "клиент": {"имя": "Пётр"}, "оплачен": True},
]
EXPECTED = [
    ["id", "клиент.имя", "клиент.адрес.город", "теги", "оплачен"],
    ["1", "Анна", "Казань", '["vip", "опт"]', ""],
    ["2", "Пётр", "", "", "true"],
]


def read_csv(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_writes_a_utf8_file_without_bom_by_default(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = cli(json_file(RECORDS), "-o", out)
    assert (result.code, result.out, result.err) == (0, "", "")
    assert not out.read_bytes().startswith(BOM)
    assert read_csv(out) == EXPECTED


def test_bom_and_semicolon_for_excel(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "excel.csv"
    assert cli(json_file(RECORDS), "-o", out, "--bom", "-d", ";").code == 0
    raw = out.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM * 2)
    assert raw[3:].decode("utf-8").startswith("id;клиент.имя;клиент.адрес.город;теги;оплачен\r\n")
    assert read_csv(out, ";") == EXPECTED


def test_prints_to_stdout_without_output_option(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    source = json_file(RECORDS)
    result = cli(source)
    assert result.code == 0, result.err
    assert list(csv.reader(io.StringIO(result.out, newline=""))) == EXPECTED
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


def test_empty_array_is_not_an_error(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "empty.csv"
    assert cli(json_file([]), "-o", out).code == 0
    assert out.read_bytes() == b""


def test_errors_exit_1_and_create_no_file(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    cases = {
        "missing": (tmp_path / "missing.json", "файл не найден"),
        "broken": (json_file(raw='[{"a": 1},\n {"a": }]', name="broken.json"), "строке 2"),
        "object": (json_file({"a": 1}, name="object.json"), "массив"),
        "numbers": (json_file([1, 2], name="numbers.json"), "элемент 1"),
    }
    for name, (source, fragment) in cases.items():
        out = tmp_path / f"{name}.csv"
        result = cli(source, "-o", out)
        assert result.code == 1, name
        assert result.err.startswith("json2csv: ошибка:") and fragment in result.err, name
        assert not out.exists(), name


def test_existing_output_is_kept_when_the_input_is_bad(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "keep.csv"
    out.write_text("старое содержимое", encoding="utf-8")
    assert cli(json_file(raw="[{", name="bad.json"), "-o", out).code == 1
    assert out.read_text(encoding="utf-8") == "старое содержимое"


def test_unwritable_output_is_a_clear_error(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    result = cli(json_file(RECORDS), "-o", tmp_path / "no-such-folder" / "out.csv")
    assert result.code == 1
    assert "не удалось записать" in result.err


def test_output_may_not_replace_the_input_or_a_folder(
        cli: Callable[..., Result], json_file: Callable[..., Path], tmp_path: Path) -> None:
    source = json_file(RECORDS)
    before = source.read_bytes()
    for target in (source, tmp_path):
        result = cli(source, "-o", target)
        assert result.code == 1
        assert "не удалось записать" in result.err
    assert source.read_bytes() == before


def test_bad_delimiter_is_a_usage_error(
        cli: Callable[..., Result], json_file: Callable[..., Path]) -> None:
    result = cli(json_file(RECORDS), "-d", ";;")
    assert result.code == 2
    assert "разделитель" in result.err


def test_smoke_command_as_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "smoke.csv"
    done = subprocess.run(
        [sys.executable, "json2csv/main.py", "samples/orders.json", "-o", str(out)],
        cwd=PROJECT, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    rows = read_csv(out)
    assert rows[0][:4] == ["id", "клиент.имя", "клиент.адрес.город", "клиент.адрес.улица"]
    assert len(rows) == 4
