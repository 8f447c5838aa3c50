"""The export formats on their own."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notes.db import Note
from notes.export import local_time, render, to_json, to_markdown

EXPORTED = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
NOTES = [
    Note(1, "Заметка", "Строка 1\nСтрока 2\n", ("дом", "важное"), "2024-05-01T09:00:00+00:00",
         "2024-05-01T10:00:00+00:00"),
    Note(2, "No body", "", (), "2024-05-01T11:00:00+00:00", "2024-05-01T11:00:00+00:00"),
]


def test_json_round_trips_every_field() -> None:
    document = json.loads(to_json(NOTES, EXPORTED))
    assert document["version"] == 1
    assert document["exported"] == "2024-05-02T12:00:00+00:00"
    assert document["notes"][0] == {
        "id": 1, "title": "Заметка", "body": "Строка 1\nСтрока 2\n", "tags": ["дом", "важное"],
        "created": "2024-05-01T09:00:00+00:00", "updated": "2024-05-01T10:00:00+00:00"}
    assert document["notes"][1]["tags"] == []


def test_markdown_has_a_section_per_note() -> None:
    text = to_markdown(NOTES, EXPORTED)
    assert text.startswith("# Notes\n\nExported ")
    assert "2 notes." in text
    assert "## Заметка\n\n*#1 · created " in text
    assert "tags: дом, важное*" in text
    assert "Строка 1\nСтрока 2\n\n## No body" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_render_rejects_unknown_formats() -> None:
    assert render(NOTES, "md", EXPORTED) == to_markdown(NOTES, EXPORTED)
    with pytest.raises(ValueError, match="unknown export format"):
        render(NOTES, "pdf", EXPORTED)


def test_local_time() -> None:
    assert len(local_time("2024-05-01T09:00:00+00:00")) == len("2024-05-01 09:00")
    assert local_time("not a time") == "not a time"
