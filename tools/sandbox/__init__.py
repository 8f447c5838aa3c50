"""tools/sandbox."""

from tools.sandbox.base import (
    AppEnvironmentError,
    CommandEnvironment,
    CommandResult,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    hand_over,
    sandbox_identity,
    scrub_environment,
)
from tools.sandbox.local import LocalSandbox

__all__ = [
    "AppEnvironmentError",
    "CommandEnvironment",
    "CommandResult",
    "LocalSandbox",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxUnavailable",
    "hand_over",
    "sandbox_identity",
    "scrub_environment",
]
