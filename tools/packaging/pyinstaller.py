"""One-file executables with PyInstaller, built in the app's own environment, then run.

:func:`build_executable` writes the executable, ``build.log`` and ``manifest.json`` into the
distribution directory; :func:`smoke_executable` runs the executable headless exactly as the
``headless`` check runs the sources (:func:`tools.checks.headless.run_headless`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from tools.checks.base import CheckResult
from tools.checks.context import CheckContext
from tools.checks.headless import run_headless
from tools.safe_files import write_file_atomic
from tools.sandbox.base import AppEnvironmentError, CommandResult, SandboxError

#: Name of the packaged-run check.
PACKAGED_RUN = "packaged-run"

#: File names written next to the executable.
BUILD_LOG = "build.log"
MANIFEST = "manifest.json"

_LOG_TAIL_CHARS = 4000
_EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


class PackagingError(RuntimeError):
    """The executable could not be built (message ends with the tail of the build log)."""


class Artifact(BaseModel):
    """A built executable.

    Attributes:
        path: the executable (absolute).
        sha256: hex digest of the executable's bytes.
        size_bytes: its size in bytes.
        build_log_path: PyInstaller's full output (``build.log`` beside the executable).
        built_at: when the build finished (UTC).

    """

    path: Path
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)
    build_log_path: Path
    built_at: datetime


def pyinstaller_argv(ctx: CheckContext, dist_dir: Path) -> list[str]:
    """The PyInstaller command line for ``ctx.contract`` (absolute paths throughout).

    ``--windowed`` is added only for a GUI without smoke arguments: a windowed executable
    has no console, so a smoke command's output would be lost on Windows and macOS.
    """
    contract = ctx.contract
    workspace = ctx.workspace
    argv = [ctx.environment.program("pyinstaller"), "--onefile", "--noconfirm", "--clean",
            "--name", contract.name]
    if contract.icon:
        argv += ["--icon", str(workspace / contract.icon)]
    if contract.gui and contract.smoke_args is None:
        # Without a console, a crash at start would wait in a traceback dialog and pass for
        # "stays up": make it exit instead, so the packaged run catches it.
        argv += ["--windowed", "--disable-windowed-traceback"]
    argv += ["--distpath", str(dist_dir), "--workpath", str(workspace / "build"),
             "--specpath", str(workspace / "build"), str(workspace / contract.entry)]
    return argv


REPRODUCIBLE_ENV = {"PYTHONHASHSEED": "0"}
"""Set for the PyInstaller process so two builds of the same sources are identical."""


def build_executable(ctx: CheckContext, dist_dir: Path, *, timeout_s: float = 1200.0) -> Artifact:
    """Build ``ctx.contract.name`` as a one-file executable into ``dist_dir``.

    Makes sure the app environment is ready first (``ctx.environment.ensure()``), then runs
    :func:`pyinstaller_argv` through the sandbox with the workspace as working directory.
    Writes ``build.log`` (command and full output) and ``manifest.json`` (name, sha256,
    size_bytes, command, build_log, built_at) into ``dist_dir``.

    Args:
        ctx: workspace, contract, sandbox and environment.
        dist_dir: where the executable goes (created if missing).
        timeout_s: wall-clock limit for PyInstaller, in seconds.

    Returns:
        The :class:`Artifact`.

    Raises:
        PackagingError: the entry or icon file is missing, the environment could not be
            prepared, PyInstaller could not start, failed, timed out, or produced no file;
            or the executable, ``build.log`` or ``manifest.json`` in ``dist_dir`` is a
            symbolic link (sandboxed code can write there; links are never followed).

    """
    contract = ctx.contract
    for label, relative_path in (("entry script", contract.entry), ("icon", contract.icon)):
        if relative_path and not (ctx.workspace / relative_path).is_file():
            raise PackagingError(f"the {label} {relative_path!r} does not exist in the workspace")
    try:
        ctx.environment.ensure()
    except AppEnvironmentError as exc:
        raise PackagingError(f"the application environment is not ready: {exc}") from exc
    dist_dir = dist_dir.resolve()
    dist_dir.mkdir(parents=True, exist_ok=True)
    argv = pyinstaller_argv(ctx, dist_dir)
    log_path = dist_dir / BUILD_LOG
    try:
        # a fixed hash seed makes the build reproducible: with Python's hash randomisation
        # PyInstaller writes some data in a different order each time (M3: `runs replay`
        # reproduces the executable byte for byte)
        result = ctx.sandbox.run(argv, cwd=ctx.workspace,
                                 env=ctx.environment.variables() | REPRODUCIBLE_ENV,
                                 timeout_s=timeout_s, max_output_bytes=5_000_000)
    except SandboxError as exc:
        _write_dist(log_path, f"$ {' '.join(argv)}\n{exc}\n", dist_dir)
        raise PackagingError(f"PyInstaller could not start: {exc}") from exc
    log = _write_log(log_path, result, dist_dir)
    executable = dist_dir / f"{contract.name}{_EXE_SUFFIX}"
    if executable.is_symlink():  # planted by sandboxed code: never hash or export its target
        raise PackagingError(f"{executable.name} in {dist_dir} is a symbolic link, not the"
                             " executable PyInstaller built")
    if not result.ok or not executable.is_file():
        why = (f"timed out after {timeout_s:g} s" if result.timed_out
               else f"exited with code {result.exit_code}" if result.exit_code
               else "produced no executable")
        raise PackagingError(f"PyInstaller {why}; end of {log_path}:\n{log[-_LOG_TAIL_CHARS:]}")
    artifact = Artifact(path=executable, sha256=_sha256(executable),
                        size_bytes=executable.stat().st_size, build_log_path=log_path,
                        built_at=datetime.now(UTC))
    manifest = {"name": contract.name, "file": executable.name, "sha256": artifact.sha256,
                "size_bytes": artifact.size_bytes, "command": argv, "build_log": BUILD_LOG,
                "built_at": artifact.built_at.isoformat()}
    _write_dist(dist_dir / MANIFEST, json.dumps(manifest, indent=2), dist_dir)
    return artifact


def smoke_executable(artifact: Artifact, ctx: CheckContext) -> CheckResult:
    """Run the packaged executable headless, like the ``headless`` check runs the sources.

    The executable runs with the workspace as working directory (smoke arguments name files
    relative to it) and the environment's variables minus the venv (``VIRTUAL_ENV`` dropped,
    its bin dir taken off ``PATH``), so it must be self-contained. One-file executables
    unpack into ``<workspace>/.tmp``; what a killed GUI run leaves there is removed.

    Returns:
        A result named ``packaged-run`` (see :func:`tools.checks.headless.run_headless`).

    """
    variables = ctx.environment.variables()
    venv = variables.pop("VIRTUAL_ENV", None)
    if venv:
        variables["PATH"] = os.pathsep.join(
            part for part in variables.get("PATH", "").split(os.pathsep)
            if part and not Path(part).is_relative_to(venv))
    temp = Path(variables.get("TMPDIR", ctx.workspace / ".tmp"))
    before = set(temp.glob("_MEI*"))
    try:
        return run_headless(ctx, PACKAGED_RUN, [str(artifact.path)], env=variables)
    finally:
        for leftover in set(temp.glob("_MEI*")) - before:
            shutil.rmtree(leftover, ignore_errors=True)


def _write_log(path: Path, result: CommandResult, dist_dir: Path) -> str:
    state = "killed at the time-out" if result.timed_out else f"exit code {result.exit_code}"
    text = (f"$ {' '.join(result.argv)}\n{result.stdout}{result.stderr}\n({state},"
            f" {result.duration_ms} ms)\n")
    _write_dist(path, text, dist_dir)
    return text


def _write_dist(path: Path, text: str, dist_dir: Path) -> None:
    """Write ``text`` to ``path`` in ``dist_dir`` without following a link planted there.

    Raises:
        PackagingError: ``path`` is a symbolic link or could not be written.

    """
    try:
        write_file_atomic(path, text.encode("utf-8"), root=dist_dir)
    except OSError as exc:
        raise PackagingError(f"{path.name} was not written: {exc}") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
