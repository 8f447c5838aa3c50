"""Token counting: the provider's tokenizer where one is available, else a safe estimate.

For OpenAI models :func:`counter_for` uses tiktoken's encoding for the model. tiktoken fetches
its BPE files from the internet on first use and caches them; on a machine without internet
that fetch fails (or, behind a silent firewall, hangs), so each encoding is loaded at most once
per process, in a background thread given :data:`LOAD_TIMEOUT_S` seconds. When it is not
there in time, or the model is not an OpenAI one (DeepSeek, Ollama, a replay ...), counts are
*estimated*: UTF-8 bytes / 3, rounded up, which over-counts English text and code (about 4
characters per token) and Cyrillic text (2 bytes per letter; tokenizers take 2 to 4 letters per
token), so a prompt that fits by the estimate fits for the model too (LangChain's
``count_tokens_approximately`` counts characters, which under-counts Cyrillic).
:attr:`TokenCounter.estimated` says which counter is in use, so events and reports can say
"estimated".

Message counts follow OpenAI's chat format: a few tokens of framing per message, the content,
each tool call's name and JSON arguments (as langchain-openai sends them), and the tool schemas
the model is offered.

A run keeps each role's counter for its whole life (:func:`run_counter`): the first time a
role's counter is chosen, its name is written to the run folder (:data:`PINNED_FILE`), and
later sessions of the run (a resume, a replay, a fork) count with that counter, whatever the
role's models are then. Compression folds a conversation where the counts say it is too long,
so the same counts give the same prompts, and the recorded answers stay valid.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage, ToolMessage

from agents.config import ModelRef, ProviderConfig

if TYPE_CHECKING:
    from agents.models import ModelSelector
    from memory.records import RunRecord

__all__ = ["ESTIMATE", "LOAD_TIMEOUT_S", "PINNED_FILE", "TIKTOKEN_PREFIX", "RunCounter",
           "TokenCounter", "counter_for", "counter_for_role", "counter_named", "pinned_counters",
           "run_counter"]

LOAD_TIMEOUT_S = 3.0
"""Seconds a tiktoken encoding may take to load (once per process) before estimates are used."""

MESSAGE_FRAMING = 4
"""Tokens of framing around each message (role, separators), as in OpenAI's chat format."""

REPLY_PRIMING = 3
"""Tokens that prime the model's reply, counted once per prompt."""

ESTIMATE = "estimate (UTF-8 bytes / 3)"
"""The name of the estimating counter."""

TIKTOKEN_PREFIX = "tiktoken:"
"""How the names of tiktoken's counters start (``tiktoken:o200k_base``)."""

PINNED_FILE = "tokens.json"
"""The run-folder file naming each role's counter for the run: ``{role: counter name}``."""

# one read-modify-write of a run's PINNED_FILE at a time (the roles of a run share the file)
_PIN_LOCK = threading.Lock()

# tiktoken encodings by name, loaded at most once per process (None: not available). A
# process-wide cache like tiktoken's own: the BPE files are large and do not change.
_ENCODINGS: dict[str, Any] = {}
_ENCODINGS_LOCK = threading.Lock()


class TokenCounter:
    """Counts tokens of texts, messages and tool schemas for one model.

    Args:
        name: the counter, for events and reports (``tiktoken:o200k_base`` or :data:`ESTIMATE`).
        encode: text -> token ids (a tokenizer), or None to estimate.

    """

    def __init__(self, name: str = ESTIMATE,
                 encode: Callable[[str], Sequence[int]] | None = None) -> None:
        self.name = name
        self._encode = encode

    @property
    def estimated(self) -> bool:
        """True when counts are estimates (no tokenizer for the model is available)."""
        return self._encode is None

    def count_text(self, text: str) -> int:
        """Tokens of ``text`` (estimated: UTF-8 bytes / 3, rounded up)."""
        if not text:
            return 0
        if self._encode is None:
            return math.ceil(len(text.encode("utf-8")) / 3)
        return len(self._encode(text))

    def count_message(self, message: BaseMessage) -> int:
        """Tokens of one chat message: framing, content, tool calls (name + JSON arguments)."""
        content = message.content if isinstance(message.content, str) else json.dumps(
            message.content, ensure_ascii=False)
        tokens = MESSAGE_FRAMING + self.count_text(content)
        for call in getattr(message, "tool_calls", None) or []:
            tokens += MESSAGE_FRAMING + self.count_text(call["name"]) + self.count_text(
                json.dumps(call["args"], ensure_ascii=False)) + self.count_text(
                str(call.get("id") or ""))
        if isinstance(message, ToolMessage):
            tokens += self.count_text(message.tool_call_id)
        if message.name:
            tokens += self.count_text(message.name)
        return tokens

    def count_messages(self, messages: Sequence[BaseMessage]) -> int:
        """Tokens of a whole prompt: every message plus the reply's priming."""
        return REPLY_PRIMING + sum(self.count_message(m) for m in messages)

    def count_tools(self, tools: Sequence[Mapping[str, Any]] | None) -> int:
        """Tokens of the tool schemas offered with a prompt (their JSON)."""
        if not tools:
            return 0
        return self.count_text(json.dumps(list(tools), ensure_ascii=False))

    def __repr__(self) -> str:
        return f"TokenCounter({self.name!r})"


def _load_encoding(name: str, timeout_s: float) -> Any:
    """The tiktoken encoding ``name``, or None when it cannot be loaded within ``timeout_s``.

    Tried once per process; the answer (even None) is remembered.
    """
    with _ENCODINGS_LOCK:
        if name in _ENCODINGS:
            return _ENCODINGS[name]
        loaded: list[Any] = []

        def load() -> None:
            try:
                import tiktoken

                loaded.append(tiktoken.get_encoding(name))
            except Exception:  # noqa: S110 - no network, no cache, a broken file: estimate
                pass

        # a daemon thread: a fetch hanging on a silent network cannot hold up the run or exit
        thread = threading.Thread(target=load, name=f"tiktoken-{name}", daemon=True)
        thread.start()
        thread.join(timeout_s)
        _ENCODINGS[name] = loaded[0] if loaded else None
        return _ENCODINGS[name]


def _encoding_name(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI model (``openai/gpt-4o`` too); None if unknown."""
    try:
        import tiktoken

        return tiktoken.encoding_name_for_model(model.rsplit("/", 1)[-1])
    except (ImportError, KeyError):
        return None


def counter_for(ref: ModelRef | None, provider: ProviderConfig | None, *,
                timeout_s: float | None = None) -> TokenCounter:
    """The token counter for a model: tiktoken's for OpenAI models, else the estimate.

    Args:
        ref: the model (``openai:gpt-4.1``); None gives the estimate.
        provider: its provider's configuration (only OpenAI-compatible providers are tried).
        timeout_s: most seconds to wait for the encoding on first use in this process
            (default :data:`LOAD_TIMEOUT_S`).

    Never raises and never waits more than ``timeout_s`` (once per encoding and process).

    """
    if ref is None or provider is None or provider.kind != "openai":
        return TokenCounter()
    name = _encoding_name(ref.model)
    if name is None:
        return TokenCounter()
    return _tiktoken_counter(name, timeout_s) or TokenCounter()


def _tiktoken_counter(encoding_name: str, timeout_s: float | None) -> TokenCounter | None:
    """The counter of tiktoken's ``encoding_name``, or None when it cannot be loaded."""
    encoding = _load_encoding(encoding_name, LOAD_TIMEOUT_S if timeout_s is None else timeout_s)
    if encoding is None:
        return None
    return TokenCounter(f"{TIKTOKEN_PREFIX}{encoding_name}", encoding.encode_ordinary)


def counter_named(name: str, *, timeout_s: float | None = None) -> TokenCounter | None:
    """The counter called ``name`` (a :attr:`TokenCounter.name`), or None if it cannot be had.

    Args:
        name: :data:`ESTIMATE`, or ``tiktoken:<encoding>`` (``tiktoken:o200k_base``).
        timeout_s: most seconds to wait for a tiktoken encoding on first use in this process
            (default :data:`LOAD_TIMEOUT_S`).

    Returns:
        The counter; None for a name this version does not know, or a tiktoken encoding that
        does not load in time (no internet and no cached BPE file). Never raises.

    """
    if name == ESTIMATE:
        return TokenCounter()
    if name.startswith(TIKTOKEN_PREFIX) and len(name) > len(TIKTOKEN_PREFIX):
        return _tiktoken_counter(name[len(TIKTOKEN_PREFIX):], timeout_s)
    return None


def counter_for_role(models: ModelSelector, role: str, *,
                     timeout_s: float | None = None) -> TokenCounter:
    """The counter for a role's first (preferred) model; see :func:`counter_for`."""
    ref = next(iter(models.models_for(role)), None)
    provider = models.providers.get(ref.provider) if ref is not None else None
    return counter_for(ref, provider, timeout_s=timeout_s)


@dataclass(frozen=True)
class RunCounter:
    """A role's token counter in one run, as the run folder pins it (see :func:`run_counter`).

    Attributes:
        counter: the counter to count with.
        pinned: the name of the counter the run chose first for the role (what its recorded
            prompts were counted with).
        new: True when the counter was chosen (and pinned) just now.

    """

    counter: TokenCounter
    pinned: str
    new: bool

    @property
    def differs(self) -> bool:
        """True when the pinned counter could not be had: counts differ from the run's own."""
        return self.counter.name != self.pinned


def pinned_counters(run_dir: Path) -> dict[str, str]:
    """The counters a run pinned, ``{role: counter name}`` (empty: none yet, or unreadable)."""
    try:
        data = json.loads((run_dir / PINNED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(role): name for role, name in data.items() if isinstance(name, str)}


def run_counter(record: RunRecord, models: ModelSelector, role: str, *,
                timeout_s: float | None = None) -> RunCounter:
    """The ``role``'s counter for the run of ``record``, pinned for the run's whole life.

    The first time in a run, the counter is chosen from the role's models
    (:func:`counter_for_role`) and its name written to ``<run>/tokens.json``
    (:data:`PINNED_FILE`, ``{role: counter name}``, other roles kept). Later, in any session
    of the run (a resume, or a replay or fork whose folder holds the original's file), the
    pinned counter is used even when the role's models would choose another: a
    ``tiktoken:<encoding>`` name loads that encoding. When the pinned counter cannot be had
    (the encoding does not load within ``timeout_s``, offline; a name this version does not
    know), the estimate is used and :attr:`RunCounter.differs` is True: the counts, and with
    them the points where the conversation is compressed, can differ from the run's own.

    Raises:
        OSError: the run folder cannot be written (the first time only).

    """
    with _PIN_LOCK:
        pins = pinned_counters(record.run_dir)
        pinned = pins.get(role)
        if pinned is None:
            counter = counter_for_role(models, role, timeout_s=timeout_s)
            record.write_json(PINNED_FILE, pins | {role: counter.name})
            return RunCounter(counter, counter.name, new=True)
    counter = counter_named(pinned, timeout_s=timeout_s) or TokenCounter()
    return RunCounter(counter, pinned, new=False)
