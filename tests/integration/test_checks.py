"""The paranoid tester's checks against small real apps, in real uv-built environments.

Each fixture app gets its own ``.venv`` (module-scoped, built once); uv's cache makes the
second and later environments cheap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.appenv import DEFAULT_TOOLS, AppEnvironment, declared_requirements
from tools.checks import ALL, CheckContext, run_checks
from tools.checks.base import AppContract, CheckResult, Finding
from tools.checks.headless import check_headless
from tools.checks.imports import check_imports
from tools.sandbox.base import AppEnvironmentError
from tools.sandbox.local import LocalSandbox

PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [{deps}]
"""

CLI_MAIN = '''\
"""Command line entry point."""

import argparse
import sys
import time

from {package}.core import greet


def main() -> int:
    """Greet someone; --sleep makes it slow (for the time-out test)."""
    parser = argparse.ArgumentParser(prog="{package}")
    parser.add_argument("--name", default="world")
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    time.sleep(args.sleep)
    sys.stdout.write(greet(args.name) + "\\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''

CORE = '''\
"""Greeting logic."""


def greet(name: str) -> str:
    """Return a greeting for ``name``."""
    return f"Hello, {name}!"
'''

CORE_TEST = '''\
from {package}.core import greet


def test_greet() -> None:
    assert greet("x") == "Hello, x!"
'''

# Planted defects: file -> source; the line numbers are asserted below.
DEFECTS = {
    "badapp/undeclared.py": '''\
"""Uses a module nobody declared."""

import requests_not_here


def fetch() -> object:
    """Fetch something."""
    return requests_not_here.get("x")
''',
    "badapp/unused.py": '''\
"""Imports something it never uses."""

import os


def nothing() -> None:
    """Do nothing."""
''',
    "badapp/typed.py": '''\
"""Returns the wrong type."""


def count() -> int:
    """Count to three."""
    return "three"
''',
    "badapp/shell.py": '''\
"""Runs a command through the shell."""

import subprocess


def run(command: str) -> int:
    """Run ``command`` in a shell."""
    return subprocess.call(command, shell=True)
''',
    "tests/test_broken.py": '''\
def test_fine() -> None:
    assert 1 + 1 == 2


def test_arithmetic() -> None:
    assert 1 + 1 == 3, "arithmetic is broken"
''',
}

GUI_APP = '''\
"""A small Qt window."""

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class Window(QMainWindow):
    """The main window."""

    def __init__(self) -> None:
        super().__init__()
        {init}
        self.setCentralWidget(QLabel("hello"))


def main() -> int:
    """Show the window until it is closed."""
    app = QApplication(sys.argv)
    window = Window()
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
'''


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def cli_app(root: Path, package: str) -> Path:
    return write(root, {
        "pyproject.toml": PYPROJECT.format(name=package, deps=""),
        f"{package}/__init__.py": f'"""The {package} package."""\n',
        f"{package}/core.py": CORE,
        "main.py": CLI_MAIN.format(package=package),
        "tests/test_core.py": CORE_TEST.format(package=package),
    })


def context(workspace: Path, contract: AppContract, *, timeout_s: float = 300.0
            ) -> CheckContext:
    sandbox = LocalSandbox(workspace)
    return CheckContext(workspace=workspace.resolve(), contract=contract, sandbox=sandbox,
                        environment=AppEnvironment(workspace, sandbox), timeout_s=timeout_s)


def ready(ctx: CheckContext) -> CheckContext:
    ctx.environment.ensure()
    return ctx


def by_check(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.check: result for result in results}


def has(findings: list[Finding], **expected: object) -> bool:
    return any(all(getattr(f, key) == value for key, value in expected.items())
               for f in findings)


CLI_CONTRACT = AppContract(name="greeter", entry="main.py", smoke_args=["--name", "smoke"])


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    workspace = cli_app(tmp_path_factory.mktemp("clean"), "greeter")
    return ready(context(workspace, CLI_CONTRACT))


@pytest.fixture(scope="module")
def defects(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    workspace = cli_app(tmp_path_factory.mktemp("defects"), "badapp")
    write(workspace, DEFECTS)
    contract = AppContract(name="badapp", entry="main.py", smoke_args=[])
    return ready(context(workspace, contract))


@pytest.fixture(scope="module")
def defect_report(defects: CheckContext) -> dict[str, CheckResult]:
    return by_check(run_checks(defects).results)


# -- the environment ------------------------------------------------------------------------


def test_environment_is_built_once_and_holds_the_tools(clean: CheckContext) -> None:
    environment = clean.environment
    assert isinstance(environment, AppEnvironment)
    assert environment.ensure() == []  # the marker records the same requirement set
    marker = json.loads(environment.marker_path.read_text(encoding="utf-8"))
    assert marker["requirements"] == sorted(DEFAULT_TOOLS)
    for tool in ("python", "ruff", "mypy", "bandit", "pytest", "pyinstaller"):
        assert Path(environment.program(tool)).exists(), tool
    variables = environment.variables()
    assert variables["PATH"].startswith(str(environment.bin_dir))
    assert variables["VIRTUAL_ENV"] == str(environment.venv_dir)
    assert variables["TMPDIR"] == variables["TEMP"] == variables["TMP"]
    assert Path(variables["TMPDIR"]).is_dir()
    assert variables["QT_QPA_PLATFORM"] == "offscreen"


def test_environment_follows_the_declared_dependencies(tmp_path: Path) -> None:
    # The workspace cannot redirect the installer: its [tool.uv] table is ignored.
    write(tmp_path, {"pyproject.toml": PYPROJECT.format(name="deps", deps='"six>=1.16"')
                     + '[tool.uv]\nindex-url = "http://127.0.0.1:9/simple"\n'})
    sandbox = LocalSandbox(tmp_path)
    environment = AppEnvironment(tmp_path, sandbox, tool_requirements=[])
    assert [r.argv[1:3] for r in environment.ensure()] == [["venv", "--no-config"],
                                                           ["pip", "install"]]
    probe = [environment.program("python"), "-c", "import six"]
    assert sandbox.run(probe, env=environment.variables()).ok
    assert environment.ensure() == []

    # A dropped requirement recreates the venv: stale packages must not hide a missing one.
    write(tmp_path, {"pyproject.toml": PYPROJECT.format(name="deps", deps="")})
    assert [r.argv[1:2] for r in environment.ensure()] == [["venv"]]
    assert not sandbox.run(probe, env=environment.variables()).ok


def test_environment_failure_is_a_typed_error_with_uv_output(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PYPROJECT.format(
        name="bad", deps='"no-such-package-multicoder-test==0.0.1"')})
    environment = AppEnvironment(tmp_path, LocalSandbox(tmp_path), tool_requirements=[])
    with pytest.raises(AppEnvironmentError, match="no-such-package-multicoder-test"):
        environment.ensure()
    assert not environment.marker_path.exists()


def test_requirements_come_from_pyproject_or_requirements_txt(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "# pinned\nopenpyxl>=3.1  # xlsx\n\nrich\n"})
    assert declared_requirements(tmp_path) == ["openpyxl>=3.1", "rich"]
    write(tmp_path, {"pyproject.toml": PYPROJECT.format(name="x", deps='"httpx"')})
    assert declared_requirements(tmp_path) == ["httpx"]
    write(tmp_path, {"pyproject.toml": PYPROJECT.format(name="x", deps='"--index-url=http://x"')})
    with pytest.raises(AppEnvironmentError, match="installer option"):
        declared_requirements(tmp_path)
    write(tmp_path, {"pyproject.toml": "[project\n"})
    with pytest.raises(AppEnvironmentError, match="not valid TOML"):
        declared_requirements(tmp_path)


# -- the clean app --------------------------------------------------------------------------


def test_clean_app_passes_every_check(clean: CheckContext) -> None:
    seen: list[str] = []
    report = run_checks(clean, on_result=lambda result: seen.append(result.check))
    failures = [f.render() for f in report.findings if f.severity == "error"]
    assert report.passed, failures
    assert [r.check for r in report.results] == list(ALL)  # fixed order, whatever finished first
    assert sorted(seen) == sorted(ALL)  # each reported as it completed
    assert "Hello, smoke!" in by_check(report.results)["headless"].output


def test_smoke_command_that_hangs_fails_at_the_time_out(clean: CheckContext) -> None:
    contract = CLI_CONTRACT.model_copy(update={"smoke_args": ["--sleep", "30"]})
    slow = CheckContext(workspace=clean.workspace, contract=contract, sandbox=clean.sandbox,
                        environment=clean.environment, timeout_s=2)
    result = check_headless(slow)
    assert not result.passed
    assert "did not finish within 2 s" in result.findings[0].message


def test_cli_without_smoke_args_must_answer_help(clean: CheckContext) -> None:
    contract = CLI_CONTRACT.model_copy(update={"smoke_args": None})
    ctx = CheckContext(workspace=clean.workspace, contract=contract, sandbox=clean.sandbox,
                       environment=clean.environment)
    result = check_headless(ctx)
    assert result.passed, result.output
    assert "--help" in result.output


# -- planted defects ------------------------------------------------------------------------


def test_undeclared_import_is_reported_where_it_is(defect_report: dict[str, CheckResult]
                                                   ) -> None:
    result = defect_report["imports"]
    assert not result.passed
    assert has(result.findings, file="badapp/undeclared.py", line=3, message=(
        "module 'requests_not_here' is imported but not installed; declare it in"
        " pyproject.toml dependencies"))
    assert len(result.findings) == 1  # local packages, stdlib and installed tools resolve


def test_unused_import_is_a_ruff_finding(defect_report: dict[str, CheckResult]) -> None:
    result = defect_report["ruff"]
    assert not result.passed
    finding = next(f for f in result.findings if f.file == "badapp/unused.py")
    assert finding.line == 3
    assert finding.message.startswith("F401")


def test_type_error_is_a_mypy_finding(defect_report: dict[str, CheckResult]) -> None:
    result = defect_report["mypy"]
    assert not result.passed
    finding = next(f for f in result.findings if f.file == "badapp/typed.py")
    assert finding.line == 6
    assert finding.severity == "error"
    assert finding.message.endswith("[return-value]")


def test_shell_true_is_a_bandit_error_and_low_issues_are_info(
        defect_report: dict[str, CheckResult]) -> None:
    result = defect_report["bandit"]
    assert not result.passed
    shell = next(f for f in result.findings if f.message.startswith("B602"))
    assert (shell.file, shell.line, shell.severity) == ("badapp/shell.py", 8, "error")
    low = next(f for f in result.findings if f.message.startswith("B404"))
    assert (low.file, low.line, low.severity) == ("badapp/shell.py", 3, "info")


def test_failing_test_is_reported_with_its_line_and_message(
        defect_report: dict[str, CheckResult]) -> None:
    result = defect_report["pytest"]
    assert not result.passed
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert (finding.file, finding.line) == ("tests/test_broken.py", 6)
    assert "test_arithmetic failed" in finding.message
    assert "arithmetic is broken" in finding.message


def test_defects_stay_in_their_own_checks(defect_report: dict[str, CheckResult]) -> None:
    assert defect_report["syntax"].passed
    assert defect_report["headless"].passed, defect_report["headless"].output


def test_syntax_error_skips_every_other_check(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": "def broken(:\n    pass\n", "ok.py": "x = 1\n"})
    ctx = context(tmp_path, AppContract(name="broken", entry="main.py"))
    seen: list[CheckResult] = []
    report = run_checks(ctx, on_result=seen.append)
    results = by_check(report.results)
    assert not report.passed
    assert has(results["syntax"].findings, file="main.py", line=1)
    others = [results[name] for name in ALL if name != "syntax"]
    assert all(r.skipped and not r.passed for r in others)
    assert not (tmp_path / ".venv").exists()  # nothing ran in an environment
    assert len(seen) == len(ALL)


def test_a_check_that_cannot_run_fails(tmp_path: Path) -> None:
    # No environment was built: every tool is missing.
    ctx = context(cli_app(tmp_path, "greeter"), CLI_CONTRACT)
    results = by_check(run_checks(ctx).results)
    assert results["syntax"].passed
    for name in ("imports", "ruff", "mypy", "bandit", "headless", "pytest"):
        result = results[name]
        assert not result.passed and not result.skipped, name
        assert "could not be started" in result.findings[0].message, name


def test_app_without_tests_fails_the_pytest_check(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": "x = 1\n"})
    results = by_check(run_checks(context(tmp_path, CLI_CONTRACT),
                                  checks={"pytest": ALL["pytest"]}).results)
    assert not results["pytest"].passed
    assert results["pytest"].findings[0].message == "no tests: add pytest tests under tests/"


# -- GUI apps (PySide6) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gui(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    workspace = write(tmp_path_factory.mktemp("gui"), {
        "pyproject.toml": PYPROJECT.format(name="window", deps='"PySide6-Essentials>=6.9"'),
        "good.py": GUI_APP.format(init="self.setWindowTitle('good')"),
        "bad.py": GUI_APP.format(init="raise RuntimeError('the window is broken')"),
    })
    return ready(context(workspace, AppContract(name="window", entry="good.py", gui=True,
                                                gui_stay_up_s=3.0)))


@pytest.mark.slow
def test_gui_that_stays_up_passes_headless(gui: CheckContext) -> None:
    result = check_headless(gui)
    assert result.passed, result.output
    assert "killed at the time-out" in result.output
    assert check_imports(gui).passed


@pytest.mark.slow
def test_gui_that_raises_in_init_fails_headless(gui: CheckContext) -> None:
    contract = gui.contract.model_copy(update={"entry": "bad.py"})
    broken = CheckContext(workspace=gui.workspace, contract=contract, sandbox=gui.sandbox,
                          environment=gui.environment, timeout_s=gui.timeout_s)
    result = check_headless(broken)
    assert not result.passed
    finding = result.findings[0]
    assert (finding.file, finding.line) == ("bad.py", 13)
    assert "the window is broken" in finding.message


def test_fixture_sources_are_what_the_line_numbers_assume() -> None:
    assert GUI_APP.splitlines()[12].strip() == "{init}"
    assert DEFECTS["badapp/shell.py"].splitlines()[7].strip().startswith("return subprocess")
