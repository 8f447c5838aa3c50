"""Shared fixtures: an isolated MultiCoder environment for running the real CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Qt tests draw offscreen (no display needed); a screenshot script sets its own platform.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.support.qt import (  # noqa: F401 - fixtures shared by the desktop tests
    english,
    memory_keyring,
    no_unexpected_boxes,
)

ROOT = Path(__file__).resolve().parents[1]
PLANTED_KEY = "sk-proj-PLANTEDfakeKEYdoNOTleak0123456789abcdef"


def isolated_env(base: Path) -> dict[str, str]:
    """Environment for a CLI subprocess: own data dir and settings under ``base``, no real
    keys or keyring, and a planted fake key that must never reach any file of a run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MULTICODER_") and not k.endswith("_API_KEY")}
    env.update({
        "MULTICODER_DATA_DIR": str(base / "data"),
        "MULTICODER_CONFIG": str(base / "settings.toml"),
        # Tests of the graph opt in to the local backend; the sandbox tests pick their own.
        "MULTICODER_SANDBOX__BACKEND": "local",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "OPENAI_API_KEY": PLANTED_KEY,
        "COLUMNS": "200",
    })
    return env


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """In-process twin of :func:`isolated_env`: the same variables set in this process, and
    the :class:`graph.settings.Settings` they load (data and settings under ``tmp_path``)."""
    for name in list(os.environ):
        if name.startswith("MULTICODER_") or name.endswith("_API_KEY"):
            monkeypatch.delenv(name)
    for name, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    from graph.settings import Settings

    return Settings()


@pytest.fixture
def cli_env(tmp_path):
    """:func:`isolated_env` in the test's own temporary folder."""
    return isolated_env(tmp_path)


def run_id_of(result) -> str:
    """The run id the CLI printed first (``run <id> — <folder>``)."""
    for line in result.stdout.splitlines():
        if line.startswith("run "):
            return line.split()[1]
    raise AssertionError("no run id in output:\n" + result.stdout + result.stderr)


def run_cli(args, env, timeout=1800, **kwargs):
    """Run ``multicoder ARGS`` in a subprocess; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **kwargs)
