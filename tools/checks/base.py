"""Shapes shared by the paranoid tester's checks: the app contract, findings, reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["error", "warning", "info"]


class AppContract(BaseModel):
    """How the generated application is started; written by the planner, used by the tester.

    Paths are relative to the workspace, with forward slashes.
    """

    name: str = Field(description="Executable name, e.g. 'csv2xlsx' (letters, digits, - and _)",
                      pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    entry: str = Field(
        description="Entry script relative to the workspace, e.g. 'csv2xlsx/main.py'")
    gui: bool = Field(default=False, description="Starts a Qt window when run without arguments")
    smoke_args: list[str] | None = Field(
        default=None,
        description="Arguments of the documented smoke command; it must exit 0. Paths in it are"
        " relative to the workspace.",
    )
    gui_stay_up_s: float = Field(default=4.0, ge=0.5, le=60.0,
                                 description="Seconds a GUI must stay up with no traceback")
    icon: str | None = Field(default=None, description="Icon file for the executable, if any")


class Finding(BaseModel):
    """One problem a check found; this is what the coder sees."""

    check: str
    file: str | None = None
    line: int | None = None
    severity: Severity = "error"
    message: str

    def render(self) -> str:
        """One line: ``check file:line [severity] message``."""
        where = self.file or ""
        if self.file and self.line:
            where = f"{self.file}:{self.line}"
        return " ".join(part for part in (self.check, where, f"[{self.severity}]", self.message)
                        if part)


class CheckResult(BaseModel):
    """The outcome of one check. ``passed`` is False when any finding has severity error."""

    check: str
    passed: bool
    findings: list[Finding] = Field(default_factory=list)
    duration_ms: int = 0
    output: str = Field(default="", description="Tool output, capped, for the report")
    skipped: bool = Field(default=False, description="Not run (never counted as passed)")


class CheckReport(BaseModel):
    """All checks of one tester pass."""

    results: list[CheckResult] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True only when every check ran and passed."""
        return bool(self.results) and all(r.passed and not r.skipped for r in self.results)

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every check, in check order."""
        return [f for r in self.results for f in r.findings]
