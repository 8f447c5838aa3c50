"""The results file of an evaluation (``multicoder eval``): one record per task.

Written atomically after every finished task, so an interrupted evaluation resumes where it
stopped (tasks with a record are not run again) and ``multicoder eval report`` can read a
partial file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from graph.errors import InputError
from memory.records import atomic_write

FORMAT = 1

Outcome = Literal["passed", "failed", "error", "skipped"]
"""passed: the run finished (its executable built) and every hidden acceptance test passed;
failed: some hidden test failed, or the run stopped without delivering (before an app existed,
or after it: the judge, packaging, a limit); error: the harness itself could not evaluate the
task; skipped: not run (the evaluation's budget was spent first)."""

Failure = Literal["refused", "spec", "plan", "build", "checks", "judge", "packaging",
                  "acceptance", "budget", "timeout", "cancelled", "error"]
"""Where a task went wrong, the first that applies:

- refused: the safety gate refused the request;
- spec / plan: the spec expander or planner gave no usable answer;
- build: the coder's rounds ended with the tester still failing (repair rounds exhausted);
- checks: the tester never ran to completion (environment, sandbox);
- judge: the spec-compliance judge still found unmet criteria when the rounds ran out;
- packaging: the executable could not be built or did not start;
- acceptance: the run finished, but hidden acceptance tests failed;
- budget: the run or the evaluation ran out of money;
- timeout: the task's wall-clock limit passed;
- cancelled: interrupted by the person;
- error: anything else (the record's ``error`` says what).
"""


class JudgeSummary(BaseModel):
    """The spec-compliance judge's last verdict in the run (None values: it never ran).

    ``unmet_criteria``: the criteria it called unmet, each with its evidence
    (``"criterion — evidence"``), so a report can show why it disagreed with the hidden tests.
    """

    verdict: Literal["accept", "rework"] | None = None
    met: int = 0
    unmet: int = 0
    unclear: int = 0
    unmet_criteria: list[str] = Field(default_factory=list)


class TaskRecord(BaseModel):
    """What one task's evaluation produced.

    Attributes:
        id / kind / language / title: from the task.
        outcome: see :data:`Outcome`; ``failure`` the category when not passed.
        run_id: the MultiCoder run (its folder holds everything: chat.md, report.md ...).
        run_status: how the run ended ("done", "failed", "refused", "stopped" ...).
        tests_passed / tests_failed: hidden acceptance tests; ``failed_tests`` their ids.
        judge: the judge's last verdict.
        repair_rounds: coder rounds after the first build.
        input_tokens / output_tokens: summed over every model call of the run.
        cost_usd: the run's cost as priced by the models' price table (0 when unknown).
        wall_s: wall-clock seconds, run plus acceptance tests.
        error: one line when something went wrong.
        finished_at: when the record was written (UTC).

    """

    id: str
    kind: str
    language: str
    title: str
    outcome: Outcome
    failure: Failure | None = None
    run_id: str | None = None
    run_status: str | None = None
    tests_passed: int = 0
    tests_failed: int = 0
    failed_tests: list[str] = Field(default_factory=list)
    judge: JudgeSummary = Field(default_factory=JudgeSummary)
    repair_rounds: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    error: str = ""
    finished_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def tests_total(self) -> int:
        """Passed plus failed acceptance tests."""
        return self.tests_passed + self.tests_failed


class EvalSettings(BaseModel):
    """How the evaluation was run (for the report's header and for comparisons)."""

    selection: str
    models: dict[str, list[str]] = Field(default_factory=dict)
    jobs: int = 1
    budget_usd: float | None = None
    sandbox: str = ""
    version: str = ""


class EvalResults(BaseModel):
    """The whole results file.

    Attributes:
        format: the file format version (:data:`FORMAT`).
        label: a name for the report ("gpt-4.1 coder", defaults to the file's stem).
        settings: see :class:`EvalSettings`.
        started_at / finished_at: UTC; ``finished_at`` is None while tasks are pending.
        tasks: the task ids selected, in order; ``records`` the finished ones.
        running: task id -> run id of the runs under way (an interrupted evaluation
            continues these runs when it resumes).

    """

    format: int = FORMAT
    label: str = ""
    settings: EvalSettings
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    tasks: list[str] = Field(default_factory=list)
    records: list[TaskRecord] = Field(default_factory=list)
    running: dict[str, str] = Field(default_factory=dict)

    def record(self, task_id: str) -> TaskRecord | None:
        """The record of ``task_id``, if it finished."""
        return next((r for r in self.records if r.id == task_id), None)

    @property
    def pending(self) -> list[str]:
        """Selected task ids without a record yet, in order."""
        done = {r.id for r in self.records}
        return [t for t in self.tasks if t not in done]

    @property
    def cost_usd(self) -> float:
        """The cost of every finished task."""
        return sum(r.cost_usd for r in self.records)


def load_results(path: Path) -> EvalResults:
    """Read a results file.

    Raises:
        InputError: it is missing, not JSON, or not a results file (one sentence, with the fix).

    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        results = EvalResults.model_validate(data)
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist: give the results file `multicoder eval` "
                         f"wrote (--output)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not readable JSON ({exc}): give a results file "
                         f"written by `multicoder eval`") from exc
    except ValidationError as exc:
        raise InputError(f"{path} is not a `multicoder eval` results file "
                         f"({exc.error_count()} problems, first: {exc.errors()[0]['msg']})"
                         ) from exc
    if results.format > FORMAT:
        raise InputError(f"{path} was written by a newer MultiCoder (format {results.format}):"
                         f" update MultiCoder to read it")
    return results


def save_results(results: EvalResults, path: Path) -> None:
    """Write ``results`` to ``path`` atomically (a temporary file, then a rename)."""
    atomic_write(path, (results.model_dump_json(indent=2) + "\n").encode("utf-8"))
