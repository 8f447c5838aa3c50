"""What an action handler works with: the run's workspace, sandbox and app environment (T1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.sandbox.base import CommandEnvironment, Sandbox
from tools.web.session import WebSession


class ActionError(Exception):
    """An action could not do what was asked (text not found, file too large, not ready).

    The message is one sentence meant for the model; the executor returns it as the
    result's ``error``.
    """


@dataclass(frozen=True)
class ActionContext:
    """The run-specific things actions need, handed to every handler.

    Attributes:
        workspace: the run's workspace directory (the policy confines paths to it).
        sandbox: where run_command and run_tests execute.
        environment: the application's own environment (its python, pytest, ruff ...);
            None until it exists, in which case command actions fail with a clear error.
        web: this round's web session (client, known addresses, approvals granted); None
            when web access is off, in which case the web actions fail with a clear error.

    """

    workspace: Path
    sandbox: Sandbox
    environment: CommandEnvironment | None = None
    web: WebSession | None = None
