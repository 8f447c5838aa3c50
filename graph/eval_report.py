"""The HTML report of an evaluation (``multicoder eval report RESULTS [--compare OTHER]``).

One self-contained page (no network: the CSS and a few lines of JavaScript are inline, the
plots are inline SVG made with matplotlib's Agg/SVG backend) rendered from
``memory/templates/eval_report.html.j2``. It opens offline, follows the reader's light or dark
colour scheme and prints cleanly.

Figures, as the page defines them:

- **tasks run**: records with the outcome passed, failed or error (skipped and pending tasks
  were not run);
- **pass rate**: tasks passed (the run finished and every hidden acceptance test passed) /
  tasks run;
- **judge agreement**: tasks where the judge's last verdict matches the hidden tests (accept
  and every test passed, or rework and some failed) / tasks that were passed or failed and
  have a verdict;
- with a **baseline** (``--compare``): *fixed* = not passed in the baseline, passed now;
  *regressed* = passed in the baseline, not passed now; deltas are "this run minus baseline".
"""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from markupsafe import Markup, escape

from graph.errors import InputError
from graph.eval_results import EvalResults, Failure, TaskRecord, load_results
from graph.evalset import KIND_NAMES, KINDS
from memory.records import atomic_write
from memory.redaction import Redactor
from memory.reports import TEMPLATES, human_seconds

if TYPE_CHECKING:
    from jinja2 import Environment
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FAILURE_NAMES", "Change", "Delta", "EvalSummary", "JudgeAgreement", "KindRate",
           "Plot", "TaskComparison", "compare_tasks", "headline_deltas", "render_report",
           "write_report"]

TEMPLATE = "eval_report.html.j2"

RUN_OUTCOMES = ("passed", "failed", "error")
"""Outcomes of tasks that were run (skipped tasks were not)."""

FAILURE_NAMES: dict[str, str] = {
    "refused": "the safety gate refused the request",
    "spec": "the spec expander gave no usable answer",
    "plan": "the planner gave no usable answer",
    "build": "repair rounds ran out with the tester still failing",
    "checks": "the tester never ran to completion (environment, sandbox)",
    "judge": "the judge still found unmet criteria when the rounds ran out",
    "packaging": "the executable could not be built or did not start",
    "acceptance": "the run finished, but hidden acceptance tests failed",
    "budget": "the run or the evaluation ran out of money",
    "timeout": "the task's wall-clock limit passed",
    "cancelled": "interrupted by the person",
    "error": "anything else (see the task's error)",
}
"""One line per failure category (:data:`graph.eval_results.Failure`), for the legend."""

FAILURE_ORDER: tuple[str, ...] = get_args(Failure)

Change = Literal["fixed", "regressed", "same", "new", "gone", "not compared"]
"""How a task moved against the baseline: fixed / regressed (see the module docstring); same
(both passed, or both not passed); new (only this run selected it); gone (only the baseline
did); not compared (selected by both, but skipped or pending in one)."""

_INK = "#010203"  # a placeholder colour for text and axes, turned into currentColor in the SVG
_CURRENT = "#2f63b0"  # this run
_BASELINE = "#9db4d6"  # the baseline (lighter: it is the reference, not the news)
_FAILED = "#c2553f"


# -- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeAgreement:
    """The judge's last verdict against the hidden acceptance tests (counts of tasks).

    ``passed`` / ``failed`` here are the hidden tests' (all passed, or some failed), not the
    task's outcome: a run the judge stopped can fail as a task while its tests all pass, and
    that is the judge being too strict. Only tasks that were passed or failed count;
    ``no_verdict``: such tasks where the judge never gave a verdict.
    """

    accept_passed: int = 0
    accept_failed: int = 0
    rework_passed: int = 0
    rework_failed: int = 0
    no_verdict: int = 0

    @property
    def judged(self) -> int:
        """Tasks with a verdict."""
        return self.accept_passed + self.accept_failed + self.rework_passed + self.rework_failed

    @property
    def agreed(self) -> int:
        """Tasks where verdict and tests agree (accept & passed, rework & failed)."""
        return self.accept_passed + self.rework_failed

    @property
    def rate(self) -> float | None:
        """``agreed / judged`` in [0, 1]; None without a verdict."""
        return self.agreed / self.judged if self.judged else None

    @classmethod
    def of(cls, records: Sequence[TaskRecord]) -> JudgeAgreement:
        """Count ``records`` (any outcome; only passed and failed ones are counted)."""
        counts = {"accept_passed": 0, "accept_failed": 0, "rework_passed": 0,
                  "rework_failed": 0, "no_verdict": 0}
        for record in records:
            if record.outcome not in ("passed", "failed"):
                continue
            verdict = record.judge.verdict
            counts[f"{verdict}_{_tests_outcome(record)}" if verdict else "no_verdict"] += 1
        return cls(**counts)


def _tests_outcome(record: TaskRecord) -> Literal["passed", "failed"]:
    """What the hidden tests said of ``record``: every one passed, or some failed."""
    return "passed" if record.tests_total and not record.tests_failed else "failed"


def judge_disagreements(records: Sequence[TaskRecord]) -> list[TaskRecord]:
    """The tasks where the judge's last verdict and the hidden tests disagree, in order.

    "Too lenient": accept, yet a hidden test failed; "too strict": rework, yet every hidden
    test passed. Only passed and failed tasks count, as in :class:`JudgeAgreement`.
    """
    wrong = {("accept", "failed"), ("rework", "passed")}
    return [r for r in records if r.outcome in ("passed", "failed")
            and (r.judge.verdict, _tests_outcome(r)) in wrong]


@dataclass(frozen=True)
class KindRate:
    """The pass rate of one kind of task.

    Attributes:
        kind: the task kind (``gui``, ``cli`` ...); ``name`` its words (``GUI tools``).
        run: tasks of this kind that were run; ``passed`` those that passed.

    """

    kind: str
    name: str
    run: int
    passed: int

    @property
    def rate(self) -> float:
        """``passed / run`` in [0, 1] (0 when none was run)."""
        return self.passed / self.run if self.run else 0.0


def _kind_order(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


@dataclass(frozen=True)
class EvalSummary:
    """The headline figures of one results file.

    Attributes:
        label: the run's name in the report.
        selected: tasks selected; ``finished`` tasks with a record.
        run / passed / failed / errors / skipped / pending: tasks by outcome (``run`` = passed
            + failed + errors; ``pending``: selected without a record yet).
        tests_passed / tests_total: hidden acceptance tests over every record.
        cost_usd: US dollars over every record.
        wall_s: wall-clock seconds of the tasks run (tuple: per task, in record order).
        costs: US dollars per task run.
        input_tokens / output_tokens: over every record.
        repair_rounds: per task run.
        judge: see :class:`JudgeAgreement`.
        by_kind: pass rate per kind with at least one task run (kinds in the dataset's order).
        failures: ``(category, tasks)`` for the categories that occur (in the order of
            :data:`graph.eval_results.Failure`).

    """

    label: str
    selected: int
    finished: int
    run: int
    passed: int
    failed: int
    errors: int
    skipped: int
    pending: int
    tests_passed: int
    tests_total: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    judge: JudgeAgreement
    wall_s: tuple[float, ...] = ()
    costs: tuple[float, ...] = ()
    repair_rounds: tuple[int, ...] = ()
    by_kind: tuple[KindRate, ...] = ()
    failures: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, results: EvalResults, label: str | None = None) -> EvalSummary:
        """Sum up ``results``; ``label`` overrides the file's own."""
        records = results.records
        ran = [r for r in records if r.outcome in RUN_OUTCOMES]
        kinds: dict[str, list[TaskRecord]] = {}
        for record in ran:
            kinds.setdefault(record.kind, []).append(record)
        failures: dict[str, int] = {}
        for record in ran:
            if record.outcome != "passed":
                category = record.failure or "error"
                failures[category] = failures.get(category, 0) + 1
        return cls(
            label=label if label is not None else results.label,
            selected=len(results.tasks) or len(records),
            finished=len(records), run=len(ran),
            passed=sum(r.outcome == "passed" for r in records),
            failed=sum(r.outcome == "failed" for r in records),
            errors=sum(r.outcome == "error" for r in records),
            skipped=sum(r.outcome == "skipped" for r in records),
            pending=len(results.pending),
            tests_passed=sum(r.tests_passed for r in records),
            tests_total=sum(r.tests_total for r in records),
            cost_usd=results.cost_usd,
            input_tokens=sum(r.input_tokens for r in records),
            output_tokens=sum(r.output_tokens for r in records),
            judge=JudgeAgreement.of(records),
            wall_s=tuple(r.wall_s for r in ran), costs=tuple(r.cost_usd for r in ran),
            repair_rounds=tuple(r.repair_rounds for r in ran),
            by_kind=tuple(
                KindRate(kind, KIND_NAMES.get(kind, kind), len(group),
                         sum(r.outcome == "passed" for r in group))
                for kind, group in sorted(kinds.items(), key=lambda item: _kind_order(item[0]))),
            failures=tuple(sorted(failures.items(), key=lambda item: (
                FAILURE_ORDER.index(item[0]) if item[0] in FAILURE_ORDER else len(FAILURE_ORDER),
                item[0]))))

    @property
    def pass_rate(self) -> float | None:
        """``passed / run`` in [0, 1]; None when no task was run."""
        return self.passed / self.run if self.run else None

    @property
    def tests_rate(self) -> float | None:
        """``tests_passed / tests_total``; None without tests."""
        return self.tests_passed / self.tests_total if self.tests_total else None

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def wall_total_s(self) -> float:
        """Seconds over the tasks run (their sum: with ``--jobs`` > 1 the evaluation took less)."""
        return sum(self.wall_s)

    @property
    def wall_median_s(self) -> float | None:
        """The median seconds per task run; None when none was run."""
        return statistics.median(self.wall_s) if self.wall_s else None

    @property
    def cost_per_task(self) -> float | None:
        """The mean US dollars per task run; None when none was run."""
        return sum(self.costs) / len(self.costs) if self.costs else None

    @property
    def repair_rounds_mean(self) -> float | None:
        """The mean repair rounds per task run; None when none was run."""
        return statistics.fmean(self.repair_rounds) if self.repair_rounds else None


# -- comparison --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskComparison:
    """One task in both runs.

    Attributes:
        id / title / kind: from whichever record exists (the title is "" when neither does).
        baseline / current: the records (None: pending or not selected).
        change: see :data:`Change`.

    """

    id: str
    title: str
    kind: str
    baseline: TaskRecord | None
    current: TaskRecord | None
    change: Change


def _change(task_id: str, current: EvalResults, baseline: EvalResults) -> Change:
    in_current = task_id in current.tasks or current.record(task_id) is not None
    in_baseline = task_id in baseline.tasks or baseline.record(task_id) is not None
    if not in_baseline:
        return "new"
    if not in_current:
        return "gone"
    now, before = current.record(task_id), baseline.record(task_id)
    if now is None or before is None or "skipped" in (now.outcome, before.outcome):
        return "not compared"
    if (now.outcome == "passed") == (before.outcome == "passed"):
        return "same"
    return "fixed" if now.outcome == "passed" else "regressed"


def compare_tasks(current: EvalResults, baseline: EvalResults) -> list[TaskComparison]:
    """Every task of either run: this run's order first, then the baseline's other tasks."""
    ids = [*current.tasks, *(r.id for r in current.records),
           *baseline.tasks, *(r.id for r in baseline.records)]
    rows = []
    for task_id in dict.fromkeys(ids):
        now, before = current.record(task_id), baseline.record(task_id)
        known = now or before
        rows.append(TaskComparison(
            id=task_id, title=known.title if known else "", kind=known.kind if known else "",
            baseline=before, current=now, change=_change(task_id, current, baseline)))
    return rows


@dataclass(frozen=True)
class Delta:
    """One headline figure in both runs.

    Attributes:
        metric: what it is ("pass rate").
        baseline / current: the figure in words ("62%", "$1.20").
        change: the difference in words ("+6 pp", "-$0.40 (-25%)"), "" when not comparable.
        good: whether the change is an improvement (None: no change, or neither).

    """

    metric: str
    baseline: str
    current: str
    change: str
    good: bool | None


def _usd(value: float | None) -> str:
    """``$12.35``, ``$0.042``, ``$0.0031``, ``$0``; "—" for None."""
    if value is None:
        return "—"
    size = abs(value)
    if size == 0:
        return "$0"
    digits = 0 if size >= 100 else 2 if size >= 0.1 else 3 if size >= 0.01 else 4
    return f"{'-' if value < 0 else ''}${size:,.{digits}f}"


def _count(value: float) -> str:
    """``950``, ``12.3k``, ``1.2M``."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if size >= 10_000:
        return f"{value / 1_000:.0f}k"
    if size >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _secs(value: float | None) -> str:
    return "—" if value is None else human_seconds(value)


def _rate_delta(metric: str, before: float | None, now: float | None, words: tuple[str, str]
                ) -> Delta:
    change, good = "", None
    if before is not None and now is not None:
        points = round((now - before) * 100)
        change = f"{points:+d} pp" if points else "no change"
        good = None if not points else points > 0
    return Delta(metric, words[0], words[1], change, good)


def _amount_delta(metric: str, before: float | None, now: float | None,
                  show: Callable[[float | None], str], *, lower_is_better: bool = True,
                  signed: Callable[[float], str] | None = None) -> Delta:
    change, good = "", None
    if before is not None and now is not None:
        difference = now - before
        text = signed(difference) if signed else (
            ("+" if difference > 0 else "-") + show(abs(difference)))
        if abs(difference) < 1e-9:
            change = "no change"
        else:
            share = difference / before if before else None
            change = text + ("" if share is None else
                             f" ({share:+.0%})" if abs(share) >= 0.01 else f" ({share:+.1%})")
            good = (difference < 0) == lower_is_better
    return Delta(metric, show(before), show(now), change, good)


def headline_deltas(current: EvalSummary, baseline: EvalSummary) -> list[Delta]:
    """The headline figures of both runs and their differences (this run minus baseline)."""
    def tests(summary: EvalSummary) -> str:
        share = f" ({summary.tests_rate:.0%})" if summary.tests_rate is not None else ""
        return f"{summary.tests_passed} of {summary.tests_total}{share}"

    def signed_count(value: float) -> str:
        return f"{value:+,.0f}"

    return [
        _rate_delta("Pass rate", baseline.pass_rate, current.pass_rate,
                    (_pct(baseline.pass_rate), _pct(current.pass_rate))),
        _amount_delta("Tasks passed", baseline.passed, current.passed,
                      lambda v: "—" if v is None else f"{v:,.0f}", lower_is_better=False,
                      signed=signed_count),
        _rate_delta("Acceptance tests passed", baseline.tests_rate, current.tests_rate,
                    (tests(baseline), tests(current))),
        _rate_delta("Judge agreement", baseline.judge.rate, current.judge.rate,
                    (_pct(baseline.judge.rate), _pct(current.judge.rate))),
        _amount_delta("Total cost", baseline.cost_usd, current.cost_usd, _usd),
        _amount_delta("Cost per task", baseline.cost_per_task, current.cost_per_task, _usd),
        _amount_delta("Median wall time per task", baseline.wall_median_s,
                      current.wall_median_s, _secs),
        _amount_delta("Total wall time", baseline.wall_total_s if baseline.run else None,
                      current.wall_total_s if current.run else None, _secs),
        _amount_delta("Tokens", baseline.tokens, current.tokens,
                      lambda v: "—" if v is None else _count(v), signed=lambda v: (
                          "+" if v > 0 else "-") + _count(abs(v))),
        _amount_delta("Repair rounds per task", baseline.repair_rounds_mean,
                      current.repair_rounds_mean,
                      lambda v: "—" if v is None else f"{v:.1f}",
                      signed=lambda v: f"{v:+.1f}"),
    ]


# -- plots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    """One figure of the page: inline SVG, or a note saying why there is nothing to draw."""

    key: str
    title: str
    svg: Markup | None = None
    note: str = ""
    caption: str = ""


def _plain(text: str, limit: int = 28) -> str:
    """A label for a plot: one line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _inline_svg(svg: str, key: str, title: str) -> Markup:
    """Matplotlib's SVG made fit for inlining into the page.

    The XML prolog and the metadata (a timestamp) go; ids get the plot's ``key`` as a prefix
    (several plots share a page); the placeholder ink becomes ``currentColor`` so text and
    axes follow the page's light or dark colours; the fixed size gives way to the viewBox.
    """
    body = svg[svg.index("<svg"):]
    body = re.sub(r"<metadata>.*?</metadata>\s*", "", body, flags=re.DOTALL)
    body = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', body)
    body = re.sub(r"url\(#([^)]+)\)", rf"url(#{key}-\1)", body)
    body = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{key}-\1"', body)
    body = body.replace(_INK, "currentColor")
    view_box = re.search(r'viewBox="([^"]+)"', body)
    opening = (f'<svg xmlns="http://www.w3.org/2000/svg" '
               f'xmlns:xlink="http://www.w3.org/1999/xlink" class="plot" role="img" '
               f'viewBox="{view_box.group(1) if view_box else "0 0 460 200"}" '
               f'aria-labelledby="{key}-title"><title id="{key}-title">{escape(title)}</title>')
    body = re.sub(r"<svg\b[^>]*>", lambda _: opening, body, count=1)
    return Markup(body)  # noqa: S704 - matplotlib escapes its text; the title is escaped


def _draw_svg(key: str, title: str, size: tuple[float, float],
              draw: Callable[[Figure], None]) -> Markup:
    """Draw with ``draw`` on a new figure of ``size`` inches and return it as inline SVG."""
    import matplotlib
    from matplotlib.figure import Figure

    # rc_context restores the settings on leaving. Text stays text (selectable and small), and
    # is never read as mathtext: labels hold run names and dollar amounts. Ids are salted per
    # plot so they do not collide on the page.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": key, "font.size": 9,
                                "text.parse_math": False, "text.color": _INK,
                                "axes.labelcolor": _INK, "axes.edgecolor": _INK,
                                "xtick.color": _INK, "ytick.color": _INK, "grid.color": _INK}):
        figure = Figure(figsize=size, layout="constrained")
        draw(figure)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", transparent=True)
    return _inline_svg(buffer.getvalue(), key, title)


def _style(axes: Axes, grid: Literal["x", "y"] = "x") -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis=grid, alpha=0.25)
    axes.set_axisbelow(True)
    axes.tick_params(length=3)


def _colours(series: int) -> list[str]:
    return [_BASELINE, _CURRENT] if series == 2 else [_CURRENT]


def _legend(axes: Axes, series: int) -> None:
    if series > 1:
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=series,
                    frameon=False, fontsize=8, borderaxespad=0.2)


def _grouped_barh(axes: Axes, labels: Sequence[str],
                  series: Sequence[tuple[str, list[float], list[str]]],
                  colours: Sequence[str]) -> None:
    """Horizontal bars: a group per label (first on top), a bar per series, its note at its end.

    ``series``: ``(name, values, notes)`` each, ``values`` and ``notes`` one per label.
    """
    count = len(series)
    height = 0.8 / count
    for index, ((name, values, notes), colour) in enumerate(zip(series, colours, strict=True)):
        positions = [len(labels) - 1 - row - (index - (count - 1) / 2) * height
                     for row in range(len(labels))]
        bars = axes.barh(positions, values, height=height * 0.9, color=colour,
                         label=_plain(name))
        axes.bar_label(bars, labels=[_plain(n, 20) for n in notes], padding=3, fontsize=8)
    axes.set_yticks(range(len(labels))[::-1], labels=[_plain(label) for label in labels])
    padding = max(0.0, (3 - len(labels)) / 2)
    axes.set_ylim(-0.6 - padding, len(labels) - 0.4 + padding)


def _kind_plot(summaries: Sequence[EvalSummary]) -> Plot:
    title = "Pass rate by kind"
    kinds: dict[str, str] = {}
    for summary in summaries:
        kinds.update({k.kind: k.name for k in summary.by_kind})
    if not kinds:
        return Plot("kind", title, note="No task was run yet.")
    order = sorted(kinds, key=_kind_order)
    single = len(summaries) == 1

    def draw(figure: Figure) -> None:
        from matplotlib.ticker import PercentFormatter

        axes = figure.subplots()
        series = []
        for summary in summaries:
            rates = {k.kind: k for k in summary.by_kind}
            series.append((summary.label,
                           [rates[k].rate * 100 if k in rates else 0.0 for k in order],
                           [f"{rates[k].passed}/{rates[k].run}" if k in rates else "not run"
                            for k in order]))
        runs = {k.kind: k.run for k in summaries[0].by_kind}
        labels = [f"{kinds[k]} (n={runs.get(k, 0)})" if single else kinds[k] for k in order]
        _grouped_barh(axes, labels, series, _colours(len(summaries)))
        axes.set_xlim(0, 112)
        axes.set_xticks([0, 25, 50, 75, 100])
        axes.xaxis.set_major_formatter(PercentFormatter())
        axes.set_xlabel("tasks passed (finished, every hidden test passing)")
        _style(axes)
        _legend(axes, len(summaries))

    rows = len(order) * (1 if single else 1.6)
    return Plot("kind", title, _draw_svg("kind", title, (6.4, 1.3 + 0.34 * rows), draw),
                caption="Bars: share of the kind's tasks run that passed; "
                        "text: passed/run.")


def _distribution_plot(key: str, title: str, summaries: Sequence[EvalSummary],
                       values_of: Callable[[EvalSummary], Sequence[float]],
                       unit: Literal["usd", "s"], empty: str) -> Plot:
    """A box (median, quartiles, whiskers to 1.5 IQR) with every task as a dot, per run."""
    groups = [list(values_of(s)) for s in summaries]
    if not any(groups):
        return Plot(key, title, note="No task was run yet.")
    if not any(v for group in groups for v in group):
        return Plot(key, title, note=empty)
    top = max(v for group in groups for v in group)
    scale, axis_unit = (60.0, "minutes") if unit == "s" and top > 180 else (1.0, "seconds")
    if unit == "usd":
        scale, axis_unit = 1.0, "US dollars"

    def show(value: float) -> str:
        return _usd(value) if unit == "usd" else human_seconds(value)

    def draw(figure: Figure) -> None:
        import random

        from matplotlib.ticker import MaxNLocator

        axes = figure.subplots()
        jitter = random.Random(key)  # noqa: S311 - dot positions, not security
        labels = []
        for row, (summary, values, colour) in enumerate(zip(
                summaries, groups, _colours(len(summaries)), strict=True)):
            position = len(summaries) - 1 - row
            scaled = [v / scale for v in values]
            if scaled:
                axes.boxplot([scaled], positions=[position], orientation="horizontal",
                             widths=0.55, showfliers=False, patch_artist=True,
                             boxprops={"facecolor": colour, "alpha": 0.35,
                                       "edgecolor": _INK, "linewidth": 0.8},
                             medianprops={"color": _INK, "linewidth": 1.6},
                             whiskerprops={"color": _INK, "linewidth": 0.8},
                             capprops={"color": _INK, "linewidth": 0.8})
                size = 28 if len(scaled) <= 30 else 14 if len(scaled) <= 120 else 8
                axes.scatter(scaled, [position + jitter.uniform(-0.2, 0.2) for _ in scaled],
                             s=size, color=colour, alpha=0.85, edgecolors=_INK,
                             linewidths=0.4, zorder=3)
            median = statistics.median(values) if values else None
            stats = (f"n={len(values)}, median {show(median)}" if median is not None
                     else "no task run")
            labels.append(stats if len(summaries) == 1 else f"{_plain(summary.label, 22)}\n"
                          f"{stats}")
        axes.set_yticks(range(len(summaries))[::-1], labels=labels)
        axes.set_ylim(-0.6, len(summaries) - 0.4)
        axes.set_xlim(left=0)
        axes.xaxis.set_major_locator(MaxNLocator(nbins=6))
        axes.set_xlabel(f"{axis_unit} per task")
        _style(axes)

    return Plot(key, title, _draw_svg(key, title, (6.4, 1.5 + 0.75 * len(summaries)), draw),
                caption="Each dot is a task run; the box spans the middle half, its line is "
                        "the median.")


def _failure_plot(summaries: Sequence[EvalSummary]) -> Plot:
    title = "Failure categories"
    present = {category for s in summaries for category, _ in s.failures}
    if not any(s.run for s in summaries):
        return Plot("failures", title, note="No task was run yet.")
    if not present:
        return Plot("failures", title, note="No task failed.")
    order = sorted(present, key=lambda c: (
        FAILURE_ORDER.index(c) if c in FAILURE_ORDER else len(FAILURE_ORDER), c))

    def draw(figure: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        axes = figure.subplots()
        series = []
        for summary in summaries:
            counts = dict(summary.failures)
            series.append((summary.label, [float(counts.get(c, 0)) for c in order],
                           [str(counts.get(c, 0)) for c in order]))
        colours = [_FAILED] if len(summaries) == 1 else _colours(len(summaries))
        _grouped_barh(axes, order, series, colours)
        top = max(max(values) for _, values, _ in series)
        axes.set_xlim(0, top * 1.15 + 0.5)
        axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axes.set_xlabel("tasks")
        _style(axes)
        _legend(axes, len(summaries))

    rows = len(order) * (1 if len(summaries) == 1 else 1.6)
    return Plot("failures", title, _draw_svg("failures", title, (6.4, 1.3 + 0.34 * rows), draw),
                caption="Tasks run that did not pass, by where they went wrong (legend below).")


def _plots(summaries: Sequence[EvalSummary]) -> list[Plot]:
    return [
        _kind_plot(summaries),
        _failure_plot(summaries),
        _distribution_plot("cost", "Cost per task", summaries, lambda s: s.costs, "usd",
                           "No cost recorded: replayed, free or unpriced models."),
        _distribution_plot("time", "Wall time per task", summaries, lambda s: s.wall_s, "s",
                           "No wall time recorded."),
    ]


# -- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskRow:
    id: str
    record: TaskRecord | None


def _task_rows(results: EvalResults) -> list[_TaskRow]:
    ids = dict.fromkeys([*results.tasks, *(r.id for r in results.records)])
    return [_TaskRow(task_id, results.record(task_id)) for task_id in ids]


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _ran(record: TaskRecord | None) -> bool:
    """Whether the task was run (it has cost and time to show)."""
    return record is not None and record.outcome in RUN_OUTCOMES


@cache
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update({"usd": _usd, "count": _count, "pct": _pct, "secs": _secs,
                        "when": _when})
    env.globals["ran"] = _ran
    return env


def _redacted(results: EvalResults) -> EvalResults:
    """``results`` with secrets of the environment and key-shaped strings hidden."""
    data = Redactor.from_environment().redact_obj(results.model_dump(mode="json"))
    return EvalResults.model_validate(data)


def _labels(results: EvalResults, compare: EvalResults | None) -> tuple[str, str]:
    current = results.label.strip() or "this run"
    if compare is None:
        return current, ""
    baseline = compare.label.strip() or "baseline"
    if baseline == current:
        current, baseline = f"{current} (this run)", f"{baseline} (baseline)"
    return current, baseline


def render_report(results: EvalResults, *, compare: EvalResults | None = None,
                  now: datetime | None = None) -> str:
    """The evaluation's report as one self-contained HTML page.

    Args:
        results: the evaluation (a partial or empty one renders too: pending tasks are listed
            as such).
        compare: a baseline evaluation: adds the headline deltas, both runs in every plot and
            a task-by-task comparison (fixed and regressed tasks highlighted).
        now: the report's generation time (aware; tests pass a fixed one).

    Returns:
        The HTML text (UTF-8 when written). Everything from the records is escaped; secrets of
        the environment and key-shaped strings are redacted.

    """
    results = _redacted(results)
    baseline_results = _redacted(compare) if compare is not None else None
    current_label, baseline_label = _labels(results, baseline_results)
    summary = EvalSummary.of(results, current_label)
    baseline = (EvalSummary.of(baseline_results, baseline_label)
                if baseline_results is not None else None)
    summaries = [baseline, summary] if baseline is not None else [summary]
    comparison = (compare_tasks(results, baseline_results)
                  if baseline_results is not None else [])
    changes: dict[str, int] = {}
    for row in comparison:
        changes[row.change] = changes.get(row.change, 0) + 1
    deltas = headline_deltas(summary, baseline) if baseline is not None else []
    return _environment().get_template(TEMPLATE).render(
        r=results, s=summary, b=baseline, base=baseline_results,
        deltas={d.metric: d for d in deltas}, delta_rows=deltas,
        rows=_task_rows(results), comparison=comparison, changes=changes,
        disagreements=judge_disagreements(results.records),
        plots=_plots(summaries), kind_names=KIND_NAMES, failure_names=FAILURE_NAMES,
        generated=_when(now or datetime.now(UTC)))


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it.

    Raises:
        InputError: the folder cannot be created or written.

    """
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_report(results_path: Path, out: Path | None = None, *,
                 compare_path: Path | None = None) -> Path:
    """Load a results file (and a baseline), render the report and write it atomically.

    Args:
        results_path: the results file ``multicoder eval`` wrote; a run without a label is
            named after the file's stem.
        out: a file, or an existing folder (the page is then ``<stem>.html`` in it); by
            default ``<stem>.html`` next to the results file.
        compare_path: a baseline results file (``--compare``).

    Returns:
        The path written.

    Raises:
        InputError: a results file is missing, unreadable or not a results file; the page
            would overwrite a results file; the path cannot be written. One sentence each.

    """
    results = load_results(results_path)
    baseline = load_results(compare_path) if compare_path is not None else None
    if not results.label:
        results = results.model_copy(update={"label": results_path.stem})
    if baseline is not None and compare_path is not None and not baseline.label:
        baseline = baseline.model_copy(update={"label": compare_path.stem})
    name = f"{results_path.stem}.html"
    target = (out / name if out.is_dir() else out) if out is not None else (
        results_path.with_name(name))
    for source in (results_path, compare_path):
        if source is not None and target.resolve() == source.resolve():
            raise InputError(f"the report would overwrite the results file {source}: give "
                             f"another --out")
    _write_atomically(target, render_report(results, compare=baseline))
    return target
