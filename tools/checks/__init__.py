"""The paranoid tester's checks (G7): syntax, imports, ruff, mypy, bandit, headless, pytest.

Each check is a function ``(ctx: CheckContext) -> CheckResult`` in a module of its own;
:func:`run_checks` runs them (syntax first, the rest concurrently) into a
:class:`~tools.checks.base.CheckReport`.
"""

from tools.checks.context import Check, CheckContext, source_files
from tools.checks.headless import run_headless
from tools.checks.runner import ALL, run_checks

__all__ = ["ALL", "Check", "CheckContext", "run_checks", "run_headless", "source_files"]
