"""The reference tasks and replay cassettes in datasets/ are complete and consistent.

The cassettes are replayed here the way the coder would carry them out: round 0's
``write_file`` calls into an empty folder, then (when the outline has a ``[bug]``) round 1's
``read_file`` and ``edit_file``. The result must be the shipped source tree, byte for byte,
and round 0 must differ from it only by the recorded bug (not at all without one).

Every cassette with a ``source/`` tree is checked by the same tests: the reference tasks'
(request in ``datasets/tasks/<id>.md``) and the evaluation set's (request in
``datasets/eval/tasks/<id>/task.md``).
"""

import importlib.util
import json
import shutil
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from agents.cassette import Cassette, Interaction
from agents.schemas import Judgement, Plan, SafetyVerdict, Spec
from agents.spec_judge import decide, evidence_location
from agents.structured import parse_answer

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"
TASKS = DATASETS / "tasks"
EVAL_TASKS = DATASETS / "eval" / "tasks"
CASSETTES = DATASETS / "cassettes"

ACTIONS = {"read_file", "write_file", "edit_file", "list_dir", "search_text", "run_command",
           "run_tests"}
REFERENCE_TASKS = ["csv2xlsx-gui", "notes-sqlite", "image-downloader", "http-client",
                   "pdf-viewer", "pomodoro-timer", "data-visualiser"]
#: The app contract of every cassette that builds a project (one with a source/ tree).
CONTRACTS = {
    "csv2xlsx-gui": {"name": "csv2xlsx", "entry": "csv2xlsx/main.py", "gui": True,
                     "smoke_args": ["samples/sample.csv", "-o", ".tmp/smoke.xlsx"]},
    "notes-sqlite": {"name": "notes", "entry": "notes/main.py", "gui": False,
                     "smoke_args": ["--db", ".tmp/smoke.db", "add", "Smoke test", "--body",
                                    "It works"]},
    "json2csv-ru": {"name": "json2csv", "entry": "json2csv/main.py", "gui": False,
                    "smoke_args": ["samples/orders.json", "-o", ".tmp/smoke.csv"]},
    "sqlite-contacts": {"name": "contacts", "entry": "contacts/main.py", "gui": False,
                        "smoke_args": ["--db", ".tmp/smoke.db", "add", "Smoke Test", "--phone",
                                       "555-0100"]},
    "text-stats-ru": {"name": "textstats", "entry": "textstats/main.py", "gui": False,
                      "smoke_args": ["samples/sample.txt"]},
    "http-status-checker": {"name": "statuscheck", "entry": "statuscheck/main.py", "gui": False,
                            "smoke_args": ["--version"]},
    "csv-report-ru": {"name": "csvstat", "entry": "csvstat/main.py", "gui": False,
                      "smoke_args": ["samples/sales.csv", "--delimiter", ";"]},
}
BUILT = list(CONTRACTS)
REFUSED = ["refused-keylogger"]
#: Every cassette: one per outline folder.
CASSETTE_TASKS = [*BUILT, *REFUSED]
TRANSIENT = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tmp", ".venv"}


def interactions(task: str) -> list[Interaction]:
    lines = (CASSETTES / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [Interaction.model_validate_json(line) for line in lines if line.strip()]


def by_key(task: str) -> dict[str, Interaction]:
    return {item.key: item for item in interactions(task)}


def read_outline(task: str) -> dict[str, Any]:
    return tomllib.loads((CASSETTES / task / "outline.toml").read_text(encoding="utf-8"))


def has_bug(task: str) -> bool:
    """Whether round 0 holds a bug that repair round 1 fixes (else round 0 is final)."""
    return "bug" in read_outline(task)


def judge_key(task: str) -> str:
    """The spec judge's call key: after the tester pass that passes (round 1 after a bug)."""
    return f"spec_judge/{1 if has_bug(task) else 0}"


def request_path(task: str) -> Path:
    """The request's file: datasets/tasks/<id>.md or datasets/eval/tasks/<id>/task.md."""
    found = [path for path in (TASKS / f"{task}.md", EVAL_TASKS / task / "task.md")
             if path.is_file()]
    assert len(found) == 1, f"{task}: expected exactly one request file, found {found}"
    return found[0]


BUGGY = [task for task in BUILT if has_bug(task)]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not set(p.relative_to(folder).parts) & TRANSIENT}


def workspace_path(workspace: Path, relative: str) -> Path:
    assert relative and not relative.startswith("/") and "\\" not in relative
    assert ".." not in Path(relative).parts
    return workspace / relative


def replay_round(items: list[Interaction], round_: int, workspace: Path) -> None:
    """Carry out one coder round's tool calls the way the Action API would."""
    for item in items:
        if not item.key.startswith(f"coder/{round_}/"):
            continue
        for call in item.response.tool_calls:
            path = workspace_path(workspace, call.args["path"])
            if call.name == "write_file":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(call.args["content"].encode("utf-8"))
            elif call.name == "read_file":
                assert path.is_file(), f"{item.key} reads a missing file {path}"
            elif call.name == "edit_file":
                text = path.read_text(encoding="utf-8")
                assert text.count(call.args["old_text"]) == 1, f"{item.key}: old_text not unique"
                path.write_bytes(text.replace(call.args["old_text"],
                                              call.args["new_text"]).encode("utf-8"))
            else:
                pytest.fail(f"{item.key}: unexpected tool call {call.name}")


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_cassettes",
                                                  CASSETTES / "build_cassettes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task", [*REFERENCE_TASKS, *REFUSED])
def test_task_spec_files_are_non_empty(task: str) -> None:
    text = (TASKS / f"{task}.md").read_text(encoding="utf-8")
    assert len(text.split()) >= 15, f"{task}.md is too short to be a task"


def test_tasks_folder_holds_exactly_the_reference_tasks() -> None:
    # The evaluation set's requests live in eval/tasks/<id>/task.md; a copy in tasks/ would
    # shadow it for the cassette builder.
    assert sorted(p.stem for p in TASKS.glob("*.md")) == sorted([*REFERENCE_TASKS, *REFUSED])


def test_every_cassette_is_covered_here() -> None:
    outlines = {p.parent.name for p in CASSETTES.glob("*/outline.toml")}
    assert outlines == {p.stem for p in CASSETTES.glob("*.jsonl")} == set(CASSETTE_TASKS)
    assert {p.parent.name for p in CASSETTES.glob("*/source")} == set(BUILT)
    # both kinds of run are exercised: with a repair round and without one
    assert {"csv2xlsx-gui", "notes-sqlite"} <= set(BUGGY) < set(BUILT)
    for task in CASSETTE_TASKS:
        assert request_path(task).read_text(encoding="utf-8").split(), task


def test_some_tasks_are_in_russian() -> None:
    russian = [t for t in REFERENCE_TASKS
               if any("а" <= ch <= "я" for ch in (TASKS / f"{t}.md").read_text("utf-8"))]
    assert "notes-sqlite" in russian
    assert len(russian) >= 2


def test_the_readme_explains_the_layout() -> None:
    readme = (DATASETS / "README.md").read_text(encoding="utf-8")
    for word in ("tasks/", "outline.toml", "source/", "build_cassettes.py", "coder/1/",
                 "spec_judge/1", "[[judge]]"):
        assert word in readme


@pytest.mark.parametrize("task", CASSETTE_TASKS)
def test_every_cassette_line_is_an_interaction(task: str) -> None:
    items = interactions(task)
    assert items
    assert len({item.key for item in items}) == len(items), "duplicate call keys"
    assert all(item.model == f"replay:{task}" for item in items)
    assert all(item.usage["input_tokens"] > 0 and item.usage["output_tokens"] > 0
               for item in items)
    assert len(Cassette.load(CASSETTES / f"{task}.jsonl")) == len(items)


@pytest.mark.parametrize("task", BUILT)
def test_call_keys_roles_and_order(task: str) -> None:
    items = interactions(task)
    keys = [item.key for item in items]
    round0 = [k for k in keys if k.startswith("coder/0/")]
    repair = ["coder/1/0", "coder/1/1", "coder/1/2"] if has_bug(task) else []
    assert keys == ["safety_gate/0", "spec_expander/0", "planner/0",
                    *[f"coder/0/{n}" for n in range(len(round0))], *repair, judge_key(task)]
    roles = {item.key: item.role for item in items}
    assert roles["safety_gate/0"] == roles[judge_key(task)] == "judge"
    assert roles["spec_expander/0"] == roles["planner/0"] == "planner"
    assert all(roles[k] == "coder" for k in keys if k.startswith("coder/"))

    found = by_key(task)
    for key in round0[:-1]:
        calls = found[key].response.tool_calls
        assert 1 <= len(calls) <= 3, key
        assert all(c.name == "write_file" and set(c.args) == {"path", "content"} for c in calls)
    last = found[round0[-1]].response
    assert not last.tool_calls and last.content.strip()
    if repair:
        assert [c.name for c in found["coder/1/0"].response.tool_calls] == ["read_file"]
        assert [c.name for c in found["coder/1/1"].response.tool_calls] == ["edit_file"]
        assert set(found["coder/1/1"].response.tool_calls[0].args) == {"path", "old_text",
                                                                       "new_text"}
        assert not found["coder/1/2"].response.tool_calls
        assert found["coder/1/2"].response.content.strip()

    ids = [c.id for item in items for c in item.response.tool_calls]
    assert len(ids) == len(set(ids))
    assert ids == [f"call_{n:04d}" for n in range(1, len(ids) + 1)]


@pytest.mark.parametrize("task", BUILT)
def test_structured_answers_parse(task: str) -> None:
    found = by_key(task)
    verdict = parse_answer(AIMessage(found["safety_gate/0"].response.content), SafetyVerdict)
    assert (verdict.level, verdict.recommendation) == ("green", "approve")
    assert verdict.reasons
    spec = parse_answer(AIMessage(found["spec_expander/0"].response.content), Spec)
    assert len(spec.features) >= 8
    assert len(spec.error_handling) >= 6
    assert len(spec.acceptance_criteria) >= 6
    assert spec.out_of_scope
    task_words = len(request_path(task).read_text(encoding="utf-8").split())
    assert len(spec.to_markdown().split()) > 5 * task_words, "the spec must exceed the request"
    plan = parse_answer(AIMessage(found["planner/0"].response.content), Plan)
    assert plan.app.model_dump(include={"name", "entry", "gui", "smoke_args"}) == \
        CONTRACTS[task]
    assert not found[judge_key(task)].response.tool_calls


@pytest.mark.parametrize("task", BUILT)
def test_the_judge_accepts_the_passing_round_citing_real_lines(task: str) -> None:
    found = by_key(task)
    spec = Spec.model_validate_json(found["spec_expander/0"].response.content)
    judgement = parse_answer(AIMessage(found[judge_key(task)].response.content), Judgement)
    # one verdict per acceptance criterion, in the spec's words and order, all met
    assert [c.criterion for c in judgement.criteria] == spec.acceptance_criteria
    assert {c.status for c in judgement.criteria} == {"met"}
    assert decide(spec, judgement) == judgement and judgement.verdict == "accept"
    assert judgement.summary.strip()
    source = CASSETTES / task / "source"
    for item in judgement.criteria:
        file, line = evidence_location(item.evidence, source)
        if file is None:  # evidence from the tester's report only
            assert "PASS" in item.evidence, item.evidence
            continue
        lines = (source / file).read_text(encoding="utf-8").splitlines()
        assert line is not None and 1 <= line <= len(lines), item.evidence


@pytest.mark.parametrize("task", BUILT)
def test_plan_steps_are_actions_one_write_per_file(task: str) -> None:
    plan = Plan.model_validate_json(by_key(task)["planner/0"].response.content)
    assert all(step.tool in ACTIONS for step in plan.steps)
    assert len({step.id for step in plan.steps}) == len(plan.steps)
    writes = [step for step in plan.steps if step.tool == "write_file"]
    assert all(set(step.params) == {"path"} for step in writes)
    assert plan.steps[-1].tool == "run_tests"
    assert [step.tool for step in plan.steps[:-1]] == ["write_file"] * (len(plan.steps) - 1)
    planned = sorted(step.params["path"] for step in writes)
    assert planned == sorted(tree(CASSETTES / task / "source"))
    project = tomllib.loads((CASSETTES / task / "source" / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["dependencies"] == plan.dependencies
    assert project["project"]["requires-python"] == ">=3.11"


@pytest.mark.parametrize("task", BUILT)
def test_replay_reproduces_the_source_tree(task: str, tmp_path: Path) -> None:
    items = interactions(task)
    replay_round(items, 0, tmp_path)
    round0 = tree(tmp_path)
    replay_round(items, 1, tmp_path)
    source = tree(CASSETTES / task / "source")
    assert tree(tmp_path) == source

    # Round 0 differs from the final tree only by the bug, in one file, in one place.
    different = sorted(path for path in source if round0.get(path) != source[path])
    assert sorted(round0) == sorted(source)
    if not has_bug(task):  # round 0 passed every check: it is the final tree
        assert different == []
        assert "repair" not in read_outline(task)
        return
    edit = by_key(task)["coder/1/1"].response.tool_calls[0].args
    assert different == [edit["path"]]
    final_text = source[edit["path"]].decode("utf-8")
    assert final_text.count(edit["new_text"]) == 1
    assert round0[edit["path"]].decode("utf-8") == final_text.replace(edit["new_text"],
                                                                      edit["old_text"])
    bug = read_outline(task)["bug"]
    assert (bug["path"], bug["buggy_text"], bug["correct_text"]) == (edit["path"],
                                                                     edit["old_text"],
                                                                     edit["new_text"])
    assert by_key(task)["coder/1/0"].response.tool_calls[0].args == {"path": edit["path"]}


@pytest.mark.parametrize("task", BUGGY)
def test_expected_failures_name_real_tests(task: str) -> None:
    failures = read_outline(task)["bug"]["expected_failures"]
    assert failures
    for test_id in failures:
        test_file, _, name = test_id.partition("::")
        text = (CASSETTES / task / "source" / test_file).read_text(encoding="utf-8")
        assert f"def {name.split('[')[0]}(" in text


def test_refused_keylogger_stops_at_the_safety_gate() -> None:
    items = interactions("refused-keylogger")
    assert [(item.key, item.role) for item in items] == [("safety_gate/0", "judge")]
    verdict = parse_answer(AIMessage(items[0].response.content), SafetyVerdict)
    assert (verdict.level, verdict.recommendation) == ("red", "reject")
    assert verdict.categories == ["keylogger", "credential theft", "evasion"]
    assert verdict.reasons
    assert json.loads(items[0].response.content)["level"] == "red"


def test_cassettes_are_up_to_date_with_outlines_and_sources(
        capsys: pytest.CaptureFixture[str]) -> None:
    builder = load_builder()
    assert builder.main(["--check"]) == 0, capsys.readouterr().err


def test_builder_output_is_deterministic(tmp_path: Path) -> None:
    builder = load_builder()
    first, second = tmp_path / "a", tmp_path / "b"
    assert builder.main(["--out-dir", str(first)]) == 0
    assert builder.main(["--out-dir", str(second)]) == 0
    assert tree(first) == tree(second) == {
        f"{task}.jsonl": (CASSETTES / f"{task}.jsonl").read_bytes()
        for task in builder.task_ids()}
    assert set(builder.task_ids()) == set(CASSETTE_TASKS)


@pytest.mark.parametrize(("change", "error"), [
    (lambda text: text.replace('status = "met"', 'status = "unmet"', 1),
     "the last judgement must accept"),
    (lambda text: text.replace("criterion = \"A file that exactly fills", "criterion = \"A file"
                               " that fills", 1), "the spec's acceptance_criteria"),
    (lambda text: text.replace("tests/test_sheets.py:42 writes", "tests/test_sheets.py:420"
                               " writes", 1), "tests/test_sheets.py:420, but"),
    (lambda text: text.replace("csv2xlsx/core.py:30 sets", "csv2xlsx/cores.py:30 sets", 1),
     "cites csv2xlsx/cores.py, not in source/"),
    (lambda text: text.replace("round = 1\nsummary", "round = 0\nsummary", 1),
     "for round 1 (the only tester pass that passes); found rounds [0]"),
])
def test_the_builder_refuses_judge_answers_that_disagree_with_the_spec_or_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        change: Callable[[str], str], error: str) -> None:
    builder = load_builder()
    folder = tmp_path / "csv2xlsx-gui"
    shutil.copytree(CASSETTES / "csv2xlsx-gui", folder)
    outline = folder / "outline.toml"
    text = outline.read_text(encoding="utf-8")
    assert change(text) != text
    outline.write_text(change(text), encoding="utf-8")
    monkeypatch.setattr(builder, "CASSETTE_DIR", tmp_path)
    assert builder.main(["--out-dir", str(tmp_path / "out")]) == 2
    assert error in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_outline_without_a_bug_is_judged_at_round_0(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder = load_builder()
    folder = tmp_path / "notes-sqlite"
    shutil.copytree(CASSETTES / "notes-sqlite", folder)
    outline = folder / "outline.toml"
    text = outline.read_text(encoding="utf-8")
    head, _, rest = text.partition("[bug]")
    judge = rest[rest.index("[[judge]]"):].replace("round = 1", "round = 0", 1)
    outline.write_text(head + judge, encoding="utf-8")
    monkeypatch.setattr(builder, "CASSETTE_DIR", tmp_path)
    assert builder.main(["--out-dir", str(tmp_path / "out")]) == 0
    lines = (tmp_path / "out" / "notes-sqlite.jsonl").read_text(encoding="utf-8").splitlines()
    items = [Interaction.model_validate_json(line) for line in lines]
    keys = [item.key for item in items]
    assert keys[-1] == "spec_judge/0" and not any(k.startswith("coder/1/") for k in keys)
    replay_round(items, 0, tmp_path / "ws")  # round 0 is the final tree
    assert tree(tmp_path / "ws") == tree(CASSETTES / "notes-sqlite" / "source")
