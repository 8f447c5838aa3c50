"""The judge-agreement benchmark (issue 6, G7): benchmarks/judge_agreement.py.

The script runs the real spec_judge node on the reference solutions and broken variants of the
evaluation set. These tests check that the scripted judge answers it ships are well-formed and
grounded in the code they judge, that the matrix it prints is what those answers imply
(computed here independently from the JSONL), that a real model is reached through the user's
settings and its answers recorded, and that bad input is one line and exit code 2.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

from agents.cassette import Cassette, Interaction, ResponseRecord
from agents.schemas import Judgement
from graph.evalset import EVAL_ROOT, EvalTask, load_task, materialise
from tests.conftest import PLANTED_KEY, ROOT, isolated_env
from tests.support.openai_server import CassetteServer

SCRIPT = ROOT / "benchmarks" / "judge_agreement.py"
SCRIPTED = ROOT / "datasets" / "eval" / "judge-agreement.jsonl"
LOCATION = re.compile(r"(?P<path>[\w./-]+\.(?:py|toml)):(?P<first>\d+)(?:-(?P<last>\d+))?")


def run_script(*args: str, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          check=False)


def task_named(task_id: str) -> EvalTask:
    """One task of the set (read alone: other tasks may be half-written meanwhile)."""
    return load_task(EVAL_ROOT / "tasks" / task_id)


def scripted() -> dict[tuple[str, str], Judgement]:
    """The scripted answers by (task, solution), parsed from the JSONL file."""
    answers = {}
    for key in (cassette := Cassette.load(SCRIPTED)).order:
        prefix, task, solution = key.split("/")
        assert prefix == "judge-agreement", key
        item = cassette.get(key)
        assert item.role == "judge"
        answers[(task, solution)] = Judgement.model_validate_json(item.response.content)
    return answers


def test_the_scripted_answers_cover_a_dozen_tasks_and_cite_real_lines_of_each_solution(
        tmp_path):
    answers = scripted()
    tasks = {task for task, _ in answers}
    assert len(tasks) >= 12
    assert len({task_named(task).kind for task in tasks}) >= 6
    for task_id in tasks:
        task = task_named(task_id)
        solutions = ["reference", *(v.name for v in task.variants)]
        assert [s for t, s in answers if t == task_id] == solutions, task_id
        for solution in solutions:
            judgement = answers[(task_id, solution)]
            # one verdict per criterion, in the task's order and words
            assert [c.criterion for c in judgement.criteria] == task.criteria
            if solution == "reference":  # a reference is never called unmet
                assert all(c.status != "unmet" for c in judgement.criteria), task_id
            folder = materialise(task, None if solution == "reference" else solution,
                                 tmp_path / task_id / solution)
            for verdict in judgement.criteria:
                cited = list(LOCATION.finditer(verdict.evidence))
                assert cited, (task_id, solution, verdict.evidence)
                for match in cited:  # a stale line number after a change to the task fails
                    lines = (folder / match["path"]).read_text(encoding="utf-8").splitlines()
                    last = int(match["last"] or match["first"])
                    assert 1 <= int(match["first"]) <= last <= len(lines), (
                        task_id, solution, match.group(0))


def test_the_printed_matrix_is_what_the_scripted_answers_imply_and_each_pair_ran_the_node(
        tmp_path):
    answers = scripted()
    expected: dict[tuple[str, str], tuple[str, str, Counter[str]]] = {}
    for (task, solution), judgement in answers.items():
        statuses = Counter(c.status for c in judgement.criteria)
        verdict = "rework" if statuses["unmet"] else "accept"
        expected[(task, solution)] = ("pass" if solution == "reference" else "fail", verdict,
                                      statuses)
    a = sum(e == "pass" and v == "accept" for e, v, _ in expected.values())
    b = sum(e == "pass" and v == "rework" for e, v, _ in expected.values())
    c = sum(e == "fail" and v == "accept" for e, v, _ in expected.values())
    d = sum(e == "fail" and v == "rework" for e, v, _ in expected.values())

    keep = tmp_path / "runs"
    done = run_script("--json", str(tmp_path / "figures.json"), "--keep", str(keep))
    assert done.returncode == 0, done.stderr
    out = done.stdout

    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 6 and (parts[0], parts[1]) in expected:
            rows[(parts[0], parts[1])] = parts[2:6]
    assert set(rows) == set(expected)  # one line per scripted answer
    for pair, (label, verdict, statuses) in expected.items():
        counts = f"{statuses['met']}/{statuses['unmet']}/{statuses['unclear']}"
        mark = "✓" if (verdict == "accept") == (label == "pass") else "✗"
        assert rows[pair] == [label, verdict, counts, mark], pair

    matrix = re.search(r"reference \(pass\)\s+(\d+)\s+(\d+)\n\s+broken \(fail\)\s+(\d+)\s+(\d+)",
                       out)
    assert matrix is not None, out
    assert tuple(int(n) for n in matrix.groups()) == (a, b, c, d)
    n = a + b + c + d
    assert f"agreement            {a + d}/{n} = {100 * (a + d) / n:.1f}%" in out
    assert f"broken caught        {d}/{c + d} = {100 * d / (c + d):.1f}%" in out
    assert f"references accepted  {a}/{a + b} = {100 * a / (a + b):.1f}%" in out
    disagreements = [p for p, (e, v, _) in expected.items() if (v == "accept") != (e == "pass")]
    assert f"disagreements: {len(disagreements) or 'none'}" in out
    for task, solution in disagreements:  # listed with the judge's evidence
        assert f"- {task}/{solution}: hidden tests " in out
        assert any(c.evidence in out for c in answers[(task, solution)].criteria)

    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert figures["matrix"] == {"reference_accept": a, "reference_rework": b,
                                 "broken_accept": c, "broken_rework": d}
    assert figures["pairs"] == n and figures["errors"] == 0

    # every pair went through the real node: its run folder has the judge's prompt with the
    # solution's numbered code, and the decision the node wrote
    for (task, solution), (_, verdict, _) in expected.items():
        run = keep / f"{task}--{solution}"
        decided = json.loads((run / "judgement.json").read_text(encoding="utf-8"))
        assert decided["verdict"] == verdict and decided["round"] == 0
        chat = (run / "chat.md").read_text(encoding="utf-8")
        entry = task_named(task).entry
        assert f"--- {entry} (" in chat and "   1 | " in chat, (task, solution)
        assert "(no tester report: the checks did not run)" in chat


def test_a_real_model_is_asked_through_the_settings_and_its_answers_recorded(tmp_path):
    task = task_named("wordfreq-cli")
    answer = {"criteria": [{"criterion": text, "status": "met",
                            "evidence": "wordfreq/main.py:29 sorts by count, then word"}
                           for text in task.criteria],
              "verdict": "accept", "summary": "Every criterion is met."}
    cassette = Cassette([Interaction(key="spec_judge/0", role="judge",
                                     response=ResponseRecord(content=json.dumps(answer)))])
    with CassetteServer(cassette, api_key=PLANTED_KEY) as server:
        (tmp_path / "settings.toml").write_text(
            f'[providers.local]\nbase_url = "{server.base_url}"\n'
            'api_key_env = "LOCAL_JUDGE_KEY"\nmax_retries = 0\n', encoding="utf-8")
        env = isolated_env(tmp_path) | {"LOCAL_JUDGE_KEY": PLANTED_KEY}
        record = tmp_path / "recorded.jsonl"
        done = run_script("--model", "local:judge-test", "--tasks", "wordfreq-cli",
                          "--record", str(record), env=env)
        chats = [r for r in server.requests if r.path.endswith("/chat/completions")]
    assert done.returncode == 0, done.stderr
    # the same all-met answer for the reference and both broken variants: 1 of 3 agree
    assert re.search(r"reference \(pass\)\s+1\s+0\n\s+broken \(fail\)\s+2\s+0", done.stdout)
    assert "agreement            1/3 = 33.3%" in done.stdout
    assert len(chats) == 3
    assert all(r.headers.get("x-multicoder-call") == "spec_judge/0" for r in chats)
    lines = [Interaction.model_validate_json(line)
             for line in record.read_text(encoding="utf-8").splitlines()]
    assert [item.key for item in lines] == [
        "judge-agreement/wordfreq-cli/reference", "judge-agreement/wordfreq-cli/case-and-ties",
        "judge-agreement/wordfreq-cli/ascii-top-crash"]
    assert {item.model for item in lines} == {"local:judge-test"}
    assert all(Judgement.model_validate_json(i.response.content).verdict == "accept"
               for i in lines)
    assert all(item.request is None for item in lines)  # the prompt (the code) is not kept
    assert PLANTED_KEY not in record.read_text(encoding="utf-8") + done.stdout + done.stderr


def test_bad_input_is_one_line_on_stderr_and_exit_code_2(tmp_path):
    env = isolated_env(tmp_path)
    env.pop("OPENAI_API_KEY")
    for args, words in [
        (["--tasks", "no-such-task"], "--tasks 'no-such-task' matches no task"),
        (["--top", "3"], "unrecognized arguments: --top 3"),
        (["--record", str(tmp_path / "r.jsonl")], "--record needs --model"),
        (["--model", "openai:gpt-4.1-mini", "--tasks", "wordfreq-cli"],
         "no API key for provider 'openai': set OPENAI_API_KEY"),
    ]:
        done = run_script(*args, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
