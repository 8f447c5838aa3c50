"""Build the replay cassettes in datasets/cassettes/ from their outlines and source trees.

Each task folder ``datasets/cassettes/<task>/`` holds ``outline.toml`` (the safety verdict, the
spec, the plan, the coder's turns, the round-0 bug, the repair messages and the spec judge's
answers) and, for tasks that get built, ``source/`` (the final, correct project). This script
checks that the two agree and writes ``datasets/cassettes/<task>.jsonl``: one
:class:`agents.cassette.Interaction` per line, in the order MultiCoder asks for them (see
datasets/README.md). The output is deterministic.

Usage::

    uv run python datasets/cassettes/build_cassettes.py            # rebuild every cassette
    uv run python datasets/cassettes/build_cassettes.py --check    # exit 1 if one is stale
    uv run python datasets/cassettes/build_cassettes.py notes-sqlite
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.cassette import Interaction, ResponseRecord, ToolCallRecord
from agents.schemas import CriterionVerdict, Judgement, JudgeVerdict, Plan, SafetyVerdict, Spec

CASSETTE_DIR = Path(__file__).resolve().parent
TASK_DIR = CASSETTE_DIR.parent / "tasks"
#: The evaluation set's tasks: ``<id>/task.md`` (read when ``tasks/<id>.md`` does not exist).
EVAL_TASK_DIR = CASSETTE_DIR.parent / "eval" / "tasks"

#: The Action API's action names: the only tools a plan step or a coder call may use.
ACTIONS = ("read_file", "write_file", "edit_file", "list_dir", "search_text", "run_command",
           "run_tests")
#: Folders that are tools' state, never part of a source tree.
TRANSIENT = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tmp",
                       ".venv", "build", "dist"})
MAX_FILES_PER_TURN = 3

# Rough sizes (characters) of what MultiCoder sends besides the task's own material, for
# plausible token counts: the system prompts with their JSON schemas, and a tool result.
SYSTEM_PROMPT_CHARS = {"safety_gate": 3_900, "spec_expander": 3_300, "planner": 5_600,
                       "coder": 2_400, "spec_judge": 3_400}
TOOL_RESULT_CHARS = 160
#: What the judge is shown at most of the project and the tester's report (characters), and
#: what its line numbers and the report add (a fraction of the source, and a constant).
JUDGE_DATA_CHARS = 60_000
JUDGE_NUMBERING = 0.15
JUDGE_REPORT_CHARS = 1_500
#: ``path:line`` or ``path:first-last`` in a judge's evidence.
CITATION = re.compile(
    r"(?P<file>[\w./-]*\w\.[A-Za-z0-9]{1,8}):(?P<first>\d+)(?:-(?P<last>\d+))?")


class OutlineError(ValueError):
    """An outline is inconsistent with itself or with its source tree."""


@dataclass
class Bug:
    """The realistic bug of round 0: ``correct_text`` in ``path`` written as ``buggy_text``."""

    path: str
    correct_text: str
    buggy_text: str
    expected_failures: list[str] = field(default_factory=list)


@dataclass
class Task:
    """One task's outline, validated, with its source tree (empty for a refused task)."""

    task_id: str
    model: str
    task_text: str
    safety: SafetyVerdict
    spec: Spec | None = None
    plan: Plan | None = None
    turns: list[tuple[str, list[str]]] = field(default_factory=list)
    summary: str = ""
    bug: Bug | None = None
    repair: dict[str, str] = field(default_factory=dict)
    judge: dict[int, Judgement] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def passing_round(self) -> int:
        """The round whose tester pass passes, the spec judge's turn: 1 after a bug, else 0."""
        return 0 if self.bug is None else 1

    def round0_files(self) -> dict[str, str]:
        """The tree round 0 writes: the source with the bug put in."""
        files = dict(self.files)
        if self.bug is not None:
            files[self.bug.path] = files[self.bug.path].replace(self.bug.correct_text,
                                                                self.bug.buggy_text)
        return files


def task_text_path(task_id: str) -> Path:
    """The request's file: ``tasks/<id>.md``, else the evaluation set's ``<id>/task.md``.

    Raises:
        OutlineError: neither exists.

    """
    for path in (TASK_DIR / f"{task_id}.md", EVAL_TASK_DIR / task_id / "task.md"):
        if path.is_file():
            return path
    raise OutlineError(f"{task_id}: no request: neither datasets/tasks/{task_id}.md nor"
                       f" datasets/eval/tasks/{task_id}/task.md exists")


def task_ids() -> list[str]:
    """Every task folder holding an outline, sorted."""
    return sorted(p.parent.name for p in CASSETTE_DIR.glob("*/outline.toml"))


def read_tree(source: Path) -> dict[str, str]:
    """The text files of ``source`` by relative POSIX path, sorted (transient folders skipped).

    Raises:
        OutlineError: a file is not UTF-8 or holds a carriage return (a ``write_file`` call
            could not reproduce it byte for byte).

    """
    files: dict[str, str] = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or set(relative.parts) & TRANSIENT:
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OutlineError(f"{path}: not UTF-8 text ({exc})") from None
        if "\r" in text:
            raise OutlineError(f"{path}: holds a carriage return; use LF line ends")
        files[relative.as_posix()] = text
    return files


def load_task(task_id: str) -> Task:
    """Read and check ``<task_id>/outline.toml`` and its ``source/`` tree.

    Raises:
        OutlineError: the outline is invalid or disagrees with the source tree.

    """
    folder = CASSETTE_DIR / task_id
    with (folder / "outline.toml").open("rb") as handle:
        outline: dict[str, Any] = tomllib.load(handle)
    if outline.get("task") != task_id:
        raise OutlineError(f"{task_id}: outline names task {outline.get('task')!r}")
    task_file = task_text_path(task_id)
    task = Task(task_id=task_id, model=str(outline.get("model") or f"replay:{task_id}"),
                task_text=task_file.read_text(encoding="utf-8"),
                safety=SafetyVerdict.model_validate(outline["safety"]))
    if "spec" not in outline:
        if task.safety.level != "red":
            raise OutlineError(f"{task_id}: only a refused task may stop at the safety gate")
        return task
    task.spec = Spec.model_validate(outline["spec"])
    task.plan = Plan.model_validate(outline["plan"])
    task.turns = [(str(turn["say"]), [str(f) for f in turn["files"]])
                  for turn in outline["coder"]["round0"]]
    task.summary = str(outline["coder"]["summary"])
    if ("bug" in outline) != ("repair" in outline):
        raise OutlineError(f"{task_id}: [bug] and [repair] go together (or neither: round 0"
                           " then passes as it is)")
    if "bug" in outline:
        task.bug = Bug(**outline["bug"])
        task.repair = {key: str(outline["repair"][key]) for key in ("read", "fix", "final")}
    task.files = read_tree(folder / "source")
    _check(task)
    task.judge = _judge_answers(task, outline.get("judge", []))
    return task


def _judge_answers(task: Task, entries: Any) -> dict[int, Judgement]:
    """The ``[[judge]]`` entries as judgements by round, checked against the spec and source.

    Each entry has ``round``, ``summary`` and ``[[judge.criteria]]`` (``criterion``,
    ``status``, ``evidence``), one per acceptance criterion of the spec, same texts, same
    order; an optional ``verdict`` must be the one the statuses give ("rework" iff one is
    unmet). There is one entry per tester pass that passes, so exactly one, for round 1 after
    a bug (round 0 without one), and it accepts (a rework would need another coder round).
    Every ``path:line`` (or ``path:first-last``) cited in the evidence must be a file of
    ``source/`` and lines it has.

    Raises:
        OutlineError: any of that does not hold.

    """
    assert task.spec is not None
    name = task.task_id
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise OutlineError(f"{name}: [[judge]] must be an array of tables")
    rounds = [entry.get("round") for entry in entries]
    if rounds != [task.passing_round]:
        raise OutlineError(f"{name}: needs exactly one [[judge]] entry, for round"
                           f" {task.passing_round} (the only tester pass that passes);"
                           f" found rounds {rounds}")
    answers: dict[int, Judgement] = {}
    for entry in entries:
        criteria = [CriterionVerdict.model_validate(c) for c in entry.get("criteria", [])]
        texts = [c.criterion for c in criteria]
        if texts != task.spec.acceptance_criteria:
            raise OutlineError(f"{name}: judge round {entry['round']}: the criteria must be the"
                               " spec's acceptance_criteria, same texts, same order")
        verdict: JudgeVerdict = "rework" if any(c.status == "unmet" for c in criteria) \
            else "accept"
        if entry.get("verdict", verdict) != verdict:
            raise OutlineError(f"{name}: judge round {entry['round']}: verdict"
                               f" {entry['verdict']!r} disagrees with the statuses ({verdict})")
        if verdict != "accept":
            raise OutlineError(f"{name}: judge round {entry['round']}: the last judgement must"
                               " accept (a rework would need another coder round)")
        for item in criteria:
            _check_citations(task, item.evidence)
        answers[int(entry["round"])] = Judgement(criteria=criteria, verdict=verdict,
                                                 summary=str(entry.get("summary", "")).strip())
    return answers


def _check_citations(task: Task, evidence: str) -> None:
    """Every ``path:line`` in ``evidence`` names a source file and lines it has."""
    for match in CITATION.finditer(evidence):
        path = match["file"]
        if path not in task.files:
            raise OutlineError(f"{task.task_id}: judge evidence cites {path}, not in source/")
        count = task.files[path].count("\n")
        first = int(match["first"])
        last = int(match["last"] or first)
        if not 1 <= first <= last <= count:
            raise OutlineError(f"{task.task_id}: judge evidence cites {match[0]}, but {path}"
                               f" has {count} lines")


def _check(task: Task) -> None:
    assert task.plan is not None
    name = task.task_id
    for step in task.plan.steps:
        if step.tool not in ACTIONS:
            raise OutlineError(f"{name}: step {step.id} uses unknown tool {step.tool!r}")
    if task.plan.steps[-1].tool != "run_tests":
        raise OutlineError(f"{name}: the plan must end with a run_tests step")
    planned = [str(s.params.get("path")) for s in task.plan.steps if s.tool == "write_file"]
    written = [path for _, paths in task.turns for path in paths]
    if planned != written:
        raise OutlineError(f"{name}: the coder's files differ from the plan's write_file steps:"
                           f" {planned} vs {written}")
    if sorted(written) != sorted(task.files):
        missing = sorted(set(task.files) - set(written))
        extra = sorted(set(written) - set(task.files))
        raise OutlineError(f"{name}: source/ and the coder's turns differ (not written:"
                           f" {missing}; not in source/: {extra})")
    for _, paths in task.turns:
        if not 1 <= len(paths) <= MAX_FILES_PER_TURN:
            raise OutlineError(f"{name}: a coder turn writes {len(paths)} files (1-3 allowed)")
    if task.plan.app.entry not in task.files:
        raise OutlineError(f"{name}: the entry {task.plan.app.entry} is not in source/")
    project = tomllib.loads(task.files["pyproject.toml"])["project"]
    if list(project.get("dependencies", [])) != task.plan.dependencies:
        raise OutlineError(f"{name}: pyproject.toml dependencies differ from the plan's")
    bug = task.bug
    if bug is None:
        return
    if bug.path not in task.files:
        raise OutlineError(f"{name}: the bug's file {bug.path} is not in source/")
    if bug.correct_text == bug.buggy_text:
        raise OutlineError(f"{name}: the bug changes nothing")
    if task.files[bug.path].count(bug.correct_text) != 1:
        raise OutlineError(f"{name}: correct_text must occur exactly once in {bug.path}")
    if task.round0_files()[bug.path].count(bug.buggy_text) != 1:
        raise OutlineError(f"{name}: buggy_text must occur exactly once in round 0's {bug.path}")
    for test in bug.expected_failures:
        test_file, _, test_name = test.partition("::")
        if test_name.split("[")[0] not in task.files.get(test_file, ""):
            raise OutlineError(f"{name}: expected failure {test} is not in source/")


def _json(model: Spec | Plan | SafetyVerdict | Judgement) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2)


class _Builder:
    """Accumulates the interactions of one cassette, numbering tool calls and tokens."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.items: list[Interaction] = []
        self.calls = 0
        self.context = 0  # characters of the coder's conversation so far

    def add(self, key: str, role: str, content: str, calls: Sequence[tuple[str, dict[str, Any]]]
            = (), *, prompt_chars: int) -> None:
        records = []
        for name, args in calls:
            self.calls += 1
            records.append(ToolCallRecord(id=f"call_{self.calls:04d}", name=name, args=args))
        produced = len(content) + sum(len(json.dumps(c.args, ensure_ascii=False))
                                      for c in records)
        self.items.append(Interaction(
            key=key, role=role, model=self.task.model,
            response=ResponseRecord(content=content, tool_calls=records),
            usage={"input_tokens": max(prompt_chars // 4, 1),
                   "output_tokens": max(produced // 4, 1)}))
        self.context += produced

    def coder_turn(self, key: str, content: str,
                   calls: Sequence[tuple[str, dict[str, Any]]] = (),
                   result_chars: int = 0) -> None:
        self.add(key, "coder", content, calls, prompt_chars=self.context)
        self.context += result_chars + TOOL_RESULT_CHARS * len(calls)


def build(task: Task) -> list[Interaction]:
    """The interactions of ``task``'s cassette, in call order."""
    builder = _Builder(task)
    task_chars = len(task.task_text)
    builder.add("safety_gate/0", "judge", _json(task.safety),
                prompt_chars=SYSTEM_PROMPT_CHARS["safety_gate"] + task_chars)
    if task.spec is None or task.plan is None:
        return builder.items
    spec_json, plan_json = _json(task.spec), _json(task.plan)
    builder.add("spec_expander/0", "planner", spec_json,
                prompt_chars=SYSTEM_PROMPT_CHARS["spec_expander"] + task_chars)
    builder.add("planner/0", "planner", plan_json,
                prompt_chars=SYSTEM_PROMPT_CHARS["planner"] + len(spec_json))

    builder.context = SYSTEM_PROMPT_CHARS["coder"] + len(spec_json) + len(plan_json)
    round0 = task.round0_files()
    turn = 0
    for say, paths in task.turns:
        builder.coder_turn(f"coder/0/{turn}", say,
                           [("write_file", {"path": p, "content": round0[p]}) for p in paths])
        turn += 1
    builder.coder_turn(f"coder/0/{turn}", task.summary)

    bug = task.bug
    if bug is not None:
        builder.context += 1_200  # the tester's findings and the list of files
        builder.coder_turn("coder/1/0", task.repair["read"],
                           [("read_file", {"path": bug.path})],
                           result_chars=len(round0[bug.path]))
        builder.coder_turn("coder/1/1", task.repair["fix"], [("edit_file", {
            "path": bug.path, "old_text": bug.buggy_text, "new_text": bug.correct_text})])
        builder.coder_turn("coder/1/2", task.repair["final"])

    # the judge is shown the spec, the numbered project (cut to what fits) and the report
    shown = min(JUDGE_DATA_CHARS, int(sum(map(len, task.files.values())) * (1 + JUDGE_NUMBERING))
                + JUDGE_REPORT_CHARS)
    for round_, judgement in sorted(task.judge.items()):
        builder.add(f"spec_judge/{round_}", "judge", _json(judgement),
                    prompt_chars=SYSTEM_PROMPT_CHARS["spec_judge"] + len(spec_json) + shown)
    return builder.items


def render(items: Sequence[Interaction]) -> str:
    """The cassette file's text: one JSON object per line."""
    return "".join(item.model_dump_json(exclude_none=True) + "\n" for item in items)


def cassette_path(task_id: str, out_dir: Path = CASSETTE_DIR) -> Path:
    """Where the cassette of ``task_id`` is written."""
    return out_dir / f"{task_id}.jsonl"


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or with --check, verify) the cassettes; returns the exit code."""
    parser = argparse.ArgumentParser(
        description="Build the replay cassettes datasets/cassettes/<task>.jsonl from"
                    " <task>/outline.toml and <task>/source/.")
    parser.add_argument("tasks", nargs="*", metavar="TASK",
                        help=f"task ids (default: all of {', '.join(task_ids())})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a cassette is missing or out of date")
    parser.add_argument("--out-dir", type=Path, default=CASSETTE_DIR,
                        help="where to write the .jsonl files (default: datasets/cassettes)")
    args = parser.parse_args(argv)
    known = task_ids()
    unknown = sorted(set(args.tasks) - set(known))
    if unknown:
        parser.error(f"unknown task(s): {', '.join(unknown)} (known: {', '.join(known)})")
    stale = []
    for task_id in args.tasks or known:
        try:
            text = render(build(load_task(task_id)))
        except (OutlineError, KeyError, TypeError, OSError, ValueError) as exc:
            print(f"build_cassettes: {task_id}: {exc}", file=sys.stderr)
            return 2
        target = cassette_path(task_id, args.out_dir)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        lines = text.count("\n")
        if args.check:
            if current != text:
                stale.append(task_id)
                print(f"{target}: out of date", file=sys.stderr)
            else:
                print(f"{target}: up to date ({lines} interactions)")
        elif current != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
            print(f"{target}: written ({lines} interactions)")
        else:
            print(f"{target}: unchanged ({lines} interactions)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
