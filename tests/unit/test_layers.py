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
#: network, process, file-system or threading modules (``os`` included): that work belongs
#: to graph/ (ARCHITECTURE.md).
DESKTOP_ALLOWED = (
    "PySide6", "shiboken6", "pygments", "markdown_it", "mdurl", "ui.desktop",
    "graph.chats", "graph.conversation", "graph.coordinator", "graph.control", "graph.engine",
    "graph.errors", "graph.settings", "graph.diagnostics",
    "__future__", "typing", "collections", "dataclasses", "pathlib", "sys", "time",
    "functools", "enum", "html", "re", "datetime", "math", "logging", "contextlib", "itertools",
    "argparse", "gc", "locale", "tracemalloc", "json", "textwrap", "weakref",
)
#: ui/desktop/packaging holds build-time tools (PyInstaller, icon files), not the app: they
#: may also use ``os`` and write the files they build.
PACKAGING = Path("ui") / "desktop" / "packaging"
PACKAGING_ALLOWED = ("os",)


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


def _app_files() -> list[Path]:
    """The desktop app's modules (without the build-time packaging tools)."""
    return [p for p in sorted((ROOT / "ui" / "desktop").rglob("*.py"))
            if not p.relative_to(ROOT).is_relative_to(PACKAGING)]


def test_desktop_imports_only_presentation_modules():
    bad = []
    files = sorted((ROOT / "ui" / "desktop").rglob("*.py"))
    assert files, "ui/desktop is missing"
    for path in files:
        allowed = DESKTOP_ALLOWED + (PACKAGING_ALLOWED if path.relative_to(ROOT)
                                     .is_relative_to(PACKAGING) else ())
        for name in _imports(path):
            if not any(name == a or name.startswith(a + ".") for a in allowed):
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


# -- the desktop app does nothing itself: no processes, no file writes ----------------------

#: Qt classes that start processes or write files; none belongs in the app (the engine does
#: that: graph.control.launch_artifact, stage_attachment, stage_image ...). QSaveFile stays
#: allowed: the code block's Save writes where the person chose, because they asked.
DENIED_QT = frozenset({"QProcess", "QFile", "QTemporaryFile", "QTemporaryDir", "QLockFile"})
#: ``os`` functions that change files.
DENIED_OS = frozenset({"remove", "unlink", "rename", "replace", "rmdir", "removedirs",
                       "makedirs", "mkdir", "system", "startfile", "execv", "execve", "spawnv"})
#: Path (and QDir) methods that change files.
DENIED_METHODS = frozenset({"write_text", "write_bytes", "unlink", "mkdir", "rmdir", "touch",
                            "symlink_to", "hardlink_to", "mkpath", "removeRecursively"})


def _is_pathish(node) -> bool:
    """A file path written as an expression: "a.png", f"...", str(...), Path(...), a / b."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id in ("str", "Path", "fspath")


def _writes(path: Path) -> list[str]:
    """Where the source at ``path`` starts a process or writes a file: "line: what"."""
    import ast

    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom):
            found += [f"{line}: imports {a.name}" for a in node.names if a.name in DENIED_QT]
        elif isinstance(node, ast.Name) and node.id in DENIED_QT:
            found.append(f"{line}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in DENIED_QT:
            found.append(f"{line}: uses {node.attr}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value
                if isinstance(owner, ast.Name) and owner.id in ("os", "shutil") and \
                        (func.attr in DENIED_OS or owner.id == "shutil"):
                    found.append(f"{line}: {owner.id}.{func.attr}()")
                elif func.attr in DENIED_METHODS:
                    found.append(f"{line}: .{func.attr}()")
                elif func.attr == "save" and node.args and _is_pathish(node.args[0]):
                    found.append(f"{line}: .save() to a file path")
            elif isinstance(func, ast.Name) and func.id == "open":
                modes = [a for a in node.args[1:2]] + [k.value for k in node.keywords
                                                       if k.arg == "mode"]
                for mode in modes:
                    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                            and not set(mode.value) & set("wax+")):
                        found.append(f"{line}: open() for writing")
    return found


def test_desktop_starts_no_process_and_writes_no_file():
    bad = [f"{path.relative_to(ROOT)}:{where}" for path in _app_files()
           for where in _writes(path)]
    assert not bad, "ui/desktop does engine work itself:\n" + "\n".join(bad)


def test_the_write_check_can_fail(tmp_path):
    """Each kind of write or process start is caught; reading and QSaveFile are not."""
    sample = tmp_path / "bad.py"
    sample.write_text(
        "import os\n"
        "from pathlib import Path\n"
        "from PySide6.QtCore import QProcess, QSaveFile\n"
        "QProcess.startDetached('app')\n"
        "image.save(str(target))\n"
        "pixmap.save('shot.png')\n"
        "image.save(buffer, 'PNG')\n"
        "os.remove(p)\n"
        "os.replace(a, b)\n"
        "open(p, 'w')\n"
        "open(p, mode='ab')\n"
        "open(p)\n"
        "open(p, 'rb')\n"
        "Path(p).write_text('x')\n"
        "target.unlink()\n"
        "QSaveFile(path)\n"
        "names.remove(x)\n"
        "text.replace('a', 'b')\n",
        encoding="utf-8")
    lines = sorted({int(w.split(":")[0]) for w in _writes(sample)})
    assert lines == [3, 4, 5, 6, 8, 9, 10, 11, 14, 15]
