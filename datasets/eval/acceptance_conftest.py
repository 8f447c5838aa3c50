"""Fixtures for the hidden acceptance tests (copied as ``.acceptance/conftest.py``).

The acceptance tests of a task run from ``<app>/.acceptance/`` inside the application's own
folder: the reference solution (the dataset's own tests) or the project MultiCoder generated
(``multicoder eval``, in the run's sandbox). They see the application only through the
interface contract the task states:

- ``run_app(*args, input=None, timeout=60, cwd=None, env=None)``: run the program's command
  line (``python <entry> ARGS``; the entry comes from ``EVAL_ENTRY``), in ``tmp_path`` by
  default; returns ``subprocess.CompletedProcess`` with text ``stdout``/``stderr``.
- ``app_dir``: the application's folder (``Path``); ``<app>`` and ``<app>/src`` are on
  ``sys.path``, so ``import <module named by the task>`` works.
- ``qapp``: one ``QApplication`` (offscreen) for GUI tasks; ``qwait(ms)`` processes Qt
  events for that long; ``wait_until(predicate, timeout_s)`` processes events until true.
- Games run with SDL's dummy video and audio drivers, plots with Matplotlib's Agg backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

APP = Path(os.environ.get("EVAL_APP_DIR") or Path(__file__).resolve().parent.parent).resolve()
ENTRY = os.environ.get("EVAL_ENTRY", "")

for _name, _value in {"QT_QPA_PLATFORM": "offscreen", "SDL_VIDEODRIVER": "dummy",
                      "SDL_AUDIODRIVER": "dummy", "MPLBACKEND": "Agg",
                      "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUTF8": "1"}.items():
    os.environ.setdefault(_name, _value)
for _path in (APP, APP / "src"):
    if _path.is_dir() and str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


@pytest.fixture
def app_dir() -> Path:
    """The application's folder."""
    return APP


@pytest.fixture
def run_app(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the application's command line: ``python <entry> *args``."""
    if not ENTRY:
        pytest.fail("EVAL_ENTRY is not set: the harness did not say how the program starts")
    entry = (APP / ENTRY).resolve()

    def run(*args: Any, input: str | None = None, timeout: float = 60, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(APP / "src"), str(APP), os.environ.get("PYTHONPATH", "")]), **(env or {})}
        return subprocess.run([sys.executable, str(entry), *map(str, args)], input=input,
                              capture_output=True, text=True, encoding="utf-8",
                              errors="replace", timeout=timeout, cwd=cwd or tmp_path,
                              env=environment, check=False)

    return run


@pytest.fixture(scope="session")
def qapp() -> Any:
    """The one QApplication of the session (offscreen)."""
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


@pytest.fixture
def qwait(qapp: Any) -> Callable[[int], None]:
    """Process Qt events for ``ms`` milliseconds."""
    def wait(ms: int) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            qapp.processEvents()
            time.sleep(0.005)

    return wait


@pytest.fixture
def wait_until(qapp: Any) -> Callable[..., bool]:
    """Process Qt events until ``predicate()`` is true; fail after ``timeout_s`` seconds."""
    def wait(predicate: Callable[[], object], timeout_s: float = 10.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            qapp.processEvents()
            if predicate():
                return True
            time.sleep(0.005)
        pytest.fail(f"not true after {timeout_s} s: {predicate}")

    return wait
