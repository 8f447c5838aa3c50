"""The action executor: validate, check the policy, run, time and record every call (T1)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pydantic import ValidationError

from tools.actions.base import ActionCall, ActionResult, PolicyViolation
from tools.actions.context import ActionContext, ActionError
from tools.actions.policy import Policy
from tools.actions.registry import ActionRegistry

logger = logging.getLogger(__name__)

#: Called with every call and its result, after the call (the run records it).
RecordHook = Callable[[ActionCall, ActionResult], None]
#: Asked whether a person approves a call of an action that needs approval.
ApprovalHook = Callable[[ActionCall], bool]


class ActionExecutor:
    """Runs :class:`ActionCall` s from a model against one run's workspace.

    Args:
        registry: the actions offered.
        policy: the limits every call is checked against before it runs.
        context: the run's workspace, sandbox and application environment.
        on_record: called as ``on_record(call, result)`` after every call, bad ones included.
        approve: asked for calls of actions that need approval; without it such calls are
            refused.

    """

    def __init__(
        self,
        registry: ActionRegistry,
        policy: Policy,
        context: ActionContext,
        on_record: RecordHook | None = None,
        approve: ApprovalHook | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.context = context
        self.on_record = on_record
        self.approve = approve

    def execute(self, call: ActionCall) -> ActionResult:
        """Run one call and return what happened; a bad call never raises.

        Unknown actions, invalid parameters (one readable sentence), policy violations,
        missing approval and errors raised by the handler all come back as
        ``ActionResult(success=False, error=...)``. ``duration_ms`` is the wall-clock time
        of the whole call in milliseconds.

        Raises:
            Exception: only what ``on_record`` itself raises.

        """
        started = time.monotonic()
        result = self._dispatch(call)
        duration_ms = int((time.monotonic() - started) * 1000)
        result = result.model_copy(update={"duration_ms": duration_ms})
        if self.on_record is not None:
            self.on_record(call, result)
        return result

    def _dispatch(self, call: ActionCall) -> ActionResult:
        if call.name not in self.registry:
            return _failure(
                f"unknown action '{call.name}'; available actions:"
                f" {', '.join(self.registry.names())}"
            )
        spec = self.registry.get(call.name)
        try:
            params = spec.params_model.model_validate(call.params)
        except ValidationError as exc:
            return _failure(validation_sentence(call.name, exc))
        try:
            self.policy.check(call, params)
            if self.policy.needs_approval(spec.name, spec.needs_approval) and not (
                self.approve is not None and self.approve(call)
            ):
                return _failure(f"{call.name} needs a person's approval, which was not given")
            return spec.handler(params, self.context, self.policy)
        except PolicyViolation as exc:
            return _failure(f"refused by policy: {exc}")
        except ActionError as exc:
            return _failure(str(exc))
        except Exception as exc:  # the boundary: a handler's failure is the model's to read
            logger.debug("action %s failed", call.name, exc_info=True)
            return _failure(f"{call.name} failed: {type(exc).__name__}: {exc}")


def validation_sentence(action: str, error: ValidationError) -> str:
    """One sentence naming each invalid parameter of ``action`` and what is wrong with it.

    Example: ``invalid parameters for read_file: path: Field required; start_line: Input
    should be greater than or equal to 1``.
    """
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "params"
        problems.append(f"{where}: {item['msg']}")
    return f"invalid parameters for {action}: {'; '.join(problems)}"


def _failure(error: str) -> ActionResult:
    return ActionResult(success=False, error=error)
