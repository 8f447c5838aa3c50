"""The Docker backend: every command of a run runs in one locked-down container (G11).

One container per :class:`DockerSandbox` (per run) at a time, created at the first
:meth:`DockerSandbox.run`: no network, read-only root file system, a scratch ``/tmp`` (tmpfs),
no capabilities, ``no-new-privileges``, a non-root user (:func:`sandbox_identity`), memory /
CPU / process limits, and only the run's workspace and its extra writable folders mounted,
read-write, at the same absolute paths as on the host. A container lives at most
``limits.wall_time_s`` seconds: then it is killed and the next command transparently gets a
fresh one (the workspace stays), so a run may last longer than one container.

Each command is a ``docker exec`` tagged with a fresh marker variable, and the host keeps the
set of markers of the commands running right now. At the time-out, and after a command ends,
a tiny reaper kills every process in the container except its init, its keep-alive (known by
pid) and the processes of commands still running (a process carrying one of their markers,
or a descendant of one): a forged or stale marker saves nothing. If that is not enough, the
container itself is killed (the next command recreates it; the workspace stays).

The dependency-install step (``network=True``) runs in a separate short-lived container from
the same image on the default bridge network, with the shared uv cache volume
(:data:`UV_CACHE_VOLUME`, first filled from the image's pre-warmed cache) and the host's CA
bundle. Of the workspace it mounts only the command's working directory (the app's freshly
made ``.venv``), and the run container is stopped first, so no process of the generated code
is alive and nothing it wrote is visible there: only uv (and the index's packages) runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from tools.sandbox.base import (
    SANDBOX_IMAGE,
    CommandResult,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    hand_over,
    sandbox_identity,
    scrub_environment,
)

#: Default image tag (the same as ``graph.settings.SANDBOX_IMAGE``; tools cannot import graph).
DEFAULT_IMAGE: Final = SANDBOX_IMAGE
#: Named volume holding uv's download cache, shared by every run's install container.
UV_CACHE_VOLUME: Final = "multicoder-uv-cache"
#: Label put on every container MultiCoder creates (value "1").
LABEL: Final = "org.multicoder"
#: Label holding the run's workspace (host path) of a container.
LABEL_WORKSPACE: Final = "org.multicoder.workspace"
#: Label saying what a container is for: "run" or "install".
LABEL_ROLE: Final = "org.multicoder.role"
#: Label holding when (Unix time, seconds) a container's wall time runs out.
LABEL_EXPIRES: Final = "org.multicoder.expires"
#: Variable tagging every process a command starts (value: a fresh hex id per command).
MARKER_VAR: Final = "MULTICODER_EXEC"

#: What the image sets, used when its configuration lacks a value.
FALLBACK_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FALLBACK_PYTHON: Final = "/usr/local/bin/python3.11"
FALLBACK_UV: Final = "/usr/local/bin/uv"
FALLBACK_UV_CACHE: Final = "/opt/multicoder/uv-cache"
#: The container's scratch folder (a private tmpfs) and HOME.
SCRATCH: Final = "/tmp"  # noqa: S108 - inside the container, not the host's /tmp
#: uv's cache inside the run container (the root file system is read-only there).
RUN_UV_CACHE: Final = "/tmp/.uv-cache"  # noqa: S108 - the container's private tmpfs

#: Seconds for the daemon to answer a control request (create, kill, inspect).
API_TIMEOUT_S: Final = 60.0
#: Seconds :func:`unavailable_reason` may take.
PROBE_TIMEOUT_S: Final = 3.0
#: Seconds to wait for the output to end after the command's leader exited.
PIPE_GRACE_S: Final = 0.5
#: Seconds to wait after killing a command before the whole container is killed.
AFTER_KILL_S: Final = 5.0
#: Seconds the reaper may take before the container is killed instead.
REAP_TIMEOUT_S: Final = 5.0
#: Bytes read from the exec stream at a time.
CHUNK_BYTES: Final = 65_536

# Kills every process in the container that belongs to no command running now. argv[1] is
# the keep-alive's pid, argv[2] the marker variable's name, argv[3:] the markers of the
# commands running now. Spared: pid 1 (the container's init), the keep-alive, the reaper, and
# every process that carries one of those markers or descends from one that does (a command's
# child may clear its environment; an orphan, re-parented to pid 1, must carry one itself).
# An unreadable environment (a non-dumpable process, or runc between setuid and execve while
# starting a command) is looked at again 0.2 s later and counts as unmarked if it still is.
# Processes of another uid (runc setting an exec up as root) are not ours to kill. Stops the
# victims first (a stopped process cannot fork, so fork bombs cannot outrun it), then kills
# them. Exit code 1 when some survive. Runs as the sandbox user.
_REAPER: Final = r"""
import os, signal, sys, time
me = os.getpid()
spared = {1, me, int(sys.argv[1])}
prefix = sys.argv[2].encode() + b"="
running = {prefix + m.encode() for m in sys.argv[3:]}
uid = str(os.getuid()).encode()
def snapshot():
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            with open("/proc/%d/status" % pid, "rb") as f:
                owner = [line.split()[1] for line in f if line.startswith(b"Uid:")]
        except (OSError, IndexError):
            continue
        if fields[0] in (b"Z", b"X"):
            continue
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                marked = bool(running.intersection(f.read().split(b"\0")))
        except OSError:
            marked = None
        table[pid] = (int(fields[1]), owner == [uid], marked)
    return table
def judge(table, pid):
    unsure, seen = False, set()
    while pid in table and pid not in seen:
        seen.add(pid)
        parent, _, marked = table[pid]
        if marked:
            return "keep"
        unsure = unsure or marked is None
        pid = parent
    return "unsure" if unsure else "kill"
def victims():
    table = snapshot()
    found, doubt = [], []
    for pid, (_, ours, _) in table.items():
        if pid in spared or not ours:
            continue
        verdict = judge(table, pid)
        if verdict == "kill":
            found.append(pid)
        elif verdict == "unsure":
            doubt.append(pid)
    if doubt:
        time.sleep(0.2)
        table = snapshot()
        found += [pid for pid in doubt if pid in table and judge(table, pid) != "keep"]
    return found
def send(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
stopped = set()
for _ in range(200):
    new = [pid for pid in victims() if pid not in stopped]
    if not new:
        break
    send(new, signal.SIGSTOP)
    stopped.update(new)
send(stopped, signal.SIGKILL)
for _ in range(100):
    left = victims()
    if not left:
        sys.exit(0)
    send(left, signal.SIGKILL)
    time.sleep(0.01)
sys.exit(1)
"""

# Prints the pid of the keep-alive: the only child of the container's init right after the
# container started (commands run with ``docker exec`` have parent 0 in the container). Run
# before any command, so nothing of the generated code can pose as it. Exit code 1 if unsure.
_KEEP_ALIVE_PID: Final = r"""
import os, sys, time
me = os.getpid()
for _ in range(250):
    children = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                with open("/proc/%s/stat" % name, "rb") as f:
                    if f.read().rsplit(b")", 1)[1].split()[1] == b"1":
                        children.append(int(name))
            except (OSError, IndexError):
                pass
    if len(children) == 1:
        print(children[0])
        sys.exit(0)
    time.sleep(0.02)
sys.exit(1)
"""


def _docker_module() -> Any:
    """The ``docker`` SDK module.

    Raises:
        SandboxUnavailable: it is not installed.

    """
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise SandboxUnavailable(
            f"the docker Python package is missing ({exc}); reinstall MultiCoder") from exc
    return docker


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _connect(timeout_s: float) -> Any:
    """A ``docker.DockerClient`` whose daemon answered a ping.

    Raises:
        SandboxUnavailable: no daemon answers (message says how to start one).

    """
    docker = _docker_module()
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except Exception as exc:  # any failure means "no daemon" here
        raise SandboxUnavailable(
            f"the Docker daemon does not answer ({_first_line(exc)}): start Docker Desktop"
            " or dockerd, then retry") from exc
    return client


def daemon_version() -> str | None:
    """The Docker daemon's version (e.g. "20.10.24+dfsg1"), or None when none answers."""
    try:
        client = _connect(PROBE_TIMEOUT_S)
        try:
            return str(client.version().get("Version")) or None
        finally:
            client.close()
    except Exception:  # "no answer" is the answer
        return None


def image_present(tag: str) -> bool:
    """True when the daemon answers and has the image ``tag``; never raises."""
    try:
        client = _connect(PROBE_TIMEOUT_S)
    except SandboxUnavailable:
        return False
    try:
        client.images.get(tag)
        return True
    except Exception:  # missing or unreadable: not usable either way
        return False
    finally:
        client.close()


def unavailable_reason(image: str) -> str | None:
    """Why the Docker backend cannot run now, or None when it can.

    Fast (at most about :data:`PROBE_TIMEOUT_S` seconds): pings the daemon and looks the
    image up. Used by ``multicoder doctor`` and by the ``auto`` backend choice.

    Returns:
        None when the daemon answers and ``image`` is present; else one line with the
        reason and what to do (start the daemon, or run ``multicoder sandbox build``).

    """
    try:
        client = _connect(PROBE_TIMEOUT_S)
    except SandboxUnavailable as exc:
        return str(exc)
    docker = _docker_module()
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return (f"the sandbox image {image} is missing: run `multicoder sandbox build`"
                " (a few minutes, once)")
    except Exception as exc:  # the daemon answered oddly
        return f"the Docker daemon could not look up the image {image}: {_first_line(exc)}"
    finally:
        client.close()
    return None


def remove_stale(client: Any | None = None) -> int:
    """Remove MultiCoder containers whose wall time has run out (left by a crashed run).

    Args:
        client: a ``docker.DockerClient`` (a new connection when None).

    Returns:
        How many containers were removed; 0 when the daemon does not answer.

    """
    try:
        own = client or _connect(API_TIMEOUT_S)
    except SandboxUnavailable:
        return 0
    removed = 0
    try:
        now = time.time()
        for container in own.containers.list(all=True, filters={"label": f"{LABEL}=1"}):
            try:
                expires = float(container.labels.get(LABEL_EXPIRES, "inf"))
            except ValueError:
                expires = 0.0
            if expires < now:
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                    removed += 1
    except Exception:  # noqa: S110 - best effort clean-up
        pass
    finally:
        if client is None:
            own.close()
    return removed


class _Output:
    """Stdout and stderr of one command, each capped at ``cap`` bytes (the rest dropped)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        self.truncated = False
        self.lock = threading.Lock()

    def add(self, stream: int, data: bytes) -> None:
        """Keep what fits of ``data`` (stream 1 stdout, 2 stderr; others count as stderr)."""
        with self.lock:
            kept = self.parts[1 if stream == 1 else 2]
            room = self.cap - len(kept)
            if room > 0:
                kept += data[:room]
            if len(data) > max(room, 0):
                self.truncated = True

    def text(self, stream: int) -> str:
        """The kept bytes of ``stream`` decoded as UTF-8 (errors replaced)."""
        with self.lock:
            return bytes(self.parts[stream]).decode("utf-8", errors="replace")


def _raw(sock: Any) -> Any:
    """The real socket under a docker-py ``SocketIO`` wrapper (or the object itself)."""
    return getattr(sock, "_sock", sock)


def _frames(sock: Any) -> Iterator[tuple[int, bytes]]:
    """Docker's multiplexed stream: ``(stream id, bytes)`` until end of file or error."""
    raw = _raw(sock)
    buffer = b""
    while True:
        try:
            data = raw.recv(CHUNK_BYTES)
        except OSError:
            return
        if not data:
            return
        buffer += data
        while len(buffer) >= 8:
            stream = buffer[0]
            size = int.from_bytes(buffer[4:8], "big")
            if len(buffer) < 8 + size:
                break
            yield stream, buffer[8:8 + size]
            buffer = buffer[8 + size:]


class _Stream:
    """Reads a hijacked exec/attach socket in a daemon thread into an :class:`_Output`."""

    def __init__(self, sock: Any, output: _Output, stdin: str | None) -> None:
        self.sock = sock
        self.output = output
        self.done = threading.Event()
        if stdin is not None:
            threading.Thread(target=self._feed, args=(stdin.encode("utf-8"),),
                             daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _feed(self, data: bytes) -> None:
        raw = _raw(self.sock)
        with contextlib.suppress(OSError):
            raw.sendall(data)
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_WR)  # end of the child's stdin

    def _drain(self) -> None:
        try:
            for stream, data in _frames(self.sock):
                self.output.add(stream, data)
        finally:
            self.done.set()

    def close(self) -> None:
        """Close the socket (ends the reader thread)."""
        with contextlib.suppress(Exception):
            _raw(self.sock).close()
        with contextlib.suppress(Exception):
            self.sock.close()


def _not_started(exit_code: int | None, output: _Output) -> str | None:
    """The runtime's message when the program could not be started at all, else None."""
    if exit_code not in (126, 127):
        return None
    text = output.text(1) + output.text(2)
    for hint in ("OCI runtime exec failed", "executable file not found", "no such file or"
                 " directory: unknown", "permission denied: unknown"):
        if hint in text:
            return text.strip().splitlines()[-1][:300] if text.strip() else hint
    return None


class DockerSandbox(Sandbox):
    """Runs a run's commands in one locked-down Docker container (see the module docstring).

    Args:
        workspace: the run's workspace (host path; mounted read-write at the same path).
        writable: other host folders the commands may write (created if missing; mounted
            read-write at the same paths).
        limits: memory, CPUs, processes, ``/tmp`` size and each container's lifetime (a
            fresh container replaces an expired one).
        image: the sandbox image tag (see :mod:`tools.sandbox.image`).

    Raises:
        SandboxUnavailable: no Docker daemon answers, or the image is missing (the message
            says what to do). No container is created here: the first :meth:`run` does.

    """

    name = "docker"
    isolated = True

    def __init__(self, workspace: Path, *, writable: Sequence[Path] = (),
                 limits: SandboxLimits | None = None, image: str = DEFAULT_IMAGE) -> None:
        super().__init__(workspace, writable=writable)
        self.limits = limits or SandboxLimits()
        self.image = image
        self.uid, self.gid = sandbox_identity()
        self._client = _connect(API_TIMEOUT_S)
        docker = _docker_module()
        try:
            config = self._client.images.get(image).attrs.get("Config") or {}
        except docker.errors.ImageNotFound:
            self._client.close()
            raise SandboxUnavailable(
                f"the sandbox image {image} is missing: run `multicoder sandbox build`"
                " (a few minutes, once)") from None
        except Exception as exc:  # the daemon answered oddly
            self._client.close()
            raise SandboxUnavailable(
                f"the Docker daemon could not look up the image {image}:"
                f" {_first_line(exc)}") from exc
        image_env: dict[str, str] = dict(
            item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
        self._path = image_env.get("PATH", FALLBACK_PATH)
        self._python = image_env.get("MULTICODER_PYTHON", FALLBACK_PYTHON)
        self._uv = image_env.get("MULTICODER_UV", FALLBACK_UV)
        self._uv_cache = image_env.get("UV_CACHE_DIR", FALLBACK_UV_CACHE)
        self._api_version = str(self._client.api.api_version)
        self._lock = threading.RLock()
        self._container_id: str | None = None
        self._generation = 0
        self._born: float | None = None  # monotonic time the current container was created
        self._keep_pid = 0  # the current container's keep-alive pid (inside the container)
        self._closed = False
        self._timer: threading.Timer | None = None  # kills the current container at expiry
        # Markers of the commands running now. Guarded by _reap_lock, which a reaper holds
        # from reading the set until it ends, so no command starts unseen by a reaper.
        # Lock order: _lock, then _reap_lock (never the other way).
        self._reap_lock = threading.Lock()
        self._running: set[str] = set()
        self._installs: set[str] = set()

    # -- what the image provides ------------------------------------------------------

    def uv_program(self) -> str:
        """The uv binary inside the image (``/usr/local/bin/uv``)."""
        return self._uv

    def python_request(self, default: str) -> str:
        """The image's Python 3.11 (``/usr/local/bin/python3.11``), whatever ``default`` is."""
        return self._python

    def system_path(self) -> str:
        """The image's ``PATH``."""
        return self._path

    def describe(self) -> str:
        """One line for people: the backend, the image and the isolation."""
        return f"docker ({self.image}; no network, read-only root, non-root user)"

    @property
    def container_id(self) -> str | None:
        """The id of the run container now alive, or None (none yet, or killed)."""
        return self._container_id

    # -- running --------------------------------------------------------------------------

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
        """Run ``argv`` in the run's container and wait for it, at most ``timeout_s`` seconds.

        Thread-safe: commands may run at the same time (each is its own ``docker exec``).

        Args:
            argv: program and arguments; the program is looked up on the container's PATH
                (or on ``env["PATH"]``); absolute paths are paths inside the container, which
                are the host paths for the workspace.
            cwd: working directory, absolute or relative to the workspace; it must resolve
                to the workspace or a directory inside it.
            env: extra variables, added to :func:`scrub_environment` of an empty parent
                (nothing of MultiCoder's own environment is passed; secrets are dropped).
            timeout_s: wall-clock limit in seconds; at the limit every process of the command
                is killed and the result has ``timed_out=True`` and ``exit_code=None``.
            max_output_bytes: bytes kept from each of stdout and stderr (rest drained).
            stdin: text fed to the command's standard input (closed when None).
            network: True only for the dependency install: the command then runs in a
                separate short-lived container with network access that mounts only
                ``cwd`` (which must be strictly inside the workspace), after the run
                container was stopped (see the module doc).

        Returns:
            The :class:`CommandResult` (``duration_ms`` in wall-clock milliseconds).

        Raises:
            SandboxError: empty ``argv``, bad limits, working directory outside the
                workspace, the program could not be started, the sandbox was closed, or the
                daemon failed. An expired container (``limits.wall_time_s``) is not an
                error: a fresh one is made. A command still running when its container
                expires is killed (``exit_code`` None, not timed out, a note in stderr).

        """
        if not argv:
            raise SandboxError("nothing to run: argv is empty")
        if timeout_s <= 0 or max_output_bytes < 0:
            raise SandboxError(
                f"invalid limits: timeout_s={timeout_s}, max_output_bytes={max_output_bytes}")
        workdir = self._working_directory(cwd)
        marker = uuid.uuid4().hex
        child_env = scrub_environment(parent={}, extra=env)
        child_env[MARKER_VAR] = marker
        for folder in self.writable:
            folder.mkdir(parents=True, exist_ok=True)
        hand_over([self.workspace, *self.writable], self.uid, self.gid)
        if network:
            return self._run_install(list(argv), workdir, child_env, timeout_s,
                                     max_output_bytes, stdin)
        return self._run_exec(list(argv), workdir, child_env, timeout_s, max_output_bytes,
                              stdin, marker)

    def _api(self) -> Any:
        """A fresh low-level client (one per command: hijacked sockets are not shared)."""
        docker = _docker_module()
        return docker.from_env(version=self._api_version, timeout=API_TIMEOUT_S).api

    def _labels(self, role: str) -> dict[str, str]:
        expires = time.time() + self.limits.wall_time_s
        return {LABEL: "1", LABEL_ROLE: role, LABEL_WORKSPACE: str(self.workspace),
                LABEL_EXPIRES: f"{expires:.0f}"}

    def _common(self, role: str) -> dict[str, Any]:
        """``containers.create`` options shared by the run and the install containers."""
        limits = self.limits
        memory = f"{limits.memory_mb}m"
        cpus = min(limits.cpus, float(os.cpu_count() or 1))
        return {
            "image": self.image,
            "user": f"{self.uid}:{self.gid}",
            "read_only": True,
            "tmpfs": {SCRATCH: f"rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "mem_limit": memory,
            "memswap_limit": memory,
            "nano_cpus": int(cpus * 1e9),
            "pids_limit": limits.pids,
            "labels": self._labels(role),
            "init": True,
            "detach": True,
        }

    def _mounts(self, folders: Sequence[Path]) -> list[Any]:
        docker = _docker_module()
        return [docker.types.Mount(target=str(folder), source=str(folder), type="bind",
                                   read_only=False) for folder in folders]

    def _container(self, timeout_s: float, marker: str) -> tuple[str, int, int]:
        """The run container to run a command in, created (or recreated) when needed.

        Registers ``marker`` as running (the caller unregisters it). A container older than
        ``limits.wall_time_s`` is replaced; so is an idle one (no command running) that would
        expire within ``timeout_s``, rather than killing the command midway.

        Args:
            timeout_s: the command's time-out in seconds.
            marker: the command's marker value.

        Returns:
            ``(container id, generation, keep-alive pid inside the container)``.

        Raises:
            SandboxError: the sandbox is closed, or Docker failed.

        """
        with self._lock:
            if self._closed:
                raise SandboxError("the docker sandbox is closed")
            if self._container_id is not None and self._born is not None:
                age = time.monotonic() - self._born
                with self._reap_lock:
                    idle = not self._running
                wall = self.limits.wall_time_s
                if age < wall and not (idle and age + timeout_s > wall):
                    try:
                        state = self._client.api.inspect_container(self._container_id)["State"]
                        if state.get("Running"):
                            with self._reap_lock:
                                self._running.add(marker)
                            return self._container_id, self._generation, self._keep_pid
                    except Exception:  # noqa: S110 - gone: recreate it below
                        pass
            self._kill_container()
            # A short-lived client: docker-py keeps sockets of container create/remove calls
            # open (about three per container), which a long run would pile up.
            client = _docker_module().from_env(version=self._api_version,
                                               timeout=API_TIMEOUT_S)
            try:
                remove_stale(client)
                container = client.containers.run(
                    command=self._keep_alive(), auto_remove=True,
                    name=f"multicoder-run-{uuid.uuid4().hex[:12]}",
                    network_mode="none",
                    working_dir=str(self.workspace),
                    environment={"HOME": SCRATCH, "UV_CACHE_DIR": RUN_UV_CACHE,
                                 "UV_PYTHON_DOWNLOADS": "never"},
                    mounts=self._mounts([self.workspace, *self.writable]),
                    **self._common("run"),
                )
            except Exception as exc:  # the SDK raises several kinds
                raise SandboxError(
                    f"the sandbox container could not start: {_first_line(exc)}") from exc
            finally:
                with contextlib.suppress(Exception):
                    client.close()
            self._container_id = str(container.id)
            self._generation += 1
            self._born = time.monotonic()
            self._timer = threading.Timer(self.limits.wall_time_s, self._kill_if_current,
                                          args=(self._generation,))
            self._timer.daemon = True
            self._timer.start()
            try:
                self._keep_pid = self._find_keep_alive(self._container_id)
            except SandboxError:
                self._kill_container()
                raise
            with self._reap_lock:
                self._running.add(marker)
            return self._container_id, self._generation, self._keep_pid

    def _find_keep_alive(self, container_id: str) -> int:
        """The keep-alive's pid inside the fresh container ``container_id`` (lock held).

        Raises:
            SandboxError: it could not be found.

        """
        api: Any = None
        try:
            api = self._api()  # its own connection, closed after (a hijacked one is not reused)
            probe = api.exec_create(container_id, [self._python, "-I", "-S", "-c",
                                                   _KEEP_ALIVE_PID],
                                    user=f"{self.uid}:{self.gid}", stdout=True,
                                    stderr=False)["Id"]
            printed = api.exec_start(probe)
            code = api.exec_inspect(probe).get("ExitCode")
            if code == 0:
                return int(printed.decode("ascii", errors="replace").strip())
            problem = f"exit code {code}"
        except Exception as exc:  # the daemon failed, or garbage printed
            problem = _first_line(exc)
        finally:
            if api is not None:
                with contextlib.suppress(Exception):
                    api.close()
        raise SandboxError(f"the sandbox container's keep-alive was not found ({problem})")

    def _keep_alive(self) -> list[str]:
        """The run container's main command.

        It sleeps a bit longer than the wall time, so a container left behind by a crashed
        MultiCoder stops (and is removed) by itself.
        """
        return ["sleep", str(int(self.limits.wall_time_s) + 30)]

    def _kill_container(self) -> None:
        """Kill and remove the run container, if any, and stop its timer; never raises.

        Called with ``_lock`` held.
        """
        container_id, self._container_id = self._container_id, None
        timer, self._timer = self._timer, None
        self._born = None
        if timer is not None:
            timer.cancel()
        if container_id is None:
            return
        with contextlib.suppress(Exception):
            api = self._api()  # short-lived, see _container
            try:
                api.remove_container(container_id, force=True)
            finally:
                api.close()

    def _kill_if_current(self, generation: int) -> None:
        """Kill the run container if it is still the one of ``generation``.

        Also the expiry timer's action: the next command then gets a fresh container.
        """
        with self._lock:
            if self._generation == generation:
                self._kill_container()

    def _reap(self, api: Any, container_id: str, keep_pid: int) -> bool:
        """Kill every process in the container that belongs to no command running now.

        Holds ``_reap_lock`` throughout, so no command registers (and starts) unseen.

        Args:
            api: a low-level client.
            container_id: the container to clean.
            keep_pid: its keep-alive's pid (inside the container).

        Returns:
            True when none is left; False when the reaper could not run or some survived
            (the caller then kills the container).

        """
        with self._reap_lock:
            running = sorted(self._running)
            try:
                reaper = api.exec_create(
                    container_id, [self._python, "-I", "-S", "-c", _REAPER, str(keep_pid),
                                   MARKER_VAR, *running],
                    user=f"{self.uid}:{self.gid}", stdout=True, stderr=True)["Id"]
                stream = _Stream(api.exec_start(reaper, socket=True), _Output(4096), None)
            except Exception:  # e.g. the daemon failed
                return False
            # With no process slot left (fork bomb) the reaper never starts: give up in time.
            finished = stream.done.wait(REAP_TIMEOUT_S)
            stream.close()
            return finished and self._exit_code(api, reaper) == 0

    def _run_exec(self, argv: list[str], workdir: Path, env: dict[str, str], timeout_s: float,
                  max_output_bytes: int, stdin: str | None, marker: str) -> CommandResult:
        """Run one command with ``docker exec`` in the run container.

        ``marker`` counts as running from before the exec starts until its leader has exited
        (or timed out); then the reaper kills whatever of it is left, together with anything
        else that belongs to no running command.
        """
        container_id, generation, keep_pid = self._container(timeout_s, marker)
        output = _Output(max_output_bytes)
        started = time.monotonic()
        api: Any = None
        try:
            try:
                api = self._api()
                exec_id = api.exec_create(
                    container_id, argv, stdin=stdin is not None, stdout=True, stderr=True,
                    environment=env, workdir=str(workdir), user=f"{self.uid}:{self.gid}",
                )["Id"]
                stream = _Stream(api.exec_start(exec_id, socket=True), output, stdin)
            except Exception as exc:  # the SDK raises several kinds
                raise SandboxError(f"cannot start '{argv[0]}' in the sandbox:"
                                   f" {_first_line(exc)}") from exc
            timed_out = not self._wait(api, exec_id, stream, started + timeout_s, generation)
            with self._reap_lock:
                self._running.discard(marker)
            if not timed_out:
                stream.done.wait(PIPE_GRACE_S)  # let the output drain; children may hold it
            if not self._reap(api, container_id, keep_pid) or not stream.done.wait(
                    AFTER_KILL_S):
                self._kill_if_current(generation)
                stream.done.wait(AFTER_KILL_S)
            stream.close()
            exit_code = None if timed_out else self._exit_code(api, exec_id)
        finally:
            with self._reap_lock:
                self._running.discard(marker)
            if api is not None:
                with contextlib.suppress(Exception):
                    api.close()
        duration_ms = int((time.monotonic() - started) * 1000)
        problem = _not_started(exit_code, output)
        if problem:
            raise SandboxError(f"cannot start '{argv[0]}' in the sandbox: {problem}")
        stderr = output.text(2)
        if exit_code is None and not timed_out:
            stderr += "\n[sandbox: the container was stopped while this command ran]\n"
        return CommandResult(argv=argv, exit_code=exit_code, stdout=output.text(1),
                             stderr=stderr, duration_ms=duration_ms, timed_out=timed_out,
                             truncated=output.truncated)

    def _wait(self, api: Any, exec_id: str, stream: _Stream, deadline: float,
              generation: int) -> bool:
        """Wait until the command's leader exits (True) or ``deadline`` passes (False).

        Completion is what the daemon says (``exec_inspect``: not running, exit code known);
        the end of the output is only a hint to look again at once, since a command may close
        its stdout and stderr and keep running. Also True when the container was killed
        (wall time, close, another command's failed clean-up).
        """
        pause = 0.02
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._container_id is None or self._generation != generation:
                return True
            try:
                info = api.exec_inspect(exec_id)
            except Exception:  # container gone: the command is over
                return True
            if not info.get("Running") and (info.get("ExitCode") is not None
                                            or stream.done.is_set()):
                return True
            if stream.done.is_set():
                time.sleep(min(pause, left))  # output closed: only the daemon can tell
            else:
                stream.done.wait(min(pause, left))
            pause = min(pause * 2, 0.5)

    def _exit_code(self, api: Any, exec_id: str) -> int | None:
        """The exec's exit code, waiting briefly for the daemon to record it."""
        for _ in range(50):
            try:
                info = api.exec_inspect(exec_id)
            except Exception:  # container removed meanwhile
                return None
            if not info.get("Running"):
                code = info.get("ExitCode")
                return int(code) if code is not None else None
            time.sleep(0.05)
        return None

    def _run_install(self, argv: list[str], workdir: Path, env: dict[str, str],
                     timeout_s: float, max_output_bytes: int,
                     stdin: str | None) -> CommandResult:
        """Run ``argv`` in a short-lived container with network (the dependency install).

        Only ``workdir`` (strictly inside the workspace) is mounted, read-write at the same
        path; the run container is stopped first (see :meth:`stop_processes`).

        Raises:
            SandboxError: ``workdir`` is the workspace itself, the sandbox is closed, or the
                container could not start.

        """
        if workdir == self.workspace or not workdir.is_relative_to(self.workspace):
            raise SandboxError(
                f"a network command must run in a folder inside the workspace (it sees only"
                f" that folder), not in {workdir}")
        self.stop_processes()
        with self._lock:
            if self._closed:
                raise SandboxError("the docker sandbox is closed")
        docker = _docker_module()
        env = dict(env)
        env.pop(MARKER_VAR, None)
        env.update({"HOME": SCRATCH, "UV_CACHE_DIR": self._uv_cache, "UV_LINK_MODE": "copy",
                    "UV_PYTHON_DOWNLOADS": "never"})
        mounts = self._mounts([workdir])  # nothing else of the workspace
        # One cache volume per uid: a cache written by one uid is not writable by another.
        mounts.append(docker.types.Mount(target=self._uv_cache,
                                         source=f"{UV_CACHE_VOLUME}-{self.uid}",
                                         type="volume", read_only=False))
        bundle = os.environ.get("SSL_CERT_FILE")
        if bundle and Path(bundle).is_file():
            real = str(Path(bundle).resolve())
            mounts.append(docker.types.Mount(target=bundle, source=real, type="bind",
                                             read_only=True))
            env.setdefault("SSL_CERT_FILE", bundle)
        # A client of its own for everything here, closed at the end: calls through the
        # long-lived client leave a Docker socket open each (2 per install otherwise).
        client = docker.from_env(version=self._api_version, timeout=API_TIMEOUT_S)
        api = client.api
        output = _Output(max_output_bytes)
        started = time.monotonic()
        container_id: str | None = None
        timed_out = False
        exit_code: int | None = None
        try:
            try:
                options = self._common("install")
                options.pop("detach")
                container_id = str(client.containers.create(
                    command=argv, name=f"multicoder-install-{uuid.uuid4().hex[:12]}",
                    network_mode="bridge", working_dir=str(workdir), environment=env,
                    mounts=mounts, stdin_open=stdin is not None, **options).id)
                with self._lock:
                    self._installs.add(container_id)
                sock = api.attach_socket(container_id, params={
                    "stdin": int(stdin is not None), "stdout": 1, "stderr": 1, "stream": 1})
                stream = _Stream(sock, output, stdin)
                api.start(container_id)
            except Exception as exc:  # e.g. "executable file not found"
                raise SandboxError(f"cannot start '{argv[0]}' in the sandbox install"
                                   f" container: {_first_line(exc)}") from exc
            deadline = started + timeout_s
            while True:
                if stream.done.wait(min(0.5, max(deadline - time.monotonic(), 0.0))):
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
            if timed_out:
                with contextlib.suppress(Exception):
                    api.kill(container_id)
                stream.done.wait(AFTER_KILL_S)
            else:
                with contextlib.suppress(Exception):
                    exit_code = int(api.wait(container_id, timeout=AFTER_KILL_S + 25)
                                    ["StatusCode"])
            stream.close()
        finally:
            if container_id is not None:
                with contextlib.suppress(Exception):
                    api.remove_container(container_id, force=True)
                with self._lock:
                    self._installs.discard(container_id)
            with contextlib.suppress(Exception):
                api.close()
        return CommandResult(argv=argv, exit_code=None if timed_out else exit_code,
                             stdout=output.text(1), stderr=output.text(2),
                             duration_ms=int((time.monotonic() - started) * 1000),
                             timed_out=timed_out, truncated=output.truncated)

    def stop_processes(self) -> None:
        """Kill the run container, and with it every process earlier commands left.

        The next command starts a fresh container (the workspace stays). Never raises.
        """
        with self._lock:
            self._kill_container()

    def close(self) -> None:
        """Kill and remove the run container and any install container.

        Idempotent; never raises.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            self._kill_container()
            for container_id in list(self._installs):
                with contextlib.suppress(Exception):
                    self._client.api.remove_container(container_id, force=True)
            self._installs.clear()
        with contextlib.suppress(Exception):
            self._client.close()
