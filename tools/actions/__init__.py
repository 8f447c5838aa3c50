"""tools/actions."""

from tools.actions.base import ActionCall, ActionResult, PolicyViolation
from tools.actions.builtin import default_registry
from tools.actions.context import ActionContext, ActionError
from tools.actions.executor import ActionExecutor, ApprovalHook, RecordHook, validation_sentence
from tools.actions.params import (
    SKIPPED_DIRS,
    ActionParams,
    EditFileParams,
    ListDirParams,
    ReadFileParams,
    RunCommandParams,
    RunTestsParams,
    SearchTextParams,
    WriteFileParams,
)
from tools.actions.policy import DEFAULT_PROGRAMS, Policy
from tools.actions.registry import ActionRegistry, ActionSpec, Handler
from tools.actions.web_actions import (
    WEB_ACTIONS,
    FetchRequest,
    approval_request,
    call_key,
    register_web_actions,
)

__all__ = [
    "DEFAULT_PROGRAMS",
    "SKIPPED_DIRS",
    "WEB_ACTIONS",
    "ActionCall",
    "ActionContext",
    "ActionError",
    "ActionExecutor",
    "ActionParams",
    "ActionRegistry",
    "ActionResult",
    "ActionSpec",
    "ApprovalHook",
    "EditFileParams",
    "FetchRequest",
    "Handler",
    "ListDirParams",
    "Policy",
    "PolicyViolation",
    "ReadFileParams",
    "RecordHook",
    "RunCommandParams",
    "RunTestsParams",
    "SearchTextParams",
    "WriteFileParams",
    "approval_request",
    "call_key",
    "default_registry",
    "register_web_actions",
    "validation_sentence",
]
