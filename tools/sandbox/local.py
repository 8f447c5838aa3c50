"""The local backend: runs commands directly on the host, with limits but without isolation.

This backend is reported as unsandboxed (``isolated = False``): it confines the working
directory to the workspace, drops secrets from the environment, caps output and kills the
whole process tree at the time-out, but the generated code can still reach the host's files
and network. Docker and bubblewrap give the isolation.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Final

from tools.sandbox.base import CommandResult, Sandbox, SandboxError, scrub_environment

#: Seconds to wait for the pipes to close after the leader exits (children may still write).
PIPE_GRACE_S: Final = 0.5
#: Seconds to wait for readers and the leader after the process group was killed.
AFTER_KILL_S: Final = 5.0
#: Bytes read from a pipe at a time.
CHUNK_BYTES: Final = 65_536

# Waits for a child to exit without reaping it (POSIX; absent on macOS before Python 3.13).
_WAITID: Final[Callable[[int, int, int], object] | None] = getattr(os, "waitid", None)


class _PipeReader:
    """Drains one pipe in a daemon thread, keeping at most ``cap`` bytes.

    The rest is read and dropped so the child never blocks on a full pipe. When the pipe is
    held open by a process that escaped the kill, the thread is abandoned (it is a daemon) and
    :meth:`snapshot` returns what was read so far.
    """

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self._stream = stream
        self._cap = cap
        self._kept = bytearray()
        self._truncated = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        fd = self._stream.fileno()
        try:
            while chunk := os.read(fd, CHUNK_BYTES):
                with self._lock:
                    room = self._cap - len(self._kept)
                    if room > 0:
                        self._kept += chunk[:room]
                    if len(chunk) > max(room, 0):
                        self._truncated = True
        except OSError:
            pass  # the pipe broke: keep what was read
        finally:
            self._stream.close()

    def join(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for end of file; True when the pipe was drained."""
        self._thread.join(max(timeout_s, 0.0))
        return not self._thread.is_alive()

    def snapshot(self) -> tuple[str, bool]:
        """The kept bytes decoded as UTF-8 (errors replaced), and whether bytes were dropped."""
        with self._lock:
            return bytes(self._kept).decode("utf-8", errors="replace"), self._truncated


def _feed(stream: IO[bytes], data: bytes) -> None:
    """Write ``data`` to the child's stdin and close it; a child that stops reading is fine."""
    try:
        stream.write(data)
    except OSError:
        pass  # BrokenPipeError: the child exited or closed its stdin
    finally:
        with contextlib.suppress(OSError):
            stream.close()


class LocalSandbox(Sandbox):
    """Runs argument lists on the host, in the workspace, each in its own process group.

    Not isolated: see the module docstring. Works on POSIX (sessions and ``killpg``) and
    Windows (``CREATE_NEW_PROCESS_GROUP`` and ``taskkill /T /F``).
    """

    name = "local"
    isolated = False

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
        """Run ``argv`` on the host and wait for it and its children, at most ``timeout_s``.

        Args:
            argv: program and arguments; the program is looked up with :func:`shutil.which`
                on the child's PATH (the scrubbed environment plus ``env``); an absolute path
                is used as it is, a relative one with a separator is taken from ``cwd``.
            cwd: working directory, absolute or relative to the workspace; it must resolve
                (symlinks followed) to the workspace or a directory inside it.
            env: extra variables added to :func:`scrub_environment` (secrets still dropped).
            timeout_s: wall-clock limit in seconds; at the limit the whole process group is
                killed and the result has ``timed_out=True`` and ``exit_code=None``.
            max_output_bytes: bytes kept from each of stdout and stderr; the rest is drained
                and dropped, and ``truncated`` is set.
            stdin: text fed to the child (UTF-8); the child's stdin is closed when None.
            network: ignored: this backend never cuts the network.

        Returns:
            The :class:`CommandResult`; ``duration_ms`` is wall-clock milliseconds. Processes
            the command left behind after its leader exited are killed before returning.

        Raises:
            SandboxError: empty ``argv``, bad limits, working directory outside the workspace
                or missing, program not found, or the OS refused to start it.

        """
        if not argv:
            raise SandboxError("nothing to run: argv is empty")
        if timeout_s <= 0 or max_output_bytes < 0:
            raise SandboxError(
                f"invalid limits: timeout_s={timeout_s}, max_output_bytes={max_output_bytes}"
            )
        workdir = self._working_directory(cwd)
        child_env = scrub_environment(extra=env)
        program = _find_program(argv[0], child_env, workdir)
        command = [program, *argv[1:]]

        started = time.monotonic()
        proc = _start(command, workdir, child_env, stdin is not None)
        assert proc.stdout is not None and proc.stderr is not None  # both are PIPE
        stdout = _PipeReader(proc.stdout, max_output_bytes)
        stderr = _PipeReader(proc.stderr, max_output_bytes)
        if stdin is not None and proc.stdin is not None:
            threading.Thread(
                target=_feed, args=(proc.stdin, stdin.encode("utf-8")), daemon=True
            ).start()

        exited = _wait_for_leader(proc, timeout_s)
        if not exited:
            _kill_group(proc)
            _wait_for_leader(proc, AFTER_KILL_S)
        # The leader has exited (on POSIX it is not reaped yet, so its group id stays ours).
        # Children may still hold the pipes: give them a moment, then kill whatever is left.
        drained = stdout.join(PIPE_GRACE_S) and stderr.join(PIPE_GRACE_S)
        _kill_group(proc)
        if not drained:
            stdout.join(AFTER_KILL_S)
            stderr.join(AFTER_KILL_S)
        try:
            returncode = proc.wait(AFTER_KILL_S)
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable leader
            returncode = None
        duration_ms = int((time.monotonic() - started) * 1000)

        out_text, out_cut = stdout.snapshot()
        err_text, err_cut = stderr.snapshot()
        return CommandResult(
            argv=list(argv),
            exit_code=None if not exited else returncode,
            stdout=out_text,
            stderr=err_text,
            duration_ms=duration_ms,
            timed_out=not exited,
            truncated=out_cut or err_cut,
        )


def _find_program(name: str, env: Mapping[str, str], workdir: Path) -> str:
    """Locate ``name`` the way the child would: on its PATH, or as a path from ``workdir``.

    Raises:
        SandboxError: not found or not executable.

    """
    path_value = next((v for k, v in env.items() if k.upper() == "PATH"), os.defpath)
    candidate = Path(name)
    if candidate.is_absolute():
        found = shutil.which(name)
    elif len(candidate.parts) > 1 or os.sep in name or (os.altsep and os.altsep in name):
        found = shutil.which(str(workdir / candidate))
    else:
        found = shutil.which(name, path=path_value)
    if found is None:
        raise SandboxError(f"program '{name}' not found on the sandbox PATH")
    return found


def _start(
    command: list[str], workdir: Path, env: dict[str, str], with_stdin: bool
) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new process group (session on POSIX).

    Raises:
        SandboxError: the OS refused to start it (permissions, bad executable format).

    """
    stdin = subprocess.PIPE if with_stdin else subprocess.DEVNULL
    try:
        if sys.platform == "win32":
            return subprocess.Popen(
                command, cwd=workdir, env=env, stdin=stdin, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, creationflags=subprocess.CREATE_NEW_PROCESS_GROUP,
            )
        return subprocess.Popen(
            command, cwd=workdir, env=env, stdin=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise SandboxError(f"cannot start '{command[0]}': {exc}") from exc


def _wait_for_leader(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` seconds for the leader to exit; True when it did.

    On POSIX the leader is left unreaped (a zombie) when ``os.waitid`` is available, so its
    pid, which is also the process group id, cannot be reused before :func:`_kill_group`.
    """
    if sys.platform == "win32" or _WAITID is None:
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True
    if proc.returncode is not None:
        return True
    done = threading.Event()
    waitid = _WAITID

    def wait_without_reaping() -> None:
        try:
            waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except OSError:
            pass  # already reaped elsewhere: it has exited either way
        finally:
            done.set()

    threading.Thread(target=wait_without_reaping, daemon=True).start()
    return done.wait(timeout_s)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the leader's whole process group (POSIX) or process tree (Windows); never raises."""
    if sys.platform == "win32":
        if proc.poll() is not None:
            return  # the tree of an exited leader cannot be found by pid any more
        taskkill = Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32" / "taskkill.exe"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [str(taskkill), "/T", "/F", "/PID", str(proc.pid)],
                capture_output=True, timeout=AFTER_KILL_S, check=False,
            )
        if proc.poll() is None:
            proc.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(proc.pid, signal.SIGKILL)
