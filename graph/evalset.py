"""The evaluation set (Q2): reference tasks with hidden acceptance tests.

Each task is a folder ``datasets/eval/tasks/<id>/``::

    task.md          the request exactly as a person types it (it states the interface)
    task.toml        id, kind, language, title, contract, entry, criteria, test_requires
    acceptance/      test_*.py: hidden acceptance tests (the models never see them)
    reference/       a reference solution written for the dataset; passes every test
    broken.toml      [[variant]]: deliberately broken copies of the reference (text changes);
                     together they fail every acceptance test

The acceptance tests run from ``<app>/.acceptance/`` inside the application's folder, with
the fixtures of ``datasets/eval/acceptance_conftest.py`` (``run_app``, ``app_dir``, ``qapp``),
in the application's own environment: the dataset's own tests run the reference and broken
solutions here, ``multicoder eval`` runs what the graph built in the run's sandbox.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, ValidationError, field_validator

ROOT = Path(__file__).resolve().parents[1] / "datasets"
EVAL_ROOT = ROOT / "eval"
CASSETTE_DIR = ROOT / "cassettes"
CONFTEST = EVAL_ROOT / "acceptance_conftest.py"
ACCEPTANCE = ".acceptance"

Kind = Literal["gui", "cli", "converter", "sqlite", "http", "visualiser", "game", "text",
               "timer"]
KINDS: tuple[str, ...] = ("gui", "cli", "converter", "sqlite", "http", "visualiser", "game",
                          "text", "timer")
KIND_NAMES = {"gui": "GUI tools", "cli": "command-line tools", "converter": "file converters",
              "sqlite": "SQLite apps", "http": "HTTP clients", "visualiser": "data visualisers",
              "game": "small games", "text": "text and PDF tools",
              "timer": "timers and scheduling"}

RunCommand = Callable[[Sequence[str], dict[str, str], float], tuple[int | None, str, str]]
"""Runs ``argv`` with extra environment variables and a timeout (seconds) in the app's folder;
returns ``(exit code or None on timeout, stdout, stderr)``."""


class DatasetError(ValueError):
    """A task folder is incomplete or inconsistent; the message names the file and the fix."""


class Change(BaseModel):
    """One text replacement of a broken variant: ``old`` occurs exactly once in ``path``."""

    path: str
    old: str
    new: str


class Variant(BaseModel):
    """A deliberately broken copy of the reference solution."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    why: str = Field(min_length=1, description="What is broken, in a sentence")
    changes: list[Change] = Field(min_length=1,
                                  validation_alias=AliasChoices("change", "changes"))


class EvalTask(BaseModel):
    """One reference task, as read from its folder.

    Attributes:
        id: the folder name (``[a-z0-9-]``).
        kind: one of :data:`KINDS`.
        language: "en" or "ru": the language the request is written in.
        title: a few words for tables.
        contract: the interface the request states, in one or two lines (a command line, a
            function name, an object name on the main window).
        entry: the reference solution's entry script, relative to ``reference/``.
        criteria: user-level acceptance criteria (for the judge-agreement benchmark).
        test_requires: packages the acceptance tests need besides the app's own (pip syntax).
        timeout_s: wall-clock limit for one run of the acceptance tests, in seconds.
        path: the task's folder.
        variants: the broken variants from ``broken.toml``.

    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,60}$")
    kind: Kind
    language: Literal["en", "ru"]
    title: str
    contract: str
    entry: str
    criteria: list[str] = Field(min_length=1)
    test_requires: list[str] = Field(default_factory=list)
    timeout_s: int = Field(default=180, ge=10, le=1800)
    path: Path
    variants: list[Variant] = Field(default_factory=list)

    @field_validator("entry")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith(("/", "\\")) or ".." in Path(value).parts:
            raise ValueError(f"entry must be a path inside the solution, not {value!r}")
        return value

    @property
    def text(self) -> str:
        """The request, exactly as typed (``task.md``)."""
        return (self.path / "task.md").read_text(encoding="utf-8").strip()

    @property
    def acceptance_dir(self) -> Path:
        """``acceptance/``: the hidden tests."""
        return self.path / "acceptance"

    @property
    def reference_dir(self) -> Path:
        """``reference/``: the reference solution."""
        return self.path / "reference"

    @property
    def cassette(self) -> str | None:
        """The name of the recorded model conversation for this task, if one ships."""
        return self.id if (CASSETTE_DIR / f"{self.id}.jsonl").is_file() else None

    def variant(self, name: str) -> Variant:
        """The broken variant called ``name``.

        Raises:
            DatasetError: there is none by that name.

        """
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise DatasetError(f"{self.id} has no broken variant {name!r}; it has "
                           f"{', '.join(v.name for v in self.variants) or 'none'}")


class AcceptanceResult(BaseModel):
    """What one run of a task's acceptance tests showed.

    Attributes:
        passed / failed: test ids (``test_file.py::test_name``) that passed / failed or
            errored; a skipped test counts as failed (a hidden test has no reason to skip).
        error: set when the tests could not run to the end (timeout, a crash before the
            report, nothing collected); every test then counts as failed.
        output: the tail of pytest's output (at most 4,000 characters).

    """

    passed: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
    error: str = ""
    output: str = ""

    @property
    def all_passed(self) -> bool:
        """True when at least one test ran, every one passed and nothing went wrong."""
        return bool(self.passed) and not self.failed and not self.error


def load_task(folder: Path) -> EvalTask:
    """Read and validate one task folder.

    Raises:
        DatasetError: a file is missing or invalid (the message names it).

    """
    meta_path = folder / "task.toml"
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
        broken_path = folder / "broken.toml"
        broken = (tomllib.loads(broken_path.read_text(encoding="utf-8"))
                  if broken_path.is_file() else {})
        task = EvalTask.model_validate({**meta, "path": folder,
                                        "variants": broken.get("variant", [])})
    except FileNotFoundError as exc:
        raise DatasetError(f"{folder.name}: {Path(str(exc.filename)).name} is missing") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{folder.name}: cannot read its TOML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DatasetError(f"{folder.name}/task.toml or broken.toml: {where}: {first['msg']}"
                           ) from exc
    if task.id != folder.name:
        raise DatasetError(f"{folder.name}/task.toml: id {task.id!r} must equal the folder name")
    for required in ("task.md", "acceptance", "reference"):
        if not (folder / required).exists():
            raise DatasetError(f"{folder.name}: {required} is missing")
    if not any(task.acceptance_dir.glob("test_*.py")):
        raise DatasetError(f"{folder.name}: acceptance/ holds no test_*.py")
    if not (task.reference_dir / task.entry).is_file():
        raise DatasetError(f"{folder.name}: the entry {task.entry} is not in reference/")
    return task


def load_tasks(root: Path = EVAL_ROOT) -> list[EvalTask]:
    """Every task under ``root/tasks``, sorted by id.

    Raises:
        DatasetError: a task folder is invalid.

    """
    folders = sorted(p for p in (root / "tasks").iterdir() if p.is_dir()) if (
        root / "tasks").is_dir() else []
    return [load_task(folder) for folder in folders]


def select(tasks: Sequence[EvalTask], selection: str) -> list[EvalTask]:
    """The tasks a selection names, in dataset order.

    ``selection`` is a comma-separated list of: ``all``; a task id or a glob of ids
    (``sqlite-*``); ``kind:KIND``; ``lang:en`` / ``lang:ru``; ``cassette`` (the tasks with a
    recorded model conversation, which run offline).

    Raises:
        DatasetError: an item matches no task (the message lists the valid forms).

    """
    chosen: set[str] = set()
    for item in (part.strip() for part in selection.split(",")):
        if not item:
            continue
        if item == "all":
            matched = [t.id for t in tasks]
        elif item == "cassette":
            matched = [t.id for t in tasks if t.cassette]
        elif item.startswith("kind:"):
            matched = [t.id for t in tasks if t.kind == item[5:]]
        elif item.startswith("lang:"):
            matched = [t.id for t in tasks if t.language == item[5:]]
        else:
            matched = [t.id for t in tasks if fnmatch.fnmatchcase(t.id, item)]
        if not matched:
            raise DatasetError(
                f"--tasks {item!r} matches no task: use all, cassette, a task id or glob, "
                f"kind:{'|'.join(KINDS)} or lang:en|ru (see `multicoder eval list`)")
        chosen.update(matched)
    if not chosen:
        raise DatasetError("--tasks is empty: name at least one task, or all")
    return [t for t in tasks if t.id in chosen]


def materialise(task: EvalTask, variant: str | None, dest: Path) -> Path:
    """Copy the reference solution to ``dest`` and apply a broken variant's changes.

    Args:
        task: the task.
        variant: a variant name, or None for the reference itself.
        dest: a folder that does not exist yet.

    Returns:
        ``dest``.

    Raises:
        DatasetError: a change's ``old`` text does not occur exactly once.

    """
    shutil.copytree(task.reference_dir, dest,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".venv"))
    if variant is None:
        return dest
    for change in task.variant(variant).changes:
        target = dest / change.path
        text = target.read_text(encoding="utf-8") if target.is_file() else ""
        if text.count(change.old) != 1:
            raise DatasetError(f"{task.id}/broken.toml {variant}: the old text occurs "
                               f"{text.count(change.old)} times in {change.path}, not once")
        target.write_text(text.replace(change.old, change.new), encoding="utf-8")
    return dest


def install_acceptance(task: EvalTask, app_dir: Path) -> Path:
    """Put the hidden tests and their fixtures into ``<app_dir>/.acceptance/`` (replaced).

    Returns:
        The ``.acceptance`` folder.

    """
    target = app_dir / ACCEPTANCE
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    shutil.copytree(task.acceptance_dir, target,
                    ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    shutil.copyfile(CONFTEST, target / "conftest.py")
    (target / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n",
                                       encoding="utf-8")
    return target


def acceptance_argv(python: str, junit: str) -> list[str]:
    """The command that runs the installed acceptance tests from the app's folder."""
    return [python, "-m", "pytest", "-q", "-c", f"{ACCEPTANCE}/pytest.ini", "--rootdir",
            ACCEPTANCE, f"--junitxml={junit}", ACCEPTANCE]


def acceptance_env(entry: str) -> dict[str, str]:
    """Variables the acceptance tests run with: how the program starts, headless displays.

    Pytest's plugin autoloading is off: the tests use only the shared fixtures, and whatever
    plugins the app's environment happens to hold neither slow them down nor change them.
    """
    return {"EVAL_ENTRY": entry, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "QT_QPA_PLATFORM": "offscreen", "SDL_VIDEODRIVER": "dummy",
            "SDL_AUDIODRIVER": "dummy", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUTF8": "1"}


def parse_junit(path: Path) -> tuple[list[str], list[str]]:
    """Passed and failed test ids from pytest's JUnit XML report.

    Raises:
        OSError / ElementTree.ParseError: the report is missing or unreadable.

    """
    tree = ElementTree.parse(path)  # noqa: S314 - written by pytest in this run
    passed: list[str] = []
    failed: list[str] = []
    for case in tree.iter("testcase"):
        module = (case.get("classname") or "").split(".")[-1]
        test_id = f"{module}.py::{case.get('name')}"
        outcome = {child.tag for child in case}
        (failed if outcome & {"failure", "error", "skipped"} else passed).append(test_id)
    return passed, failed


def run_acceptance(task: EvalTask, app_dir: Path, entry: str, run: RunCommand,
                   python: str = "python") -> AcceptanceResult:
    """Install the hidden tests into ``app_dir`` and run them with ``run``.

    Args:
        task: the task whose tests run.
        app_dir: the application's folder (the reference copy or the run's workspace).
        entry: the program's entry script, relative to ``app_dir``.
        run: runs a command in ``app_dir`` (see :data:`RunCommand`): a plain subprocess for
            the dataset's own solutions, the run's sandbox for generated code.
        python: the interpreter of the app's environment, as ``run`` finds it.

    Returns:
        The passed and failed tests; ``error`` says why when the run did not complete.

    """
    install_acceptance(task, app_dir)
    junit = f"{ACCEPTANCE}/junit.xml"
    exit_code, stdout, stderr = run(acceptance_argv(python, junit), acceptance_env(entry),
                                    float(task.timeout_s))
    output = (stdout + ("\n" + stderr if stderr.strip() else ""))[-4000:]
    error = ""
    try:
        passed, failed = parse_junit(app_dir / junit)
    except (OSError, ElementTree.ParseError):
        passed, failed = [], []
    if exit_code is None:
        error = f"the acceptance tests did not finish within {task.timeout_s} s"
    elif not passed and not failed:
        error = f"no acceptance test ran (pytest exit {exit_code})"
    elif exit_code not in (0, 1):
        error = f"pytest exited with {exit_code}"
    if error:
        failed = sorted(set(failed) | set(collect_ids(task)) - set(passed))
    return AcceptanceResult(passed=passed, failed=failed, error=error, output=output)


def collect_ids(task: EvalTask) -> list[str]:
    """The acceptance test function ids of a task, found by reading the test files.

    Parametrised tests appear once, by function name; good enough to count what failed
    when pytest could not report it.
    """
    ids: list[str] = []
    for path in sorted(task.acceptance_dir.glob("test_*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("def test_"):
                ids.append(f"{path.name}::{line[4:].split('(')[0]}")
    return ids


def local_runner(app_dir: Path) -> RunCommand:
    """Run commands as plain subprocesses in ``app_dir``: for the dataset's own solutions only.

    Generated code never runs this way: ``multicoder eval`` uses the run's sandbox.
    """
    def run(argv: Sequence[str], env: dict[str, str], timeout_s: float
            ) -> tuple[int | None, str, str]:
        import os

        try:
            done = subprocess.run(list(argv), cwd=app_dir, env={**os.environ, **env},
                                  capture_output=True, text=True, encoding="utf-8",
                                  errors="replace", timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            return None, str(exc.stdout or ""), str(exc.stderr or "")
        return done.returncode, done.stdout, done.stderr

    return run


def check_solution(task: EvalTask, variant: str | None, workdir: Path,
                   python: str = sys.executable) -> AcceptanceResult:
    """Materialise the reference (or a broken variant) under ``workdir`` and run its tests.

    For the dataset's own tests and the judge-agreement benchmark: the code is ours and runs
    as a plain subprocess of ``python`` (which must have the tasks' packages installed).
    """
    app = materialise(task, variant, workdir / (variant or "reference"))
    return run_acceptance(task, app, task.entry, local_runner(app), python)


def summary(tasks: Iterable[EvalTask]) -> dict[str, int]:
    """How many tasks of each kind (every kind listed, zero included)."""
    counts = dict.fromkeys(KINDS, 0)
    for task in tasks:
        counts[task.kind] += 1
    return counts
