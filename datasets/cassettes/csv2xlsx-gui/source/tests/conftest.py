"""Shared fixtures: CSV files written on the fly and a reader for the resulting workbooks."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

# Qt must never need a display in the tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample.csv"

Rows = list[list[object]]


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write ``text`` to ``tmp_path/name`` (UTF-8 unless told) and return the path."""

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


def read_workbook(path: Path) -> dict[str, Rows]:
    """Every sheet of a workbook as rows of values, in sheet order."""
    workbook = load_workbook(path, read_only=True)
    try:
        return {
            sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in workbook.worksheets
        }
    finally:
        workbook.close()
