"""The control panel's engine side: settings edits, providers and keys, system status, data.

What the desktop Settings dialog does goes through here (U3, L3), so the interface holds no
business logic:

- :func:`update_settings` merges a change into the settings file (TOML, comments kept,
  validated before an atomic write);
- :func:`add_provider`, :func:`check_provider`, :func:`provider_statuses`: providers with
  status ``valid`` / ``error`` / ``missing`` / ``disabled``; a check lists the provider's models
  (which proves the key works); keys go to the OS keyring only;
- :func:`system_status`: every subsystem green / yellow / red with its reason, recent events
  and a recommendation, grouped from :func:`graph.diagnostics.diagnose` rows;
- :func:`export_settings` / :func:`import_settings`: the settings file, with the keys only when
  asked, then encrypted with a passphrase (Fernet, key derived with scrypt);
- :func:`stage_attachment`: copies a file the person attached into a staging folder in chunks,
  reporting progress, refusing files over 50 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graph.diagnostics import Health, State
from graph.settings import Settings

__all__ = [
    "SUBSYSTEMS",
    "ProviderStatus",
    "Subsystem",
    "add_provider",
    "check_provider",
    "clear_log",
    "export_settings",
    "import_settings",
    "provider_statuses",
    "remove_provider",
    "set_provider_enabled",
    "stage_attachment",
    "system_status",
    "update_settings",
]

#: The subsystems of the status panel, in display order (L3).
SUBSYSTEMS = ("providers", "sandbox", "build", "memory", "uploads", "web", "tester",
              "coordinator")

ProviderState = Literal["valid", "error", "missing", "disabled", "unchecked"]


class ProviderStatus(BaseModel):
    """A provider as the Providers tab shows it.

    Attributes:
        name: the provider's name in the settings.
        base_url: its OpenAI-compatible endpoint ("" for replay).
        state: ``valid`` (a check listed its models), ``error`` (the check failed: bad key,
            unreachable ...), ``missing`` (it needs a key and none is set), ``disabled``, or
            ``unchecked`` (a key is set but was not checked; no network was used).
        message: one line: what was found, in the person's terms (never the key).
        models: the models the check listed (empty unless ``valid``).
        keys: how many keys are stored for it (environment variable and keyring together).

    """

    model_config = ConfigDict(frozen=True)

    name: str
    base_url: str = ""
    state: ProviderState
    message: str = ""
    models: list[str] = Field(default_factory=list)
    keys: int = 0


class Subsystem(BaseModel):
    """One row of the status panel.

    Attributes:
        key: one of :data:`SUBSYSTEMS`.
        state: the worst state of its rows (ok = green, degraded = yellow, down = red).
        reason: one line (the worst row's reason).
        recommendation: what to do ("" when ok).
        rows: the diagnose rows it was made from (the "details").
        events: its recent events, newest last (one line each, at most 5).

    """

    key: str
    state: State
    reason: str
    recommendation: str = ""
    rows: list[Health] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)


def update_settings(changes: Mapping[str, Any], *, path: Path | None = None) -> Settings:
    """Merge ``changes`` (a nested mapping, e.g. ``{"ui": {"theme": "dark"}}``) into the
    settings file and return the settings as they now load.

    Tables are merged key by key; a value of None removes the key. The result is validated
    (the environment included) before the file is replaced atomically; comments survive.

    Args:
        changes: the change.
        path: the settings file (default :func:`graph.settings.config_file`).

    Raises:
        InputError: the change makes the settings invalid (nothing is written).

    """
    raise NotImplementedError


def add_provider(name: str, base_url: str, keys: Sequence[str] = (), *,
                 path: Path | None = None) -> Settings:
    """Add (or change the URL of) an OpenAI-compatible provider and store its keys in the OS
    keyring (the first as ``name``, more as ``name#2``, ``name#3`` ...).

    Raises:
        InputError: bad name (letters, digits, ``-``/``_``), a URL that is not http(s), or no
            usable keyring while keys were given (nothing is written then).

    """
    raise NotImplementedError


def remove_provider(name: str, *, path: Path | None = None) -> Settings:
    """Remove a provider the person added (built-in ones can only be disabled) and its keys.

    Raises:
        InputError: unknown or built-in provider, or a role still uses it.

    """
    raise NotImplementedError


def set_provider_enabled(name: str, enabled: bool, *, path: Path | None = None) -> Settings:
    """Enable or disable a provider.

    Raises:
        InputError: unknown provider.

    """
    raise NotImplementedError


def provider_statuses(settings: Settings) -> list[ProviderStatus]:
    """Every provider's status without the network: ``missing``, ``disabled`` or
    ``unchecked`` (replay and key-less local providers: ``unchecked`` with a message).
    """
    raise NotImplementedError


def check_provider(settings: Settings, name: str, *, key: str | None = None,
                   timeout_s: float = 10.0) -> ProviderStatus:
    """Check a provider by listing its models (``GET {base_url}/models``) with its key
    (``key`` overrides the stored one, to check before saving).

    Never raises for provider trouble: a 401/403 gives ``error`` "the key was refused", a
    timeout or connection error ``error`` with what happened; the key never appears.

    Raises:
        InputError: unknown provider.

    """
    raise NotImplementedError


def system_status(settings: Settings, *, offline: bool = True,
                  rows: Sequence[Health] | None = None,
                  coordinator_busy: bool | None = None) -> list[Subsystem]:
    """The status panel: one :class:`Subsystem` per :data:`SUBSYSTEMS` key, in that order.

    Args:
        settings: the settings.
        offline: do not contact providers (keys only looked up).
        rows: diagnose rows to group (default: :func:`graph.diagnostics.diagnose` now).
        coordinator_busy: whether the coordinator runs work (None: unknown).

    """
    raise NotImplementedError


def clear_log(settings: Settings, key: str) -> int:
    """Forget a subsystem's recent events shown in the panel (run records are never touched:
    nothing is lost, M1). Returns how many were cleared.

    Raises:
        InputError: unknown subsystem key.

    """
    raise NotImplementedError


def export_settings(target: Path, *, include_keys: bool = False,
                    passphrase: str | None = None, path: Path | None = None) -> Path:
    """Write the settings (and, when asked, every stored key encrypted with ``passphrase``) to
    ``target`` (JSON) atomically. Returns ``target``.

    Raises:
        InputError: ``include_keys`` without a passphrase of at least 8 characters.

    """
    raise NotImplementedError


def import_settings(source: Path, *, passphrase: str | None = None,
                    path: Path | None = None) -> Settings:
    """Replace the settings with an export (keys restored into the keyring when the export
    has them and ``passphrase`` decrypts them). The previous file is kept as
    ``settings.toml.bak``.

    Raises:
        InputError: not an export, invalid settings, or a wrong passphrase (nothing changed).

    """
    raise NotImplementedError


def stage_attachment(source: Path, staging_dir: Path,
                     on_progress: Callable[[int, int], None] | None = None,
                     cancelled: Callable[[], bool] | None = None) -> Path:
    """Copy an attached file into ``staging_dir`` in 1 MiB chunks.

    Args:
        source: the file the person chose, dropped or pasted.
        staging_dir: where attachments wait until the run starts (the engine then copies them
            into the run's workspace as inputs).
        on_progress: called with (bytes copied, total bytes) after each chunk.
        cancelled: polled between chunks; True stops and removes the partial copy.

    Returns:
        The staged copy's path (name kept; a numbered suffix when taken).

    Raises:
        InputError: not a file, or larger than 50 MB (nothing is copied), or cancelled.

    """
    raise NotImplementedError
