"""PyInstaller packaging of a small CLI app into a one-file executable, then running it."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from tools.appenv import AppEnvironment
from tools.checks import CheckContext
from tools.checks.base import AppContract
from tools.packaging import (
    PACKAGED_RUN,
    PackagingError,
    build_executable,
    pyinstaller_argv,
    smoke_executable,
)
from tools.sandbox.local import LocalSandbox

APP = {
    "pyproject.toml": (
        '[project]\nname = "hello"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        "dependencies = []\n"),
    "hello/__init__.py": '"""The hello package."""\n',
    "hello/core.py": (
        '"""Greeting logic."""\n\n\ndef greet(name: str) -> str:\n'
        '    """Return a greeting."""\n    return f"Hello, {name}!"\n'),
    "main.py": (
        '"""Entry point."""\n\nimport sys\n\nfrom hello.core import greet\n\n'
        'if __name__ == "__main__":\n'
        '    sys.stdout.write(greet(sys.argv[1] if len(sys.argv) > 1 else "world") + "\\n")\n'),
}

CONTRACT = AppContract(name="hello", entry="main.py", smoke_args=["packaged"])


def make_context(workspace: Path, contract: AppContract = CONTRACT) -> CheckContext:
    for relative, text in APP.items():
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    sandbox = LocalSandbox(workspace)
    return CheckContext(workspace=workspace.resolve(), contract=contract, sandbox=sandbox,
                        environment=AppEnvironment(workspace, sandbox))


def test_command_line_follows_the_contract(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ws")
    argv = pyinstaller_argv(ctx, tmp_path / "dist")
    assert argv[1:6] == ["--onefile", "--noconfirm", "--clean", "--name", "hello"]
    assert "--windowed" not in argv and "--icon" not in argv
    assert argv[-1] == str(ctx.workspace / "main.py")
    gui = ctx.contract.model_copy(update={"gui": True, "smoke_args": None, "icon": "app.ico"})
    gui_argv = pyinstaller_argv(CheckContext(
        workspace=ctx.workspace, contract=gui, sandbox=ctx.sandbox,
        environment=ctx.environment), tmp_path / "dist")
    assert "--windowed" in gui_argv
    assert gui_argv[gui_argv.index("--icon") + 1] == str(ctx.workspace / "app.ico")


def test_missing_entry_is_a_packaging_error(tmp_path: Path) -> None:
    contract = CONTRACT.model_copy(update={"entry": "nowhere.py"})
    ctx = make_context(tmp_path / "ws", contract)
    with pytest.raises(PackagingError, match=r"nowhere\.py"):
        build_executable(ctx, tmp_path / "dist")


@pytest.mark.slow
def test_cli_app_builds_to_a_one_file_executable_that_runs(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ws")
    dist = tmp_path / "dist"

    artifact = build_executable(ctx, dist)

    suffix = ".exe" if sys.platform == "win32" else ""
    assert artifact.path == dist.resolve() / f"hello{suffix}"
    data = artifact.path.read_bytes()
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert artifact.size_bytes == len(data)
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == artifact.sha256
    assert manifest["size_bytes"] == artifact.size_bytes
    assert manifest["name"] == "hello"
    assert manifest["build_log"] == "build.log"
    assert manifest["command"][1] == "--onefile"
    assert artifact.build_log_path == dist.resolve() / "build.log"
    assert "Building EXE" in artifact.build_log_path.read_text(encoding="utf-8")

    smoke = smoke_executable(artifact, ctx)
    assert smoke.check == PACKAGED_RUN
    assert smoke.passed, smoke.output
    assert "Hello, packaged!" in smoke.output
    assert not list((ctx.workspace / ".tmp").glob("_MEI*"))  # nothing left unpacked

    # The executable needs nothing from the venv: it runs with a plain environment too.
    direct = ctx.sandbox.run([str(artifact.path), "direct"], env={"TMPDIR": str(tmp_path)})
    assert direct.ok and direct.stdout == "Hello, direct!\n"


GUI_APP = '''\
"""A small Qt window."""

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

if __name__ == "__main__":
    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setCentralWidget(QLabel("packaged"))
    window.show()
    raise SystemExit(app.exec())
'''


@pytest.mark.slow
def test_gui_app_packages_and_stays_up_headless(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    contract = AppContract(name="window", entry="window.py", gui=True, gui_stay_up_s=4.0)
    ctx = make_context(workspace, contract)
    (workspace / "window.py").write_text(GUI_APP, encoding="utf-8")
    (workspace / "pyproject.toml").write_text(
        APP["pyproject.toml"].replace("dependencies = []",
                                      'dependencies = ["PySide6-Essentials>=6.9"]'),
        encoding="utf-8")

    artifact = build_executable(ctx, tmp_path / "dist")
    assert "--windowed" in json.loads(
        (tmp_path / "dist" / "manifest.json").read_text(encoding="utf-8"))["command"]

    smoke = smoke_executable(artifact, ctx)
    assert smoke.passed, smoke.output
    assert "killed at the time-out" in smoke.output
    assert not list((workspace / ".tmp").glob("_MEI*"))  # the killed run's unpacked files
