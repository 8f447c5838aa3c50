"""Export formats: Markdown for people, JSON for programs (both UTF-8)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from notes.db import Note

FORMATS = ("md", "json")
JSON_FORMAT_NAME = "notes-export"
JSON_FORMAT_VERSION = 1


def local_time(iso: str) -> str:
    """A stored UTC time as local ``YYYY-MM-DD HH:MM`` (the text itself if unparsable)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def to_json(notes: Sequence[Note], exported: datetime) -> str:
    """A JSON document with every field of every note (tags as a list)."""
    document = {
        "format": JSON_FORMAT_NAME,
        "version": JSON_FORMAT_VERSION,
        "exported": exported.astimezone(UTC).isoformat(timespec="seconds"),
        "count": len(notes),
        "notes": [
            {"id": note.id, "title": note.title, "body": note.body, "tags": list(note.tags),
             "created": note.created, "updated": note.updated}
            for note in notes
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def to_markdown(notes: Sequence[Note], exported: datetime) -> str:
    """A Markdown document: a heading per note, its tags and times, then its body."""
    stamp = exported.astimezone().strftime("%Y-%m-%d %H:%M")
    lines = ["# Notes", "", f"Exported {stamp}, {len(notes)} note{'s' * (len(notes) != 1)}.", ""]
    for note in notes:
        lines += [f"## {note.title}", ""]
        meta = [f"#{note.id}", f"created {local_time(note.created)}",
                f"updated {local_time(note.updated)}"]
        if note.tags:
            meta.append("tags: " + ", ".join(note.tags))
        lines += ["*" + " · ".join(meta) + "*", ""]
        if note.body.strip():
            lines += [note.body.rstrip("\n"), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(notes: Sequence[Note], fmt: str, exported: datetime) -> str:
    """The notes in format ``fmt`` (``md`` or ``json``).

    Raises:
        ValueError: an unknown format.

    """
    if fmt == "json":
        return to_json(notes, exported)
    if fmt == "md":
        return to_markdown(notes, exported)
    raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
