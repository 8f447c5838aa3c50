"""Models by role (G6): provider configuration, the model selector with fallback, replay.

A *model reference* is ``provider:model`` (``openai:gpt-4.1``, ``openrouter:deepseek/deepseek-r1``,
``replay:csv2xlsx-gui``). Each role (planner, coder, judge) has an ordered list of references;
:class:`ModelSelector` tries them in order. Within one model the OpenAI client retries 429, 5xx,
time-outs and dropped connections with exponential backoff (``max_retries``); when a model
still fails, the next one in the role's list is tried.

Any OpenAI-compatible endpoint works through ``langchain-openai`` (OpenAI, OpenRouter,
DeepSeek, Ollama, LM Studio, vLLM, any base URL). The ``replay`` provider plays back a
recorded cassette (:mod:`agents.cassette`) by call key.

A provider may have several keys: when the key lookup is a :class:`KeyChain` (it can list
all of a provider's keys), a key the provider refuses (401/403) makes the selector try the
provider's next key before it falls back to the next model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field, SecretStr

from agents.budget import RunBudget
from agents.cassette import HEADER_CALL_KEY, Cassette, CassetteError, CassetteRecorder
from agents.config import (
    ROLES,
    BudgetExceeded,
    ModelConfigError,
    ModelRef,
    ProviderAuthError,
    ProviderConfig,
    ProviderUnavailable,
    Role,
)

__all__ = ["ROLES", "BudgetExceeded", "KeyChain", "KeyLookup", "ModelConfigError", "ModelRef",
           "ModelSelector", "ModelUsage", "ProviderAuthError", "ProviderConfig",
           "ProviderUnavailable", "ReplayChatModel", "Role", "list_models"]

KeyLookup = Callable[[str, ProviderConfig], str | None]
"""``(provider name, config) -> key or None``: environment first, then the OS keyring."""


@runtime_checkable
class KeyChain(Protocol):
    """A :data:`KeyLookup` that can also list every key of a provider.

    ``lookup(name, config)`` is the first key (or None); ``lookup.all_keys(name, config)``
    all of them in the order to try (``[]`` when there is none). :class:`ModelSelector` moves
    to a provider's next key when the provider refuses one.
    """

    def __call__(self, provider: str, config: ProviderConfig) -> str | None:
        """The provider's first key, or None."""

    def all_keys(self, provider: str, config: ProviderConfig) -> list[str]:
        """Every key of the provider, in the order to try them."""


class ReplayChatModel(BaseChatModel):
    """A chat model that answers from a cassette, by the ``call_key`` passed at invoke time.

    ``model.invoke(messages, call_key="coder/0/3")`` returns the recorded answer.

    Raises:
        CassetteError: no answer recorded under the key (or no key given).

    """

    cassette: Any = Field(description="The agents.cassette.Cassette to play")
    model_name: str = "replay"

    @property
    def _llm_type(self) -> str:
        return "multicoder-replay"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        key = kwargs.get("call_key")
        if not isinstance(key, str):
            raise CassetteError("replay needs a call key")
        item = self.cassette.get(key)
        message = item.response.to_message(item.usage)
        if run_manager and isinstance(message.content, str) and message.content:
            run_manager.on_llm_new_token(message.content)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tool schemas (the recording already holds the tool calls)."""
        return self


@dataclass
class ModelUsage:
    """Tokens and calls per model reference (units: tokens)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    failures: int = 0


@dataclass
class ModelSelector:
    """Chooses the model for a role and falls back along the role's list.

    Args:
        roles: role -> ordered model references (first is preferred).
        providers: provider name -> configuration.
        key_lookup: finds a provider's key (never logged); when it is a :class:`KeyChain`,
            a refused key (401/403) makes the selector use the provider's next key (for this
            call and the later ones), with a ``key_rotated`` event, before falling back.
        recorder: when given, every answer is appended to the run's cassette, and an answer
            the run already recorded under a call key is returned again without asking the
            provider (a resumed or re-run node replays its calls identically, unpaid).
        on_event: called with small dicts about retries, fallbacks and usage (for the UI/log).
        budget: when given, checked before each provider call and charged after it.

    Raises (at construction through :meth:`validate`): nothing; call :meth:`validate` and
    :meth:`preflight` before starting work.

    """

    roles: Mapping[str, Sequence[ModelRef]]
    providers: Mapping[str, ProviderConfig]
    key_lookup: KeyLookup
    recorder: CassetteRecorder | None = None
    on_event: Callable[[dict[str, Any]], None] | None = None
    budget: RunBudget | None = None
    usage: dict[str, ModelUsage] = field(default_factory=dict)
    _unpriced: set[str] = field(default_factory=set)
    _models: dict[str, BaseChatModel] = field(default_factory=dict)
    _key_index: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- configuration checks -------------------------------------------------------------

    def validate(self) -> None:
        """Check every role has at least one usable model: known provider, key available.

        A fallback entry whose key is missing is skipped; a role with none usable is an error
        that names the variable to set.

        Raises:
            ModelConfigError: unknown role, provider or cassette, or no key for any model.

        """
        for role in ROLES:
            refs = list(self.roles.get(role, ()))
            if not refs:
                raise ModelConfigError(f"no model configured for role '{role}'")
            missing: list[str] = []
            usable = 0
            for ref in refs:
                config = self._provider(ref)
                if config.kind == "replay":
                    self._cassette_path(ref, config)
                    usable += 1
                elif not config.needs_key or self.key_lookup(ref.provider, config):
                    usable += 1
                else:
                    missing.append(config.api_key_env or f"the key of provider '{ref.provider}'")
            if not usable:
                names = " or ".join(dict.fromkeys(missing))
                raise ModelConfigError(
                    f"no API key for the {role} model ({refs[0]}): set {names}, or store it with"
                    f" `multicoder keys set {refs[0].provider}`")

    def preflight(self, timeout_s: float = 20.0) -> None:
        """Ask each configured OpenAI-compatible provider for its model list once.

        This proves the key works (401 is caught before any run is created) and that the model
        exists where the provider lists models. Providers that do not answer ``/models``
        (404) are trusted.

        Raises:
            ProviderAuthError: a provider refused its key.
            ModelConfigError: the provider answered and does not offer the model.

        """
        checked: dict[str, set[str] | None] = {}
        for role in ROLES:
            for ref in self.roles.get(role, ()):
                config = self._provider(ref)
                if config.kind != "openai":
                    continue
                if config.needs_key and not self.key_lookup(ref.provider, config):
                    continue
                if ref.provider not in checked:
                    checked[ref.provider] = self._list_models(ref.provider, config, timeout_s)
                offered = checked[ref.provider]
                if offered is not None and ref.model not in offered:
                    raise ModelConfigError(
                        f"provider '{ref.provider}' does not offer model '{ref.model}'"
                        f" (see `multicoder models {ref.provider}`)")

    def _list_models(self, name: str, config: ProviderConfig, timeout_s: float
                     ) -> set[str] | None:
        """The provider's models with its current key; a refused key moves to the next one.

        Raises:
            ProviderAuthError: the provider refused every key.

        """
        while True:
            used = self._key_index.get(name, 0)
            try:
                return set(list_models(name, config, self._current_key(name, config),
                                       timeout_s=timeout_s, max_retries=1))
            except ProviderAuthError:
                if not self._next_key(name, config, used):
                    raise
            except openai.NotFoundError:
                return None
            except ProviderUnavailable as exc:
                self._emit({"type": "preflight_warning", "provider": name, "error": str(exc)})
                return None

    # -- calls ------------------------------------------------------------------------------

    def invoke(self, role: str, messages: list[BaseMessage], *, key: str,
               tools: Sequence[dict[str, Any]] | None = None) -> AIMessage:
        """Ask the role's models in order until one answers.

        When the run's cassette already holds an answer for ``key`` (recorded by this run
        before a crash, a cancel, a budget stop or an interrupt), that answer is returned:
        no provider is asked and nothing is counted again. Otherwise the run's budget is
        checked first.

        Args:
            role: "planner", "coder" or "judge".
            messages: the conversation.
            key: the call key (see :mod:`agents.cassette`), recorded and sent to the provider
                as the ``X-MultiCoder-Call`` header.
            tools: OpenAI function-tool schemas the model may call.

        Raises:
            ProviderAuthError: every model failed and at least the last one refused its key.
            ProviderUnavailable: every model failed (errors of each listed).
            CassetteError: a replay model has no answer for ``key``.
            BudgetExceeded: a budget of the run is used up (nothing was asked).

        """
        recorded = self._recorded(key, messages)
        if recorded is not None:
            return recorded
        if self.budget is not None:
            self.budget.check()
        errors: list[str] = []
        auth_failed = False
        for ref in self.roles.get(role, ()):
            config = self._provider(ref)
            if config.kind == "openai" and config.needs_key and not self.key_lookup(
                    ref.provider, config):
                continue
            while True:
                used = self._key_index.get(ref.provider, 0)
                try:
                    answer = self._call(ref, config, messages, key, tools)
                except CassetteError:
                    raise
                except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                    if config.kind == "openai" and self._next_key(ref.provider, config, used):
                        continue  # the same model with the provider's next key
                    auth_failed = True
                    errors.append(f"{ref}: key refused (HTTP {exc.status_code})")
                except (openai.APIError, httpx.HTTPError, json.JSONDecodeError,
                        ValueError) as exc:
                    auth_failed = False
                    errors.append(f"{ref}: {_short(exc)}")
                else:
                    self._account(ref, answer)
                    if self.recorder is not None:
                        self.recorder.record(key, role, str(ref), messages, answer)
                    return answer
                break
            self.usage.setdefault(str(ref), ModelUsage()).failures += 1
            self._emit({"type": "model_fallback", "role": role, "model": str(ref),
                        "error": errors[-1]})
        detail = "; ".join(errors) or "no usable model"
        if auth_failed:
            raise ProviderAuthError(f"{role}: {detail}")
        raise ProviderUnavailable(f"{role}: every model failed: {detail}")

    def _recorded(self, key: str, messages: list[BaseMessage]) -> AIMessage | None:
        """The run's own recorded answer for ``key``, if it was asked the same way."""
        if self.recorder is None:
            return None
        item = self.recorder.get(key)
        if item is None:
            return None
        if item.request_hash is not None:
            stale = item.request_hash != self.recorder.fingerprint(messages)
        else:  # recorded before fingerprints: only the length can be compared
            stale = item.request is not None and len(item.request) != len(messages)
        if stale:
            # the same key with a different conversation: a stale answer must not be reused
            self._emit({"type": "recorded_answer_stale", "key": key,
                        "recorded_messages": len(item.request or []), "messages": len(messages)})
            return None
        self._emit({"type": "model_reused", "key": key, "model": item.model})
        return item.response.to_message(item.usage)

    def _call(self, ref: ModelRef, config: ProviderConfig, messages: list[BaseMessage],
              key: str, tools: Sequence[dict[str, Any]] | None) -> AIMessage:
        model = self._model(ref, config)
        runnable: Runnable[LanguageModelInput, BaseMessage] = (
            model.bind_tools(list(tools)) if tools else model)
        if config.kind == "replay":
            answer = runnable.invoke(messages, call_key=key)
        else:
            answer = runnable.invoke(messages, extra_headers={HEADER_CALL_KEY: key})
        if not isinstance(answer, AIMessage):
            raise ValueError(f"{ref} returned {type(answer).__name__}, not an AI message")
        return answer

    def _model(self, ref: ModelRef, config: ProviderConfig) -> BaseChatModel:
        name = str(ref)
        with self._lock:
            if name not in self._models:
                self._models[name] = self._build(ref, config)
            return self._models[name]

    def _build(self, ref: ModelRef, config: ProviderConfig) -> BaseChatModel:
        if config.kind == "replay":
            cassette = Cassette.load(self._cassette_path(ref, config))
            return ReplayChatModel(cassette=cassette, model_name=ref.model)
        from langchain_openai import ChatOpenAI

        key = self._current_key(ref.provider, config) or "not-needed"
        return ChatOpenAI(model=ref.model, base_url=config.base_url, api_key=SecretStr(key),
                          timeout=config.timeout_s, max_retries=config.max_retries)

    # -- keys -----------------------------------------------------------------------------

    def _all_keys(self, provider: str, config: ProviderConfig) -> list[str]:
        """Every key of ``provider`` in the order to try (one at most without a KeyChain)."""
        if isinstance(self.key_lookup, KeyChain):
            return list(self.key_lookup.all_keys(provider, config))
        key = self.key_lookup(provider, config)
        return [key] if key else []

    def _current_key(self, provider: str, config: ProviderConfig) -> str | None:
        """The key in use for ``provider`` (the first until one is refused), or None."""
        index = self._key_index.get(provider, 0)
        if index == 0:
            return self.key_lookup(provider, config)
        keys = self._all_keys(provider, config)
        return keys[min(index, len(keys) - 1)] if keys else None

    def _next_key(self, provider: str, config: ProviderConfig, refused: int) -> bool:
        """After key number ``refused`` (0-based) was refused: use the next key, if any.

        Returns True when another key is now in use (moved here or by another thread since
        the refused call started); the provider's models are built again with it.
        """
        keys = self._all_keys(provider, config)
        with self._lock:
            current = self._key_index.get(provider, 0)
            if current > refused:  # another call moved on already
                return current < len(keys)
            if refused + 1 >= len(keys):
                return False
            self._key_index[provider] = refused + 1
            for name in [n for n in self._models if n.startswith(f"{provider}:")]:
                del self._models[name]
        self._emit({"type": "key_rotated", "provider": provider, "refused": refused + 1,
                    "key": refused + 2, "keys": len(keys)})
        return True

    def _cassette_path(self, ref: ModelRef, config: ProviderConfig) -> Path:
        candidate = Path(ref.model)
        if candidate.suffix != ".jsonl" and config.cassette_dir is not None:
            candidate = config.cassette_dir / f"{ref.model}.jsonl"
        if not candidate.is_file():
            raise ModelConfigError(
                f"unknown replay cassette '{ref.model}' (looked for {candidate})")
        return candidate

    def _provider(self, ref: ModelRef) -> ProviderConfig:
        config = self.providers.get(ref.provider)
        if config is None:
            known = ", ".join(sorted(self.providers))
            raise ModelConfigError(f"unknown provider '{ref.provider}' (known: {known})")
        if not config.enabled:
            raise ModelConfigError(f"provider '{ref.provider}' is disabled in the settings")
        return config

    def _account(self, ref: ModelRef, answer: AIMessage) -> None:
        entry = self.usage.setdefault(str(ref), ModelUsage())
        entry.calls += 1
        meta = answer.usage_metadata
        tokens_in = meta["input_tokens"] if meta else 0
        tokens_out = meta["output_tokens"] if meta else 0
        entry.input_tokens += tokens_in
        entry.output_tokens += tokens_out
        config = self.providers.get(ref.provider)
        price = config.price_of(ref.model) if config is not None else None
        if price is None and str(ref) not in self._unpriced:
            self._unpriced.add(str(ref))
            self._emit({"type": "price_unknown", "model": str(ref),
                        "warning": f"no price is known for {ref}: its cost is not counted and"
                                   " the cost budget does not cover its calls (set"
                                   f" providers.{ref.provider}.prices)"})
        if self.budget is not None:
            self.budget.add(tokens_in, tokens_out, price)
        self._emit({"type": "model_call", "model": str(ref), "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "cost_usd": None if price is None else price.cost(tokens_in, tokens_out)})

    def _emit(self, event: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def models_for(self, role: str) -> Iterator[ModelRef]:
        """The role's model references, in fallback order."""
        yield from self.roles.get(role, ())


def list_models(name: str, config: ProviderConfig, key: str | None, *,
                timeout_s: float | None = None, max_retries: int | None = None) -> list[str]:
    """The model ids an OpenAI-compatible provider offers (``GET /models``), sorted.

    Raises:
        ProviderAuthError: the provider refused the key (401/403).
        openai.NotFoundError: the provider has no ``/models`` endpoint.
        ProviderUnavailable: any other failure (network, 5xx after retries, bad body).

    """
    client = openai.OpenAI(
        base_url=config.base_url, api_key=key or "not-needed",
        timeout=config.timeout_s if timeout_s is None else timeout_s,
        max_retries=config.max_retries if max_retries is None else max_retries)
    try:
        return sorted(m.id for m in client.models.list())
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise ProviderAuthError(
            f"provider '{name}' refused the API key (HTTP {exc.status_code});"
            f" check {config.api_key_env or 'its key'}") from None
    except openai.NotFoundError:
        raise
    except (openai.APIError, httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(f"provider '{name}': {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
