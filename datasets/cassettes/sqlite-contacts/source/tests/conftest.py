"""Shared fixtures: an address book in a temporary folder and an in-process command runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contacts.cli import main
from contacts.db import ContactBook


@dataclass
class Result:
    code: int
    out: str
    err: str

    def rows(self) -> list[list[str]]:
        """The output's lines split at tabs."""
        return [line.split("\t") for line in self.out.splitlines()]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "contacts.db"


@pytest.fixture
def book(db_path: Path) -> Iterator[ContactBook]:
    with ContactBook(db_path) as opened:
        yield opened


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``contacts --db <db_path> ARGS...`` in-process."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(["--db", str(db_path), *args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
