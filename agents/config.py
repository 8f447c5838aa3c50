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


class ProviderConfig(BaseModel):
    """One provider: where it is, which key it needs, how patient to be.

    ``kind="openai"`` is any OpenAI-compatible endpoint; ``kind="replay"`` plays cassettes from
    ``cassette_dir`` (the model name is a cassette name or a path to a ``.jsonl`` file).
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



@dataclass(frozen=True)
class Limits:
    """Budgets of a run.

    Attributes:
        max_repair_rounds: tester failures sent back to the coder before asking a person.
        max_coder_turns: model calls per coder round before the round is cut short.
        check_timeout_s: time limit of each check (seconds).
        build_timeout_s: time limit of the PyInstaller build (seconds).
        gui_stay_up_s: how long a GUI must stay up in the headless run (seconds).

    """

    max_repair_rounds: int = 3
    max_coder_turns: int = 40
    check_timeout_s: float = 300.0
    build_timeout_s: float = 1200.0
    gui_stay_up_s: float = 4.0
