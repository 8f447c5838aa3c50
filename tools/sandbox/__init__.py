"""tools/sandbox."""

from tools.sandbox.base import (
    AppEnvironmentError,
    CommandEnvironment,
    CommandResult,
    Sandbox,
    SandboxError,
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
    "scrub_environment",
]
