"""Which sandbox backend a run uses, and why (G11).

``auto`` (the default) takes Docker wherever a daemon answers and the sandbox image is present,
else bubblewrap on Linux, else refuses: the plain local backend is used only when the person
opts in (``--sandbox local`` or ``[sandbox] backend = "local"``), and is then reported as
unsandboxed everywhere it matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graph.errors import InputError
from graph.settings import SandboxSettings
from tools.sandbox.base import Sandbox, SandboxUnavailable
from tools.sandbox.local import LocalSandbox


@dataclass(frozen=True)
class BackendChoice:
    """The backend picked for runs: its name and, for people, why it (and not another)."""

    name: str
    reason: str
    isolated: bool


def _docker_problem(settings: SandboxSettings) -> str | None:
    """None when Docker can be used now, else why not (with what to do)."""
    from tools.sandbox import docker as docker_backend

    return docker_backend.unavailable_reason(settings.image)


def _bwrap_problem() -> str | None:
    """None when bubblewrap can be used now, else why not (with what to do)."""
    from tools.sandbox import bwrap as bwrap_backend

    return bwrap_backend.unavailable_reason()


def choose_backend(settings: SandboxSettings, requested: str | None = None) -> BackendChoice:
    """Pick the backend for a new run.

    Args:
        settings: the ``[sandbox]`` settings.
        requested: a backend named for this run (``--sandbox``), overriding the settings.

    Raises:
        InputError: the named backend cannot be used here, or ``auto`` found no isolated
            backend; the message says why and what to do.

    """
    wanted = requested or settings.backend
    if wanted == "local":
        return BackendChoice("local", "chosen by you: generated code runs on this machine"
                             " without isolation", isolated=False)
    if wanted == "docker":
        problem = _docker_problem(settings)
        if problem:
            raise InputError(f"the docker sandbox cannot be used: {problem}")
        return BackendChoice("docker", f"Docker image {settings.image}", isolated=True)
    if wanted == "bwrap":
        problem = _bwrap_problem()
        if problem:
            raise InputError(f"the bubblewrap sandbox cannot be used: {problem}")
        return BackendChoice("bwrap", "bubblewrap namespaces", isolated=True)
    docker_problem = _docker_problem(settings)
    if docker_problem is None:
        return BackendChoice("docker", f"Docker image {settings.image}", isolated=True)
    bwrap_problem = _bwrap_problem()
    if bwrap_problem is None:
        return BackendChoice("bwrap", f"bubblewrap (Docker: {docker_problem})", isolated=True)
    raise InputError(
        f"no sandbox is available — Docker: {docker_problem}; bubblewrap: {bwrap_problem}."
        " Install one of them, or opt in to running generated code unsandboxed with"
        " --sandbox local")


def open_sandbox(backend: str, settings: SandboxSettings, workspace: Path,
                 writable: Sequence[Path] = ()) -> Sandbox:
    """Create the run's sandbox for ``backend`` ("docker", "bwrap" or "local").

    Raises:
        InputError: the backend is unknown or cannot be used on this machine now.

    """
    try:
        if backend == "docker":
            from tools.sandbox.docker import DockerSandbox

            return DockerSandbox(workspace, writable=writable, limits=settings.limits(),
                                 image=settings.image)
        if backend == "bwrap":
            from tools.sandbox.bwrap import BwrapSandbox

            return BwrapSandbox(workspace, writable=writable, limits=settings.limits())
    except SandboxUnavailable as exc:
        raise InputError(f"the {backend} sandbox cannot be used: {exc}") from exc
    if backend == "local":
        return LocalSandbox(workspace, writable=writable)
    raise InputError(f"unknown sandbox backend {backend!r}: use docker, bwrap or local")
