"""The sandbox interface: run an argument list inside a run's workspace, with limits.

Every backend (``docker``, ``bwrap``, ``local``) implements :class:`Sandbox`. Commands are
argument lists, never shell strings. API keys never enter a sandbox: backends build the child
environment with :func:`scrub_environment`.

One rule keeps paths simple across backends: **every host path a sandbox shows is shown at
the same absolute path** (the workspace, the extra writable folders, the CA bundle, for
bubblewrap the interpreter). So ``<workspace>/.venv/bin/python`` means the same file inside
and outside, and no code translates paths.
"""

from __future__ import annotations

import abc
import contextlib
import os
import re
import stat
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


class SandboxLimits(BaseModel):
    """Resource limits of the isolated backends (units in the field names)."""

    memory_mb: int = Field(default=2048, ge=128, description="RAM, swap included")
    cpus: float = Field(default=2.0, gt=0, description="CPU cores (fractions allowed)")
    pids: int = Field(default=512, ge=16, description="Processes and threads at once")
    tmpfs_mb: int = Field(default=512, ge=16, description="Size of the scratch /tmp")
    wall_time_s: float = Field(
        default=3600.0, gt=0,
        description="Lifetime of ONE Docker container, in seconds: at expiry it is killed and"
        " the next command transparently gets a fresh one (the workspace persists). For"
        " bubblewrap, a cap on each command's time-out")


class SandboxUnavailable(RuntimeError):
    """A backend cannot be used on this machine; the message says why and what to do."""


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

    def __init__(self, workspace: Path, *, writable: Sequence[Path] = ()) -> None:
        """Confine commands to ``workspace``.

        Args:
            workspace: the run's workspace.
            writable: other host folders the sandbox may write (the run's ``dist`` folder),
                shown at the same paths.

        """
        self.workspace = workspace.resolve()
        self.writable = [path.resolve() for path in writable]

    def uv_program(self) -> str | None:
        """The uv binary to run inside the sandbox, or None for MultiCoder's own uv."""
        return None

    def python_request(self, default: str) -> str:
        """What ``uv venv --python`` gets.

        ``default`` (e.g. "3.11") unless the backend has its own interpreter (the image's
        Python, or the host interpreter bound read-only).
        """
        return default

    def system_path(self) -> str:
        """The ``PATH`` a command starts from inside the sandbox.

        The app environment puts the venv's bin dir in front of it.
        """
        return os.environ.get("PATH", os.defpath)

    def describe(self) -> str:
        """One line for people: the backend and how isolated it is."""
        return self.name if self.isolated else f"{self.name} (NOT sandboxed)"

    def _working_directory(self, cwd: Path | None) -> Path:
        """Resolve ``cwd`` against the workspace; it must stay inside and be a directory.

        Args:
            cwd: absolute, or relative to the workspace; None means the workspace.

        Returns:
            The resolved directory (symlinks followed), the workspace or inside it.

        Raises:
            SandboxError: it cannot be resolved, resolves outside the workspace, or is not
                a directory.

        """
        if cwd is None:
            return self.workspace
        try:
            resolved = (self.workspace / cwd).resolve(strict=False)
        except (OSError, RuntimeError) as exc:
            raise SandboxError(f"working directory {cwd} cannot be resolved: {exc}") from exc
        if not resolved.is_relative_to(self.workspace):
            raise SandboxError(
                f"working directory {cwd} is outside the workspace {self.workspace}")
        if not resolved.is_dir():
            raise SandboxError(f"working directory {cwd} is not a directory")
        return resolved

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
        network: bool = False,
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
            network: True only for the dependency-install step (uv reaching the package
                index); everything else, the generated code above all, runs without network
                on the isolated backends. With ``network=True`` an isolated backend shows the
                command **only** ``cwd``, read-write at the same path (plus what the program
                itself needs: the system, the base interpreter, uv, its cache, the CA
                bundle), not the rest of the workspace nor the writable folders; ``cwd``
                must then be a folder strictly inside the workspace (the app's
                ``<workspace>/.venv``). The caller makes sure ``cwd`` holds nothing the
                generated code wrote.

        Raises:
            SandboxError: the command could not be started at all, or ``network=True`` on
                an isolated backend with ``cwd`` not strictly inside the workspace.

        """

    def stop_processes(self) -> None:  # noqa: B027 - optional hook, backends override it
        """End every process earlier commands left running; called before each install.

        So no process of the generated code is alive while the app's venv is rebuilt and the
        network step runs. A no-op where no process outlives its command (``bwrap``: each
        command has its own PID namespace) or nothing is isolated (``local``).
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


#: The Docker image of the sandbox that ``multicoder sandbox build`` makes; bump the tag when
#: its Dockerfile changes, so an old image is never taken for the new one.
SANDBOX_IMAGE = "multicoder-sandbox:2"

#: The unprivileged user isolated backends run as when MultiCoder itself runs as root: an id
#: no login account uses (1000 is often a real person's account; 65532 is distroless's
#: "nonroot"), so the workspace never belongs to someone else on the host.
SANDBOX_UID = 65532
SANDBOX_GID = 65532


def sandbox_identity() -> tuple[int, int]:
    """``(uid, gid)`` the isolated backends run generated code as: never root.

    The caller's own ids when it is not root (files it writes stay its own); else
    :data:`SANDBOX_UID`/:data:`SANDBOX_GID`. On Windows (no ``getuid``) the fixed ids.
    """
    getuid = getattr(os, "getuid", None)
    getgid = getattr(os, "getgid", None)
    if getuid is None or getgid is None or getuid() == 0:
        return SANDBOX_UID, SANDBOX_GID
    return getuid(), getgid()


def hand_over(paths: Sequence[Path], uid: int, gid: int) -> int:
    """Give every file and folder under ``paths`` to ``uid:gid``, never following a symlink.

    Needed only when MultiCoder runs as root and the sandbox user differs: the sandbox user
    must be able to write the workspace MultiCoder itself wrote. A no-op for a non-root
    caller (it already owns them) and where ``os.fwalk`` is missing (Windows, macOS).

    Generated code may run meanwhile (checks run in parallel) and swap a folder for a symlink
    to, say, ``/etc``. So the walk is :func:`os.fwalk` without following symlinks: each
    folder is held open by a file descriptor (checked to be the folder listed, not a symlink),
    and each entry is changed with ``fchownat(dirfd, name, AT_SYMLINK_NOFOLLOW)``; a swapped
    parent cannot redirect a change, and symlinks themselves are changed, never their
    targets. Entries already owned by ``uid:gid`` are skipped (one ``lstat`` each). A
    non-folder with several hard links that is not already the sandbox user's is left
    alone: the other name may be outside the workspace.

    Args:
        paths: folders (or files) to hand over; missing ones are skipped.
        uid: the new owner.
        gid: the new group.

    Returns:
        The number of entries whose owner changed.

    """
    getuid = getattr(os, "getuid", None)
    if getuid is None or getuid() != 0 or not hasattr(os, "fwalk"):
        return 0
    changed = 0
    for root in paths:
        changed += _hand_over_tree(root, uid, gid)
    return changed


def _hand_over_tree(root: Path, uid: int, gid: int) -> int:
    """:func:`hand_over` for one tree; entries that vanish or fail meanwhile are skipped."""
    changed = 0

    def give(name: str, dirfd: int) -> None:
        nonlocal changed
        try:
            info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if (info.st_uid, info.st_gid) == (uid, gid):
                return
            if not stat.S_ISDIR(info.st_mode) and info.st_nlink > 1:
                return  # a hard link: its other name may be a host file
            os.chown(name, uid, gid, dir_fd=dirfd, follow_symlinks=False)
            changed += 1
        except OSError:
            return  # vanished or replaced meanwhile

    try:
        top = os.lstat(root)
    except OSError:
        return 0
    if not stat.S_ISDIR(top.st_mode):
        if (top.st_uid, top.st_gid) != (uid, gid) and top.st_nlink == 1:
            with contextlib.suppress(OSError):
                os.lchown(root, uid, gid)
                changed += 1
        return changed
    first = True
    for _path, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        if first:  # the top folder itself, through its descriptor
            first = False
            with contextlib.suppress(OSError):
                info = os.fstat(dirfd)
                if (info.st_uid, info.st_gid) != (uid, gid):
                    os.fchown(dirfd, uid, gid)
                    changed += 1
        for name in (*dirnames, *filenames):
            give(name, dirfd)
    return changed
