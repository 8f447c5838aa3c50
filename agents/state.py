"""The run state: small, JSON-compatible, declared once (re-exported by ``graph.state``).

Large things (files, logs, check output, token usage) live in the run folder; the state holds
summaries and paths. Lists that grow use an append reducer.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

RunStatus = Literal["running", "done", "refused", "rejected", "stopped", "failed", "cancelled"]
Decision = dict[str, Any]
"""A person's answer to an interrupt: ``{"action": "approve"|"reject"|"edit"|"continue"|"stop",
"feedback": str?, "content": str?}``."""


class RunState(TypedDict, total=False):
    """Everything the graph knows about one run.

    Keys:
        run_id: the run (and checkpointer thread) id.
        task: the request in plain language; ``task_revision`` counts edits by the person.
        attachments: paths of input files, relative to the workspace.
        safety: the :class:`agents.schemas.SafetyVerdict` as a dict.
        start: the start confirmation outcome ("approved", "rejected", "edited").
        spec / plan: the expanded spec and the plan as dicts; ``plan_revision`` counts re-plans;
            ``plan_feedback`` is the person's reason for rejecting the last plan;
            ``plan_status`` is "approved", "rejected" or "edited".
        round: repair round (0 = first build); ``rounds_allowed`` grows when the person says
            continue after the limit.
        findings: the last tester pass's findings, or the spec judge's unmet criteria (check
            "judge"), as dicts of :class:`tools.checks.base.Finding`.
        checks_passed: whether the last tester pass (and the spec judge, and packaging)
            passed.
        judgement: the spec judge's last decided :class:`agents.schemas.Judgement` as a dict
            (``criteria`` with ``criterion``, ``status`` met/unmet/unclear and ``evidence``;
            ``verdict`` accept/rework; ``summary``) plus the ``round`` it judged; absent
            until the judge ran.
        artifact: the packaged executable's manifest, once built.
        coder_notes: the coder's closing message per round (appended).
        loop: the coder's own loop detection in its last round (``{"kind": "tool_call",
            "detail": ...}``; empty when none), see :mod:`agents.loops`.
        repairing: signatures of the findings the last repair round was given (to notice the
            same failure coming back).
        hint: the person's hint for the next coder round ("continue" at ``ask_human``).
        status: how the run ended (set by the last nodes).
        error: a one-line reason when the run failed.
    """

    run_id: str
    task: str
    task_revision: int
    attachments: list[str]
    safety: dict[str, Any]
    start: str
    spec: dict[str, Any]
    plan: dict[str, Any]
    plan_revision: int
    plan_feedback: str
    plan_status: str
    round: int
    rounds_allowed: int
    findings: list[dict[str, Any]]
    checks_passed: bool
    judgement: dict[str, Any]
    artifact: dict[str, Any]
    coder_notes: Annotated[list[str], operator.add]
    loop: dict[str, Any]
    repairing: list[str]
    hint: str
    status: RunStatus
    error: str
