"""Parameter models of the built-in actions (T1).

Each model's docstring is the tool description the model sees, and each field's description
is that parameter's description in the generated tool-calling schema: write them for the
model. Paths are relative to the run's workspace, with ``/`` as separator on every platform.
Unknown parameters are refused, so a misspelt name gets a clear error instead of being
ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Folders that are tools' state, not the project: list_dir and search_text skip them.
SKIPPED_DIRS = frozenset({
    ".venv", "__pycache__", "build", "dist", ".git", ".mypy_cache", ".ruff_cache",
    ".pytest_cache",
})


class ActionParams(BaseModel):
    """Base of every action's parameters: unknown parameters are an error."""

    model_config = ConfigDict(extra="forbid")


class ReadFileParams(ActionParams):
    """Read a text file of the workspace, returning its lines from start_line (1-based) on.

    The result has the raw text, the first and last line numbers returned and the file's
    total number of lines; read further by calling again with a later start_line.
    """

    path: str = Field(description="File path relative to the workspace, e.g. 'src/app.py'.")
    start_line: int = Field(default=1, ge=1, description="First line to return (1-based).")
    max_lines: int = Field(
        default=400, ge=1, le=5000, description="Most lines to return in this call."
    )


class WriteFileParams(ActionParams):
    """Create or replace a file of the workspace with the given content (UTF-8).

    Parent folders are created. Returns the number of bytes written. To change part of an
    existing file, prefer edit_file.
    """

    path: str = Field(description="File path relative to the workspace, e.g. 'src/app.py'.")
    content: str = Field(description="The complete new content of the file.")


class EditFileParams(ActionParams):
    """Replace one exact occurrence of old_text with new_text in a file of the workspace.

    old_text must appear exactly once in the file (whitespace and indentation included);
    when it appears zero or several times nothing is changed and the error says how many
    times it matched, so include enough surrounding lines to make it unique.
    """

    path: str = Field(description="File path relative to the workspace.")
    old_text: str = Field(
        min_length=1, description="The exact text to replace; it must match exactly once."
    )
    new_text: str = Field(description="The text to put in its place (may be empty).")


class ListDirParams(ActionParams):
    """List the files and folders under a folder of the workspace, folders ending in '/'.

    Tool folders (.venv, __pycache__, build, dist, .git and caches) are skipped.
    """

    path: str = Field(default=".", description="Folder relative to the workspace.")
    depth: int = Field(
        default=2, ge=1, le=10, description="Folder levels to show (1: direct children only)."
    )


class SearchTextParams(ActionParams):
    """Search the text files under a path of the workspace for a string or regular expression.

    Returns the matching lines with their file and line number. Tool folders (.venv,
    __pycache__, build, dist, .git and caches) and binary files are skipped.
    """

    pattern: str = Field(min_length=1, description="Text to look for (case-sensitive).")
    path: str = Field(default=".", description="File or folder relative to the workspace.")
    regex: bool = Field(
        default=False, description="Treat pattern as a Python regular expression."
    )
    max_matches: int = Field(
        default=100, ge=1, le=1000, description="Stop after this many matching lines."
    )


class RunCommandParams(ActionParams):
    """Run a program of the application's environment in the workspace, without a shell.

    argv is the program name followed by its arguments, e.g. ["python", "-m", "app"] or
    ["ruff", "check", "."]. Allowed programs: python, pytest, ruff, mypy, bandit. Returns
    the exit code, stdout and stderr; succeeds when the exit code is 0. Dependencies are
    declared in pyproject.toml, not installed with pip.
    """

    argv: list[str] = Field(
        min_length=1, description="Program name and arguments, one list item per argument."
    )
    timeout_s: float = Field(
        default=60, gt=0,
        description="Time limit in seconds (at most 900); the command is killed after it.",
    )


class RunTestsParams(ActionParams):
    """Run the application's tests with pytest (python -m pytest -q <args>) in the workspace.

    Returns the exit code, stdout and stderr; succeeds when all tests pass (exit code 0).
    """

    args: list[str] = Field(
        default_factory=list,
        description="Extra pytest arguments, e.g. ['tests/test_core.py', '-k', 'parse'].",
    )
    timeout_s: float = Field(
        default=300, gt=0,
        description="Time limit in seconds (at most 900); the tests are killed after it.",
    )
