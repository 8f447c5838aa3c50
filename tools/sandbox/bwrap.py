"""The bubblewrap backend: every command runs in its own throw-away set of Linux namespaces.

Each :meth:`BwrapSandbox.run` is one ``bwrap`` invocation: new PID, IPC, UTS, cgroup, mount
and network namespaces (the network is shared only for the dependency-install step), an empty
root file system holding read-only binds of just what programs need (``/usr`` and its merged-usr
links, a few ``/etc`` entries, the host's base Python interpreter, MultiCoder's uv binary), a
size-limited scratch ``/tmp`` and ``/dev/shm``, and the run's workspace and writable folders
bound read-write **at the same absolute paths**. The host's home, ``/root``, ``/etc/shadow``,
the settings file, the host's ``/proc`` and the Docker socket are simply not there.

The install step (``network=True``) shares the host's network, so it sees less: of the
workspace only the command's working directory (the app's freshly made ``.venv``), not the
writable folders, and a uv cache MultiCoder owns (:func:`sandbox_uv_cache`), never the
person's own (which every later ``uv sync`` on the host would trust).

Generated code never runs as root. Two modes:

* MultiCoder runs as a normal user: ``bwrap`` runs as that user and creates a user namespace
  (this needs unprivileged user namespaces, see :func:`unavailable_reason`).
* MultiCoder runs as root: ``bwrap`` runs as root *without* a user namespace (it can then bind
  folders under ``/root`` or a ``0700`` temp folder, which an unprivileged ``bwrap`` cannot
  even look up), and drops to :func:`~tools.sandbox.base.sandbox_identity` with ``setpriv``
  (util-linux: no capabilities, empty bounding set, ``no_new_privs``) *inside* the sandbox,
  right before the command. :func:`~tools.sandbox.base.hand_over` gives the workspace to that
  user first.

Limits (per command): wall time ``timeout_s``, at most ``limits.wall_time_s`` (the whole sandbox is
killed: ``bwrap`` runs with ``--unshare-pid`` and ``--die-with-parent``, so killing its process
group ends every process in the sandbox, and a process that outlives its parent dies with the
sandbox's PID 1 when the command ends); ``RLIMIT_DATA`` = ``limits.memory_mb`` per process (heap
and private writable mappings: unlike ``RLIMIT_AS`` it does not count address space merely reserved
by threads or mapped read-only, so Qt and PyInstaller keep working); ``RLIMIT_NPROC`` =
``limits.pids`` (processes and threads). ``RLIMIT_NPROC`` is counted per uid *and user namespace*:
it is set inside the sandbox's own user namespace (as root, a nested ``unshare --user`` after
dropping to the sandbox uid), so it counts that sandbox's processes only; where no user namespace
can be made it counts every process of the sandbox uid on the machine (Docker sandboxes running as
the same uid included); ``RLIMIT_FSIZE`` = :data:`FILE_SIZE_LIMIT_MB` per file; no core dumps;
``/tmp`` and ``/dev/shm`` of ``limits.tmpfs_mb`` each. Without cgroups (not used: they cannot be
set up simply and portably without root or a systemd delegation) ``limits.cpus`` is not enforced,
and memory is limited per process, not for the sandbox as a whole.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import platformdirs
import uv

from tools.sandbox.base import (
    CommandResult,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    hand_over,
    sandbox_identity,
    scrub_environment,
)
from tools.sandbox.local import (
    AFTER_KILL_S,
    PIPE_GRACE_S,
    _feed,
    _kill_group,
    _PipeReader,
    _wait_for_leader,
)

#: ``PATH`` inside the sandbox (before the app environment puts its venv in front).
SYSTEM_PATH: Final = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
#: The sandbox's own scratch folders (fresh tmpfs mounts inside it, never the host's).
SANDBOX_TMP: Final = "/tmp"  # noqa: S108 - a path inside the sandbox
SANDBOX_SHM: Final = "/dev/shm"  # noqa: S108 - a path inside the sandbox
#: Largest file a sandboxed process may write, in MiB (``RLIMIT_FSIZE``).
FILE_SIZE_LIMIT_MB: Final = 4096
#: Seconds the availability probe may take.
PROBE_TIMEOUT_S: Final = 15.0
#: Top-level links or folders of a merged-usr (or classic) system, bound read-only.
SYSTEM_DIRS: Final = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
#: ``/etc`` entries programs need (dynamic loader, TLS, fonts, time zone, MIME types ...).
ETC_ENTRIES: Final = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl/certs", "ssl/openssl.cnf",
    "ca-certificates", "ca-certificates.conf", "pki/tls/certs", "pki/ca-trust", "fonts",
    "alternatives", "localtime", "timezone", "mime.types", "nsswitch.conf", "host.conf",
    "gai.conf", "protocols", "services", "os-release", "python3", "xdg",
)
#: ``/etc`` entries bound only for the install step (name resolution).
NETWORK_ETC_ENTRIES: Final = ("resolv.conf", "hosts")
#: First words of a line ``bwrap``, ``setpriv`` or ``prlimit`` print when they cannot start.
_SETUP_PREFIXES: Final = ("bwrap: ", "setpriv: ", "prlimit: ")


def _running_as_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


@functools.cache
def unavailable_reason() -> str | None:
    """Why the bubblewrap backend cannot run here, or None when it can.

    Checks (once per process; the answer is cached): Linux, ``bwrap`` on ``PATH``, when running
    as root ``setpriv`` and ``prlimit`` (util-linux), and that a trivial command runs in a
    sandbox built exactly like :meth:`BwrapSandbox.run` builds it (as a normal user this proves
    unprivileged user namespaces work). Takes well under a second when it works, at most
    :data:`PROBE_TIMEOUT_S` seconds.

    Returns:
        None, or one line with the reason and what to do.

    """
    if not sys.platform.startswith("linux"):
        return "bubblewrap works on Linux only; use the docker backend here"
    if shutil.which("bwrap") is None:
        return ("bubblewrap is not installed: apt install bubblewrap (Debian/Ubuntu) or"
                " dnf install bubblewrap (Fedora)")
    if _running_as_root():
        missing = [name for name in ("setpriv", "prlimit") if shutil.which(name) is None]
        if missing:
            return (f"{' and '.join(missing)} not found (needed to drop root inside the"
                    " sandbox): apt install util-linux")
    elif shutil.which("prlimit") is None:
        return "prlimit not found (it sets the sandbox's limits): apt install util-linux"
    try:
        builder = _Invocation(
            workspace=None, writable=(), limits=SandboxLimits(), network=False,
            uid_gid=sandbox_identity(), as_root=_running_as_root())
        argv, fds = builder.build(["true"], Path("/"), {"PATH": SYSTEM_PATH, "HOME": SANDBOX_TMP})
    except (OSError, SandboxError) as exc:
        return f"the bubblewrap sandbox could not be prepared: {exc}"
    try:
        done = subprocess.run(argv, pass_fds=fds, capture_output=True, timeout=PROBE_TIMEOUT_S,
                              env={}, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not be started: {exc}"
    finally:
        for fd in fds:
            os.close(fd)
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
    message = lines[0] if lines else f"exit {done.returncode}"
    if not _running_as_root() and any(word in message for word in (
            "namespace", "uid map", "Operation not permitted", "Permission denied")):
        return (f"bubblewrap cannot create a user namespace ({message}): unprivileged user"
                " namespaces are disabled. On Debian/older kernels run `sysctl -w"
                " kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04 and later AppArmor"
                " restricts them: `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"
                " or install an AppArmor profile allowing userns for /usr/bin/bwrap; or use"
                " the docker backend")
    return f"a trivial command failed in the bubblewrap sandbox: {message}"


@functools.cache
def _nested_userns(uid: int, gid: int) -> tuple[str, ...]:
    """``unshare --user --map-current-user --`` when the sandbox user may create one, else ().

    Used when running as root: ``RLIMIT_NPROC`` set inside a fresh user namespace counts the
    processes of that sandbox only, instead of every process the sandbox uid has on the
    machine (other sandboxes, Docker containers running as the same uid). Cached per process.
    """
    unshare = shutil.which("unshare")
    setpriv = shutil.which("setpriv")
    if unshare is None or setpriv is None:
        return ()
    prefix = (unshare, "--user", "--map-current-user", "--")
    try:
        done = subprocess.run(
            [setpriv, "--reuid", str(uid), "--regid", str(gid), "--clear-groups", "--",
             *prefix, "true"], capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return prefix if done.returncode == 0 else ()


def _uv_binary() -> Path:
    """MultiCoder's own uv binary (``uv.find_uv_bin()``)."""
    try:
        return Path(uv.find_uv_bin())
    except FileNotFoundError as exc:
        raise SandboxUnavailable(f"the uv binary was not found: {exc}") from exc


def sandbox_uv_cache(uid: int) -> Path:
    """The uv cache of the install step: ``<user cache dir>/multicoder/uv-sandbox-<uid>``.

    MultiCoder's own folder (``platformdirs.user_cache_path("multicoder")``), never the
    person's uv cache: packages built during an install must not reach the host's own
    ``uv sync``. The path is returned whether or not it exists.
    """
    return platformdirs.user_cache_path("multicoder") / f"uv-sandbox-{uid}"


class _Invocation:
    """Builds one ``bwrap`` command line; bind sources, data and arguments go in via fds.

    ``build`` returns ``(argv, fds)``: ``argv`` is ``["/usr/bin/bwrap", "--args", N, "--",
    <drop privileges and set limits>, <command>]``; bwrap's options (and the synthetic
    ``/etc/passwd``/``/etc/group``) are in anonymous memory files whose descriptors the caller
    passes (``pass_fds``) and closes afterwards. Options go through a file so the sandboxed
    code cannot read the set-up and the environment values from ``/proc/1/cmdline``.
    """

    def __init__(self, *, workspace: Path | None, writable: Sequence[Path],
                 limits: SandboxLimits, network: bool, uid_gid: tuple[int, int],
                 as_root: bool, python_prefixes: Sequence[Path] = (),
                 read_only_files: Sequence[Path] = (), cache: Path | None = None) -> None:
        self.workspace = workspace
        self.writable = list(writable)
        self.limits = limits
        self.network = network
        self.uid, self.gid = uid_gid
        self.as_root = as_root
        self.python_prefixes = list(python_prefixes)
        self.read_only_files = list(read_only_files)
        self.cache = cache
        self._args: list[str] = []
        self._fds: list[int] = []
        # Folders that exist in the new root, and mount points (their content is there).
        self._made: set[str] = {"/", SANDBOX_TMP, "/etc"}
        self._bound: set[str] = {"/usr", "/dev", "/proc"}

    def build(self, argv: Sequence[str], workdir: Path,
              env: Mapping[str, str]) -> tuple[list[str], list[int]]:
        """The bwrap command line running ``argv`` in ``workdir`` with exactly ``env``."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxError("bwrap is not installed")
        try:
            self._namespaces()
            self._system()
            self._own_binds()
            self._args += ["--chdir", str(workdir), "--clearenv"]
            for name, value in env.items():
                self._args += ["--setenv", name, value]
            args_fd = self._memfd("bwrap-args", "\0".join(self._args) + "\0")
        except BaseException:
            for fd in self._fds:
                os.close(fd)
            raise
        return [bwrap, "--args", str(args_fd), "--", *self._dropper(), *argv], list(self._fds)

    # -- pieces ---------------------------------------------------------------------------

    def _namespaces(self) -> None:
        if self.as_root:
            # No user namespace: root (outside) sets the sandbox up, setpriv drops inside.
            self._args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts",
                           "--unshare-cgroup-try"]
            if not self.network:
                self._args.append("--unshare-net")
        else:
            self._args.append("--unshare-all")
            if self.network:
                self._args.append("--share-net")
        self._args += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
        if not self.as_root:
            self._args += ["--cap-drop", "ALL"]

    def _system(self) -> None:
        self._args += ["--ro-bind", "/usr", "/usr"]
        for name in SYSTEM_DIRS:
            top = Path("/") / name
            if top.is_symlink():
                self._args += ["--symlink", str(top.readlink()), str(top)]
            elif top.is_dir():
                self._args += ["--ro-bind", str(top), str(top)]
        self._args += ["--proc", "/proc", "--dev", "/dev"]
        size = str(self.limits.tmpfs_mb * 1024 * 1024)
        self._args += ["--perms", "1777", "--size", size, "--tmpfs", SANDBOX_TMP,
                       "--perms", "1777", "--size", size, "--tmpfs", SANDBOX_SHM]
        self._args += ["--perms", "0755", "--dir", "/etc"]
        entries = ETC_ENTRIES + (NETWORK_ETC_ENTRIES if self.network else ())
        for name in entries:
            path = Path("/etc") / name
            if path.exists():  # follows links: a dangling one is skipped
                self._bind("--ro-bind", path.resolve(), path)
        self._etc_identity()
        for prefix in self.python_prefixes:
            self._bind("--ro-bind", prefix.resolve(), prefix)
        for file in self.read_only_files:
            self._bind("--ro-bind", file.resolve(), file)

    def _etc_identity(self) -> None:
        """Synthetic /etc/passwd and /etc/group naming only root, the sandbox user, nobody."""
        passwd = (f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
                  f"sandbox:x:{self.uid}:{self.gid}:sandbox:/tmp:/bin/sh\n"
                  f"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        group = f"root:x:0:\nsandbox:x:{self.gid}:\nnogroup:x:65534:\n"
        for name, text in (("passwd", passwd), ("group", group)):
            fd = self._memfd(f"bwrap-{name}", text)
            self._args += ["--perms", "0644", "--ro-bind-data", str(fd), f"/etc/{name}"]

    def _own_binds(self) -> None:
        if self.cache is not None:
            self._bind("--bind", self.cache, self.cache)
        for folder in ([self.workspace] if self.workspace else []) + self.writable:
            self._bind("--bind", folder, folder)

    def _bind(self, option: str, source: Path, dest: Path) -> None:
        """Bind ``source`` at ``dest``, first creating dest's missing parents as 0755 dirs.

        bwrap running as root would create them 0700, which the sandbox user cannot cross.
        """
        for parent in (str(parent) for parent in reversed(dest.parents)):
            inside_bind = any(parent.startswith(bound + "/") for bound in self._bound)
            if parent in self._made or parent in self._bound or inside_bind:
                continue
            self._args += ["--perms", "0755", "--dir", parent]
            self._made.add(parent)
        self._args += [option, str(source), str(dest)]
        self._bound.add(str(dest))

    def _dropper(self) -> list[str]:
        """``[setpriv ...] prlimit ... --``: drop root (when root) and set the rlimits."""
        mib = 1024 * 1024
        limits = [
            f"--data={self.limits.memory_mb * mib}",
            f"--nproc={self.limits.pids}",
            f"--fsize={FILE_SIZE_LIMIT_MB * mib}",
            "--core=0",
        ]
        prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
        chain = [prlimit, *limits, "--"]
        if self.as_root:
            setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
            nested = _nested_userns(self.uid, self.gid)
            chain = [setpriv, "--reuid", str(self.uid), "--regid", str(self.gid),
                     "--clear-groups", "--no-new-privs", "--inh-caps=-all",
                     "--bounding-set=-all", "--", *nested, *chain]
        return chain

    def _memfd(self, name: str, text: str) -> int:
        fd = os.memfd_create(name, 0)
        self._fds.append(fd)
        os.write(fd, text.encode("utf-8"))
        os.lseek(fd, 0, os.SEEK_SET)
        return fd


class BwrapSandbox(Sandbox):
    """Runs each command in a fresh bubblewrap sandbox (see the module docstring).

    Args:
        workspace: the run's workspace (bound read-write at the same path).
        writable: other host folders the commands may write (the run's ``dist``), created if
            missing, bound read-write at the same paths.
        limits: memory (per process), processes, ``/tmp`` size, and ``wall_time_s``, which
            here caps each command's time-out (every command is its own sandbox; nothing
            outlives it, so there is no longer-lived sandbox to expire).

    Raises:
        SandboxUnavailable: :func:`unavailable_reason` gives a reason (the message says it).

    """

    name = "bwrap"
    isolated = True

    def __init__(self, workspace: Path, *, writable: Sequence[Path] = (),
                 limits: SandboxLimits | None = None) -> None:
        super().__init__(workspace, writable=writable)
        problem = unavailable_reason()
        if problem:
            raise SandboxUnavailable(problem)
        self.limits = limits or SandboxLimits()
        self.uid, self.gid = sandbox_identity()
        self._as_root = _running_as_root()
        major, minor = sys.version_info[:2]
        self._prefix = Path(sys.base_prefix)
        self._python = self._prefix / "bin" / f"python{major}.{minor}"
        self._uv = _uv_binary()
        self._uv_cache: Path | None = None
        for folder in self.writable:
            folder.mkdir(parents=True, exist_ok=True)

    def uv_program(self) -> str:
        """MultiCoder's own uv binary, bound read-only at the same path."""
        return str(self._uv)

    def python_request(self, default: str) -> str:
        """The host's base interpreter (``<sys.base_prefix>/bin/pythonX.Y``), bound read-only.

        ``default`` is used only when that file is missing.
        """
        return str(self._python) if self._python.exists() else default

    def system_path(self) -> str:
        """``/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin``."""
        return SYSTEM_PATH

    def describe(self) -> str:
        """One line for people: the backend and its isolation."""
        who = f"uid {self.uid}" + (" (dropped from root)" if self._as_root else "")
        return f"bwrap (namespaces, no network, {who})"

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
        """Run ``argv`` in a new bubblewrap sandbox and wait for it, at most ``timeout_s``.

        Args:
            argv: program and arguments; the program is looked up on the child's ``PATH``
                (``env["PATH"]``, else :meth:`system_path`), an absolute path is used as it
                is, a relative one with a separator is taken from ``cwd``.
            cwd: working directory, absolute or relative to the workspace; it must resolve to
                the workspace or a directory inside it.
            env: extra variables on top of :func:`scrub_environment` of an empty parent
                (secret-looking names still dropped); ``HOME`` is ``/tmp``, ``LANG``
                ``C.UTF-8`` unless given.
            timeout_s: wall-clock limit in seconds (capped at ``limits.wall_time_s``); at
                the limit the whole sandbox is killed and the result has
                ``timed_out=True`` and ``exit_code=None``.
            max_output_bytes: bytes kept from each of stdout and stderr; the rest is dropped
                and ``truncated`` is set.
            stdin: text fed to the child (UTF-8); closed when None.
            network: True only for the install step: the host's network, DNS files, and
                MultiCoder's sandbox uv cache (read-write, ``UV_LINK_MODE=copy``) are then
                available, and of the workspace only ``cwd``, which must be a folder
                strictly inside it (the writable folders are not bound either).

        Returns:
            The :class:`CommandResult` (``duration_ms`` in wall-clock milliseconds). Every
            process of the command is gone when this returns.

        Raises:
            SandboxError: empty ``argv``, bad limits, working directory outside the
                workspace, program not found, or bwrap could not set the sandbox up.

        """
        if not argv:
            raise SandboxError("nothing to run: argv is empty")
        if timeout_s <= 0 or max_output_bytes < 0:
            raise SandboxError(
                f"invalid limits: timeout_s={timeout_s}, max_output_bytes={max_output_bytes}")
        timeout_s = min(timeout_s, self.limits.wall_time_s)
        workdir = self._working_directory(cwd)
        child_env = scrub_environment(parent={}, extra=env)
        child_env.setdefault("PATH", SYSTEM_PATH)
        child_env["HOME"] = SANDBOX_TMP
        child_env.setdefault("LANG", "C.UTF-8")  # the host's LANG is not inherited
        cache = None
        bound, writable = self.workspace, self.writable
        if network:
            if workdir == self.workspace:
                raise SandboxError(
                    "a network command must run in a folder inside the workspace (it sees"
                    " only that folder), not in the workspace itself")
            bound, writable = workdir, []  # the fresh venv only: nothing else of the run
            cache = self._cache_dir()
            child_env["UV_CACHE_DIR"] = str(cache)
            child_env["UV_LINK_MODE"] = "copy"
        program = _find_program(argv[0], child_env["PATH"], workdir)
        hand_over([self.workspace, *self.writable], self.uid, self.gid)

        read_only = [self._uv]
        cert = child_env.get("SSL_CERT_FILE")
        if cert and Path(cert).is_absolute() and Path(cert).is_file():
            read_only.append(Path(cert))
        prefixes = list(dict.fromkeys([self._prefix, self._prefix.resolve()]))
        builder = _Invocation(
            workspace=bound, writable=writable, limits=self.limits,
            network=network, uid_gid=(self.uid, self.gid), as_root=self._as_root,
            python_prefixes=prefixes, read_only_files=read_only, cache=cache)
        command, fds = builder.build([program, *argv[1:]], workdir, child_env)
        try:
            result = _execute(command, fds, argv, timeout_s, max_output_bytes, stdin)
        finally:
            for fd in fds:
                os.close(fd)
        if not result.timed_out and result.exit_code in (1, 126, 127) and not result.stdout:
            first = result.stderr.lstrip().splitlines()[:1]
            if first and first[0].startswith(_SETUP_PREFIXES):
                raise SandboxError(f"bubblewrap could not run the command: {first[0]}")
        return result

    def _cache_dir(self) -> Path:
        """The uv cache the install step may write: :func:`sandbox_uv_cache` (created ``0700``).

        When MultiCoder runs as root it is given to the sandbox user, who writes it.
        """
        if self._uv_cache is None:
            cache = sandbox_uv_cache(self.uid)
            cache.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self._as_root:
                info = cache.stat()
                if (info.st_uid, info.st_gid) != (self.uid, self.gid):
                    hand_over([cache], self.uid, self.gid)
            self._uv_cache = cache
        return self._uv_cache


def _find_program(name: str, path_value: str, workdir: Path) -> str:
    """Locate ``name`` as the sandbox will (its binds show host files at the same paths).

    Raises:
        SandboxError: not found or not executable.

    """
    candidate = Path(name)
    if candidate.is_absolute():
        found = shutil.which(name)
    elif len(candidate.parts) > 1:
        found = shutil.which(str(workdir / candidate))
    else:
        found = shutil.which(name, path=path_value)
    if found is None:
        raise SandboxError(f"program '{name}' not found on the sandbox PATH")
    return found


def _execute(command: list[str], fds: list[int], argv: Sequence[str], timeout_s: float,
             max_output_bytes: int, stdin: str | None) -> CommandResult:
    """Start ``command`` in its own session, wait, kill the group at the time-out, collect."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command, env={}, pass_fds=fds, start_new_session=True,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise SandboxError(f"cannot start bwrap: {exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None  # both are PIPE
    stdout = _PipeReader(proc.stdout, max_output_bytes)
    stderr = _PipeReader(proc.stderr, max_output_bytes)
    if stdin is not None and proc.stdin is not None:
        threading.Thread(target=_feed, args=(proc.stdin, stdin.encode("utf-8")),
                         daemon=True).start()
    exited = _wait_for_leader(proc, timeout_s)
    if not exited:
        _kill_group(proc)  # bwrap dies; --die-with-parent takes the sandbox's PID 1 along
        _wait_for_leader(proc, AFTER_KILL_S)
    drained = stdout.join(PIPE_GRACE_S) and stderr.join(PIPE_GRACE_S)
    _kill_group(proc)
    if not drained:
        stdout.join(AFTER_KILL_S)
        stderr.join(AFTER_KILL_S)
    try:
        returncode: int | None = proc.wait(AFTER_KILL_S)
    except subprocess.TimeoutExpired:  # pragma: no cover - unkillable bwrap
        returncode = None
    out_text, out_cut = stdout.snapshot()
    err_text, err_cut = stderr.snapshot()
    return CommandResult(
        argv=list(argv), exit_code=returncode if exited else None, stdout=out_text,
        stderr=err_text, duration_ms=int((time.monotonic() - started) * 1000),
        timed_out=not exited, truncated=out_cut or err_cut)
