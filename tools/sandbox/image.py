"""Building the Docker sandbox image (``multicoder sandbox build``).

The image is made from ``tools/sandbox/image/Dockerfile`` in one of two ways:

- ``pull``: on the official ``python:3.11-slim`` base, pulled from Docker Hub;
- ``debootstrap``: without any registry. A Debian bookworm root file system (with Python
  3.11, the Qt libraries and binutils) is made with ``debootstrap``, imported with
  ``docker import`` as :data:`DEBOOTSTRAP_BASE`, and the same Dockerfile is built on it.
  Needs Linux, root and the ``debootstrap`` program.

``auto`` tries ``pull`` (with a short time-out) and falls back to ``debootstrap``. Either way
the build trusts the CA bundle MultiCoder trusts (``SSL_CERT_FILE``, else the system bundle),
so it works behind a TLS-inspecting proxy.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from tools.sandbox.base import SandboxUnavailable

#: Folder holding the Dockerfile and the pre-warm package list.
IMAGE_DIR: Final = Path(__file__).resolve().parent / "image"
#: The official base the Dockerfile starts from by default.
PULL_BASE: Final = "python:3.11-slim"
#: Tag given to the imported debootstrap root file system.
DEBOOTSTRAP_BASE: Final = "multicoder-base:bookworm"
#: Debian suite and mirror for the debootstrap base.
DEBIAN_SUITE: Final = "bookworm"
DEBIAN_MIRROR: Final = "http://deb.debian.org/debian"
#: Packages of the debootstrap base (the Dockerfile adds anything else it needs).
DEBOOTSTRAP_PACKAGES: Final = (
    "python3", "python3-venv", "python3-pip", "libpython3.11", "ca-certificates", "binutils",
    "passwd",
    "libgl1", "libegl1", "libxkbcommon0", "libxkbcommon-x11-0", "libfontconfig1",
    "libfreetype6", "libdbus-1-3", "libglib2.0-0", "libx11-xcb1", "libxcb-cursor0",
    "fonts-dejavu-core",
)
#: Seconds the ``auto`` method waits for the base image pull before falling back.
PULL_TIMEOUT_S: Final = 45.0
#: The PATH of the imported base (``docker import`` sets none).
BASE_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Method = Literal["auto", "pull", "debootstrap"]
#: The methods by name (for command-line parsing).
METHODS: Final[dict[str, Method]] = {"auto": "auto", "pull": "pull",
                                     "debootstrap": "debootstrap"}
#: Terminal colour codes the builder puts around its output.
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
Progress = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """The image could not be built; the message says why (and the end of the build log)."""


@dataclass(frozen=True)
class ImageBuild:
    """A finished build.

    Attributes:
        tag: the image tag (e.g. ``multicoder-sandbox:1``).
        method: ``pull`` or ``debootstrap`` (the way that worked).
        seconds: wall-clock duration of the whole build, in seconds.
        size_bytes: the image's size as Docker reports it, in bytes.

    """

    tag: str
    method: Literal["pull", "debootstrap"]
    seconds: float
    size_bytes: int

    def describe(self) -> str:
        """One line for people, e.g. ``built multicoder-sandbox:1 with ... in 212 s``."""
        how = ("debootstrap + docker import (no Docker Hub)" if self.method == "debootstrap"
               else f"the {PULL_BASE} base from Docker Hub")
        return (f"built {self.tag} with {how} in {self.seconds:.0f} s"
                f" ({self.size_bytes / 1e9:.2f} GB)")


def ca_bundle() -> Path | None:
    """The CA bundle builds should trust.

    ``SSL_CERT_FILE`` if it names a file, else the Debian/Ubuntu system bundle if present,
    else None.
    """
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _client() -> Any:
    """A Docker client whose daemon answers.

    Raises:
        SandboxUnavailable: the SDK is missing or no daemon answers.

    """
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise SandboxUnavailable(f"the docker Python package is missing: {exc}") from exc
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except Exception as exc:  # any failure means the same thing here
        raise SandboxUnavailable(
            f"the Docker daemon does not answer ({str(exc).splitlines()[0][:160]});"
            " start Docker Desktop or dockerd, then retry") from exc
    return client


def _has_image(client: Any, tag: str) -> bool:
    import docker.errors  # type: ignore[import-untyped]

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _image_id(client: Any, tag: str) -> str | None:
    """The id of the image ``tag``, or None when there is none."""
    try:
        return str(client.images.get(tag).id)
    except Exception:  # missing or unreadable
        return None


def _drop_replaced(client: Any, before: dict[str, str | None], say: Progress) -> None:
    """Remove the images the build untagged (they would pile up, ~1.5 GB each)."""
    import docker.errors

    for tag, old in before.items():
        if old is None or old == _image_id(client, tag):
            continue
        try:
            client.images.get(old)
        except docker.errors.ImageNotFound:
            continue  # already removed with the image it was the parent of
        except Exception:  # noqa: S110 - unreadable: try to remove it anyway
            pass
        try:
            client.images.remove(old)
            say(f"removed the previous {tag} ({old[7:19]})")
        except Exception as exc:  # in use by a container, or already gone: keep it
            say(f"kept the previous {tag} ({old[7:19]}): {str(exc).splitlines()[0][:120]}")


def _pull_base(client: Any, timeout_s: float, say: Progress) -> None:
    """Make sure :data:`PULL_BASE` is present, pulling it within ``timeout_s`` seconds.

    Raises:
        ImageBuildError: the pull failed or took too long (Docker Hub unreachable).

    """
    if _has_image(client, PULL_BASE):
        say(f"base {PULL_BASE} is already present")
        return
    say(f"pulling {PULL_BASE} (at most {timeout_s:.0f} s)")
    outcome: dict[str, BaseException | None] = {}

    def pull() -> None:
        try:
            repository, tag = PULL_BASE.split(":")
            client.images.pull(repository, tag=tag)
            outcome["error"] = None
        except BaseException as exc:  # reported to the waiting thread
            outcome["error"] = exc

    worker = threading.Thread(target=pull, daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise ImageBuildError(f"pulling {PULL_BASE} did not finish in {timeout_s:.0f} s"
                              " (is Docker Hub reachable?)")
    error = outcome.get("error")
    if error is not None:
        raise ImageBuildError(f"pulling {PULL_BASE} failed: {str(error).splitlines()[0][:200]}")


def debootstrap_problem() -> str | None:
    """None when the debootstrap method can run here, else why not and what to do."""
    if not sys.platform.startswith("linux"):
        return "the debootstrap method needs Linux; use --method pull (needs Docker Hub)"
    if os.geteuid() != 0:
        return "the debootstrap method needs root; run it with sudo, or use --method pull"
    if shutil.which("debootstrap") is None:
        return ("the debootstrap program is missing; install it (apt-get install debootstrap)"
                " or use --method pull")
    return None


def _stream_command(argv: list[str], say: Progress, what: str) -> None:
    """Run ``argv``, passing each output line to ``say``.

    Raises:
        ImageBuildError: it failed (message has the last output lines).

    """
    say("$ " + " ".join(argv))
    tail: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail = [*tail[-30:], line]
            say(line)
        code = proc.wait()
    if code != 0:
        raise ImageBuildError(f"{what} failed (exit {code}):\n" + "\n".join(tail))


def _import_base(client: Any, say: Progress) -> None:
    """Make :data:`DEBOOTSTRAP_BASE` with debootstrap and ``docker import``.

    Raises:
        SandboxUnavailable: debootstrap cannot run here (see :func:`debootstrap_problem`).
        ImageBuildError: debootstrap, the archive or the import failed.

    """
    problem = debootstrap_problem()
    if problem:
        raise SandboxUnavailable(problem)
    with tempfile.TemporaryDirectory(prefix="multicoder-rootfs-") as scratch:
        root = Path(scratch) / "root"
        _stream_command(
            ["debootstrap", "--variant=minbase", "--include=" + ",".join(DEBOOTSTRAP_PACKAGES),
             DEBIAN_SUITE, str(root), DEBIAN_MIRROR], say, "debootstrap")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / leftover).glob("*"):
                if entry.is_file() and entry.name != "lock":
                    entry.unlink()
        archive = Path(scratch) / "rootfs.tar"
        _stream_command(["tar", "--numeric-owner", "-C", str(root), "-cf", str(archive), "."],
                        say, "archiving the root file system")
        say(f"docker import {archive} {DEBOOTSTRAP_BASE}"
            f" ({archive.stat().st_size / 1e6:.0f} MB)")
        repository, tag = DEBOOTSTRAP_BASE.split(":")
        try:
            client.api.import_image_from_file(
                str(archive), repository=repository, tag=tag,
                changes=[f"ENV PATH={BASE_PATH}", "ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]'])
        except Exception as exc:  # the SDK raises several kinds
            raise ImageBuildError(f"docker import failed: {exc}") from exc


def _context(scratch: Path) -> Path:
    """Copy the Dockerfile, the pre-warm list and the CA bundle into a build context."""
    context = scratch / "context"
    context.mkdir()
    shutil.copy2(IMAGE_DIR / "Dockerfile", context / "Dockerfile")
    shutil.copy2(IMAGE_DIR / "prewarm.txt", context / "prewarm.txt")
    bundle = ca_bundle()
    if bundle is not None:
        shutil.copyfile(bundle, context / "ca-bundle.crt")
    return context


def _log_lines(chunks: Iterator[dict[str, Any]], say: Progress) -> None:
    """Pass the builder's output to ``say``.

    Raises:
        ImageBuildError: the builder reported an error (message has the last lines).

    """
    tail: list[str] = []
    for chunk in chunks:
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            raise ImageBuildError(f"docker build failed: {detail}\n" + "\n".join(tail[-30:]))
        text = _ANSI.sub("", str(chunk.get("stream") or chunk.get("status") or ""))
        for line in text.splitlines():
            if line.strip():
                tail = [*tail[-60:], line]
                say(line)


def _docker_build(client: Any, tag: str, base: str, say: Progress) -> None:
    """Build the Dockerfile on ``base`` as ``tag``.

    Raises:
        ImageBuildError: the build failed.

    """
    try:
        uv_version = importlib.metadata.version("uv")
    except importlib.metadata.PackageNotFoundError:
        uv_version = ""
    with tempfile.TemporaryDirectory(prefix="multicoder-image-") as scratch:
        context = _context(Path(scratch))
        say(f"docker build -t {tag} --build-arg BASE_IMAGE={base} (uv {uv_version or 'newest'})")
        try:
            chunks = client.api.build(path=str(context), tag=tag, rm=True, forcerm=True,
                                      pull=False, decode=True,
                                      buildargs={"BASE_IMAGE": base, "UV_VERSION": uv_version},
                                      labels={"org.multicoder.base": base})
            _log_lines(chunks, say)
        except ImageBuildError:
            raise
        except Exception as exc:  # the SDK raises several kinds
            raise ImageBuildError(f"docker build failed: {exc}") from exc


def build_image(tag: str, *, method: Method = "auto",
                on_progress: Progress | None = None) -> ImageBuild:
    """Build the sandbox image ``tag``.

    Args:
        tag: the image tag to create (replaced if it exists).
        method: ``pull`` (python:3.11-slim from Docker Hub), ``debootstrap`` (no registry)
            or ``auto`` (``pull`` with a :data:`PULL_TIMEOUT_S` time-out, then debootstrap).
        on_progress: called with each progress line (build output), without newline.

    Returns:
        The :class:`ImageBuild` (tag, method used, seconds, size in bytes).

    Raises:
        SandboxUnavailable: no Docker daemon answers, or the debootstrap method cannot run
            here (not Linux, not root, no debootstrap); the message says what to do.
        ImageBuildError: the pull, debootstrap, import or docker build failed.

    """
    say: Progress = on_progress or (lambda _line: None)
    started = time.monotonic()
    client = _client()
    before = {name: _image_id(client, name) for name in (tag, DEBOOTSTRAP_BASE)}
    used: Literal["pull", "debootstrap"]
    if method in ("auto", "pull"):
        try:
            _pull_base(client, PULL_TIMEOUT_S if method == "auto" else 600.0, say)
            used = "pull"
        except ImageBuildError as exc:
            if method == "pull":
                raise
            if debootstrap_problem():
                raise ImageBuildError(f"{exc}; the debootstrap fallback cannot run either:"
                                      f" {debootstrap_problem()}") from exc
            say(f"{exc}; falling back to debootstrap")
            used = "debootstrap"
    else:
        used = "debootstrap"
    if used == "debootstrap":
        _import_base(client, say)
    _docker_build(client, tag, PULL_BASE if used == "pull" else DEBOOTSTRAP_BASE, say)
    size = int(client.images.get(tag).attrs.get("Size", 0))
    _drop_replaced(client, before, say)
    return ImageBuild(tag=tag, method=used, seconds=time.monotonic() - started,
                      size_bytes=size)
