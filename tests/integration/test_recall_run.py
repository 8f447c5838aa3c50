"""A run whose task resembles an earlier one shows, in its prompts, the recalled lesson and where
it came from (issue 4, done-when).

Run 1: a person rejects the first plan with a reason, approves the second; the run finishes and
semantic memory learns from it (the real :mod:`memory.recall`, offline lexical embeddings).
Run 2, a similar task: the scripted model receives spec and plan prompts that hold the lesson,
the person's words verbatim, and the run it came from.
"""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage

from tests.integration.test_long_conversation import (
    GREEN,
    call,
    run_to_the_end,
    scripted_engine,
)
from tests.support.judge import judge_reply

SPEC = {"title": "CSV to Excel", "summary": "Converts CSV files to Excel workbooks",
        "features": ["convert a CSV file to an .xlsx workbook", "one sheet per CSV file"],
        "user_interface": "csv2xlsx INPUT.csv... -o OUT.xlsx", "data": "CSV in, XLSX out",
        "error_handling": ["missing file: a clear message, exit 2"],
        "acceptance_criteria": ["csv2xlsx a.csv -o a.xlsx writes a workbook"]}
PLAN = {"summary": "convert with pandas", "app": {"name": "csv2xlsx", "entry": "csv2xlsx/main.py",
                                                  "smoke_args": []},
        "steps": [{"id": "s1", "tool": "write_file", "params": {"path": "csv2xlsx/main.py"},
                   "description": "read the CSV with pandas and write the workbook"},
                  {"id": "s2", "tool": "run_tests", "params": {}, "description": "tests"}]}
REASON = ("Do not use pandas for this: it makes the executable huge. Use the csv module and"
          " openpyxl instead.")
TASK_1 = "a command-line tool that converts CSV files to Excel workbooks"
TASK_2 = "a command-line tool that converts my CSV files into Excel workbooks, one sheet per file"


def csv_tool(key: str, messages) -> AIMessage:
    node = key.split("/")[0]
    if node == "safety_gate":
        return AIMessage(GREEN)
    if node == "spec_expander":
        return AIMessage(json.dumps(SPEC))
    if node == "planner":
        revised = key != "planner/0"
        return AIMessage(json.dumps(PLAN | {"summary": "convert with csv and openpyxl"}
                                    if revised else PLAN))
    if node == "spec_judge":
        return judge_reply(SPEC)
    if key == "coder/0/0":
        return call(0, "write_file", path="csv2xlsx/main.py", content="print('converted')\n")
    return AIMessage("Done.")


def test_a_similar_task_is_shown_the_earlier_runs_lesson_with_its_source(tmp_path, monkeypatch):
    engine, model = scripted_engine(tmp_path, monkeypatch, csv_tool)
    first, last = run_to_the_end(engine, TASK_1, [
        {"action": "approve"}, {"action": "reject", "feedback": REASON}, {"action": "approve"}])
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    record = engine.services(first).record
    learned = [e["count"] for e in record.iter_events() if e["type"] == "learned"]
    assert learned and learned[0] > 0
    asked_before = len(model.prompts)
    assert not any("Recalled from earlier runs" in m.text
                   for _, messages, _ in model.prompts for m in messages)  # memory was empty

    second, last = run_to_the_end(engine, TASK_2)
    assert last.kind == "finished" and last.data["status"] == "done", last.data
    prompts = {key: messages[-1].text for key, messages, _ in model.prompts[asked_before:]}
    for key in ("spec_expander/0", "planner/0"):
        request = prompts[key]
        assert "# Recalled from earlier runs" in request, f"{key} recalled nothing:\n{request}"
        section = request[request.index("# Recalled from earlier runs"):]
        assert REASON in section, f"{key} lacks the person's reason:\n{section}"
        assert f"from run {first}" in section, f"{key} does not say where it came from"
        assert "a rejected plan" in section
    # only the earlier run is recalled, never the run's own items
    record = engine.services(second).record
    recalled = [e for e in record.iter_events() if e["type"] == "recalled"]
    assert {e["node"] for e in recalled} >= {"spec_expander", "planner"}
    items = [item for e in recalled for item in e["items"]]
    assert any(item["collection"] == "lessons" and item["run_id"] == first for item in items)
    assert all(item["run_id"] != second for item in items)
    assert REASON in record.chat_md.read_text(encoding="utf-8")  # archived as it was sent
