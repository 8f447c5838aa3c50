"""Counting words, sentences, paragraphs and characters; the reading time."""

from __future__ import annotations

import pytest

from textstats.stats import (
    TextStats,
    analyse,
    count_paragraphs,
    count_sentences,
    count_words,
    reading_minutes,
)

STORY = ("Привет, мир! Кто-то постучал в дверь?! Я открыл... Никого.\n"
         "\n"
         "Северо-запад — это направление. Ветер дул с северо-запада\n")


@pytest.mark.parametrize(("text", "words"), [
    ("Привет, мир!", 2),
    ("кто-то где-то когда-нибудь", 3),
    ("северо-запад — направление", 2),
    ("В 2024 году было 366 дней", 6),
    ("e-mail и Wi-Fi", 3),
    ("Ёлка, ёж и щётка", 4),
    ("— – - ...", 0),
    ("snake_case", 2),
    ("", 0),
])
def test_count_words(text: str, words: int) -> None:
    assert count_words(text) == words


@pytest.mark.parametrize(("text", "sentences"), [
    ("Один. Два! Три? Четыре…", 4),
    ("Что?! Правда?!! Да...", 3),
    ("Без точки в конце", 1),
    ("Первое. А это хвост", 2),
    ("...", 0),
    ("   ", 0),
    ("Конец.\n\n", 1),
])
def test_count_sentences(text: str, sentences: int) -> None:
    assert count_sentences(text) == sentences


@pytest.mark.parametrize(("text", "paragraphs"), [
    ("Один абзац\nв две строки", 1),
    ("Первый\n\nВторой", 2),
    ("Первый\n   \n\n\nВторой\n\n", 2),
    ("\n\n", 0),
    ("", 0),
])
def test_count_paragraphs(text: str, paragraphs: int) -> None:
    assert count_paragraphs(text) == paragraphs


def test_analyse_the_story() -> None:
    assert analyse(STORY) == TextStats(chars=len(STORY), chars_no_spaces=100, words=16,
                                       sentences=6, paragraphs=2, avg_sentence_words=2.7,
                                       reading_time_min=1)


def test_characters_count_unicode_code_points_and_skip_all_whitespace() -> None:
    stats = analyse("Да, нет. Ёж — 🙂!\tок\n")
    assert stats.chars == 20
    assert stats.chars_no_spaces == 14


@pytest.mark.parametrize(("words", "wpm", "minutes"), [
    (0, 180, 0), (1, 180, 1), (180, 180, 1), (181, 180, 2), (400, 180, 3), (400, 200, 2),
    (400, 399, 2), (400, 400, 1),
])
def test_reading_time_rounds_up(words: int, wpm: int, minutes: int) -> None:
    assert reading_minutes(words, wpm) == minutes


def test_reading_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        reading_minutes(10, 0)


def test_empty_text_is_all_zeros() -> None:
    assert set(analyse("").as_dict().values()) == {0}


def test_json_keys_in_order() -> None:
    assert list(analyse("Текст.").as_dict()) == [
        "chars", "chars_no_spaces", "words", "sentences", "paragraphs", "avg_sentence_words",
        "reading_time_min"]
