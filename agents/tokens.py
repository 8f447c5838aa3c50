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
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage, ToolMessage

from agents.config import ModelRef, ProviderConfig

if TYPE_CHECKING:
    from agents.models import ModelSelector

__all__ = ["ESTIMATE", "LOAD_TIMEOUT_S", "TokenCounter", "counter_for", "counter_for_role"]

LOAD_TIMEOUT_S = 3.0
"""Seconds a tiktoken encoding may take to load (once per process) before estimates are used."""

MESSAGE_FRAMING = 4
"""Tokens of framing around each message (role, separators), as in OpenAI's chat format."""

REPLY_PRIMING = 3
"""Tokens that prime the model's reply, counted once per prompt."""

ESTIMATE = "estimate (UTF-8 bytes / 3)"
"""The name of the estimating counter."""

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
    encoding = _load_encoding(name, LOAD_TIMEOUT_S if timeout_s is None else timeout_s)
    if encoding is None:
        return TokenCounter()
    return TokenCounter(f"tiktoken:{name}", encoding.encode_ordinary)


def counter_for_role(models: ModelSelector, role: str) -> TokenCounter:
    """The counter for a role's first (preferred) model; see :func:`counter_for`."""
    ref = next(iter(models.models_for(role)), None)
    provider = models.providers.get(ref.provider) if ref is not None else None
    return counter_for(ref, provider)
