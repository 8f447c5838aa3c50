"""The layer contract of ARCHITECTURE.md, checked by import-linter."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_imports_point_down_only():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


# -- the desktop app is presentation only ---------------------------------------------------

#: What ui/desktop may import: Qt, the Markdown and highlighting libraries, its own modules,
#: the engine's public API, and the parts of the standard library a view needs. No storage,
#: network, process or threading modules: that work belongs to graph/ (ARCHITECTURE.md).
DESKTOP_ALLOWED = (
    "PySide6", "shiboken6", "pygments", "markdown_it", "mdurl", "ui.desktop",
    "graph.chats", "graph.conversation", "graph.coordinator", "graph.control", "graph.engine",
    "graph.errors", "graph.settings", "graph.diagnostics",
    "__future__", "typing", "collections", "dataclasses", "pathlib", "sys", "os", "time",
    "functools", "enum", "html", "re", "datetime", "math", "logging", "contextlib", "itertools",
    "importlib", "argparse", "locale", "tracemalloc", "json", "textwrap", "weakref",
)


def _imports(path: Path) -> list[str]:
    import ast

    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.append("ui.desktop")
    return names


def test_desktop_imports_only_presentation_modules():
    bad = []
    files = sorted((ROOT / "ui" / "desktop").rglob("*.py"))
    assert files, "ui/desktop is missing"
    for path in files:
        for name in _imports(path):
            if not any(name == a or name.startswith(a + ".") for a in DESKTOP_ALLOWED):
                bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert not bad, "ui/desktop imports beyond presentation:\n" + "\n".join(bad)


def test_desktop_rejects_a_storage_import(tmp_path):
    """The check above can fail: a module importing sqlite3 is caught."""
    sample = tmp_path / "bad.py"
    sample.write_text("import sqlite3\nfrom graph.builder import build_graph\n")
    names = _imports(sample)
    assert [n for n in names
            if not any(n == a or n.startswith(a + ".") for a in DESKTOP_ALLOWED)] == [
        "sqlite3", "graph.builder"]
