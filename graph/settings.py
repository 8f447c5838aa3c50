"""Settings: a TOML file overridden by environment variables, validated with pydantic-settings.

Where things are looked up, highest priority first:

1. environment variables ``MULTICODER_*`` (nested with ``__``, e.g.
   ``MULTICODER_MODELS__CODER=openai:gpt-4.1,deepseek:deepseek-chat``);
2. the TOML file at ``$MULTICODER_CONFIG`` or ``<user config dir>/multicoder/settings.toml``;
3. the defaults below.

API keys never live in the settings file: a provider names the environment variable that holds
its key (``api_key_env``), and the OS keyring (service ``multicoder``, user = provider name) is
asked when that variable is unset.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import keyring
import keyring.errors
from platformdirs import user_config_path, user_data_path
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agents.config import Limits, ModelPrice, ModelRef, ProviderConfig
from tools.appenv import DEFAULT_TOOLS as CHECK_TOOLS
from tools.sandbox.base import SANDBOX_IMAGE, SandboxLimits

if TYPE_CHECKING:  # httpx and the web tools load only when a run needs them
    from tools.web import WebClient

__all__ = [
    "CHECK_TOOLS",
    "DEFAULT_PRICES",
    "KEYRING_SERVICE",
    "MAX_KEYS",
    "SANDBOX_IMAGE",
    "KeyStoreError",
    "LimitSettings",
    "ProviderKeys",
    "RoleModels",
    "SandboxSettings",
    "Settings",
    "UISettings",
    "WebSettings",
    "config_file",
    "default_providers",
    "delete_key",
    "env_override",
    "key_entries",
    "keyring_backend",
    "lookup_key",
    "lookup_keys",
    "store_key",
]

KEYRING_SERVICE = "multicoder"
#: The most keys one provider may have in the keyring (``name``, ``name#2`` ...).
MAX_KEYS = 20
CASSETTE_DIR = Path(__file__).resolve().parent.parent / "datasets" / "cassettes"


#: List prices in USD per million tokens (input, output) of the built-in providers' usual
#: models, as of 2026. Prices change: override them in the settings, e.g.
#: ``[providers.openai.prices] "gpt-4.1" = {input = 2.0, output = 8.0}``.
DEFAULT_PRICES: dict[str, dict[str, ModelPrice]] = {
    "openai": {"gpt-4.1": ModelPrice(input=2.0, output=8.0),
               "gpt-4.1-mini": ModelPrice(input=0.4, output=1.6),
               "gpt-4.1-nano": ModelPrice(input=0.1, output=0.4),
               "o3": ModelPrice(input=2.0, output=8.0),
               "o4-mini": ModelPrice(input=1.1, output=4.4),
               "gpt-4o": ModelPrice(input=2.5, output=10.0),
               "gpt-4o-mini": ModelPrice(input=0.15, output=0.6)},
    "deepseek": {"deepseek-chat": ModelPrice(input=0.28, output=0.42),
                 "deepseek-reasoner": ModelPrice(input=0.28, output=0.42)},
    "gemini": {"gemini-2.5-pro": ModelPrice(input=1.25, output=10.0),
               "gemini-2.5-flash": ModelPrice(input=0.3, output=2.5)},
    "local": {"*": ModelPrice(input=0, output=0)},  # your own machine: no bill
}


def default_providers() -> dict[str, ProviderConfig]:
    """The providers MultiCoder knows out of the box (users add any OpenAI-compatible one).

    Prices of the usual models are included (:data:`DEFAULT_PRICES`, as of 2026; override
    them in the settings); local servers (ollama, lmstudio) cost nothing.
    """
    return {
        "openai": ProviderConfig(base_url="https://api.openai.com/v1",
                                 api_key_env="OPENAI_API_KEY", prices=DEFAULT_PRICES["openai"]),
        "openrouter": ProviderConfig(base_url="https://openrouter.ai/api/v1",
                                     api_key_env="OPENROUTER_API_KEY"),
        "deepseek": ProviderConfig(base_url="https://api.deepseek.com/v1",
                                   api_key_env="DEEPSEEK_API_KEY",
                                   prices=DEFAULT_PRICES["deepseek"]),
        "gemini": ProviderConfig(
            base_url="https://generativelanguage.googleapis.com/v1beta/openai/",
            api_key_env="GEMINI_API_KEY", prices=DEFAULT_PRICES["gemini"]),
        "ollama": ProviderConfig(base_url="http://localhost:11434/v1", needs_key=False,
                                 prices=DEFAULT_PRICES["local"]),
        "lmstudio": ProviderConfig(base_url="http://localhost:1234/v1", needs_key=False,
                                   prices=DEFAULT_PRICES["local"]),
        "replay": ProviderConfig(kind="replay", needs_key=False, cassette_dir=CASSETTE_DIR),
    }


def _split_refs(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


ModelList = Annotated[list[str], NoDecode, BeforeValidator(_split_refs)]


class RoleModels(BaseModel):
    """Ordered model references per role (first preferred, the rest are fallbacks)."""

    planner: ModelList = Field(default_factory=lambda: ["openai:o3", "deepseek:deepseek-reasoner"])
    coder: ModelList = Field(default_factory=lambda: ["openai:gpt-4.1", "deepseek:deepseek-chat"])
    judge: ModelList = Field(default_factory=lambda: ["openai:gpt-4.1-mini",
                                                      "deepseek:deepseek-chat"])

    @field_validator("planner", "coder", "judge")
    @classmethod
    def _parse(cls, refs: list[str]) -> list[str]:
        for ref in refs:
            ModelRef.parse(ref)
        return refs

    def refs(self) -> dict[str, list[ModelRef]]:
        """Role -> parsed references."""
        return {role: [ModelRef.parse(r) for r in getattr(self, role)]
                for role in ("planner", "coder", "judge")}


def _zero_is_unlimited(value: Any) -> Any:
    return None if value in (0, "0", "", "none", "None") else value


class LimitSettings(BaseModel):
    """Budgets (see :class:`agents.config.Limits`); for the four run budgets 0 means no limit.

    ``max_tokens`` (input + output tokens), ``max_cost_usd`` (US dollars, from the providers'
    prices), ``max_model_calls`` and ``max_wall_time_s`` (active seconds, summed over resumes)
    cover the whole run; a run that reaches one stops, saved, and ``multicoder resume RUN_ID
    --max-tokens/--max-cost/--max-calls/--max-time`` continues it with a higher limit.
    """

    max_tokens: Annotated[int | None, BeforeValidator(_zero_is_unlimited)] = Field(
        default=2_000_000, ge=1, description="Tokens (input + output) per run; 0: no limit")
    max_cost_usd: Annotated[float | None, BeforeValidator(_zero_is_unlimited)] = Field(
        default=5.0, gt=0, description="US dollars per run (known prices); 0: no limit")
    max_model_calls: Annotated[int | None, BeforeValidator(_zero_is_unlimited)] = Field(
        default=400, ge=1, description="Model calls per run; 0: no limit")
    max_wall_time_s: Annotated[float | None, BeforeValidator(_zero_is_unlimited)] = Field(
        default=7200.0, gt=0, description="Active seconds per run; 0: no limit")
    max_repair_rounds: int = Field(default=3, ge=0, le=20)
    max_coder_turns: int = Field(default=40, ge=1, le=500)
    check_timeout_s: float = Field(default=300.0, gt=0)
    build_timeout_s: float = Field(default=1200.0, gt=0)
    gui_stay_up_s: float = Field(default=4.0, ge=0.5, le=60)
    context_tokens: int = Field(
        default=100_000, ge=1_000, description="Most tokens in one prompt; longer conversations"
        " are compressed (older turns summarised, the newest kept verbatim)")
    recall_tokens: int = Field(
        default=1_500, ge=0, description="Most tokens of recalled memory in one prompt; 0: off")
    # the top-level setting ``paranoid``, handed in by Settings (not a [limits] key)
    _paranoid: bool = PrivateAttr(default=True)

    def to_limits(self) -> Limits:
        """The runtime form (with the settings' paranoid mode)."""
        return Limits(**self.model_dump(), paranoid=self._paranoid)


class SandboxSettings(BaseModel):
    """``[sandbox]``: where generated code runs (see :mod:`graph.sandboxes`)."""

    backend: Literal["auto", "docker", "bwrap", "local"] = Field(
        default="auto", description="auto: Docker if it answers, else bubblewrap; local only"
        " when chosen, and then unsandboxed")
    image: str = Field(default=SANDBOX_IMAGE, description="Docker image for the sandbox")
    memory_mb: int = Field(default=2048, ge=128)
    cpus: float = Field(default=2.0, gt=0)
    pids: int = Field(default=512, ge=16)
    tmpfs_mb: int = Field(default=512, ge=16)
    wall_time_s: float = Field(default=3600.0, gt=0, description="Lifetime of one Docker"
                               " container (a fresh one follows); bubblewrap: cap on each"
                               " command's time-out")

    def limits(self) -> SandboxLimits:
        """The runtime form."""
        return SandboxLimits(memory_mb=self.memory_mb, cpus=self.cpus, pids=self.pids,
                             tmpfs_mb=self.tmpfs_mb, wall_time_s=self.wall_time_s)


class WebSettings(BaseModel):
    """``[web]``: the coder's web tools (G10): search engine, GitHub API, cache, spacing.

    The GitHub token is not a setting: it is read from the environment variable named by
    ``github_token_env`` and sent only to ``github_api``'s host.
    """

    enabled: bool = Field(default=True, description="Offer the web actions to the coder")
    search: Literal["ddgs", "searxng"] = Field(
        default="ddgs", description="ddgs (DuckDuckGo and others) or a SearXNG instance")
    searxng_url: str = Field(default="http://localhost:8888",
                             description="The SearXNG instance (JSON format enabled)")
    github_api: str = Field(default="https://api.github.com", pattern=r"^https?://")
    github_token_env: str = Field(default="GITHUB_TOKEN",
                                  description="Environment variable holding a GitHub token")
    cache_ttl_s: float = Field(default=3600.0, ge=0, description="How long answers are reused")
    min_interval_s: float = Field(default=1.0, ge=0,
                                  description="Minimum seconds between requests to one host")
    timeout_s: float = Field(default=20.0, gt=0)
    max_download_mb: float = Field(default=50.0, gt=0)

    def client(self, data_dir: Path | None, token: str | None = None) -> WebClient:
        """The runtime form; its cache is ``<data_dir>/web-cache.sqlite`` (memory if None).

        Raises:
            WebError: a configured address is not http(s).

        """
        from tools.web import WebClient

        return WebClient.create(
            search=self.search, searxng_url=self.searxng_url, github_api=self.github_api,
            github_token=token, cache_path=data_dir / "web-cache.sqlite" if data_dir else None,
            cache_ttl_s=self.cache_ttl_s, min_interval_s=self.min_interval_s,
            timeout_s=self.timeout_s, max_download_bytes=int(self.max_download_mb * 1e6))


class MemorySettings(BaseModel):
    """``[memory]``: the archive and semantic memory (see docs/memory.md).

    ``embeddings`` chooses how texts become vectors for semantic recall:

    - ``lexical``: offline, from what MultiCoder installs; matches shared words and word
      pieces only (lexical, not semantic);
    - ``chroma``: Chroma's default local model (all-MiniLM-L6-v2, ONNX), semantic; it is
      downloaded on first use, so it needs the internet once;
    - ``PROVIDER:MODEL``: an OpenAI-compatible provider's embeddings endpoint (for example
      ``openai:text-embedding-3-small``), semantic; needs the provider's key.

    When the chosen embeddings cannot work, recall falls back to ``lexical`` and says so.
    """

    embeddings: str = Field(default="lexical", description="lexical, chroma or PROVIDER:MODEL")
    semantic: bool = Field(default=True, description="Keep semantic memory (ChromaDB) at all")


class UISettings(BaseModel):
    """``[ui]``: the desktop app's preferences (theme and language switch live)."""

    theme: Literal["system", "light", "dark"] = Field(
        default="system", description="system follows the OS colour scheme as it changes")
    language: Literal["auto", "en", "ru"] = Field(
        default="auto", description="auto: the system language when Russian, else English")
    sidebar_visible: bool = Field(default=True, description="The chat list is shown")


def config_file() -> Path:
    """The settings file: ``$MULTICODER_CONFIG`` or the user config dir's settings.toml."""
    override = os.environ.get("MULTICODER_CONFIG")
    return Path(override) if override else user_config_path("multicoder") / "settings.toml"


class Settings(BaseSettings):
    """Everything configurable. See the module docstring for where values come from."""

    model_config = SettingsConfigDict(env_prefix="MULTICODER_", env_nested_delimiter="__",
                                      extra="ignore")

    data_dir: Path = Field(default_factory=lambda: user_data_path("multicoder"),
                           description="Runs, the run index and the checkpoints live here")
    providers: dict[str, ProviderConfig] = Field(default_factory=default_providers)
    models: RoleModels = Field(default_factory=RoleModels)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    ui: UISettings = Field(default_factory=UISettings)
    paranoid: bool = Field(default=True, description="Paranoid mode: the tester's warnings"
                           " also send the work back for rework, not only its errors")
    retention_days: int | None = Field(default=90, ge=1,
                                       description="Finished runs older than this are removed")
    retention_keep_last: int = Field(default=20, ge=0,
                                     description="The newest runs always kept")

    @model_validator(mode="before")
    @classmethod
    def _merge_providers(cls, data: Any) -> Any:
        """User providers add to (or override fields of) the built-in ones."""
        if isinstance(data, dict) and isinstance(data.get("providers"), dict):
            merged: dict[str, Any] = {n: p.model_dump() for n, p in default_providers().items()}
            for name, value in data["providers"].items():
                base = merged.get(name, {})
                fields = (value.model_dump(exclude_unset=True)
                          if isinstance(value, BaseModel) else dict(value))
                if isinstance(fields.get("prices"), dict):  # a price added, not all replaced
                    fields["prices"] = dict(base.get("prices", {})) | fields["prices"]
                merged[name] = base | fields
            data = data | {"providers": merged}
        return data

    @model_validator(mode="after")
    def _hand_paranoid_to_limits(self) -> Settings:
        """The runs' limits carry paranoid mode to the tester (see LimitSettings.to_limits)."""
        self.limits = self.limits.model_copy()  # a shared instance stays as it was
        self.limits._paranoid = self.paranoid
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments, then the environment, then the TOML file."""
        return (init_settings, env_settings,
                TomlConfigSettingsSource(settings_cls, toml_file=config_file()))

    @property
    def runs_dir(self) -> Path:
        """``<data_dir>/runs``."""
        return self.data_dir / "runs"


class KeyStoreError(RuntimeError):
    """The OS keyring cannot store or delete a key (no backend, locked, or no such key)."""


def store_key(provider: str, key: str) -> None:
    """Store a provider's API key in the OS keyring (service ``multicoder``).

    Raises:
        KeyStoreError: no usable keyring (the message says to use the environment variable).

    """
    try:
        keyring.set_password(KEYRING_SERVICE, provider, key.strip())
    except keyring.errors.KeyringError as exc:
        raise KeyStoreError(f"the OS keyring is not available ({exc}); set the provider's"
                            " environment variable instead") from None


def delete_key(provider: str) -> None:
    """Remove a provider's key from the OS keyring.

    Raises:
        KeyStoreError: no key stored, or no usable keyring.

    """
    try:
        keyring.delete_password(KEYRING_SERVICE, provider)
    except keyring.errors.PasswordDeleteError:
        raise KeyStoreError(f"no key stored for {provider}") from None
    except keyring.errors.KeyringError as exc:
        raise KeyStoreError(f"the OS keyring is not available ({exc})") from None


def keyring_backend() -> str | None:
    """The name of the OS keyring backend in use, or None when there is none."""
    try:
        backend = keyring.get_keyring()
    except keyring.errors.KeyringError:
        return None
    module = type(backend).__module__
    return None if module.endswith((".fail", ".null")) else f"{module}.{type(backend).__name__}"


class ProviderKeys:
    """Looks up providers' API keys; the instance :data:`lookup_key` is the one to use.

    Calling it, ``lookup_key(provider, config)``, gives a provider's first API key: its
    environment variable, else the OS keyring's ``name`` entry, else None (a keyring without
    a usable backend, as on a headless Linux box, counts as "no key there").
    ``lookup_key.all_keys(provider, config)`` gives all of them (:func:`lookup_keys`), so a
    model selector (:class:`agents.models.ModelSelector`, through its ``KeyChain`` protocol)
    can move to the next key when a provider refuses one.
    """

    def __call__(self, provider: str, config: ProviderConfig) -> str | None:
        """A provider's first API key, or None (see the class docstring)."""
        if config.api_key_env and os.environ.get(config.api_key_env):
            return os.environ[config.api_key_env]
        try:
            return keyring.get_password(KEYRING_SERVICE, provider) or None
        except (keyring.errors.KeyringError, RuntimeError):
            return None

    def all_keys(self, provider: str, config: ProviderConfig) -> list[str]:
        """All of a provider's API keys, in the order to try (:func:`lookup_keys`)."""
        return lookup_keys(provider, config)

    def __repr__(self) -> str:
        return "lookup_key"


#: ``lookup_key(provider, config) -> key or None``; ``lookup_key.all_keys(...)`` -> every key.
lookup_key = ProviderKeys()

def key_entries(provider: str, count: int = MAX_KEYS) -> list[str]:
    """Keyring user names of a provider's keys, in order: ``name``, ``name#2``, ``name#3`` ..."""
    return [provider if index == 1 else f"{provider}#{index}" for index in range(1, count + 1)]


def lookup_keys(provider: str, config: ProviderConfig) -> list[str]:
    """All of a provider's API keys, in the order they are tried.

    First its environment variable (when set), then the OS keyring's ``name``, ``name#2``,
    ``name#3`` ... up to the first missing one (at most :data:`MAX_KEYS`); a key found twice
    is listed once. ``[]`` when there is none (a keyring without a usable backend counts as
    empty). The first is what :func:`lookup_key` returns.
    """
    found: list[str] = []
    if config.api_key_env and os.environ.get(config.api_key_env):
        found.append(os.environ[config.api_key_env])
    for entry in key_entries(provider):
        try:
            key = keyring.get_password(KEYRING_SERVICE, entry)
        except (keyring.errors.KeyringError, RuntimeError):
            break
        if not key:
            break
        if key not in found:
            found.append(key)
    return found


def env_override(*path: str) -> str | None:
    """The environment variable overriding the setting at ``path``, or None.

    ``path`` names the setting as in the file, e.g. ``("ui", "theme")`` or ``("paranoid",)``.
    Like pydantic-settings, names compare regardless of case, and a variable for a whole
    table (``MULTICODER_UI='{"theme": "dark"}'``) overrides the keys in it too. Returns the
    variable's name as it is spelled in the environment (only set, non-empty ones count).
    """
    prefix = Settings.model_config.get("env_prefix", "") or ""
    delimiter = Settings.model_config.get("env_nested_delimiter", "__") or "__"
    wanted = [(prefix + delimiter.join(path[:depth])).lower() for depth in range(len(path), 0, -1)]
    present = {name.lower(): name for name, value in os.environ.items() if value != ""}
    for candidate in wanted:  # the most specific first
        if candidate in present:
            return present[candidate]
    return None
