"""Flattening, cell text, column order and CSV quoting."""

from __future__ import annotations

import csv
import io
import json

import pytest

from json2csv.convert import (
    ConversionError,
    cell_text,
    convert,
    flatten,
    parse_records,
    to_table,
)


def read_back(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_flatten_joins_nested_keys_with_dots_at_any_depth() -> None:
    record = {"id": 1, "клиент": {"имя": "Анна", "адрес": {"город": "Казань", "дом": 7}}}
    assert flatten(record) == {"id": 1, "клиент.имя": "Анна", "клиент.адрес.город": "Казань",
                               "клиент.адрес.дом": 7}


def test_flatten_keeps_empty_objects_and_lists_as_values() -> None:
    assert flatten({"a": {}, "b": [1, {"c": 2}]}) == {"a": {}, "b": [1, {"c": 2}]}


@pytest.mark.parametrize(("value", "text"), [
    (None, ""),
    (True, "true"),
    (False, "false"),
    (42, "42"),
    (3.5, "3.5"),
    (-0.25, "-0.25"),
    (12345678901234567890, "12345678901234567890"),
    ("Ёжик", "Ёжик"),
    (["vip", "опт"], '["vip", "опт"]'),
    ({}, "{}"),
])
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_columns_keep_first_seen_order_across_records() -> None:
    header, rows = to_table([{"b": 1, "a": 2}, {"a": 3, "c": {"x": 4}}, {"d": "ё", "b": None}])
    assert header == ["b", "a", "c.x", "d"]
    assert rows == [["1", "2", "", ""], ["", "3", "4", ""], ["", "", "", "ё"]]


def test_missing_fields_and_null_are_empty_cells() -> None:
    header, rows = to_table([{"имя": "Анна", "телефон": None}, {"имя": "Пётр"}])
    assert header == ["имя", "телефон"]
    assert rows == [["Анна", ""], ["Пётр", ""]]


def test_special_characters_read_back_unchanged() -> None:
    tricky = ["Иванов, Иван", 'ООО "Ромашка"', "строка 1\nстрока 2", "a;b", " пробелы "]
    text = convert([{"v": value} for value in tricky])
    assert read_back(text) == [["v"], *[[value] for value in tricky]]
    semicolon = convert([{"v": value} for value in tricky], ";")
    assert read_back(semicolon, ";") == [["v"], *[[value] for value in tricky]]


def test_csv_uses_crlf_and_the_delimiter() -> None:
    assert convert([{"город": "Москва", "население": 13000000}], ";") == (
        "город;население\r\n" "Москва;13000000\r\n")


def test_empty_array_gives_empty_text() -> None:
    assert convert([]) == ""


def test_list_cells_are_valid_json() -> None:
    header, rows = to_table([{"теги": ["vip", "опт"], "вложенный": [{"a": 1}]}])
    cells = dict(zip(header, rows[0], strict=True))
    assert json.loads(cells["теги"]) == ["vip", "опт"]
    assert json.loads(cells["вложенный"]) == [{"a": 1}]


@pytest.mark.parametrize(("text", "fragment"), [
    ('[\n  {"a": 1},\n  {"a": 2,,}\n]', "строке 3"),
    ('{"a": 1}', "ожидался массив"),
    ("[1, 2]", "элемент 1"),
    ('[{"a": 1}, "x"]', "элемент 2"),
    ("", "строке 1"),
])
def test_invalid_input_is_explained(text: str, fragment: str) -> None:
    with pytest.raises(ConversionError, match=fragment):
        parse_records(text, "input.json")
