"""Per-run budgets: what a run has spent, read back from its records, and its limits.

Spending lives in the run folder, so it survives crashes, cancels and resumes:

- tokens, model calls and cost come from ``cassette.jsonl`` (one line per answered call, with
  its token usage; the cost is priced with the providers' :class:`~agents.config.ModelPrice`);
- active wall time comes from ``events.jsonl``: each engine session starts with a
  ``session_started`` event and lasts until its last event, so time spent waiting for a person
  or stopped between sessions does not count (events written between sessions, such as
  ``limits_changed``, are not part of any session).

:class:`RunBudget` holds the limits and the spending and is checked by
:class:`agents.models.ModelSelector` before each provider call; :class:`RunSpending` is the
breakdown (per model, per node) the report and ``multicoder runs show`` print.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.cassette import Interaction
from agents.config import (
    BudgetExceeded,
    BudgetName,
    Limits,
    ModelPrice,
    ProviderConfig,
    format_amount,
)

__all__ = ["RunBudget", "RunSpending", "UsageTotals", "active_time_s", "format_limits",
           "price_for", "read_cassette", "read_events"]

CASSETTE = "cassette.jsonl"
EVENTS = "events.jsonl"
#: Events written between sessions (by ``resume`` options, run creation): no active time.
OUTSIDE_SESSIONS = frozenset({"limits_changed", "run_created", "sandbox_chosen"})


@dataclass
class UsageTotals:
    """Calls, tokens and cost summed over some model calls.

    Attributes:
        calls: answered model calls.
        input_tokens / output_tokens: tokens (as the provider reported them).
        cost_usd: the cost of the calls whose model has a known price (US dollars).
        unpriced_calls: calls of models without a known price (their cost is unknown).

    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0

    @property
    def tokens(self) -> int:
        """Input + output tokens."""
        return self.input_tokens + self.output_tokens

    def add(self, input_tokens: int, output_tokens: int, price: ModelPrice | None) -> None:
        """Count one answered call (``price`` None: its cost is unknown)."""
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        if price is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += price.cost(input_tokens, output_tokens)

    def cost_text(self) -> str:
        """``$0.42``, ``unknown price``, or ``$0.42 + unknown (3 calls without a price)``."""
        if self.unpriced_calls and self.unpriced_calls == self.calls:
            return "unknown price"
        text = f"${self.cost_usd:,.4f}" if self.cost_usd < 1 else f"${self.cost_usd:,.2f}"
        if self.unpriced_calls:
            text += f" + unknown ({self.unpriced_calls} calls without a price)"
        return text


def price_for(model: str, providers: Mapping[str, ProviderConfig]) -> ModelPrice | None:
    """The price of a ``provider:model`` reference; None when the provider or price is unknown."""
    provider, _, name = model.partition(":")
    config = providers.get(provider)
    return config.price_of(name) if config is not None else None


def read_cassette(path: Path) -> Iterator[Interaction]:
    """A run's recorded interactions in order; a line torn by a crash is skipped."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            yield Interaction.model_validate_json(line)
        except ValueError:
            continue


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """A run's events in order; unreadable lines are skipped."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def _timestamp(event: Mapping[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(event["ts"])).timestamp()
    except (KeyError, ValueError):
        return None


def active_time_s(events: Iterable[Mapping[str, Any]]) -> float:
    """Seconds a run was active, summed over its sessions.

    A session runs from a ``session_started`` event to the last event before the next one.
    """
    total = 0.0
    start: float | None = None
    last: float | None = None
    for event in events:
        ts = _timestamp(event)
        if ts is None or event.get("type") in OUTSIDE_SESSIONS:
            continue
        if event.get("type") == "session_started":
            if start is not None and last is not None:
                total += max(0.0, last - start)
            start = last = ts
        elif start is not None:
            last = ts
    if start is not None and last is not None:
        total += max(0.0, last - start)
    return total


def format_limits(limits: Limits) -> str:
    """``2,000,000 tokens, $5.00, 400 model calls, 2 h 00 min of active time`` (None: no limit)."""
    parts = []
    for budget, value in _limit_values(limits):
        if value is None:
            parts.append(f"no {budget} limit")
        else:
            parts.append(format_amount(budget, value) + (" of active time" if budget == "time"
                                                         else ""))
    return ", ".join(parts)


def _limit_values(limits: Limits) -> list[tuple[BudgetName, float | None]]:
    return [("tokens", limits.max_tokens), ("cost", limits.max_cost_usd),
            ("calls", limits.max_model_calls), ("time", limits.max_wall_time_s)]


class RunBudget:
    """A run's limits and its spending so far; :meth:`check` raises at a limit (thread-safe).

    Args:
        limits: the run's limits (``None`` fields are unlimited).
        spent: what earlier sessions spent (see :meth:`restore`).
        time_before_s: active seconds of earlier sessions.
        run_id: named in the :class:`BudgetExceeded` message.
        clock: monotonic seconds (tests pass a fake).

    """

    def __init__(self, limits: Limits, *, spent: UsageTotals | None = None,
                 time_before_s: float = 0.0, run_id: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.spent = spent or UsageTotals()
        self.time_before_s = time_before_s
        self.run_id = run_id
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()

    @classmethod
    def restore(cls, run_dir: Path, limits: Limits, providers: Mapping[str, ProviderConfig],
                run_id: str = "") -> RunBudget:
        """The budget of a run, with what its earlier sessions spent read from its folder."""
        spent = UsageTotals()
        for item in read_cassette(run_dir / CASSETTE):
            spent.add(item.usage.get("input_tokens", 0), item.usage.get("output_tokens", 0),
                      price_for(item.model, providers) if item.model else None)
        return cls(limits, spent=spent, run_id=run_id,
                   time_before_s=active_time_s(read_events(run_dir / EVENTS)))

    def elapsed_s(self) -> float:
        """Active seconds of the run so far (earlier sessions + this one)."""
        return self.time_before_s + (self._clock() - self._started)

    def check(self) -> None:
        """Raise when any budget is used up (called before each provider call).

        Raises:
            BudgetExceeded: naming the first budget reached, its limit and what was spent.

        """
        with self._lock:
            spent: dict[BudgetName, float] = {
                "tokens": self.spent.tokens, "cost": self.spent.cost_usd,
                "calls": self.spent.calls, "time": self.elapsed_s()}
        for budget, limit in _limit_values(self.limits):
            if limit is not None and spent[budget] >= limit:
                raise BudgetExceeded(budget, limit, spent[budget], self.run_id)

    def add(self, input_tokens: int, output_tokens: int, price: ModelPrice | None) -> None:
        """Count one answered provider call."""
        with self._lock:
            self.spent.add(input_tokens, output_tokens, price)


@dataclass
class RunSpending:
    """What a run spent, for its report: totals, per model, per node, active time, stops.

    Attributes:
        total: every answered call.
        by_model: per ``provider:model``.
        by_node: per node (the call key's first part: safety_gate, planner, coder ...).
        node_time_s: seconds spent in each node (finished visits).
        wall_time_s: the run's active seconds.
        budget_stops: the ``budget_exceeded`` events (budget, limit, spent, ts).

    """

    total: UsageTotals = field(default_factory=UsageTotals)
    by_model: dict[str, UsageTotals] = field(default_factory=dict)
    by_node: dict[str, UsageTotals] = field(default_factory=dict)
    node_time_s: dict[str, float] = field(default_factory=dict)
    wall_time_s: float = 0.0
    budget_stops: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, run_dir: Path, providers: Mapping[str, ProviderConfig]) -> RunSpending:
        """Sum a run folder's ``cassette.jsonl`` and ``events.jsonl`` (missing files: zero)."""
        spending = cls()
        for item in read_cassette(run_dir / CASSETTE):
            model = item.model or item.role
            price = price_for(item.model, providers) if item.model else None
            tokens_in = item.usage.get("input_tokens", 0)
            tokens_out = item.usage.get("output_tokens", 0)
            node = item.key.split("/", 1)[0]
            for totals in (spending.total, spending.by_model.setdefault(model, UsageTotals()),
                           spending.by_node.setdefault(node, UsageTotals())):
                totals.add(tokens_in, tokens_out, price)
        events = list(read_events(run_dir / EVENTS))
        spending.wall_time_s = active_time_s(events)
        for event in events:
            if event.get("type") == "node_finished":
                node = str(event.get("node"))
                spending.node_time_s[node] = spending.node_time_s.get(node, 0.0) + float(
                    event.get("duration_ms", 0)) / 1000
            elif event.get("type") == "budget_exceeded":
                spending.budget_stops.append({k: event.get(k) for k in
                                              ("ts", "budget", "limit", "spent")})
        return spending

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``report.json``'s ``spending``)."""
        def totals(t: UsageTotals) -> dict[str, Any]:
            return asdict(t) | {"cost_known": t.unpriced_calls == 0}

        return {"total": totals(self.total), "wall_time_s": round(self.wall_time_s, 1),
                "by_model": {m: totals(t) for m, t in self.by_model.items()},
                "by_node": {n: totals(t) | {"time_s": round(self.node_time_s.get(n, 0.0), 1)}
                            for n, t in self.by_node.items()},
                "budget_stops": self.budget_stops}

    def stop_lines(self) -> list[str]:
        """One sentence per budget stop, oldest first."""
        lines = []
        for stop in self.budget_stops:
            budget = stop.get("budget")
            if budget not in ("tokens", "cost", "calls", "time"):
                continue
            lines.append(f"stopped at the {budget} budget"
                         f" ({format_amount(budget, float(stop.get('spent') or 0))} spent of"
                         f" {format_amount(budget, float(stop.get('limit') or 0))})"
                         f" at {str(stop.get('ts', ''))[:19].replace('T', ' ')} UTC")
        return lines

    def markdown(self, limits: Limits | None = None) -> list[str]:
        """The report's "Spending" section as Markdown lines."""
        t = self.total
        lines = ["## Spending", "",
                 f"- model calls: {t.calls}",
                 f"- tokens: {t.input_tokens:,} in, {t.output_tokens:,} out"
                 f" ({t.tokens:,} total)",
                 f"- cost: {t.cost_text()}",
                 f"- active time: {format_amount('time', self.wall_time_s)}"]
        if limits is not None:
            lines.append(f"- budgets: {format_limits(limits)}")
        lines += [f"- **{line}**" for line in self.stop_lines()]
        lines.append("")
        if self.by_model:
            lines += ["| model | calls | input tokens | output tokens | cost |",
                      "|---|---|---|---|---|"]
            lines += [f"| {m} | {u.calls} | {u.input_tokens:,} | {u.output_tokens:,} |"
                      f" {u.cost_text()} |" for m, u in self.by_model.items()]
            lines.append("")
        nodes = list(dict.fromkeys([*self.by_node, *self.node_time_s]))
        if nodes:
            lines += ["| node | calls | input tokens | output tokens | cost | time |",
                      "|---|---|---|---|---|---|"]
            for node in nodes:
                u = self.by_node.get(node, UsageTotals())
                lines.append(f"| {node} | {u.calls} | {u.input_tokens:,} | {u.output_tokens:,}"
                             f" | {u.cost_text() if u.calls else '—'} |"
                             f" {format_amount('time', self.node_time_s.get(node, 0.0))} |")
            lines.append("")
        return lines
