import json
import re

KEYS = {"chars", "chars_no_spaces", "words", "sentences", "paragraphs", "avg_sentence_words",
        "reading_time_min"}

STORY = ("Привет, мир! Кто-то постучал в дверь?! Я открыл... Никого.\n"
         "\n"
         "Северо-запад — это направление. Ветер дул с северо-запада\n")


def write(tmp_path, text, encoding="utf-8", name="text.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def stats(run_app, path, *options):
    result = run_app(path, "--json", *options)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == KEYS, data
    return data


def test_words_sentences_and_paragraphs(run_app, tmp_path):
    data = stats(run_app, write(tmp_path, STORY))
    assert data["words"] == 16
    assert data["sentences"] == 6
    assert data["paragraphs"] == 2
    assert data["avg_sentence_words"] == 2.7
    assert data["reading_time_min"] == 1


def test_characters_with_and_without_whitespace(run_app, tmp_path):
    data = stats(run_app, write(tmp_path, "Да, нет. Ёж — 🙂!"))
    assert (data["chars"], data["chars_no_spaces"]) == (16, 12)
    data = stats(run_app, write(tmp_path, "Да, нет. Ёж — 🙂!", "utf-8-sig", "bom.txt"))
    assert (data["chars"], data["chars_no_spaces"]) == (16, 12), "the BOM is not a character"
    data = stats(run_app, write(tmp_path, "раз\tдва\n\nтри  четыре\n", name="ws.txt"))
    assert data["chars_no_spaces"] == 15
    assert data["words"] == 4


def test_reading_time_rounds_up_and_wpm_option(run_app, tmp_path):
    path = write(tmp_path, "слово " * 399 + "конец.")
    assert stats(run_app, path)["reading_time_min"] == 3
    assert stats(run_app, path, "--wpm", "200")["reading_time_min"] == 2
    assert stats(run_app, path, "--wpm", "399")["reading_time_min"] == 2
    assert stats(run_app, path, "--wpm", "400")["reading_time_min"] == 1


def test_windows_1251_file_gives_the_same_numbers(run_app, tmp_path):
    utf8 = stats(run_app, write(tmp_path, STORY, "utf-8", "utf8.txt"))
    cp1251 = stats(run_app, write(tmp_path, STORY, "cp1251", "cp1251.txt"))
    assert cp1251 == utf8


def test_empty_file_is_all_zeros(run_app, tmp_path):
    data = stats(run_app, write(tmp_path, ""))
    assert all(value == 0 for value in data.values()), data


def test_missing_file_and_bad_wpm_are_errors(run_app, tmp_path):
    path = write(tmp_path, "слово " * 10)
    for args in ((tmp_path / "нет-такого.txt",), (path, "--wpm", "0"), (path, "--wpm", "-5"),
                 (path, "--wpm", "быстро")):
        result = run_app(*args)
        assert result.returncode != 0, args
        assert result.stderr.strip(), args
        assert "Traceback" not in result.stderr, result.stderr


def test_plain_output_shows_the_same_numbers(run_app, tmp_path):
    path = write(tmp_path, STORY)
    data = stats(run_app, path)
    result = run_app(path)
    assert result.returncode == 0, result.stderr
    numbers = set(re.findall(r"\d+(?:[.,]\d+)?", result.stdout))
    for key, value in data.items():
        assert str(value) in numbers or str(value).replace(".", ",") in numbers, (key, value)
    assert re.search(r"[а-яё]", result.stdout, re.IGNORECASE), "the table should be in Russian"
