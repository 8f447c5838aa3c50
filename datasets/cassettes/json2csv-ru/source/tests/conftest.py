"""Shared fixtures: write a JSON input file and run the command line in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from json2csv.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def json_file(tmp_path: Path) -> Callable[..., Path]:
    """Write ``data`` as a UTF-8 JSON file (``raw=`` writes text as is) and return its path."""

    def write(data: Any = None, *, raw: str | None = None, name: str = "input.json") -> Path:
        path = tmp_path / name
        text = raw if raw is not None else json.dumps(data, ensure_ascii=False, indent=2)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``json2csv ARGS...`` in-process and capture its output."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
