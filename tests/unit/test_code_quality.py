"""ruff and mypy (strict on our packages) stay clean: checked on every test run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    # --no-cache: a cached verdict can hide a change in how ruff classifies an import (a new
    # first-party module), which is how CI, starting without a cache, once saw what we did not
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean():
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
