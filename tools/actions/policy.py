"""The policy every action call passes before it runs: paths, sizes, time-outs, programs (T1).

Paths are confined to the workspace after resolving symlinks, with a separator-aware test on
the resolved paths. Both checks guard against the bugs behind CVE-2025-53109 (a symlink
check whose error was swallowed into "allowed") and CVE-2025-53110 (a plain string prefix
test that let ``/ws-evil`` pass for ``/ws``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from pydantic import BaseModel, ConfigDict, Field

from tools.actions.base import ActionCall, PolicyViolation

#: Programs run_command may start (names looked up in the application's environment).
DEFAULT_PROGRAMS = frozenset({"python", "pytest", "ruff", "mypy", "bandit"})
#: Modules ``python -m`` may not run: dependencies come from pyproject.toml, not installers.
REFUSED_MODULES = frozenset({"pip", "ensurepip", "uv"})
#: Parameters whose text is written into a file (their UTF-8 size is capped).
CONTENT_FIELDS = ("content", "old_text", "new_text")
#: Long options of the python interpreter that take a value as the next argument.
_PYTHON_VALUE_OPTIONS = frozenset({"--check-hash-based-pycs"})


class Policy(BaseModel):
    """The limits one run's actions live within.

    Attributes:
        workspace: the run's workspace; every path an action touches must resolve inside it.
        max_file_bytes: largest file (and content parameter) read or written, in bytes.
        max_output_bytes: cap of each of stdout and stderr of a command, in bytes.
        default_timeout_s: time limit for a command run without one, in seconds.
        max_timeout_s: largest time limit a call may ask for, in seconds.
        allowed_programs: names run_command may start (no paths, no shells).
        approval_required: names of actions that need a person's approval, on top of those
            registered with ``needs_approval=True``.

    """

    model_config = ConfigDict(frozen=True)

    workspace: Path
    max_file_bytes: int = Field(default=2_000_000, gt=0)
    max_output_bytes: int = Field(default=200_000, gt=0)
    default_timeout_s: float = Field(default=60, gt=0)
    max_timeout_s: float = Field(default=900, gt=0)
    allowed_programs: frozenset[str] = DEFAULT_PROGRAMS
    approval_required: frozenset[str] = frozenset()

    def check(self, call: ActionCall, params: BaseModel) -> None:
        """Refuse ``call`` (already validated into ``params``) when it breaks the policy.

        Checked by parameter name, so new actions get the same treatment: ``path`` must
        resolve inside the workspace; ``content``/``old_text``/``new_text`` must fit in
        ``max_file_bytes`` (UTF-8); ``timeout_s`` must not exceed ``max_timeout_s``; ``argv``
        must start with an allowed program name; run_tests' positional ``args`` (test paths)
        must stay inside the workspace.

        Raises:
            PolicyViolation: with one sentence saying what was refused and why.

        """
        values = dict(params)
        path = values.get("path")
        if isinstance(path, str):
            self.resolve_path(path)
        for name in CONTENT_FIELDS:
            text = values.get(name)
            if isinstance(text, str):
                size = len(text.encode("utf-8"))
                if size > self.max_file_bytes:
                    raise PolicyViolation(
                        f"{name} of {call.name} is {size} bytes; the limit is"
                        f" {self.max_file_bytes} bytes"
                    )
        timeout_s = values.get("timeout_s")
        if isinstance(timeout_s, int | float) and timeout_s > self.max_timeout_s:
            raise PolicyViolation(
                f"timeout_s={timeout_s:g} is above the limit of {self.max_timeout_s:g} seconds"
            )
        argv = values.get("argv")
        if isinstance(argv, list):
            self.check_command(argv)
        args = values.get("args")
        if call.name == "run_tests" and isinstance(args, list):
            self._check_test_args(args)

    def check_command(self, argv: Sequence[str]) -> None:
        """Refuse a command line whose program is not an allowed name.

        ``argv[0]`` must be one of ``allowed_programs`` exactly: no paths (``/bin/sh``), no
        shells (``sh``, ``bash``, ``cmd``, ``powershell`` are never in the list by default),
        and ``python -m pip`` (or another installer) is refused.

        Raises:
            PolicyViolation: empty argv, a path, or a program or module not allowed.

        """
        if not argv or not argv[0]:
            raise PolicyViolation("argv is empty: give a program name and its arguments")
        program = argv[0]
        if "/" in program or "\\" in program:
            raise PolicyViolation(
                f"'{program}' is a path; give a program name ({self._programs_text()})"
            )
        if program not in self.allowed_programs:
            raise PolicyViolation(
                f"program '{program}' is not allowed; allowed: {self._programs_text()}"
                " (no shells: pass arguments as a list)"
            )
        if program == "python":
            module = _python_module(argv[1:])
            if module is not None and module.split(".")[0] in REFUSED_MODULES:
                raise PolicyViolation(
                    f"'python -m {module}' is not allowed: declare dependencies in"
                    " pyproject.toml instead of installing them"
                )

    def resolve_path(self, relative: str) -> Path:
        r"""Resolve a workspace-relative path, following symlinks, and confine it.

        Args:
            relative: a path relative to the workspace, ``/`` or ``\`` separated.

        Returns:
            The absolute resolved path; it is the workspace itself or inside it.

        Raises:
            PolicyViolation: the path is absolute, has a drive or root (``C:``, ``\\host``),
                contains a NUL byte, cannot be resolved (symlink loop, OS error), or resolves
                outside the workspace (``..``, a symlink pointing outside, a sibling folder
                whose name merely starts with the workspace's).

        """
        if "\x00" in relative:
            raise PolicyViolation("the path contains a NUL character")
        windows = PureWindowsPath(relative)
        if PurePosixPath(relative).is_absolute() or windows.drive or windows.root:
            raise PolicyViolation(
                f"'{relative}' is absolute; give a path relative to the workspace"
            )
        try:
            root = self.workspace.resolve(strict=False)
            target = (root / relative).resolve(strict=False)
        except (OSError, RuntimeError, ValueError) as exc:
            # Never treat a failed resolution as allowed (CVE-2025-53109).
            raise PolicyViolation(f"'{relative}' cannot be resolved: {exc}") from exc
        # Component-wise comparison of resolved paths, not a string prefix (CVE-2025-53110).
        if not target.is_relative_to(root):
            raise PolicyViolation(f"'{relative}' resolves outside the workspace")
        return target

    def timeout_for(self, requested: float | None) -> float:
        """The time limit to use, in seconds: ``requested``, or ``default_timeout_s`` if None.

        Raises:
            PolicyViolation: ``requested`` is above ``max_timeout_s`` or not positive.

        """
        timeout_s = self.default_timeout_s if requested is None else requested
        if not 0 < timeout_s <= self.max_timeout_s:
            raise PolicyViolation(
                f"timeout_s={timeout_s:g} is outside (0, {self.max_timeout_s:g}] seconds"
            )
        return timeout_s

    def needs_approval(self, action: str, registered: bool) -> bool:
        """Whether a call of ``action`` waits for a person (``registered``: its own flag)."""
        return registered or action in self.approval_required

    def _check_test_args(self, args: Sequence[str]) -> None:
        """Test paths given to pytest (positional arguments) must stay in the workspace."""
        for arg in args:
            if arg.startswith("-"):
                continue
            self.resolve_path(arg.split("::", 1)[0] or ".")

    def _programs_text(self) -> str:
        return ", ".join(sorted(self.allowed_programs))


def _python_module(args: Sequence[str]) -> str | None:
    """The module of ``python [options] -m module ...``, or None when it runs no module.

    Short options may be combined (``-Im pip``); ``-c``, a script or ``-`` end the
    interpreter's options, so what follows belongs to the program, not to python.
    """
    skip_value = False
    for index, arg in enumerate(args):
        if skip_value:
            skip_value = False
            continue
        if arg.startswith("--"):
            skip_value = arg in _PYTHON_VALUE_OPTIONS
            if arg == "--":
                return None
            continue
        if not arg.startswith("-") or arg == "-":
            return None
        for position, letter in enumerate(arg[1:], start=2):
            rest = arg[position:]
            if letter == "m":
                following = args[index + 1] if index + 1 < len(args) else ""
                return rest or following
            if letter == "c":
                return None
            if letter in "WX":
                skip_value = not rest
                break
    return None
