"""Structured answers of the models: the safety verdict, the spec, the plan, the judgement.

Every model answer that is not a tool call is parsed into one of these at the boundary
(:func:`agents.structured.parse_answer`); the rest of the code never handles raw text.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.checks.base import AppContract

SafetyLevel = Literal["green", "yellow", "red"]
Recommendation = Literal["approve", "reject", "modify"]
CriterionStatus = Literal["met", "unmet", "unclear"]
JudgeVerdict = Literal["accept", "rework"]


class SafetyVerdict(BaseModel):
    """The safety gate's analysis of a request (G2)."""

    level: SafetyLevel
    recommendation: Recommendation
    categories: list[str] = Field(default_factory=list,
                                  description="Harm categories, e.g. 'malware', 'phishing'")
    reasons: list[str] = Field(default_factory=list)
    feasibility: str = Field(default="", description="Can this be built as a Python app?")
    risks: list[str] = Field(default_factory=list)


class Spec(BaseModel):
    """The expanded specification (G3)."""

    title: str
    summary: str
    features: list[str]
    user_interface: str = Field(description="Windows, controls, command line")
    data: str = Field(description="Inputs, outputs, formats, storage")
    error_handling: list[str]
    acceptance_criteria: list[str]
    out_of_scope: list[str] = Field(default_factory=list)

    def to_markdown(self) -> str:
        """Render for people: a heading and one section per field."""
        def items(values: list[str]) -> str:
            return "\n".join(f"- {v}" for v in values) or "- (none)"

        return (
            f"# {self.title}\n\n{self.summary}\n\n## Features\n{items(self.features)}\n\n"
            f"## User interface\n{self.user_interface}\n\n## Data\n{self.data}\n\n"
            f"## Error handling\n{items(self.error_handling)}\n\n"
            f"## Acceptance criteria\n{items(self.acceptance_criteria)}\n\n"
            f"## Out of scope\n{items(self.out_of_scope)}\n"
        )


class PlanStep(BaseModel):
    """One step of the plan: a structured tool call the coder will carry out (G4)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    tool: str = Field(description="An action name from the Action API")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Known parameters (a file's content is left to the coder)")
    description: str


class Plan(BaseModel):
    """The planner's answer: the app contract and the ordered steps."""

    summary: str
    app: AppContract
    dependencies: list[str] = Field(
        default_factory=list, description="PyPI requirements of the app, e.g. 'openpyxl>=3.1'")
    steps: list[PlanStep] = Field(min_length=1)

    def to_markdown(self) -> str:
        """Render for people: summary, contract and a numbered list of steps."""
        lines = [f"**Plan:** {self.summary}", "",
                 f"- executable: `{self.app.name}` from `{self.app.entry}`"
                 f" ({'GUI' if self.app.gui else 'command line'})"]
        if self.app.smoke_args is not None:
            lines.append(f"- smoke command: `{self.app.name} {' '.join(self.app.smoke_args)}`")
        if self.dependencies:
            lines.append(f"- dependencies: {', '.join(self.dependencies)}")
        lines.append("")
        for n, step in enumerate(self.steps, 1):
            target = step.params.get("path") or step.params.get("argv") or ""
            if isinstance(target, list):
                target = " ".join(map(str, target))
            shown = f" `{target}`" if target else ""
            lines.append(f"{n}. [{step.id}] `{step.tool}`{shown} — {step.description}")
        return "\n".join(lines)


class CriterionVerdict(BaseModel):
    """The spec judge's verdict on one acceptance criterion of the spec (G7)."""

    criterion: str = Field(description="The acceptance criterion, exactly as the spec words it")
    status: CriterionStatus = Field(
        description="met: the code and the tests show it; unmet: they show it is not;"
                    " unclear: the evidence does not decide")
    evidence: str = Field(
        description="Where it shows: file:line in the project, a quoted line of the tester's"
                    " output, or why it is unclear")


class Judgement(BaseModel):
    """The spec judge's answer: one verdict per acceptance criterion, and the overall call.

    ``verdict`` is "rework" when any criterion is unmet; :func:`agents.spec_judge.decide`
    recomputes it rather than trusting the model's own field.
    """

    criteria: list[CriterionVerdict]
    verdict: JudgeVerdict = Field(description="accept, or rework when any criterion is unmet")
    summary: str = Field(description="Two or three sentences on how well the work meets the spec")
