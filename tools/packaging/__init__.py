"""Packaging (G8): one-file executables with PyInstaller, and their headless run."""

from tools.packaging.pyinstaller import (
    PACKAGED_RUN,
    Artifact,
    PackagingError,
    build_executable,
    pyinstaller_argv,
    smoke_executable,
)

__all__ = ["PACKAGED_RUN", "Artifact", "PackagingError", "build_executable",
           "pyinstaller_argv", "smoke_executable"]
