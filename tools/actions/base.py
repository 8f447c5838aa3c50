"""The Action API's envelope: a call the model makes and the result it gets back (T1)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ActionCall(BaseModel):
    """A request to run one action.

    ``name`` is a registered action name; ``params`` are validated against that action's
    parameter model by the executor; ``call_id`` is the model's tool-call id, when there is one.
    """

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    call_id: str | None = None


class ActionResult(BaseModel):
    """What an action did. ``data`` is JSON-compatible; ``duration_ms`` is wall-clock time."""

    success: bool
    data: dict[str, Any] | None = None
    error: str | None = None
    logs: str = ""
    duration_ms: int = 0


class PolicyViolation(Exception):
    """A call the policy refuses (path outside the workspace, command not allowed, too large)."""
