"""Headless run: start the application the way a user would, with no display.

A GUI (``contract.gui``) is started without arguments under ``QT_QPA_PLATFORM=offscreen``
and must still be running, with no traceback on stderr, after ``contract.gui_stay_up_s``
seconds (the sandbox then kills it). The documented smoke command (``contract.smoke_args``)
must exit 0 within the check time-out. An app with neither is run with ``--help``, which must
exit 0, so something always runs. :func:`run_headless` is shared with the packaged
executable's run (:mod:`tools.packaging`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.checks.base import CheckResult, Finding
from tools.checks.context import (
    CheckContext,
    ToolFailure,
    combined_output,
    elapsed_ms,
    relative,
    result_of,
    run_tool,
)
from tools.sandbox.base import CommandResult

NAME = "headless"

#: ``File "path", line N`` in a Python traceback.
FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.MULTILINE)

_STDERR_TAIL = 1500


def check_headless(ctx: CheckContext) -> CheckResult:
    """Run ``python <entry>`` in the app environment (see the module docstring).

    Returns:
        A result named ``headless``. A missing entry file fails it without running anything.

    """
    start = time.monotonic()
    entry = ctx.workspace / ctx.contract.entry
    if not entry.is_file():
        return result_of(NAME, [Finding(
            check=NAME, file=ctx.contract.entry,
            message="the entry script named in the app contract does not exist")], "",
            elapsed_ms(start))
    return run_headless(ctx, NAME, [ctx.environment.program("python"), ctx.contract.entry])


def run_headless(
    ctx: CheckContext,
    check: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
) -> CheckResult:
    """Exercise the app started by ``command`` (program and leading arguments).

    Args:
        ctx: the check context; ``ctx.contract`` says GUI and/or smoke arguments.
        check: the name of the result (``headless`` or ``packaged-run``).
        command: e.g. ``[python, "app/main.py"]`` or ``[".../dist/app"]``; run with the
            workspace as working directory.
        env: the variables to run with (``ctx.environment.variables()`` when None);
            ``QT_QPA_PLATFORM=offscreen`` is always set.

    Returns:
        One result covering the GUI stay-up run and the smoke run (whichever apply).
        Findings carry the last traceback frame inside the workspace (or the last frame at
        all) as file and line, and the tail of stderr in the message.

    """
    start = time.monotonic()
    variables = {**(ctx.environment.variables() if env is None else env),
                 "QT_QPA_PLATFORM": "offscreen"}
    contract = ctx.contract
    findings: list[Finding] = []
    outputs: list[str] = []
    try:
        if contract.gui:
            result = run_tool(ctx, check, list(command), timeout_s=contract.gui_stay_up_s,
                              env=variables, allow_timeout=True)
            outputs.append(combined_output(result))
            findings += _judge_gui(ctx, check, result)
        if contract.smoke_args is not None or not contract.gui:
            args = contract.smoke_args if contract.smoke_args is not None else ["--help"]
            result = run_tool(ctx, check, [*command, *args], env=variables)
            outputs.append(combined_output(result))
            findings += _judge_smoke(ctx, check, result)
    except ToolFailure as failure:  # not startable, or the smoke command hit the time-out
        what = "the smoke command" if outputs or not contract.gui else "the GUI"
        findings.append(failure.finding.model_copy(
            update={"message": f"{what}: {failure.finding.message}"}))
        outputs.append(failure.output)
    return result_of(check, findings, "\n\n".join(outputs), elapsed_ms(start))


def _judge_gui(ctx: CheckContext, check: str, result: CommandResult) -> list[Finding]:
    stay_up = ctx.contract.gui_stay_up_s
    if "Traceback" in result.stderr:
        return [_crash(ctx, check, result, "the GUI printed a traceback while starting")]
    if not result.timed_out:
        return [_crash(ctx, check, result,
                       f"the GUI exited with code {result.exit_code} before {stay_up:g} s;"
                       " it must keep its window open")]
    return []


def _judge_smoke(ctx: CheckContext, check: str, result: CommandResult) -> list[Finding]:
    if result.exit_code == 0:
        return []
    args = " ".join(result.argv[1:]) if result.argv else ""
    return [_crash(ctx, check, result,
                   f"the smoke command exited with code {result.exit_code} (arguments: {args})")]


def _crash(ctx: CheckContext, check: str, result: CommandResult, what: str) -> Finding:
    """A finding pointing at the failing frame, with the tail of stderr (or stdout)."""
    frames = [(m["file"], int(m["line"])) for m in FRAME.finditer(result.stderr)]
    named = [(relative(ctx.workspace, file), line) for file, line in frames
             if not file.startswith("<")]
    inside = [(file, line) for file, line in named
              if not Path(file).is_absolute() and not file.startswith(".venv/")
              and (ctx.workspace / file).is_file()]
    chosen = inside or named
    file, line = chosen[-1] if chosen else (None, None)
    tail = (result.stderr.strip() or result.stdout.strip())[-_STDERR_TAIL:]
    message = f"{what}:\n{tail}" if tail else what
    return Finding(check=check, file=file, line=line, message=message)
