"""The sandbox interface: run an argument list inside a run's workspace, with limits.

Every backend (local now; Docker and bubblewrap later) implements :class:`Sandbox`. Commands
are argument lists, never shell strings. API keys never enter a sandbox: backends build the
child environment with :func:`scrub_environment`.
"""

from __future__ import annotations

import abc
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

#: Names of environment variables that may hold a secret; they never reach generated code.
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)

#: Variables a child process may inherit from the parent (everything else is dropped).
INHERITED = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR",
    "COMSPEC", "PATHEXT", "TEMP", "TMP", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
    "PROGRAMDATA", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "SSL_CERT_FILE",
    "UV_CACHE_DIR", "UV_PYTHON_INSTALL_DIR", "UV_NATIVE_TLS", "UV_SYSTEM_CERTS", "PIP_CERT",
    "REQUESTS_CA_BUNDLE", "XDG_CACHE_HOME", "DISPLAY", "XAUTHORITY",
)


def scrub_environment(
    parent: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment for a sandboxed child: an allow-list of the parent's, no secrets.

    Args:
        parent: the environment to start from (``os.environ`` when None).
        extra: variables to add on top (for example ``QT_QPA_PLATFORM``); a name that looks
            like a secret (see :data:`SECRET_NAME`) is dropped even here.

    Returns:
        A new dict; the parent mapping is not changed.

    """
    source = os.environ if parent is None else parent
    env = {name: source[name] for name in INHERITED if name in source}
    env.update(extra or {})
    return {name: value for name, value in env.items() if not SECRET_NAME.search(name)}


class CommandResult(BaseModel):
    """What a sandboxed command did.

    ``stdout``/``stderr`` are decoded as UTF-8 (errors replaced) and capped at the byte limit
    given to :meth:`Sandbox.run`; ``truncated`` says whether anything was cut.
    """

    argv: list[str]
    exit_code: int | None = Field(description="None when the process was killed at the time-out")
    stdout: str = ""
    stderr: str = ""
    duration_ms: int = 0
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the command finished by itself with exit code 0."""
        return not self.timed_out and self.exit_code == 0


class SandboxError(RuntimeError):
    """The sandbox could not start a command (missing program, bad working directory)."""


class Sandbox(abc.ABC):
    """Runs commands for one run, confined to its workspace.

    Attributes:
        name: backend name shown to the user ("local", "docker", "bwrap").
        isolated: False for a backend that gives no isolation (it is then reported as
            unsandboxed wherever it matters).
        workspace: the run's workspace directory on the host (absolute, resolved).

    """

    name: str = "abstract"
    isolated: bool = False

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace.resolve()

    @abc.abstractmethod
    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 120.0,
        max_output_bytes: int = 200_000,
        stdin: str | None = None,
    ) -> CommandResult:
        """Run ``argv`` and wait for it, at most ``timeout_s`` seconds.

        Args:
            argv: program and arguments; the program is looked up on the sandbox's PATH.
            cwd: working directory, inside the workspace (default: the workspace).
            env: extra variables for the child, added to the scrubbed environment.
            timeout_s: wall-clock limit; at the limit the whole process group is killed and
                the result has ``timed_out=True`` and ``exit_code=None``.
            max_output_bytes: cap for each of stdout and stderr.
            stdin: text fed to the child's standard input (closed when None).

        Raises:
            SandboxError: the command could not be started at all.

        """

    def close(self) -> None:  # noqa: B027 - optional hook, backends override when needed
        """Release what the backend holds (containers, temp dirs). Idempotent."""


class AppEnvironmentError(RuntimeError):
    """The application's environment could not be prepared (dependency install failed)."""


class CommandEnvironment(abc.ABC):
    """The generated application's own environment (a virtual env inside the workspace).

    Actions and checks run programs (python, pytest, ruff, mypy, bandit, pyinstaller) from
    here, never from MultiCoder's own environment.
    """

    @abc.abstractmethod
    def ensure(self) -> list[CommandResult]:
        """Create or update the environment from the dependencies the workspace declares.

        Returns the install commands that ran (empty when nothing changed).

        Raises:
            AppEnvironmentError: creation or installation failed (message has the tool output).

        """

    @abc.abstractmethod
    def program(self, name: str) -> str:
        """Absolute path of ``name`` (e.g. "python", "pytest") inside the environment."""

    @abc.abstractmethod
    def variables(self) -> dict[str, str]:
        """Variables a command in this environment needs (PATH, VIRTUAL_ENV, TMPDIR ...)."""
