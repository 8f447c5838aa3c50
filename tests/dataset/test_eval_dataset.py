"""The evaluation set's own tests (issue 6): every reference solution passes its hidden
acceptance tests, every broken variant fails some, and together the broken variants fail every
acceptance test, so each test is shown to discriminate.

The solutions are the dataset's own code and run as plain subprocesses of this interpreter
(the dev environment has PySide6, pygame, matplotlib, openpyxl, pypdf and fpdf2).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from graph.evalset import KINDS, EvalTask, check_solution, load_tasks

TASKS = load_tasks()
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def test_the_set_has_fifty_tasks_of_every_kind_half_in_russian():
    assert len(TASKS) >= 50
    kinds = {task.kind for task in TASKS}
    assert kinds == set(KINDS), f"kinds without a task: {set(KINDS) - kinds}"
    assert all(sum(t.kind == kind for t in TASKS) >= 3 for kind in KINDS)
    russian = [t for t in TASKS if t.language == "ru"]
    assert len(russian) * 2 >= len(TASKS) - 1
    for task in TASKS:  # an English request may quote a Russian example, and vice versa
        letters = [c for c in task.text if c.isalpha()]
        cyrillic = len(CYRILLIC.findall(task.text)) / len(letters)
        assert (cyrillic > 0.25) == (task.language == "ru"), (task.id, cyrillic)


def test_requests_range_from_a_few_words_to_a_page():
    words = sorted(len(t.text.split()) for t in TASKS)
    assert words[0] <= 12, "no task is a few words long"
    assert words[-1] >= 250, "no task is a page long"


def test_every_task_has_a_broken_variant_and_a_contract():
    for task in TASKS:
        assert task.variants, f"{task.id} has no broken variant"
        assert task.contract.strip(), task.id


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_reference_passes_and_every_acceptance_test_discriminates(task: EvalTask, tmp_path):
    names = [None, *(v.name for v in task.variants)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(names, pool.map(lambda n: check_solution(task, n, tmp_path), names),
                           strict=True))
    reference = results.pop(None)
    assert reference.all_passed, (
        f"{task.id}: the reference fails {reference.failed} {reference.error}\n"
        f"{reference.output}")
    caught: set[str] = set()
    for name, result in results.items():
        assert result.failed and not result.error, (
            f"{task.id}: broken variant {name} passes every acceptance test "
            f"or did not run: {result.error}\n{result.output}")
        assert set(result.failed) <= set(reference.passed), (name, result.failed)
        caught |= set(result.failed)
    missed = set(reference.passed) - caught
    assert not missed, f"{task.id}: no broken variant fails {sorted(missed)}"
