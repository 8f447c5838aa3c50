"""The generated application's own virtual environment, built with uv.

The environment lives at ``<workspace>/.venv``. It holds the dependencies the application
declares (``[project].dependencies`` of its ``pyproject.toml``, or ``requirements.txt``) plus
the check tools (:data:`DEFAULT_TOOLS`). Every command that builds it runs through the run's
:class:`~tools.sandbox.base.Sandbox`; uv's shared cache (its default location) makes repeated
builds fast.

uv runs with ``--no-config``: the workspace is generated content, and a ``[tool.uv]`` table or
``uv.toml`` in it must not be able to redirect the installer to another index. Index and TLS
settings come from the environment (``UV_INDEX_URL``, ``SSL_CERT_FILE``, ``UV_NATIVE_TLS``).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uv

from tools.sandbox.base import (
    AppEnvironmentError,
    CommandEnvironment,
    CommandResult,
    Sandbox,
    SandboxError,
)

#: Check tools installed into every application environment (ranges, not exact pins, so the
#: uv cache is reused across runs).
DEFAULT_TOOLS: tuple[str, ...] = (
    "ruff>=0.8,<1",
    "mypy>=1.13,<3",
    "bandit>=1.8,<2",
    "pytest>=8.3,<10",
    "pytest-timeout>=2.3,<3",
    "pyinstaller>=6.11,<7",
)

#: Name of the file (inside the venv) that records the requirement set last installed.
MARKER_NAME = ".multicoder-deps.json"

#: Variables passed through from MultiCoder's own environment so installs work behind a
#: TLS-inspecting proxy.
PASSED_THROUGH = ("SSL_CERT_FILE", "UV_NATIVE_TLS")

#: Package-index settings (they may carry credentials): given to uv's installs only, never to
#: the generated application, its tests or PyInstaller.
INDEX_SETTINGS = ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX",
                  "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")

#: The running interpreter's ``major.minor``: the default Python of an app environment.
RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

_TAIL_CHARS = 4000
_VENV_TIMEOUT_S = 300.0
_WINDOWS = sys.platform == "win32"


def _find_uv() -> str:
    """Absolute path of the uv binary that ships with the ``uv`` package."""
    try:
        return str(uv.find_uv_bin())
    except FileNotFoundError as exc:
        raise AppEnvironmentError(f"the uv binary was not found: {exc}") from exc


def _tail(result: CommandResult) -> str:
    text = "\n".join(part for part in (result.stdout.strip(), result.stderr.strip()) if part)
    return text[-_TAIL_CHARS:] or "(no output)"


def declared_requirements(workspace: Path) -> list[str]:
    """The requirements the application declares, in declaration order, without duplicates.

    ``[project].dependencies`` of ``<workspace>/pyproject.toml`` when that table and key exist,
    else the requirement lines of ``<workspace>/requirements.txt`` (comments and blank lines
    dropped), else an empty list.

    Raises:
        AppEnvironmentError: ``pyproject.toml`` is not valid TOML, its dependencies are not a
            list of strings, or a requirement starts with ``-`` (an option such as
            ``--index-url`` or ``-r``: not accepted, it would redirect the installer).

    """
    pyproject = workspace / "pyproject.toml"
    requirements: list[str] | None = None
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise AppEnvironmentError(f"pyproject.toml is not valid TOML: {exc}") from exc
        project = data.get("project")
        if isinstance(project, dict) and "dependencies" in project:
            requirements = _string_list(project["dependencies"], "[project].dependencies")
    if requirements is None:
        text_file = workspace / "requirements.txt"
        requirements = []
        if text_file.is_file():
            for raw in text_file.read_text(encoding="utf-8", errors="replace").splitlines():
                line = raw.split(" #", 1)[0].strip()
                if line and not line.startswith("#"):
                    requirements.append(line)
    for requirement in requirements:
        if requirement.strip().startswith("-"):
            raise AppEnvironmentError(
                f"requirement {requirement!r} is an installer option; declare plain"
                " requirements (name, version range, or 'name @ url') only")
    return list(dict.fromkeys(r.strip() for r in requirements if r.strip()))


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AppEnvironmentError(f"{where} in pyproject.toml must be a list of strings")
    return list(value)


class AppEnvironment(CommandEnvironment):
    """The application's virtual env at ``<workspace>/.venv``, managed with uv.

    Args:
        workspace: the run's workspace (the generated project's root).
        sandbox: runs uv and every command in the environment; it may replace the Python
            request and the uv binary with its own (:meth:`Sandbox.python_request`).
        python: Python version request handed to ``uv venv --python`` (e.g. "3.11"); the
            running interpreter's major.minor by default.
        tool_requirements: check tools installed next to the app's own dependencies.
        install_timeout_s: wall-clock limit, in seconds, for one ``uv pip install``.

    """

    def __init__(
        self,
        workspace: Path,
        sandbox: Sandbox,
        *,
        python: str = RUNNING_PYTHON,
        tool_requirements: Sequence[str] = DEFAULT_TOOLS,
        install_timeout_s: float = 900.0,
    ) -> None:
        self.workspace = workspace.resolve()
        self.sandbox = sandbox
        self.python = python
        self.tool_requirements = list(tool_requirements)
        self.install_timeout_s = install_timeout_s

    @property
    def venv_dir(self) -> Path:
        """``<workspace>/.venv``."""
        return self.workspace / ".venv"

    @property
    def bin_dir(self) -> Path:
        """The venv's program directory: ``Scripts`` on Windows, ``bin`` elsewhere."""
        return self.venv_dir / ("Scripts" if _WINDOWS else "bin")

    @property
    def temp_dir(self) -> Path:
        """``<workspace>/.tmp``: TMPDIR for every command (one-file executables unpack here)."""
        return self.workspace / ".tmp"

    @property
    def marker_path(self) -> Path:
        """``<workspace>/.venv/.multicoder-deps.json``: the requirement set last installed."""
        return self.venv_dir / MARKER_NAME

    def requirements(self) -> list[str]:
        """Declared requirements followed by the tool requirements (what ``ensure`` installs).

        Raises:
            AppEnvironmentError: see :func:`declared_requirements`.

        """
        return list(dict.fromkeys([*declared_requirements(self.workspace),
                                   *self.tool_requirements]))

    def ensure(self) -> list[CommandResult]:
        """Create the venv if missing and install the requirement set if it changed.

        Nothing runs when the marker file records the same requirement set and Python
        request. When a requirement was dropped since the last install, the venv is
        recreated (``uv venv --clear``) so stale packages cannot hide an undeclared import.

        Returns:
            The uv commands that ran, in order (empty when nothing changed).

        Raises:
            AppEnvironmentError: the requirements could not be read, uv could not be started,
                or ``uv venv`` / ``uv pip install`` failed (message ends with uv's output).

        """
        wanted = self.requirements()
        python = self.sandbox.python_request(self.python)
        state = {"python": python, "backend": self.sandbox.name,
                 "requirements": sorted(wanted)}
        previous = self._read_marker()
        python_exists = Path(self.program("python")).exists() or Path(
            self.program("python")).is_symlink()
        if previous == state and python_exists:
            return []
        uv_bin = self.sandbox.uv_program() or _find_uv()
        ran: list[CommandResult] = []
        stale = previous is not None and (
            previous.get("python") != python or previous.get("backend") != self.sandbox.name
            or not set(previous.get("requirements", [])) <= set(wanted))
        if not python_exists or stale:
            self.marker_path.unlink(missing_ok=True)
            argv = [uv_bin, "venv", "--no-config", "--no-project", "--python", python]
            if self.venv_dir.exists():
                argv.append("--clear")
            ran.append(self._run_uv([*argv, str(self.venv_dir)], _VENV_TIMEOUT_S, "uv venv"))
        if wanted:
            # The one step that may reach the network: the package index, nothing else.
            ran.append(self._run_uv(
                [uv_bin, "pip", "install", "--no-config", "--python", self.program("python"),
                 *wanted],
                self.install_timeout_s, "uv pip install", network=True))
        self.marker_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        return ran

    def program(self, name: str) -> str:
        """Absolute path of ``name`` in the venv's bin dir (``.exe`` added on Windows).

        The path is returned whether or not the program exists yet.
        """
        suffix = ".exe" if _WINDOWS and not name.lower().endswith(".exe") else ""
        return str(self.bin_dir / f"{name}{suffix}")

    def variables(self) -> dict[str, str]:
        """Variables for a command in this environment; creates ``<workspace>/.tmp``.

        Returns:
            ``PATH`` (venv bin dir first), ``VIRTUAL_ENV``, ``TMPDIR``/``TEMP``/``TMP``
            (``<workspace>/.tmp``), ``QT_QPA_PLATFORM=offscreen``, ``PYTHONUTF8=1``,
            ``PYTHONDONTWRITEBYTECODE=1``, and ``SSL_CERT_FILE``/``UV_NATIVE_TLS`` when set
            in MultiCoder's own environment.

        """
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        path = self.sandbox.system_path()
        temp = str(self.temp_dir)
        env = {
            "PATH": str(self.bin_dir) + (os.pathsep + path if path else ""),
            "VIRTUAL_ENV": str(self.venv_dir),
            "TMPDIR": temp,
            "TEMP": temp,
            "TMP": temp,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONUTF8": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
        return env

    def _read_marker(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.marker_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _run_uv(self, argv: list[str], timeout_s: float, what: str, *,
                network: bool = False) -> CommandResult:
        try:
            index = {name: os.environ[name] for name in INDEX_SETTINGS if name in os.environ}
            result = self.sandbox.run(argv, cwd=self.workspace, env=self.variables() | index,
                                      timeout_s=timeout_s, max_output_bytes=1_000_000,
                                      network=network)
        except SandboxError as exc:
            raise AppEnvironmentError(f"{what} could not start: {exc}") from exc
        if result.timed_out:
            raise AppEnvironmentError(
                f"{what} timed out after {timeout_s:.0f} s:\n{_tail(result)}")
        if result.exit_code != 0:
            raise AppEnvironmentError(
                f"{what} failed (exit {result.exit_code}):\n{_tail(result)}")
        return result
