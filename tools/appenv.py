"""The generated application's own virtual environment, built with uv.

The environment lives at ``<workspace>/.venv``. It holds the dependencies the application
declares (``[project].dependencies`` of its ``pyproject.toml``, or ``requirements.txt``) plus
the check tools (:data:`DEFAULT_TOOLS`). Every command that builds it runs through the run's
:class:`~tools.sandbox.base.Sandbox`; uv's shared cache (its default location) makes repeated
builds fast.

uv runs with ``--no-config``: the workspace is generated content, and a ``[tool.uv]`` table or
``uv.toml`` in it must not be able to redirect the installer to another index. Index and TLS
settings come from the environment (``UV_INDEX_URL``, ``SSL_CERT_FILE``, ``UV_NATIVE_TLS``).

The install is the one step with network, so nothing the generated code wrote may run in it:

* every install first recreates the venv from scratch (``uv venv --clear`` with the sandbox's
  trusted base interpreter, no network), so a ``.pth`` file, ``sitecustomize`` or replaced
  ``bin/python`` the app planted in ``.venv`` is gone before uv starts the venv's interpreter;
* the network step runs with the venv folder as working directory, and the isolated backends
  show it only that folder (see :meth:`~tools.sandbox.base.Sandbox.run`), with
  ``PYTHONSAFEPATH=1`` and ``PYTHONNOUSERSITE=1``;
* requirements are checked strings from the package index only (no URLs, paths, VCS or
  installer options), passed as arguments, never as a file from the workspace.

Files of the workspace are read and written without following symbolic links
(:mod:`tools.safe_files`): the generated code may have planted them.
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
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tools.safe_files import UnsafePathError, read_regular_file, write_file_atomic
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

#: Environment of the network step on top of the index settings: no current directory or user
#: site folder on ``sys.path`` of any Python started there.
INSTALL_VARIABLES = {"PYTHONSAFEPATH": "1", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
                     "PYTHONUTF8": "1"}

#: Endings uv reads as a local archive path rather than a package name.
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz",
                     ".txz", ".tar.zst", ".tar.lz", ".egg")
#: Largest ``pyproject.toml`` / ``requirements.txt`` / marker file read, in bytes.
_MAX_DECLARATION_BYTES = 1_000_000
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
    dropped), else an empty list. Each is returned in its canonical PEP 508 form (what
    ``packaging`` prints back), which is what uv then gets.

    Raises:
        AppEnvironmentError: ``pyproject.toml`` or ``requirements.txt`` is a symbolic link,
            resolves outside the workspace, is not a regular file or is larger than 1 MB;
            ``pyproject.toml`` is not valid TOML or its dependencies are not a list of
            strings; or a requirement is not a plain package-index requirement (see
            :func:`check_requirement`).

    """
    workspace = workspace.resolve()
    pyproject = workspace / "pyproject.toml"
    requirements: list[str] | None = None
    text = _declaration_text(pyproject, workspace)
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AppEnvironmentError(f"pyproject.toml is not valid TOML: {exc}") from exc
        project = data.get("project")
        if isinstance(project, dict) and "dependencies" in project:
            requirements = _string_list(project["dependencies"], "[project].dependencies")
    if requirements is None:
        requirements = []
        text = _declaration_text(workspace / "requirements.txt", workspace)
        for raw in (text or "").splitlines():
            line = raw.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                requirements.append(line)
    checked = [check_requirement(r) for r in requirements if r.strip()]
    return list(dict.fromkeys(checked))


def check_requirement(text: str) -> str:
    """``text`` as a plain package-index requirement, in canonical PEP 508 form.

    Accepted: a name with optional extras, version range and environment marker
    (``"openpyxl>=3.1"``, ``"PySide6[addons]; python_version < '3.13'"``).

    Returns:
        ``str(packaging.requirements.Requirement(text))``.

    Raises:
        AppEnvironmentError: an installer option (``--index-url``, ``-r``, ``--hash``), a
            direct reference (``name @ https://...``, ``name @ file:...``), a VCS or file
            reference (``git+https://...``, ``./pkg``, ``pkg.tar.gz``), or any other string
            that is not a valid requirement. The one-line message says what to declare.

    """
    stripped = text.strip()
    if stripped.startswith("-"):
        raise AppEnvironmentError(
            f"requirement {stripped!r} is an installer option; declare plain requirements"
            " from the package index only (a name with an optional version range, e.g."
            " 'requests>=2.31')")
    try:
        requirement = Requirement(stripped)
    except InvalidRequirement:
        raise AppEnvironmentError(
            f"requirement {stripped!r} is not a plain package requirement (URLs, paths, VCS"
            " references and installer options are refused); declare a package-index name"
            " with an optional version range instead, e.g. 'requests>=2.31'") from None
    if requirement.url is not None:
        raise AppEnvironmentError(
            f"requirement {stripped!r} installs from a URL or file, not from the package"
            f" index; declare {requirement.name!r} with an optional version range instead")
    if requirement.name.lower().endswith(_ARCHIVE_SUFFIXES):
        raise AppEnvironmentError(
            f"requirement {stripped!r} names an archive file, not a package; declare a"
            " package-index name with an optional version range instead")
    return str(requirement)


def _declaration_text(path: Path, workspace: Path) -> str | None:
    """The text of a declaration file of the workspace, or None when there is none.

    Raises:
        AppEnvironmentError: the file is a link, leads outside, or is not a regular file.

    """
    if not os.path.lexists(path):
        return None
    try:
        data = read_regular_file(path, root=workspace, max_bytes=_MAX_DECLARATION_BYTES)
    except FileNotFoundError:
        return None
    except UnsafePathError as exc:
        raise AppEnvironmentError(
            f"{path.name} was not read: {exc} (declare dependencies in a regular"
            f" {path.name} inside the workspace)") from None
    except OSError as exc:
        raise AppEnvironmentError(f"{path.name} cannot be read: {exc}") from None
    return data.decode("utf-8", errors="replace")


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AppEnvironmentError(f"{where} in pyproject.toml must be a list of strings")
    return list(value)


#: Releases known to break generated apps, excluded whenever a package that pulls them in is
#: declared (trigger package -> exclusion). shiboken6 6.12.0 drops a reference to ``None`` on
#: every Qt call returning nothing, so a PySide6 app aborts with ``none_dealloc`` after a few
#: thousand calls on Python 3.11.
KNOWN_BAD: dict[str, str] = {
    "pyside6": "shiboken6!=6.12.0",
    "pyside6-essentials": "shiboken6!=6.12.0",
    "pyside6-addons": "shiboken6!=6.12.0",
}


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
        """What ``ensure`` installs: declared requirements, then tool requirements.

        The exclusions of :data:`KNOWN_BAD` are added for declared packages that need them.

        Raises:
            AppEnvironmentError: see :func:`declared_requirements`.

        """
        declared = declared_requirements(self.workspace)
        names = {canonicalize_name(Requirement(text).name) for text in declared}
        exclusions = [bad for trigger, bad in KNOWN_BAD.items() if trigger in names]
        return list(dict.fromkeys([*declared, *exclusions, *self.tool_requirements]))

    def ensure(self) -> list[CommandResult]:
        """Build the venv afresh and install the requirement set, unless nothing changed.

        Nothing runs when the marker file records the same requirement set, Python request
        and backend and the venv's python exists. Otherwise, every time:

        1. :meth:`Sandbox.stop_processes` ends whatever earlier commands left running;
        2. ``uv venv --clear`` with the sandbox's base interpreter, without network, makes an
           empty venv (a ``.venv`` that is a link or a file is removed first), so nothing the
           generated code wrote into the old one survives;
        3. ``uv pip install`` of the requirements (arguments, not a file), with network, runs
           with the venv as working directory: the isolated backends show it nothing else;
        4. the marker is written without following links.

        Returns:
            The uv commands that ran, in order (empty when nothing changed).

        Raises:
            AppEnvironmentError: the requirements could not be read or were refused, uv could
                not be started, ``uv venv`` / ``uv pip install`` failed (message ends with
                uv's output), or the venv was replaced by a link meanwhile.

        """
        wanted = self.requirements()
        python = self.sandbox.python_request(self.python)
        state = {"python": python, "backend": self.sandbox.name,
                 "requirements": sorted(wanted)}
        program = Path(self.program("python"))
        if (self._read_marker() == state and not self.venv_dir.is_symlink()
                and (program.exists() or program.is_symlink())):
            return []
        uv_bin = self.sandbox.uv_program() or _find_uv()
        self.sandbox.stop_processes()
        self._discard_foreign_venv()
        ran: list[CommandResult] = []
        argv = [uv_bin, "venv", "--no-config", "--no-project", "--python", python]
        if self.venv_dir.exists():
            argv.append("--clear")
        ran.append(self._run_uv([*argv, str(self.venv_dir)], _VENV_TIMEOUT_S, "uv venv"))
        self._check_venv()
        if wanted:
            # The one step that may reach the network: the package index, nothing else. It
            # sees only the fresh venv (its working directory).
            ran.append(self._run_uv(
                [uv_bin, "pip", "install", "--no-config", "--python", self.program("python"),
                 *wanted],
                self.install_timeout_s, "uv pip install", network=True))
        self._check_venv()
        try:
            write_file_atomic(self.marker_path, json.dumps(state, indent=2).encode("utf-8"),
                              root=self.workspace)
        except OSError as exc:
            raise AppEnvironmentError(f"the environment marker was not written: {exc}") from exc
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
        """The state last installed, or None (missing, unreadable, a link, not JSON)."""
        if self.venv_dir.is_symlink():
            return None
        try:
            data = json.loads(read_regular_file(self.marker_path, root=self.workspace,
                                                max_bytes=_MAX_DECLARATION_BYTES))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _discard_foreign_venv(self) -> None:
        """Remove ``.venv`` when it is a symbolic link or not a folder (never its target)."""
        if self.venv_dir.is_symlink() or (
                os.path.lexists(self.venv_dir) and not self.venv_dir.is_dir()):
            try:
                self.venv_dir.unlink()
            except OSError as exc:
                raise AppEnvironmentError(
                    f"{self.venv_dir} is not a folder and cannot be removed: {exc}") from exc

    def _check_venv(self) -> None:
        """The venv must be a real folder right inside the workspace (not a link)."""
        if self.venv_dir.is_symlink() or not self.venv_dir.is_dir() or (
                self.venv_dir.resolve().parent != self.workspace):
            raise AppEnvironmentError(
                f"{self.venv_dir} is not a plain folder of the workspace after uv venv")

    def _install_variables(self) -> dict[str, str]:
        """Environment of the uv commands: no workspace folder on PATH, no TMPDIR there."""
        env = {"PATH": self.sandbox.system_path(), "VIRTUAL_ENV": str(self.venv_dir),
               **INSTALL_VARIABLES}
        env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
        return env

    def _run_uv(self, argv: list[str], timeout_s: float, what: str, *,
                network: bool = False) -> CommandResult:
        env = self._install_variables()
        if network:  # index settings may hold credentials: for the network step only
            env |= {name: os.environ[name] for name in INDEX_SETTINGS if name in os.environ}
        try:
            result = self.sandbox.run(argv, cwd=self.venv_dir if network else self.workspace,
                                      env=env, timeout_s=timeout_s,
                                      max_output_bytes=1_000_000, network=network)
        except SandboxError as exc:
            raise AppEnvironmentError(f"{what} could not start: {exc}") from exc
        if result.timed_out:
            raise AppEnvironmentError(
                f"{what} timed out after {timeout_s:.0f} s:\n{_tail(result)}")
        if result.exit_code != 0:
            raise AppEnvironmentError(
                f"{what} failed (exit {result.exit_code}):\n{_tail(result)}")
        return result
