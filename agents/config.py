"""Light configuration types: providers, model references, budgets (no heavy imports).

The CLI and the settings load these without importing LangChain, so ``multicoder --help``
starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["planner", "coder", "judge"]
ROLES: tuple[Role, ...] = ("planner", "coder", "judge")


class ModelConfigError(ValueError):
    """The model configuration cannot work (unknown provider or model, no key, bad reference)."""


class ProviderAuthError(RuntimeError):
    """The provider refused the key (HTTP 401/403)."""


class ProviderUnavailable(RuntimeError):
    """Every model of a role failed after retries; the message lists each model's error."""


class ModelPrice(BaseModel):
    """What a model costs, in US dollars per million tokens (input and output priced apart)."""

    input: float = Field(ge=0, description="USD per million input (prompt) tokens")
    output: float = Field(ge=0, description="USD per million output (completion) tokens")

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The cost in USD of one call with these token counts."""
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


class ProviderConfig(BaseModel):
    """One provider: where it is, which key it needs, how patient to be, what it costs.

    ``kind="openai"`` is any OpenAI-compatible endpoint; ``kind="replay"`` plays cassettes from
    ``cassette_dir`` (the model name is a cassette name or a path to a ``.jsonl`` file).
    ``prices`` maps a model name (as in ``provider:model``) to its price; the key ``"*"``
    prices every other model of the provider (local servers: 0). A model without a price
    has an unknown cost: the run's report says so and the cost budget cannot cover it.
    """

    kind: Literal["openai", "replay"] = "openai"
    base_url: str | None = None
    api_key_env: str | None = Field(default=None,
                                    description="Environment variable holding the key")
    needs_key: bool = True
    cassette_dir: Path | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    enabled: bool = True
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict, description="Model name (or '*') -> USD per million tokens")

    def price_of(self, model: str) -> ModelPrice | None:
        """The price of ``model`` (a replay costs nothing); None when unknown."""
        if self.kind == "replay":
            return ModelPrice(input=0, output=0)
        return self.prices.get(model) or self.prices.get("*")


class ModelRef(BaseModel):
    """A ``provider:model`` reference."""

    provider: str
    model: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse ``provider:model``; the model part may itself contain ``:`` or ``/``.

        Raises:
            ModelConfigError: no ``:`` or an empty part.

        """
        provider, sep, model = text.strip().partition(":")
        if not sep or not provider or not model:
            raise ModelConfigError(
                f"model '{text}' is not PROVIDER:MODEL (for example openai:gpt-4.1)")
        return cls(provider=provider, model=model)

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"



BudgetName = Literal["tokens", "cost", "calls", "time"]
"""The per-run budgets: tokens (input + output), cost (USD), model calls, wall time (s)."""

#: For each budget: the setting that sets it, the ``resume`` option that raises it, its unit.
BUDGET_SETTINGS: dict[BudgetName, tuple[str, str, str]] = {
    "tokens": ("limits.max_tokens", "--max-tokens", "tokens"),
    "cost": ("limits.max_cost_usd", "--max-cost", "USD"),
    "calls": ("limits.max_model_calls", "--max-calls", "model calls"),
    "time": ("limits.max_wall_time_s", "--max-time", "seconds"),
}


def format_amount(budget: BudgetName, value: float) -> str:
    """A budget figure for people: ``1,234 tokens``, ``$0.42``, ``1 h 05 min``.

    ``value`` is in the budget's unit (tokens, USD, calls, seconds).
    """
    if budget == "cost":
        return f"${value:,.2f}"
    if budget == "time":
        minutes = int(value // 60)
        return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else (
            f"{minutes} min {int(value % 60):02d} s" if minutes else f"{value:.0f} s")
    return f"{int(value):,} {BUDGET_SETTINGS[budget][2]}"


class BudgetExceeded(RuntimeError):
    """A run reached one of its budgets; it stops cleanly, saved and resumable.

    Attributes:
        budget: which budget ("tokens", "cost", "calls" or "time").
        limit: the budget's limit (tokens, USD, calls or seconds).
        spent: what the run has spent of it so far (same unit).
        run_id: the run, when known (the message then names the exact command to continue).

    """

    def __init__(self, budget: BudgetName, limit: float, spent: float, run_id: str = "") -> None:
        self.budget = budget
        self.limit = limit
        self.spent = spent
        self.run_id = run_id
        setting, option, _ = BUDGET_SETTINGS[budget]
        example = {"tokens": "N", "cost": "USD", "calls": "N", "time": "2h"}[budget]
        super().__init__(
            f"the run reached its {budget} budget: {format_amount(budget, spent)} spent of"
            f" {format_amount(budget, limit)}. Raise it and continue with `multicoder resume"
            f" {run_id or 'RUN_ID'} {option} {example}` (or the setting {setting}; 0 means"
            " no limit)")


@dataclass(frozen=True)
class Limits:
    """Budgets of a run.

    The four spending budgets cover the whole run, across resumes; ``None`` means no limit.
    They are checked before each model call, so the call that crosses a limit still finishes.

    Attributes:
        max_tokens: input + output tokens of every model call of the run.
        max_cost_usd: the run's model cost in US dollars (calls of models with a known price).
        max_model_calls: answered model calls (an answer replayed from the run's own records
            is not a new call).
        max_wall_time_s: the run's active time in seconds, summed over its sessions (time spent
            waiting for a person or stopped does not count).
        max_repair_rounds: tester failures sent back to the coder before asking a person.
        max_coder_turns: model calls per coder round before the round is cut short.
        check_timeout_s: time limit of each check (seconds).
        build_timeout_s: time limit of the PyInstaller build (seconds).
        gui_stay_up_s: how long a GUI must stay up in the headless run (seconds).
        context_tokens: the most tokens one prompt may hold; a longer conversation is
            compressed (older turns summarised, the newest kept verbatim).
        recall_tokens: the most tokens of recalled memory (past runs, lessons, fixes) one
            prompt may hold; 0 turns recall off.
        paranoid: the tester's warnings also fail a check round (rework), not only its
            errors (the setting ``paranoid``).

    """

    max_tokens: int | None = 2_000_000
    max_cost_usd: float | None = 5.0
    max_model_calls: int | None = 400
    max_wall_time_s: float | None = 7200.0
    max_repair_rounds: int = 3
    max_coder_turns: int = 40
    check_timeout_s: float = 300.0
    build_timeout_s: float = 1200.0
    gui_stay_up_s: float = 4.0
    context_tokens: int = 100_000
    recall_tokens: int = 1_500
    paranoid: bool = True
