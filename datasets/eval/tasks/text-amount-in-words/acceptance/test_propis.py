from decimal import Decimal

import pytest

from propis import amount_in_words

EXAMPLE = "Одна тысяча двести тридцать четыре рубля 56 копеек"


def test_the_example_from_the_request():
    assert amount_in_words(1234.56) == EXAMPLE
    assert amount_in_words("1234.56") == EXAMPLE
    assert amount_in_words("1234,56") == EXAMPLE
    assert amount_in_words(Decimal("1234.56")) == EXAMPLE


def test_rouble_forms_and_gender():
    cases = {
        1: "Один рубль", 2: "Два рубля", 5: "Пять рублей", 11: "Одиннадцать рублей",
        14: "Четырнадцать рублей", 21: "Двадцать один рубль", 112: "Сто двенадцать рублей",
        1000: "Одна тысяча рублей", 2000: "Две тысячи рублей", 5000: "Пять тысяч рублей",
        11000: "Одиннадцать тысяч рублей", 22042: "Двадцать две тысячи сорок два рубля",
    }
    for amount, roubles in cases.items():
        assert amount_in_words(amount) == f"{roubles} 00 копеек", amount


def test_kopeck_forms_and_zero():
    assert amount_in_words(0) == "Ноль рублей 00 копеек"
    assert amount_in_words("0.01") == "Ноль рублей 01 копейка"
    assert amount_in_words("0,02") == "Ноль рублей 02 копейки"
    assert amount_in_words("0.11") == "Ноль рублей 11 копеек"
    assert amount_in_words("0.21") == "Ноль рублей 21 копейка"
    assert amount_in_words(3.5) == "Три рубля 50 копеек"


def test_millions_and_billions():
    assert amount_in_words(1_000_000) == "Один миллион рублей 00 копеек"
    assert amount_in_words(1_001_001) == "Один миллион одна тысяча один рубль 00 копеек"
    assert amount_in_words(100_000_005) == "Сто миллионов пять рублей 00 копеек"
    assert amount_in_words(2_000_000_000) == "Два миллиарда рублей 00 копеек"
    assert amount_in_words("999999999999.99") == (
        "Девятьсот девяносто девять миллиардов девятьсот девяносто девять миллионов "
        "девятьсот девяносто девять тысяч девятьсот девяносто девять рублей 99 копеек")


def test_rounding_half_up_and_floats_as_printed():
    assert amount_in_words("2.675") == "Два рубля 68 копеек"
    assert amount_in_words(2.675) == "Два рубля 68 копеек"
    assert amount_in_words(0.1 + 0.2) == "Ноль рублей 30 копеек"
    assert amount_in_words(Decimal("0.125")) == "Ноль рублей 13 копеек"
    assert amount_in_words("0.994") == "Ноль рублей 99 копеек"
    assert amount_in_words("1.995") == "Два рубля 00 копеек"


def test_bad_amounts_raise_value_error():
    for bad in (-1, "-0.5", "abc", "", 10**12, "1000000000000"):
        with pytest.raises(ValueError):
            amount_in_words(bad)


def test_command_line(run_app):
    result = run_app("1234,56")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == EXAMPLE
    result = run_app("много")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
