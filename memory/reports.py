"""Reports (L2) and statistics (L5): plain models of what a run did, and their rendering.

The graph layer (:mod:`graph.reports`) gathers a run folder into a :class:`RunReport`, and all
runs into a :class:`StatsReport`; this module only renders them:

- :func:`render_html`: one self-contained HTML file (inline CSS, the chart as an inline PNG),
  readable on screen and printable, with no network access needed;
- :func:`render_pdf`: the same template's print variant through xhtml2pdf (pure Python), with
  DejaVu Sans (shipped in matplotlib) embedded so Cyrillic, Greek and other non-Latin text
  renders;
- :func:`render_markdown` (the same sections as text) and :func:`render_csv` (the timeline);
- :func:`render_stats_html`: the statistics over many runs, with charts.

Templates are Jinja2 files in ``memory/templates/`` (package data). Matplotlib and xhtml2pdf
are imported only when a chart or a PDF is made.
"""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from pydantic import BaseModel, Field

__all__ = [
    "REPORT_FORMATS",
    "RISK_LEVELS",
    "STATS_FORMATS",
    "Artifact",
    "CheckOutcome",
    "CheckStatus",
    "FileEntry",
    "FindingItem",
    "FindingPattern",
    "PersonDecision",
    "ReportFormat",
    "ReportRenderError",
    "RiskLevel",
    "RunReport",
    "SafetyLayer",
    "StatsReport",
    "StatsRun",
    "TimelineEntry",
    "Usage",
    "dejavu_fonts_dir",
    "render_csv",
    "render_html",
    "render_markdown",
    "render_pdf",
    "render_run_report",
    "render_stats_html",
    "stats_chart_png",
    "usage_chart_png",
]

TEMPLATES = Path(__file__).with_name("templates")
"""Where the report templates live (shipped with the ``memory`` package)."""

RiskLevel = Literal["low", "medium", "high"]
"""How much an event deserves a person's attention (see :mod:`graph.reports` for the rules)."""

RISK_LEVELS: tuple[RiskLevel, ...] = ("low", "medium", "high")
"""Every :data:`RiskLevel`, mildest first."""

ReportFormat = Literal["html", "pdf", "md", "csv"]
"""The formats of a run's report."""

REPORT_FORMATS: tuple[ReportFormat, ...] = ("html", "pdf", "md", "csv")
"""Every :data:`ReportFormat`."""

STATS_FORMATS = ("table", "html", "json")
"""The formats of ``multicoder stats``."""

CSV_COLUMNS = ("time", "seq", "node", "event", "risk", "details")
"""The header row of the CSV timeline."""


class ReportRenderError(RuntimeError):
    """A report could not be rendered (the PDF library reported an error)."""


# -- the models ------------------------------------------------------------------------------


class TimelineEntry(BaseModel):
    """One event of a run, as the timeline shows it.

    Attributes:
        ts: when it happened, ISO-8601 UTC (``2026-11-22T00:14:48.262+00:00``); "" when unknown.
        seq: its number in ``events.jsonl`` (from 1).
        node: the graph node it happened in ("" outside any node).
        type: the event type as in ``events.jsonl`` (``model_call``, ``check_result`` ...).
        details: one line (at most a few hundred characters) saying what happened.
        risk: see :data:`RiskLevel`.

    """

    ts: str
    seq: int
    node: str = ""
    type: str
    details: str = ""
    risk: RiskLevel = "low"


class FindingItem(BaseModel):
    """One problem a check found (``file:line [severity] message``)."""

    file: str | None = None
    line: int | None = None
    severity: str = "error"
    message: str


CheckStatus = Literal["passed", "failed", "skipped"]
"""The result of one check."""


class CheckOutcome(BaseModel):
    """One check in one round of the paranoid tester (or the packaged run's check).

    Attributes:
        round: the repair round (0: the first pass).
        check: the check's name (``ruff``, ``pytest``, ``packaged-run`` ...).
        status: ``passed``, ``failed`` or ``skipped``.
        duration_ms: how long it ran (milliseconds).
        findings: the problems it found (at most the first 50 are kept).
        findings_total: how many it found in all.

    """

    round: int
    check: str
    status: CheckStatus
    duration_ms: int = 0
    findings: list[FindingItem] = Field(default_factory=list)
    findings_total: int = 0


class SafetyLayer(BaseModel):
    """One layer of the safety gate: ``classifier``, ``judge`` or the ``final verdict``.

    Attributes:
        ts: when it answered (ISO-8601 UTC).
        layer: which layer.
        level: ``green``/``yellow``/``red`` (the classifier: ``benign``/``harmful``).
        recommendation: ``approve``/``reject``/``modify`` ("" for the classifier).
        details: its reasons, or the classifier's probability and threshold.

    """

    ts: str
    layer: str
    level: str
    recommendation: str = ""
    details: str = ""


class PersonDecision(BaseModel):
    """A question put to a person and the answer (or none yet).

    Attributes:
        asked_at: when the question was asked (ISO-8601 UTC).
        question: its kind (``confirm_start``, ``approve_plan``, ``ask_human``,
            ``approve_fetch``).
        summary: what was asked, shortened.
        answer: the decision (``approve``, ``reject``, ``edit``, ``stop`` ...); "" while waiting.
        feedback: what the person wrote with it.
        answered_at: when it was answered ("" while waiting).

    """

    asked_at: str
    question: str
    summary: str = ""
    answer: str = ""
    feedback: str = ""
    answered_at: str = ""


class FileEntry(BaseModel):
    """A file of the generated project: its path relative to the workspace and its size."""

    path: str
    size_bytes: int


class Artifact(BaseModel):
    """The packaged executable: its path, size (bytes) and SHA-256 (hex)."""

    path: str
    size_bytes: int
    sha256: str = ""


class Usage(BaseModel):
    """Model calls, tokens, cost and time of one node, one model, or a whole run.

    Attributes:
        name: the node's or model's name (``provider:model``), or ``total``.
        calls: answered model calls.
        input_tokens / output_tokens: tokens as the providers reported them.
        cost_usd: the cost of the calls whose model has a known price (US dollars).
        unpriced_calls: calls of models without a known price.
        time_s: seconds: in the node (finished visits), or waiting for the model's answers.
        runs: how many runs it appears in (statistics only; 1 in a run's report).

    """

    name: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    time_s: float = 0.0
    runs: int = 1

    @property
    def tokens(self) -> int:
        """Input + output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def cost_text(self) -> str:
        """``$0.0420``, ``unknown price``, ``$1.20 + unknown (3 calls without a price)``, ``—``."""
        if not self.calls:
            return "—"
        if self.unpriced_calls == self.calls:
            return "unknown price"
        text = f"${self.cost_usd:,.4f}" if self.cost_usd < 1 else f"${self.cost_usd:,.2f}"
        if self.unpriced_calls:
            text += f" + unknown ({self.unpriced_calls} calls without a price)"
        return text

    def merged(self, other: Usage) -> Usage:
        """The sum of two usages under this one's name (``runs`` add up too)."""
        return Usage(name=self.name, calls=self.calls + other.calls,
                     input_tokens=self.input_tokens + other.input_tokens,
                     output_tokens=self.output_tokens + other.output_tokens,
                     cost_usd=self.cost_usd + other.cost_usd,
                     unpriced_calls=self.unpriced_calls + other.unpriced_calls,
                     time_s=self.time_s + other.time_s, runs=self.runs + other.runs)


class RunReport(BaseModel):
    """Everything a run's report shows; built by :func:`graph.reports.gather_run_report`.

    Times are ISO-8601 UTC strings. ``timeline`` is already filtered; ``timeline_total`` is the
    number of events before filtering (chat messages aside: ``messages_left_out`` of them were
    not asked for) and ``filters`` describes the filters in words.
    """

    run_id: str
    run_dir: str = ""
    task: str
    status: str
    error: str = ""
    created_at: str = ""
    last_event_at: str = ""
    generated_at: str
    sandbox: str = ""
    sandbox_isolated: bool = False
    sandbox_reason: str = ""
    models: dict[str, list[str]] = Field(default_factory=dict)
    repair_rounds: int = 0
    spec_markdown: str = ""
    plan_markdown: str = ""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_total: int = 0
    messages_left_out: int = 0
    filters: list[str] = Field(default_factory=list)
    checks: list[CheckOutcome] = Field(default_factory=list)
    safety: list[SafetyLayer] = Field(default_factory=list)
    decisions: list[PersonDecision] = Field(default_factory=list)
    files: list[FileEntry] = Field(default_factory=list)
    files_omitted: int = 0
    artifact: Artifact | None = None
    total: Usage = Field(default_factory=lambda: Usage(name="total"))
    active_time_s: float = 0.0
    by_node: list[Usage] = Field(default_factory=list)
    by_model: list[Usage] = Field(default_factory=list)
    budget_stops: list[str] = Field(default_factory=list)

    def check_rounds(self) -> list[tuple[int, list[CheckOutcome]]]:
        """The checks grouped by round, in round order."""
        rounds: dict[int, list[CheckOutcome]] = {}
        for outcome in self.checks:
            rounds.setdefault(outcome.round, []).append(outcome)
        return sorted(rounds.items())

    def risk_counts(self) -> dict[str, int]:
        """How many timeline entries have each risk level (``high`` first)."""
        return {level: sum(e.risk == level for e in self.timeline)
                for level in reversed(RISK_LEVELS)}


class FindingPattern(BaseModel):
    """A kind of finding seen across runs.

    The check, the message with names and numbers masked, how often it was found and in how
    many runs, and one full example.
    """

    check: str
    pattern: str
    count: int
    runs: int
    example: str = ""


class StatsRun(BaseModel):
    """One run in the statistics' list of runs."""

    run_id: str
    created_at: str
    status: str
    repair_rounds: int = 0
    tokens: int = 0
    cost_text: str = "—"
    task: str = ""


class StatsReport(BaseModel):
    """Statistics over the runs created in a period; built by :func:`graph.reports.gather_stats`.

    Attributes:
        generated_at / since / until: ISO-8601 UTC ("" for an open end).
        runs: runs counted; finished: those that are over; succeeded: ``done`` ones.
        success_rate: succeeded / finished (None when none finished).
        by_status: runs per status.
        repair_rounds_mean / repair_rounds_max: repair rounds of the finished runs.
        total / by_model / by_node: usage summed over the runs (``time_s`` of a node is the
            total time spent in it; ``runs`` the number of runs that used it).
        top_findings: the most frequent findings, most frequent first.
        recent: the newest runs (at most 50).

    """

    generated_at: str
    since: str = ""
    until: str = ""
    runs: int = 0
    finished: int = 0
    succeeded: int = 0
    success_rate: float | None = None
    by_status: dict[str, int] = Field(default_factory=dict)
    repair_rounds_mean: float | None = None
    repair_rounds_max: int = 0
    total: Usage = Field(default_factory=lambda: Usage(name="total", runs=0))
    by_model: list[Usage] = Field(default_factory=list)
    by_node: list[Usage] = Field(default_factory=list)
    top_findings: list[FindingPattern] = Field(default_factory=list)
    recent: list[StatsRun] = Field(default_factory=list)


# -- helpers for the templates -----------------------------------------------------------------


def human_size(size_bytes: int) -> str:
    """``532 B``, ``12.3 KB``, ``62.7 MB`` (powers of 1024)."""
    size = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size_bytes} B" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"  # pragma: no cover - the loop always returns


def human_time(iso: str, *, with_date: bool = True) -> str:
    """``2026-11-22 00:14:48`` (or ``00:14:48``) from an ISO-8601 string; "" stays ""."""
    if not iso:
        return ""
    text = iso.replace("T", " ")[:19]
    return text if with_date else text[11:19]


def human_seconds(seconds: float) -> str:
    """``0.4 s``, ``51 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _hard_wrap(text: str, width: int) -> Markup:
    """Escape ``text`` and cut words longer than ``width`` with ``<br/>``.

    xhtml2pdf does not break long words inside table cells: they would run over the page edge.
    """
    def cut(match: re.Match[str]) -> str:
        word = match.group(0)
        return "\n".join(word[i:i + width] for i in range(0, len(word), width))

    wrapped = re.sub(rf"\S{{{width + 1},}}", cut, text)
    return Markup("<br/>").join(escape(line) for line in wrapped.split("\n"))


@pass_context
def _breakable(context: Context, text: object, width: int = 40) -> Markup:
    """The ``brk`` filter: escaped text whose line breaks are kept.

    In HTML, CSS wraps long words; in the PDF they are cut every ``width`` characters.
    """
    value = "" if text is None else str(text)
    if context.get("pdf"):
        return _hard_wrap(value, width)
    return Markup("<br/>").join(escape(line) for line in value.split("\n"))


def _markdown_html(text: str, shift: int = 2) -> Markup:
    """Markdown (CommonMark + tables) to HTML.

    Raw HTML in the text is escaped, not passed through, and images stay text (a report never
    fetches anything, nor lets model-written text plant a remote image); headings move
    ``shift`` levels down so they nest under the report's own.
    """
    from markdown_it import MarkdownIt

    parser = (MarkdownIt("commonmark", {"html": False, "linkify": False})
              .enable("table").disable("image"))
    tokens = parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"
    return Markup(parser.renderer.render(tokens, parser.options, {}))  # noqa: S704 - escaped


def _demote_headings(text: str, by: int = 2) -> str:
    """Markdown with its ATX headings ``by`` levels deeper (at most ``######``).

    A spec's ``# Title`` then nests under the report's ``## Specification``; code blocks are
    left alone.
    """
    lines, fence = [], ""
    for line in (text or "").splitlines():
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            fence = "" if fence and marker == fence else (fence or marker)
        elif not fence and re.match(r"#{1,6}(\s|$)", stripped):
            level = len(stripped) - len(stripped.lstrip("#"))
            line = "#" * min(6, level + by) + stripped[level:]
        lines.append(line)
    return "\n".join(lines)


def _md_cell(value: object) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    text = " ".join(str(value if value is not None else "").split())
    return text.replace("|", "\\|")


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(enabled_extensions=("html",),
                                                   default_for_string=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update({"size": human_size, "when": human_time, "secs": human_seconds,
                        "brk": _breakable, "markdown": _markdown_html, "cell": _md_cell,
                        "demote": _demote_headings})
    return env


def dejavu_fonts_dir() -> Path:
    """Matplotlib's ``mpl-data/fonts/ttf`` (DejaVu Sans and Sans Mono, with Cyrillic)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


# -- charts ------------------------------------------------------------------------------------


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _compact(value: float, _position: object = None) -> str:
    """Axis labels: ``950``, ``25k``, ``1.2M``, ``0.25``."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{value:.0f}" if value == int(value) else f"{value:.2g}"


def _barh(axes: Any, title: str, labels: Sequence[str], series: Sequence[tuple[str, list[float]]],
          unit: str, empty: str = "nothing recorded", *, integer: bool = False,
          label_chars: int = 30) -> None:
    """Horizontal bars, stacked when there are several series, first label on top.

    A chart with few bars keeps them slim (room for at least four); ``integer``: whole-number
    ticks; labels longer than ``label_chars`` are cut.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    positions = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    colours = ["#2f5d9b", "#93b7e0", "#d98c3f"]
    axes.set_title(title, fontsize=11, loc="left", fontweight="bold")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if not labels or not any(v for _, values in series for v in values):
        axes.text(0.5, 0.5, empty, transform=axes.transAxes, ha="center", va="center",
                  fontsize=9, color="#6b7687")
        axes.set_xticks([])
        axes.set_yticks([])
        return
    for (name, values), colour in zip(series, colours, strict=False):
        axes.barh(positions, values, left=left, color=colour, label=name, height=0.62)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, labels=[
        label if len(label) <= label_chars else label[:label_chars - 1] + "…"
        for label in labels])
    pad = max(0.0, (4 - len(labels)) / 2)
    axes.set_ylim(-0.5 - pad, len(labels) - 0.5 + pad)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=integer))
    axes.xaxis.set_major_formatter(FuncFormatter(_compact))
    axes.set_xlabel(unit, fontsize=9)
    axes.tick_params(labelsize=9)
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    if len(series) > 1:
        axes.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                    ncols=len(series), borderaxespad=0.1)


def usage_chart_png(by_node: Sequence[Usage], by_model: Sequence[Usage]) -> bytes | None:
    """A PNG chart: tokens and time per node, tokens and cost per model.

    Args:
        by_node: usage per node (``time_s``: seconds in the node).
        by_model: usage per model (``time_s``: seconds waiting for its answers).

    Returns:
        The PNG bytes (about 1000 x 620 pixels), or None when there is nothing to chart.

    """
    if not any(u.calls or u.time_s for u in [*by_node, *by_model]):
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 2.2 + 0.3 * (max(len(by_node), 3) + max(len(by_model), 2))),
                    layout="constrained")
    grid = figure.subplots(2, 2, height_ratios=[max(len(by_node), 3), max(len(by_model), 2)])
    nodes = [u.name for u in by_node]
    models = [u.name for u in by_model]
    _barh(grid[0][0], "Tokens per node", nodes,
          [("input", [float(u.input_tokens) for u in by_node]),
           ("output", [float(u.output_tokens) for u in by_node])], "tokens")
    _barh(grid[0][1], "Time per node", nodes, [("time", [u.time_s for u in by_node])],
          "seconds")
    _barh(grid[1][0], "Tokens per model", models,
          [("input", [float(u.input_tokens) for u in by_model]),
           ("output", [float(u.output_tokens) for u in by_model])], "tokens")
    _barh(grid[1][1], "Cost per model", models, [("cost", [u.cost_usd for u in by_model])],
          "US dollars (models without a price count as 0)",
          empty="no cost: replayed, free or unpriced models")
    return _png(figure)


def stats_chart_png(stats: StatsReport) -> bytes | None:
    """A PNG chart of the statistics (None when no run is counted).

    Runs by status, tokens per model, mean time per node, and the most frequent findings.
    """
    if not stats.runs:
        return None
    from matplotlib.figure import Figure

    statuses = list(stats.by_status)
    findings = stats.top_findings[:8]
    rows = max(len(statuses), len(stats.by_model), len(stats.by_node), len(findings), 3)
    figure = Figure(figsize=(10, 2.5 + 0.55 * rows), layout="constrained")
    grid = figure.subplots(2, 2)
    _barh(grid[0][0], "Runs by status", statuses,
          [("runs", [float(stats.by_status[s]) for s in statuses])], "runs", integer=True)
    _barh(grid[0][1], "Tokens per model", [u.name for u in stats.by_model],
          [("input", [float(u.input_tokens) for u in stats.by_model]),
           ("output", [float(u.output_tokens) for u in stats.by_model])], "tokens")
    _barh(grid[1][0], "Mean time per node and run", [u.name for u in stats.by_node],
          [("time", [u.time_s / max(u.runs, 1) for u in stats.by_node])], "seconds")
    _barh(grid[1][1], "Most frequent findings", [f"{f.check}: {f.pattern}" for f in findings],
          [("found", [float(f.count) for f in findings])], "times found", integer=True,
          label_chars=48)
    return _png(figure)


def _data_uri(png: bytes | None) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else ""


# -- rendering ---------------------------------------------------------------------------------


def _run_context(report: RunReport, *, pdf: bool) -> dict[str, Any]:
    return {"r": report, "pdf": pdf, "fonts": _font_uris() if pdf else {},
            "chart": _data_uri(usage_chart_png(report.by_node, report.by_model))}


def _font_uris() -> dict[str, str]:
    fonts = dejavu_fonts_dir()
    return {name: (fonts / f"{file}.ttf").as_uri() for name, file in (
        ("regular", "DejaVuSans"), ("bold", "DejaVuSans-Bold"),
        ("italic", "DejaVuSans-Oblique"), ("mono", "DejaVuSansMono"),
        ("mono_bold", "DejaVuSansMono-Bold"))}


def render_html(report: RunReport) -> str:
    """The report as one self-contained HTML page (inline CSS; the chart as a data: URI)."""
    return _environment().get_template("run_report.html").render(_run_context(report, pdf=False))


def _html_to_pdf(html: str) -> bytes:
    """Convert the print variant of a report to PDF; only the bundled fonts may be read.

    Raises:
        ReportRenderError: xhtml2pdf reported an error.

    """
    from xhtml2pdf import pisa  # type: ignore[import-untyped]
    from xhtml2pdf.config.resources import ResourceAccessPolicy  # type: ignore[import-untyped]

    # xhtml2pdf warns through logging (a glyph no font has, for example); without a handler
    # of its own those warnings would reach stderr through logging's last-resort handler.
    library_log = logging.getLogger("xhtml2pdf")
    if not library_log.handlers:
        library_log.addHandler(logging.NullHandler())
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=dejavu_fonts_dir())
    output = io.BytesIO()
    result = pisa.CreatePDF(html, dest=output, encoding="utf-8", resource_policy=policy)
    if result.err:
        raise ReportRenderError(f"the PDF could not be made ({result.err} errors in xhtml2pdf)")
    return output.getvalue()


def render_pdf(report: RunReport) -> bytes:
    """The report as a PDF (A4, DejaVu Sans embedded), from the print variant of the template.

    Raises:
        ReportRenderError: xhtml2pdf reported an error.

    """
    html = _environment().get_template("run_report.html").render(_run_context(report, pdf=True))
    return _html_to_pdf(html)


def render_markdown(report: RunReport) -> str:
    """The report as Markdown: the same sections as the HTML, without the chart."""
    return _environment().get_template("run_report.md").render(r=report, pdf=False)


def render_csv(report: RunReport) -> str:
    """The (filtered) timeline as CSV.

    A header row (:data:`CSV_COLUMNS`), then one row per event; times are ISO-8601 UTC; line
    ends are CR LF (the csv module's default).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in report.timeline:
        writer.writerow([entry.ts, entry.seq, entry.node, entry.type, entry.risk, entry.details])
    return buffer.getvalue()


def render_run_report(report: RunReport, fmt: ReportFormat) -> bytes:
    """The report in ``fmt`` as bytes ready to write (text formats in UTF-8).

    Raises:
        ValueError: an unknown format.
        ReportRenderError: the PDF could not be made.

    """
    if fmt == "pdf":
        return render_pdf(report)
    renderers = {"html": render_html, "md": render_markdown, "csv": render_csv}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}: use {', '.join(REPORT_FORMATS)}")
    return renderers[fmt](report).encode("utf-8")


def render_stats_html(stats: StatsReport) -> str:
    """The statistics as one self-contained HTML page with a chart (inline PNG)."""
    return _environment().get_template("stats_report.html").render(
        s=stats, pdf=False, chart=_data_uri(stats_chart_png(stats)))
