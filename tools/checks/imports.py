"""Imports check: every absolute import of the app resolves in the app's own environment.

The import statements are collected in-process with :mod:`ast`; only the top-level module
names that are not the workspace's own modules are then looked up, with
:func:`importlib.util.find_spec`, by the environment's Python (run through the sandbox with
the workspace as working directory, so local packages resolve as they do for the app).
Imports guarded by ``try: ... except ImportError`` are optional and not reported; standard
library modules of any platform (``winreg`` on Linux) count as resolvable.
"""

from __future__ import annotations

import ast
import json
import time
from dataclasses import dataclass
from pathlib import Path

from tools.checks.base import CheckResult, Finding
from tools.checks.context import (
    CheckContext,
    ToolFailure,
    combined_output,
    elapsed_ms,
    failed,
    relative,
    result_of,
    run_tool,
    source_files,
)

NAME = "imports"

#: Run as ``python -c PROBE name ...``: prints a JSON list of the names that do not resolve.
PROBE = """\
import importlib.util, json, sys
missing = []
for name in sys.argv[1:]:
    if name in sys.stdlib_module_names:
        continue
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        missing.append(name)
print(json.dumps(missing))
"""

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class ImportSite:
    """One absolute import: the top-level module name, where it is (relative file, line)."""

    module: str
    file: str
    line: int


def _guarded(handlers: list[ast.ExceptHandler]) -> bool:
    """True when one handler catches ImportError (or something broader)."""
    for handler in handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for node in types:
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
            if name in _IMPORT_ERRORS:
                return True
    return False


class _Collector(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.sites: list[ImportSite] = []

    def visit_Try(self, node: ast.Try) -> None:
        self._visit_try(node)

    def visit_TryStar(self, node: ast.TryStar) -> None:
        self._visit_try(node)

    def _visit_try(self, node: ast.Try | ast.TryStar) -> None:
        if not _guarded(node.handlers):
            for child in node.body:
                self.visit(child)
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.sites.append(ImportSite(alias.name.split(".")[0], self.file, node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.sites.append(ImportSite(node.module.split(".")[0], self.file, node.lineno))


def local_modules(workspace: Path, files: list[Path]) -> set[str]:
    """Top-level names the app provides itself.

    The workspace root's and ``src/``'s modules and packages, and the modules beside each
    source file (a script's own directory is on ``sys.path`` when it runs).
    """
    names: set[str] = set()
    for directory in {workspace, workspace / "src", *(path.parent for path in files)}:
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and any(entry.glob("*.py")):
                names.add(entry.name)
    return names


def collect_imports(workspace: Path, files: list[Path]) -> list[ImportSite]:
    """The absolute imports of ``files``, in file and line order (unparsable files skipped)."""
    sites: list[ImportSite] = []
    for path in files:
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            continue  # the syntax check reports these
        collector = _Collector(relative(workspace, path))
        collector.visit(tree)
        sites.extend(collector.sites)
    return sites


def check_imports(ctx: CheckContext) -> CheckResult:
    """Report every import whose top-level module the app's environment cannot find.

    Runs ``<venv python> -c PROBE <names...>`` (see :data:`PROBE`).

    Returns:
        A result named ``imports``; one error finding per unresolved import statement, with
        file and line. A probe that does not run or answers garbage fails the check.

    """
    start = time.monotonic()
    files = source_files(ctx.workspace)
    sites = collect_imports(ctx.workspace, files)
    local = local_modules(ctx.workspace, files)
    names = sorted({site.module for site in sites if site.module not in local})
    if not names:
        return result_of(NAME, [], f"{len(sites)} imports, all local", elapsed_ms(start))
    argv = [ctx.environment.program("python"), "-c", PROBE, *names]
    try:
        result = run_tool(ctx, NAME, argv)
        output = combined_output(result)
        missing = _parse_probe(result.stdout) if result.ok else None
        if missing is None:
            raise ToolFailure(Finding(
                check=NAME, message="the import probe failed in the application environment"),
                output)
    except ToolFailure as failure:
        return failed(NAME, failure, elapsed_ms(start))
    findings = [
        Finding(check=NAME, file=site.file, line=site.line,
                message=f"module '{site.module}' is imported but not installed; declare it in"
                " pyproject.toml dependencies")
        for site in sites if site.module in missing]
    return result_of(NAME, findings, output, elapsed_ms(start))


def _parse_probe(stdout: str) -> set[str] | None:
    lines = stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        return None
    return set(data)
