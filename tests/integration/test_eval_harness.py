"""The evaluation harness (issue 6): runs, records, resumes, budgets, clear errors.

The engine drives the real graph with a scripted model whose coder writes the wordfreq-cli
reference solution (or its broken variant); checks and packaging are faked, and the hidden
tests run as a plain subprocess of this interpreter instead of in the run's sandbox (the
sandboxed path is exercised end to end by tests/e2e/test_eval.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

import graph.evaluation as evaluation
from graph.errors import InputError
from graph.eval_results import load_results
from graph.evalset import load_task, local_runner, materialise, run_acceptance, select
from graph.evaluation import EvalOptions, Evaluation, auto_decision, parse_models
from tests.conftest import isolated_env, run_cli
from tests.integration.test_long_conversation import GREEN, call, scripted_engine

TASK = load_task(Path(__file__).resolve().parents[2] / "datasets/eval/tasks/wordfreq-cli")
SPEC = {"title": "wordfreq", "summary": "most common words", "features": ["counts"],
        "user_interface": "wordfreq FILE [--top N]", "data": "a text file",
        "error_handling": ["missing file: exit 1"], "acceptance_criteria": TASK.criteria}
PLAN = {"summary": "one module", "app": {"name": "wordfreq", "entry": "wordfreq/main.py",
                                         "smoke_args": []},
        "steps": [{"id": "s1", "tool": "write_file", "params": {"path": "wordfreq/main.py"},
                   "description": "the program"},
                  {"id": "s2", "tool": "run_tests", "params": {}, "description": "tests"}]}
RED = json.dumps({"level": "red", "recommendation": "reject", "categories": ["malware"],
                  "reasons": ["a keylogger"]})


def judgement(criteria):
    return json.dumps({"criteria": [{"criterion": c, "status": "met",
                                     "evidence": "wordfreq/main.py:1"} for c in criteria],
                       "verdict": "accept", "summary": "every criterion is met"})


def coder_script(variant=None, level=GREEN, verdict=None):
    """A model that builds wordfreq-cli from the reference (or a broken variant of it).

    ``verdict``: the judge's answer (default: every criterion met).
    """
    def script(key, messages):
        node = key.split("/")[0]
        if node == "safety_gate":
            return AIMessage(level)
        if node == "spec_expander":
            return AIMessage(json.dumps(SPEC))
        if node == "planner":
            return AIMessage(json.dumps(PLAN))
        if node == "spec_judge":
            return AIMessage(verdict or judgement(TASK.criteria))
        if key.endswith("/0") and node == "coder":
            source = materialise(TASK, variant, Path(script.tmp) / f"src-{len(script.calls)}")
            script.calls.append(key)
            return call(0, "write_file", path="wordfreq/main.py",
                        content=(source / "wordfreq/main.py").read_text())
        return AIMessage("Written wordfreq/main.py.")

    script.calls = []
    return script


@pytest.fixture
def local_hidden_tests(monkeypatch):
    """Hidden tests as a plain subprocess of this interpreter (the code is ours)."""
    def run(engine, run_id, task, entry):
        workspace = Path(engine.get_run(run_id).run_dir) / "workspace"
        return run_acceptance(task, workspace, entry, local_runner(workspace))

    monkeypatch.setattr(evaluation, "hidden_tests", run)


def make(tmp_path, monkeypatch, variant=None, level=GREEN, verdict=None):
    script = coder_script(variant, level, verdict)
    script.tmp = tmp_path
    engine, _model = scripted_engine(tmp_path, monkeypatch, script)
    return engine, script


def test_a_correct_build_passes_every_hidden_test(tmp_path, monkeypatch, local_hidden_tests):
    engine, _ = make(tmp_path, monkeypatch)
    updates = []
    out = tmp_path / "results.json"
    results = Evaluation(engine, [TASK], EvalOptions(selection="wordfreq-cli", output=out),
                         updates.append).run()
    record = results.record("wordfreq-cli")
    assert record.outcome == "passed", record
    assert (record.tests_passed, record.tests_failed) == (5, 0)
    assert record.judge.verdict == "accept" and record.judge.met == len(TASK.criteria)
    assert record.repair_rounds == 0 and record.run_status == "done"
    assert record.wall_s > 0  # tokens: the scripted model reports none (see tests/e2e/test_eval.py)
    assert engine.get_run(record.run_id).status == "done"
    # what a person reads: the file on disk, and progress while it ran
    saved = load_results(out)
    assert saved.finished_at is not None and saved.record("wordfreq-cli").outcome == "passed"
    kinds = [u.kind for u in updates]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert "hidden tests" in {u.stage for u in updates}
    assert {"coder", "paranoid_tester"} <= {u.stage for u in updates}


def test_a_broken_build_fails_with_the_failing_tests_named(tmp_path, monkeypatch,
                                                           local_hidden_tests):
    engine, _ = make(tmp_path, monkeypatch, variant="case-and-ties")
    out = tmp_path / "results.json"
    record = Evaluation(engine, [TASK], EvalOptions(selection="x", output=out)).run(
        ).record("wordfreq-cli")
    assert record.outcome == "failed" and record.failure == "acceptance"
    assert "test_wordfreq.py::test_case_punctuation_and_apostrophes" in record.failed_tests
    assert 0 < record.tests_failed < 5
    assert "hidden tests failed" in record.error


def test_a_judge_that_keeps_calling_a_criterion_unmet_is_a_judge_failure_with_its_reason(
        tmp_path, monkeypatch, local_hidden_tests):
    first, *rest = TASK.criteria
    strict = json.dumps({"criteria": [
        {"criterion": first, "status": "unmet", "evidence": "wordfreq/main.py:3 no such check"},
        *({"criterion": c, "status": "met", "evidence": "wordfreq/main.py:1"} for c in rest)],
        "verdict": "rework", "summary": "one criterion is not met"})
    engine, _ = make(tmp_path, monkeypatch, verdict=strict)
    record = Evaluation(engine, [TASK], EvalOptions(selection="x", output=tmp_path / "r.json")
                        ).run().record("wordfreq-cli")
    # the same unmet criterion after a repair is a loop; an evaluation answers "stop"
    assert record.outcome == "failed" and record.failure == "judge", record
    assert record.judge.verdict == "rework" and record.judge.unmet == 1
    assert record.judge.unmet_criteria == [f"{first} — wordfreq/main.py:3 no such check"]
    # the reference was built, so the judge was too strict; still, nothing was delivered
    assert (record.tests_passed, record.tests_failed) == (5, 0)
    assert record.run_status == "stopped" and "every hidden test passed" in record.error
    saved = load_results(tmp_path / "r.json").record("wordfreq-cli")
    assert saved.judge.unmet_criteria == record.judge.unmet_criteria


def test_a_refused_request_is_recorded_as_refused(tmp_path, monkeypatch, local_hidden_tests):
    engine, script = make(tmp_path, monkeypatch, level=RED)
    record = Evaluation(engine, [TASK], EvalOptions(selection="x", output=tmp_path / "r.json")
                        ).run().record("wordfreq-cli")
    assert (record.outcome, record.failure) == ("failed", "refused")
    assert record.tests_passed == 0 and record.tests_failed == 5
    assert script.calls == []  # the coder never ran


def test_an_interrupted_evaluation_resumes_the_run_it_left(tmp_path, monkeypatch,
                                                           local_hidden_tests):
    engine, _script = make(tmp_path, monkeypatch)
    out = tmp_path / "results.json"
    first = Evaluation(engine, [TASK], EvalOptions(selection="x", output=out))
    # the run was started, then the process stopped before it finished
    run_id = engine.start(TASK.text)
    first.results.running["wordfreq-cli"] = run_id
    first._save()
    resumed = Evaluation(engine, [TASK], EvalOptions(selection="x", output=out)).run()
    assert resumed.record("wordfreq-cli").run_id == run_id
    assert [r.run_id for r in engine.list_runs()] == [run_id]
    assert resumed.running == {} and resumed.record("wordfreq-cli").outcome == "passed"
    # run again: nothing left to do, no new run
    again = Evaluation(engine, [TASK], EvalOptions(selection="x", output=out)).run()
    assert len(engine.list_runs()) == 1 and again.record("wordfreq-cli").run_id == run_id


def test_a_spent_budget_skips_tasks_and_a_resume_runs_them(tmp_path, monkeypatch,
                                                          local_hidden_tests):
    engine, _ = make(tmp_path, monkeypatch)
    out = tmp_path / "results.json"
    skipped = Evaluation(engine, [TASK], EvalOptions(selection="x", output=out, budget_usd=0)
                         ).run().record("wordfreq-cli")
    assert (skipped.outcome, skipped.failure) == ("skipped", "budget")
    assert engine.list_runs() == []
    record = Evaluation(engine, [TASK], EvalOptions(selection="x", output=out)).run(
        ).record("wordfreq-cli")
    assert record.outcome == "passed"


def test_results_of_other_models_are_not_mixed(tmp_path, monkeypatch, local_hidden_tests):
    engine, _ = make(tmp_path, monkeypatch)
    out = tmp_path / "results.json"
    Evaluation(engine, [TASK], EvalOptions(selection="x", output=out, budget_usd=0)).run()
    with pytest.raises(InputError, match="other models"):
        Evaluation(engine, [TASK], EvalOptions(selection="x", output=out,
                                               models={"coder": ["openai:gpt-4.1"]}))


def test_model_options_and_automatic_answers():
    assert parse_models(["coder=a:b", "coder=c:d", "judge=e:f"]) == {
        "coder": ["a:b", "c:d"], "judge": ["e:f"]}
    assert parse_models(["replay"]) == {r: ["replay"] for r in ("planner", "coder", "judge")}
    for bad in (["coder"], ["painter=a:b"], ["replay", "coder=a:b"]):
        with pytest.raises(InputError):
            parse_models(bad)
    assert auto_decision({"kind": "confirm_start", "options": ["approve", "reject"]}
                         ) == {"action": "approve"}
    assert auto_decision({"kind": "confirm_start", "needs_person": True,
                          "options": ["approve", "reject"]})["action"] == "reject"
    assert auto_decision({"kind": "approve_fetch"})["action"] == "reject"
    assert auto_decision({"kind": "ask_human", "options": ["continue", "stop"]}
                         ) == {"action": "stop"}


def test_selections():
    tasks = [TASK]
    assert select(tasks, "all") == [TASK] == select(tasks, "kind:cli") == select(tasks, "word*")
    with pytest.raises(ValueError, match="matches no task"):
        select(tasks, "kind:game")


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    env = isolated_env(tmp_path)
    for args, message in ((["eval", "--tasks", "no-such-task"], "matches no task"),
                          (["eval"], "say which tasks"),
                          (["eval", "report", str(tmp_path / "none.json")], "does not exist"),
                          (["eval", "--tasks", "all", "--model", "painter=x:y"], "ROLE")):
        done = run_cli(args, env, timeout=120)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    (tmp_path / "bad.json").write_text("{not json")
    done = run_cli(["eval", "report", str(tmp_path / "bad.json")], env, timeout=120)
    assert done.returncode == 2 and "not readable JSON" in done.stderr
