"""Build the desktop app's executable with PyInstaller (U6).

Usage (from anywhere; paths are relative to the repository root unless absolute)::

    uv run python -m ui.desktop.packaging.build [--onefile] [--console | --windowed]
        [--dist DIR] [--work DIR] [--clean] [--dry-run]

It replaces itself (``os.execve``) with::

    uv run --frozen --with "pyinstaller>=6.10,<7" pyinstaller --noconfirm
        --distpath DIST --workpath WORK ui/desktop/packaging/multicoder-desktop.spec -- OPTIONS

with ``PYTHONHASHSEED=0`` (PyInstaller writes some data in hash order: a fixed seed makes two
builds of the same sources identical, as ``tools/packaging/pyinstaller.py`` does for generated
apps). PyInstaller comes from PyPI into a throw-away overlay of MultiCoder's own environment,
so the app is analysed with exactly the packages it runs with.

The result: ``DIST/multicoder-desktop/multicoder-desktop`` (a folder, the default: it starts
fast) or ``DIST/multicoder-desktop`` with ``--onefile`` (``.exe`` on Windows).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["PYINSTALLER", "ROOT", "SPEC", "build_command", "find_uv", "main"]

ROOT = Path(__file__).resolve().parents[3]
SPEC = Path(__file__).resolve().with_name("multicoder-desktop.spec")
PYINSTALLER = "pyinstaller>=6.10,<7"
_EXE = ".exe" if sys.platform == "win32" else ""


def find_uv() -> str:
    """The ``uv`` program: beside this Python (MultiCoder installs uv), else on ``PATH``.

    Raises:
        FileNotFoundError: no uv found (install it: https://docs.astral.sh/uv/).

    """
    folders = [str(Path(sys.executable).parent),
               *os.environ.get("PATH", "").split(os.pathsep)]
    for folder in folders:
        candidate = Path(folder) / f"uv{_EXE}"
        if folder and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise FileNotFoundError("uv was not found beside Python or on PATH; install it"
                            " (https://docs.astral.sh/uv/) and build again")


def build_command(uv: str, *, dist: Path, work: Path, onefile: bool = False,
                  console: bool | None = None, clean: bool = False) -> list[str]:
    """The command line that builds the executable.

    Args:
        uv: the uv program.
        dist: where the executable (or its folder) goes.
        work: PyInstaller's work folder (analysis cache, the warn file ``warn-*.txt``).
        onefile: one self-unpacking file instead of a folder.
        console: keep (True) or drop (False) the console on Windows and macOS; None: the
            spec's default (windowed there).
        clean: empty PyInstaller's cache first.

    Returns:
        The argument list (absolute paths).

    """
    argv = [uv, "run", "--frozen", "--with", PYINSTALLER, "pyinstaller", "--noconfirm",
            "--distpath", str(dist.resolve()), "--workpath", str(work.resolve())]
    if clean:
        argv.append("--clean")
    argv += [str(SPEC), "--", "--onefile" if onefile else "--onedir"]
    if console is not None:
        argv.append("--console" if console else "--windowed")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Parse the options and replace this process with the build (see the module docstring).

    Returns:
        0 after ``--dry-run`` (the command is printed); otherwise it does not return.

    Raises:
        SystemExit: uv is missing (exit code 2, with what to do).

    """
    parser = argparse.ArgumentParser(prog="python -m ui.desktop.packaging.build",
                                     description="Build the multicoder-desktop executable.")
    parser.add_argument("--onefile", action="store_true",
                        help="one self-unpacking file (slower to start) instead of a folder")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--console", dest="console", action="store_true", default=None,
                      help="keep a console on Windows/macOS (needed to see --smoke output)")
    mode.add_argument("--windowed", dest="console", action="store_false",
                      help="no console window on Windows/macOS")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "desktop",
                        help="PyInstaller's work folder")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--dry-run", action="store_true", help="print the command only")
    args = parser.parse_args(argv)
    try:
        uv = find_uv()
    except FileNotFoundError as exc:
        parser.exit(2, f"build: {exc}\n")
    dist = args.dist if args.dist.is_absolute() else ROOT / args.dist
    work = args.work if args.work.is_absolute() else ROOT / args.work
    command = build_command(uv, dist=dist, work=work, onefile=args.onefile,
                            console=args.console, clean=args.clean)
    if args.dry_run:
        print(" ".join(command))
        return 0
    os.chdir(ROOT)
    os.execve(command[0], command, {**os.environ, "PYTHONHASHSEED": "0"})  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())
