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

import base64
import binascii
import contextlib
import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import urlsplit

import keyring
import keyring.errors
import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource
from tomlkit.exceptions import TOMLKitError
from tomlkit.toml_document import TOMLDocument

from agents.config import ProviderConfig
from graph.diagnostics import Health, State, diagnose
from graph.errors import InputError
from graph.settings import (
    KEYRING_SERVICE,
    KeyStoreError,
    Settings,
    config_file,
    default_providers,
    delete_key,
    keyring_backend,
    lookup_key,
    store_key,
)
from memory.records import EVENTS_JSONL, atomic_write

__all__ = [
    "SUBSYSTEMS",
    "ProviderStatus",
    "Subsystem",
    "add_provider",
    "check_provider",
    "clear_log",
    "discard_attachment",
    "export_has_keys",
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

#: The largest file a person may attach (bytes); the engine refuses larger ones too.
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
#: Attachments are copied in chunks of this many bytes (progress is reported after each).
CHUNK_BYTES = 1024 * 1024
#: Where attachments wait until the run starts: ``<data_dir>/uploads``.
UPLOADS_DIR = "uploads"
#: The status panel's own state (when each subsystem's log was cleared): ``<data_dir>/...``.
STATUS_FILE = "status.json"
#: The ``format`` and ``version`` of a settings export.
EXPORT_FORMAT = "multicoder-settings"
EXPORT_VERSION = 1
#: The shortest passphrase that may protect exported keys.
MIN_PASSPHRASE = 8
#: The most keys one provider may have in the keyring (``name``, ``name#2`` ...).
MAX_KEYS = 20
#: The events each subsystem shows, from how many of the newest runs, read from how far
#: back in each events.jsonl (bytes), each cut to how many characters.
MAX_EVENTS = 5
EVENT_RUNS = 5
TAIL_BYTES = 256 * 1024
MAX_EVENT_CHARS = 200

PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
KEY_ENTRY = re.compile(r"[A-Za-z0-9_-]{1,64}(#[0-9]{1,3})?")
_RANK: dict[State, int] = {"ok": 0, "degraded": 1, "down": 2}


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
    """Merge ``changes`` into the settings file and return the settings as they now load.

    ``changes`` is a nested mapping, e.g. ``{"ui": {"theme": "dark"}}``. Tables are merged key
    by key; a value of None removes the key. The result is validated (the environment
    included) before the file is replaced atomically; comments survive.

    Args:
        changes: the change.
        path: the settings file (default :func:`graph.settings.config_file`).

    Raises:
        InputError: the change makes the settings invalid, or the file cannot be read or
            written (nothing is written).

    """
    target = path or config_file()
    document, settings = _prepared(target, changes)
    _write_document(target, document)
    return settings


def add_provider(name: str, base_url: str, keys: Sequence[str] = (), *,
                 path: Path | None = None) -> Settings:
    """Add (or change the URL of) an OpenAI-compatible provider and store its keys.

    The keys go to the OS keyring only: the first as ``name``, more as ``name#2``,
    ``name#3`` ... (keys stored before beyond the new ones are removed). A new provider's
    key may also come from the environment variable ``<NAME>_API_KEY``.

    Raises:
        InputError: bad name (letters, digits, ``-``/``_``), a URL that is not http(s), or no
            usable keyring while keys were given (nothing is written then).

    """
    name = name.strip()
    if not PROVIDER_NAME.fullmatch(name):
        raise InputError(f"the provider name '{name}' is not usable: use letters, digits, - and"
                         " _ (at most 64 characters)")
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"the address '{base_url.strip()}' is not an http(s) URL: give the"
                         " provider's OpenAI-compatible endpoint, e.g. https://host/v1")
    target = path or config_file()
    current = _load(target).providers.get(name)
    if current is not None and current.kind != "openai":
        raise InputError(f"'{name}' is a built-in {current.kind} provider: choose another name")
    change: dict[str, Any] = {"base_url": url}
    variable = current.api_key_env if current is not None else _key_variable(name)
    if current is None:
        change["api_key_env"] = variable
    document, settings = _prepared(target, {"providers": {name: change}})
    clean = [key.strip() for key in keys if key.strip()]
    if clean:
        _store_keys(name, clean, variable)
    _write_document(target, document)
    return settings


def remove_provider(name: str, *, path: Path | None = None) -> Settings:
    """Remove a provider the person added (built-in ones can only be disabled) and its keys.

    Raises:
        InputError: unknown or built-in provider, or a role still uses it.

    """
    target = path or config_file()
    settings = _load(target)
    if name not in settings.providers:
        raise InputError(f"unknown provider '{name}' (providers: {', '.join(settings.providers)})")
    if name in default_providers():
        raise InputError(f"'{name}' is built in: it can be disabled, not removed")
    users = [role for role, refs in settings.models.refs().items()
             if any(ref.provider == name for ref in refs)]
    if users:
        raise InputError(f"the {', '.join(users)} still use '{name}': give them other models"
                         " first")
    stored = len(_stored_keys(name))
    updated = update_settings({"providers": {name: None}}, path=target)
    for entry in _key_entries(name, stored):
        with contextlib.suppress(KeyStoreError):
            delete_key(entry)
    return updated


def set_provider_enabled(name: str, enabled: bool, *, path: Path | None = None) -> Settings:
    """Enable or disable a provider.

    Raises:
        InputError: unknown provider.

    """
    target = path or config_file()
    providers = _load(target).providers
    if name not in providers:
        raise InputError(f"unknown provider '{name}' (providers: {', '.join(providers)})")
    return update_settings({"providers": {name: {"enabled": bool(enabled)}}}, path=target)


def provider_statuses(settings: Settings) -> list[ProviderStatus]:
    """Every provider's status without the network, in the settings' order.

    ``missing`` (a key is needed and none is set), ``disabled``, or ``unchecked`` (a key is
    set; replay and key-less local providers too, with a message saying so).
    """
    statuses = []
    for name, provider in settings.providers.items():
        if not provider.enabled:
            statuses.append(_status(name, provider, "disabled", "disabled"))
        elif provider.kind == "replay":
            statuses.append(_status(name, provider, "unchecked", f"plays"
                                    f" {len(_cassettes(provider))} recorded cassettes (no"
                                    " network)"))
        elif not provider.needs_key:
            statuses.append(_status(name, provider, "unchecked", "no key needed (a local"
                                    " server); not checked yet"))
        elif lookup_key(name, provider):
            statuses.append(_status(name, provider, "unchecked", "a key is set; not checked"
                                    " yet"))
        else:
            statuses.append(_status(name, provider, "missing", _no_key(provider)))
    return statuses


def check_provider(settings: Settings, name: str, *, key: str | None = None,
                   timeout_s: float = 10.0) -> ProviderStatus:
    """Check a provider by listing its models (``GET {base_url}/models``) with its key.

    ``key`` overrides the stored one, to check before saving. Never raises for provider
    trouble: a 401/403 gives ``error`` "the key was refused", a timeout or connection error
    ``error`` with what happened; the key never appears in the message.

    Raises:
        InputError: unknown provider.

    """
    provider = settings.providers.get(name)
    if provider is None:
        raise InputError(f"unknown provider '{name}' (providers: {', '.join(settings.providers)})")
    if not provider.enabled:
        return _status(name, provider, "disabled", "disabled: enable it to check it")
    if provider.kind == "replay":
        names = _cassettes(provider)
        return _status(name, provider, "valid", f"{len(names)} recorded cassettes", names)
    secret = (key.strip() if key is not None else None) or (
        lookup_key(name, provider) if provider.needs_key else None)
    if provider.needs_key and not secret:
        return _status(name, provider, "missing", _no_key(provider))
    state, message, models = _list_models(provider.base_url or "", secret, timeout_s)
    return _status(name, provider, state, _scrub(message, secret), models)


def system_status(settings: Settings, *, offline: bool = True,
                  rows: Sequence[Health] | None = None,
                  coordinator_busy: bool | None = None) -> list[Subsystem]:
    """The status panel: one :class:`Subsystem` per :data:`SUBSYSTEMS` key, in that order.

    The sandbox is ``down`` when no sandbox can be used and ``degraded`` when a preferred
    backend is missing (no Docker) or runs are not isolated; providers that no role uses do
    not colour the providers row. With ``offline`` False semantic memory is opened and
    probed as well (a few seconds the first time).

    Args:
        settings: the settings.
        offline: do not contact providers (keys only looked up).
        rows: diagnose rows to group (default: :func:`graph.diagnostics.diagnose` now).
        coordinator_busy: whether the coordinator runs work (None: not started / unknown).

    """
    found = list(rows) if rows is not None else diagnose(settings, offline=offline)
    found += [_memory_row(settings, offline), _uploads_row(settings), _web_row(settings),
              _tester_row(settings), _coordinator_row(coordinator_busy)]
    grouped: dict[str, list[Health]] = {key: [] for key in SUBSYSTEMS}
    for row in found:
        key = _subsystem_of(row.component)
        if key is not None:
            grouped[key].append(row)
    events = _recent_events(settings)
    return [_subsystem(key, grouped[key], settings, events.get(key, [])[-MAX_EVENTS:])
            for key in SUBSYSTEMS]


def clear_log(settings: Settings, key: str) -> int:
    """Forget a subsystem's recent events shown in the panel.

    Run records are never touched (nothing is lost, M1): the time of the clearing is kept in
    ``<data_dir>/status.json`` and older events are no longer shown. Returns how many events
    were showing (counting those beyond the five shown).

    Raises:
        InputError: unknown subsystem key, or the data folder cannot be written.

    """
    if key not in SUBSYSTEMS:
        raise InputError(f"unknown subsystem '{key}' (subsystems: {', '.join(SUBSYSTEMS)})")
    count = len(_recent_events(settings).get(key, []))
    state = _read_status(settings)
    cleared = state.get("cleared") if isinstance(state.get("cleared"), dict) else {}
    cleared = dict(cleared or {}) | {key: datetime.now(UTC).isoformat(timespec="milliseconds")}
    try:
        atomic_write(settings.data_dir / STATUS_FILE,
                     json.dumps(state | {"cleared": cleared}, indent=2).encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write {settings.data_dir / STATUS_FILE}:"
                         f" {exc.strerror or exc}") from None
    return count


def export_settings(target: Path, *, include_keys: bool = False,
                    passphrase: str | None = None, path: Path | None = None) -> Path:
    """Write the settings (and, when asked, the stored keys) to ``target`` (JSON) atomically.

    The JSON is ``{"format": "multicoder-settings", "version": 1, "settings_toml": "...",
    "keys": null}``; with ``include_keys`` every key in the OS keyring (``{entry: key}``) is
    encrypted with ``passphrase`` (Fernet, key derived with scrypt) as ``"keys": {"salt":
    base64, "token": Fernet token}``. Returns ``target``.

    Raises:
        InputError: ``include_keys`` without a passphrase of at least 8 characters, or the
            settings or ``target`` cannot be read or written.

    """
    if include_keys and len(passphrase or "") < MIN_PASSPHRASE:
        raise InputError(f"exporting keys needs a passphrase of at least {MIN_PASSPHRASE}"
                         " characters")
    source = path or config_file()
    try:
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the settings file {source}: {exc}") from None
    keys: dict[str, str] | None = None
    if include_keys:
        keys = {}
        for name, provider in _load(source).providers.items():
            if provider.kind == "openai":
                keys |= dict(zip(_key_entries(name), _stored_keys(name), strict=False))
    payload: dict[str, Any] = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
                               "settings_toml": text, "keys": None}
    if keys is not None:
        from cryptography.fernet import Fernet

        salt = os.urandom(16)
        fernet = Fernet(_derive(passphrase or "", salt))
        payload["keys"] = {"salt": base64.b64encode(salt).decode("ascii"),
                           "token": fernet.encrypt(json.dumps(keys).encode("utf-8"))
                           .decode("ascii")}
    try:
        atomic_write(target, (json.dumps(payload, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def export_has_keys(source: Path) -> bool:
    """Whether a settings export carries encrypted keys (an import should ask for them).

    False when the file is unreadable or not an export: the import then says what is wrong.
    """
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(payload, dict) and payload.get("format") == EXPORT_FORMAT
            and payload.get("keys") is not None)


def import_settings(source: Path, *, passphrase: str | None = None,
                    path: Path | None = None) -> Settings:
    """Replace the settings with an export; the previous file is kept as ``settings.toml.bak``.

    Keys are restored into the keyring when the export has them and ``passphrase`` is given
    (without a passphrase only the settings are imported).

    Raises:
        InputError: not an export, invalid settings, a wrong passphrase, or no usable
            keyring for the keys (nothing changed).

    """
    payload = _read_export(source)
    text = payload["settings_toml"]
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise InputError(f"the settings in {source.name} are not valid TOML ({exc})") from None
    settings = _validated(document.unwrap())
    keys: dict[str, str] = {}
    if payload.get("keys") is not None and passphrase:
        keys = _decrypt_keys(payload["keys"], passphrase)
    if keys and keyring_backend() is None:
        raise InputError("the OS keyring is not available, so the keys in this export cannot"
                         " be restored: import without the passphrase and set each"
                         " provider's environment variable instead")
    for entry, key in keys.items():
        try:
            store_key(entry, key)
        except KeyStoreError as exc:
            raise InputError(str(exc)) from None
    target = path or config_file()
    try:
        if target.is_file():
            atomic_write(target.with_name(target.name + ".bak"), target.read_bytes())
        atomic_write(target, text.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write the settings file {target}: {exc.strerror or exc}"
                         ) from None
    return settings


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
        The staged copy's path (name kept; ``name-2.ext``, ``name-3.ext`` ... when taken).

    Raises:
        InputError: not a file, or larger than 50 MB (nothing is copied), or cancelled, or
            the copy failed (the partial copy is removed).

    """
    if not source.is_file():
        raise InputError(f"{source.name or source} is not a file: attach a file")
    try:
        total = source.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read {source.name}: {exc.strerror or exc}") from None
    if total > MAX_ATTACHMENT_BYTES:
        raise InputError(f"{source.name} is larger than 50 MB: attach a smaller file")
    try:
        staging_dir.mkdir(parents=True, exist_ok=True)
        target, handle = _claim(staging_dir, source.name)
    except OSError as exc:
        raise InputError(f"cannot stage {source.name} in {staging_dir}:"
                         f" {exc.strerror or exc}") from None
    copied = 0
    try:
        with handle, source.open("rb") as reader:
            while True:
                if cancelled is not None and cancelled():
                    raise _Cancelled
                chunk = reader.read(CHUNK_BYTES)
                if not chunk:
                    break
                copied += len(chunk)
                if copied > MAX_ATTACHMENT_BYTES:  # it grew while being copied
                    raise InputError(f"{source.name} is larger than 50 MB: attach a smaller"
                                     " file")
                handle.write(chunk)
                if on_progress is not None:
                    on_progress(copied, max(total, copied))
        if copied == 0 and on_progress is not None:
            on_progress(0, 0)
    except _Cancelled:
        target.unlink(missing_ok=True)
        raise InputError(f"attaching {source.name} was cancelled") from None
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise InputError(f"cannot copy {source.name}: {exc.strerror or exc}") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def discard_attachment(staged: Path, staging_dir: Path) -> None:
    """Remove a staged attachment the person took back (a no-op when it is gone).

    Only files directly inside ``staging_dir`` are removed: any other path is left alone.
    """
    try:
        if staged.resolve().parent != staging_dir.resolve():
            return
    except OSError:
        return
    staged.unlink(missing_ok=True)


# -- settings file ------------------------------------------------------------------------


def _load(path: Path) -> Settings:
    """The settings as they load from ``path`` (the environment applied over it)."""
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the settings file {path}: {exc}") from None
    try:
        return _validated(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the settings file {path} is not valid TOML ({exc}): fix or move it"
                         " aside") from None


def _read_document(path: Path) -> TOMLDocument:
    try:
        if not path.is_file():
            return tomlkit.document()
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the settings file {path}: {exc}") from None
    except TOMLKitError as exc:
        raise InputError(f"the settings file {path} is not valid TOML ({exc}): fix or move it"
                         " aside") from None


def _prepared(path: Path, changes: Mapping[str, Any]) -> tuple[TOMLDocument, Settings]:
    """The file's document with ``changes`` merged, and the settings it makes (validated)."""
    document = _read_document(path)
    _merge(document, changes)
    return document, _validated(document.unwrap())


def _write_document(path: Path, document: TOMLDocument) -> None:
    try:
        atomic_write(path, tomlkit.dumps(document).encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write the settings file {path}: {exc.strerror or exc}"
                         ) from None


def _merge(container: MutableMapping[str, Any], changes: Mapping[str, Any]) -> None:
    """Merge ``changes`` into a tomlkit container in place (None removes a key)."""
    for key, value in changes.items():
        if value is None:
            if key in container:
                del container[key]
        elif isinstance(value, Mapping):
            current = container.get(key)
            if not isinstance(current, MutableMapping):
                container[key] = tomlkit.table()
                current = container[key]
            _merge(current, value)
        else:
            container[key] = _toml_value(value)


def _toml_value(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, tuple | list):
        return [_toml_value(item) for item in value]
    return value


def _validated(data: dict[str, Any]) -> Settings:
    """Settings from ``data`` (a settings file's content) with the environment applied.

    Raises:
        InputError: invalid; the message is pydantic's first error, in one line.

    """

    class _Candidate(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return env_settings, InitSettingsSource(settings_cls, data)

    try:
        candidate = _Candidate()
    except ValidationError as exc:
        raise InputError(_first_error(exc)) from None
    # a plain Settings with the validated values (constructing or validating one again would
    # read the settings file and merge it back in)
    return Settings.model_construct(_fields_set=set(candidate.model_fields_set),
                                    **dict(candidate))


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "the settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) else f" (got {given!r:.80})"
    return f"invalid setting {where}: {message}{shown}"


# -- providers and keys -------------------------------------------------------------------


def _key_variable(name: str) -> str:
    """The environment variable a provider the person adds takes its key from."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_API_KEY"


def _key_entries(name: str, count: int = MAX_KEYS) -> list[str]:
    """Keyring user names of a provider's keys: ``name``, ``name#2``, ``name#3`` ..."""
    return [name if index == 1 else f"{name}#{index}" for index in range(1, count + 1)]


def _stored_keys(name: str) -> list[str]:
    """The provider's keys in the OS keyring, in order (up to the first gap)."""
    found = []
    for entry in _key_entries(name):
        try:
            key = keyring.get_password(KEYRING_SERVICE, entry)
        except (keyring.errors.KeyringError, RuntimeError):
            break
        if not key:
            break
        found.append(key)
    return found


def _key_count(name: str, provider: ProviderConfig) -> int:
    from_env = bool(provider.api_key_env and os.environ.get(provider.api_key_env))
    return int(from_env) + (len(_stored_keys(name)) if provider.kind == "openai" else 0)


def _store_keys(name: str, keys: Sequence[str], variable: str | None) -> None:
    """Store ``keys`` as ``name``, ``name#2`` ...; drop older extra ones.

    Raises:
        InputError: no usable keyring (nothing stored).

    """
    unavailable = (f"the OS keyring is not available; set the provider's environment variable"
                   f" ({variable or 'its key variable'}) instead")
    if keyring_backend() is None:
        raise InputError(unavailable)
    previous = len(_stored_keys(name))
    entries = _key_entries(name, max(len(keys), previous))
    try:
        for entry, key in zip(entries, keys, strict=False):
            store_key(entry, key)
    except KeyStoreError:
        raise InputError(unavailable) from None
    for entry in entries[len(keys):]:
        with contextlib.suppress(KeyStoreError):
            delete_key(entry)


def _status(name: str, provider: ProviderConfig, state: ProviderState, message: str,
            models: Sequence[str] = ()) -> ProviderStatus:
    return ProviderStatus(name=name, base_url=provider.base_url or "", state=state,
                          message=message, models=list(models), keys=_key_count(name, provider))


def _no_key(provider: ProviderConfig) -> str:
    where = f" or set {provider.api_key_env}" if provider.api_key_env else ""
    return f"no key: add one here{where}"


def _cassettes(provider: ProviderConfig) -> list[str]:
    folder = provider.cassette_dir
    return sorted(p.stem for p in folder.glob("*.jsonl")) if folder and folder.is_dir() else []


def _list_models(base_url: str, key: str | None, timeout_s: float
                 ) -> tuple[ProviderState, str, list[str]]:
    """``GET {base_url}/models``: (state, message, sorted model ids); never raises."""
    import httpx  # loaded only when a provider is checked

    url = base_url.rstrip("/") + "/models"
    host = urlsplit(url).netloc or base_url
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.get(url, headers=headers, timeout=timeout_s, follow_redirects=True)
    except httpx.TimeoutException:
        return "error", f"cannot reach {host}: no answer within {timeout_s:g} s", []
    except httpx.HTTPError as exc:
        return "error", f"cannot reach {host}: {_reason(exc)}", []
    except (ValueError, UnicodeError):  # a key httpx cannot put in a header
        return "error", "the key contains characters that cannot be sent: paste it again", []
    status = response.status_code
    if status in (401, 403):
        return "error", f"the key was refused (HTTP {status})", []
    if status == 404:
        return "error", f"{host} has no model list at {url} (HTTP 404): check the address", []
    if status != 200:
        return "error", f"the provider answered HTTP {status} {response.reason_phrase}", []
    try:
        body = response.json()
        models = sorted({str(item["id"]) for item in body["data"]})
    except (ValueError, KeyError, TypeError):
        return "error", "the provider answered, but not with a list of models", []
    return "valid", f"the key works: {len(models)} models", models


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text[:200]


def _scrub(text: str, key: str | None) -> str:
    """``text`` with every occurrence of ``key`` replaced by ``***``."""
    if not key:
        return text
    return text.replace(key, "***")


# -- status panel -------------------------------------------------------------------------

_COMPONENTS: dict[str, str] = {
    "keyring": "providers", "sandbox": "sandbox", "docker": "sandbox",
    "docker image": "sandbox", "bubblewrap": "sandbox", "python": "build",
    "platform": "build", "uv": "build", "settings": "build", "check tools": "build",
    "disk": "build", "semantic memory": "memory", "uploads": "uploads", "web": "web",
    "tester": "tester", "coordinator": "coordinator",
}


def _subsystem_of(component: str) -> str | None:
    if component in _COMPONENTS:
        return _COMPONENTS[component]
    if component.startswith(("provider ", "role ")):
        return "providers"
    if component.startswith("database "):
        return "memory"
    first = component.split()[0] if component.split() else ""
    return first if first in SUBSYSTEMS else None


def _effective(key: str, row: Health, rows: Sequence[Health], settings: Settings) -> State:
    """How much ``row`` colours its subsystem (its own state, or less; see system_status)."""
    if key == "providers" and row.component.startswith("provider "):
        used = {ref.provider for refs in settings.models.refs().values() for ref in refs}
        if row.component.removeprefix("provider ") not in used:
            return "ok"
    if key == "sandbox" and row.component != "sandbox":
        main = next((r for r in rows if r.component == "sandbox"), None)
        if main is not None:
            if main.state != "ok":
                return "ok"  # the backend runs use (or none) says it all
            if row.component == "bubblewrap" and main.reason.startswith("runs use docker"):
                return "ok"  # only the fallback of a working Docker
            return "degraded" if row.state != "ok" else "ok"  # a missing alternative
    return row.state


def _subsystem(key: str, rows: list[Health], settings: Settings, events: list[str]
               ) -> Subsystem:
    if not rows:
        return Subsystem(key=key, state="degraded", reason="not checked", events=events)
    weighed = [(_RANK[_effective(key, row, rows, settings)], -index, row)
               for index, row in enumerate(rows)]
    rank, _, worst = max(weighed, key=lambda item: (item[0], item[1]))
    state: State = ("ok", "degraded", "down")[rank]
    if state == "ok":
        return Subsystem(key=key, state="ok", reason=_ok_reason(key, rows, settings),
                         rows=rows, events=events)
    return Subsystem(key=key, state=state, reason=f"{worst.component}: {worst.reason}",
                     recommendation=worst.recommendation, rows=rows, events=events)


def _ok_reason(key: str, rows: list[Health], settings: Settings) -> str:
    by_name = {row.component: row.reason for row in rows}
    if key == "providers":
        enabled = sum(1 for p in settings.providers.values() if p.enabled)
        return f"every role has a usable model; {enabled} providers enabled"
    if key == "build":
        return "; ".join(by_name[c] for c in ("uv", "disk") if c in by_name) or rows[0].reason
    if key == "memory" and "semantic memory" in by_name:
        return by_name["semantic memory"]
    return by_name.get(key, rows[0].reason)


def _memory_row(settings: Settings, offline: bool) -> Health:
    """Semantic memory: off, not created yet, or its embedder and item counts."""
    from memory.semantic import SEMANTIC_DIR

    component = "semantic memory"
    if not settings.memory.semantic:
        return Health(component=component, state="ok", reason="off ([memory] semantic = false):"
                      " runs do not recall past work")
    embeddings = settings.memory.embeddings.strip()
    if not (settings.data_dir / SEMANTIC_DIR).exists():
        return Health(component=component, state="ok", reason=f"{embeddings} embeddings; empty"
                      " until the first run learns")
    if offline and embeddings.lower() != "lexical":
        return Health(component=component, state="ok", reason=f"{embeddings} embeddings (not"
                      " probed: offline)")
    from graph.memory import memory_status

    try:
        status = memory_status(settings)
    except InputError as exc:
        return Health(component=component, state="down", reason=str(exc),
                      recommendation="runs go on without recall; see `multicoder memory"
                      " status`")
    except Exception as exc:  # a damaged store must not break the panel
        return Health(component=component, state="down", reason=_reason(exc),
                      recommendation="run `multicoder memory rebuild --fresh`")
    items = sum(status.counts.values())
    if embeddings.lower() != "lexical" and not status.semantic:
        return Health(component=component, state="degraded",
                      reason=f"{embeddings} cannot be used: {status.embedder}",
                      recommendation="check [memory] embeddings (recall falls back to shared"
                      " words meanwhile)")
    return Health(component=component, state="ok", reason=f"{status.embedder}; {items} items")


def _uploads_row(settings: Settings) -> Health:
    folder = settings.data_dir / UPLOADS_DIR
    probe = folder if folder.exists() else next(
        (p for p in folder.parents if p.exists()), Path.home())
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        return Health(component="uploads", state="down", reason=f"{probe} is not writable",
                      recommendation="choose a writable data folder in Settings > General")
    free = shutil.disk_usage(probe).free
    text = f"{folder}: writable, {free / 1024**3:.1f} GB free; files up to 50 MB"
    if free < 2 * MAX_ATTACHMENT_BYTES:
        return Health(component="uploads", state="down", reason=text,
                      recommendation="free disk space to attach files")
    if free < 10 * MAX_ATTACHMENT_BYTES:
        return Health(component="uploads", state="degraded", reason=text,
                      recommendation="free disk space: only a few files fit")
    return Health(component="uploads", state="ok", reason=text)


def _web_row(settings: Settings) -> Health:
    web = settings.web
    if not web.enabled:
        return Health(component="web", state="ok", reason="off: the coder works without web"
                      " search ([web] enabled = false)")
    if web.search == "searxng" and not web.searxng_url.startswith(("http://", "https://")):
        return Health(component="web", state="down",
                      reason=f"the SearXNG address '{web.searxng_url}' is not http(s)",
                      recommendation="set [web] searxng_url to your instance's address")
    engine = "SearXNG at " + web.searxng_url if web.search == "searxng" else "DuckDuckGo (ddgs)"
    token = "set" if os.environ.get(web.github_token_env) else "not set (lower rate limits)"
    return Health(component="web", state="ok", reason=f"on: search via {engine}; GitHub token"
                  f" {token}")


def _tester_row(settings: Settings) -> Health:
    if settings.paranoid:
        return Health(component="tester", state="ok", reason="paranoid mode on: warnings send"
                      " the work back for rework, as errors do")
    return Health(component="tester", state="degraded", reason="paranoid mode off: only errors"
                  " send the work back; warnings pass",
                  recommendation="turn paranoid mode on so warnings are fixed too")


def _coordinator_row(busy: bool | None) -> Health:
    reason = {None: "not started", True: "running work", False: "idle"}[busy]
    return Health(component="coordinator", state="ok", reason=reason)


# -- recent events --------------------------------------------------------------------------

_EVENT_SUBSYSTEMS: dict[str, str] = {
    "model_fallback": "providers", "preflight_warning": "providers",
    "sandbox_chosen": "sandbox",
    "packaging_built": "build", "packaging_failed": "build",
    "recall_failed": "memory", "learn_failed": "memory", "learned": "memory",
    "web_action": "web", "check_result": "tester",
    "run_created": "coordinator", "run_finished": "coordinator", "run_failed": "coordinator",
    "run_cancelled": "coordinator", "budget_exceeded": "coordinator",
}


def _recent_events(settings: Settings) -> dict[str, list[str]]:
    """Subsystem -> event lines (oldest first) of the newest runs, after its last clearing."""
    cleared = _read_status(settings).get("cleared")
    since = {key: _parse_time(value) for key, value in (
        cleared.items() if isinstance(cleared, dict) else ())}
    found: dict[str, list[tuple[datetime, str]]] = {}
    for run_dir in _newest_runs(settings.runs_dir):
        for event in _tail_events(run_dir / EVENTS_JSONL):
            kind = str(event.get("type", ""))
            key = _EVENT_SUBSYSTEMS.get(kind)
            if key is None or (kind == "check_result" and (event.get("passed")
                                                           or event.get("skipped"))):
                continue
            when = _parse_time(event.get("ts"))
            cleared_at = since.get(key)
            if when is None or (cleared_at is not None and when <= cleared_at):
                continue
            line = f"{when.astimezone():%Y-%m-%d %H:%M} {run_dir.name}: {_summary(kind, event)}"
            found.setdefault(key, []).append((when, line[:MAX_EVENT_CHARS]))
    return {key: [line for _, line in sorted(lines, key=lambda item: item[0])]
            for key, lines in found.items()}


def _newest_runs(runs_dir: Path) -> list[Path]:
    try:
        folders = [p for p in runs_dir.iterdir() if (p / EVENTS_JSONL).is_file()]
    except OSError:
        return []
    return sorted(folders, key=lambda p: p.name)[-EVENT_RUNS:]


def _tail_events(path: Path) -> list[dict[str, Any]]:
    """The readable events among the last :data:`TAIL_BYTES` of an events.jsonl file."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    lines = data.split(b"\n")
    if size > TAIL_BYTES:
        lines = lines[1:]  # the first is probably cut
    events = []
    for raw in lines:
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _summary(kind: str, event: Mapping[str, Any]) -> str:
    def get(name: str) -> str:
        value = event.get(name)
        return "" if value is None else str(value)

    if kind == "model_fallback":
        return f"{get('model')} failed, fell back: {get('error')}"
    if kind == "preflight_warning":
        return f"provider {get('provider')}: {get('error')}"
    if kind == "sandbox_chosen":
        isolated = "" if event.get("isolated") else " (NOT isolated)"
        return f"sandbox {get('backend')}{isolated}: {get('reason')}"
    if kind == "packaging_built":
        return f"built {get('path')}"
    if kind in ("packaging_failed", "recall_failed", "learn_failed", "run_failed",
                "budget_exceeded"):
        return f"{kind.replace('_', ' ')}: {get('error')}"
    if kind == "learned":
        return f"learned {get('count')} items"
    if kind == "web_action":
        outcome = "ok" if event.get("success") else f"failed: {get('error')}"
        return f"{get('action')} {get('target')}: {outcome}"
    if kind == "check_result":
        problems = event.get("problems")
        first = f": {problems[0]}" if isinstance(problems, list) and problems else ""
        return f"round {get('round')}: {get('check')} failed{first}"
    if kind == "run_finished":
        return f"run finished: {get('status')}"
    return kind.replace("_", " ")


def _parse_time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _read_status(settings: Settings) -> dict[str, Any]:
    try:
        data = json.loads((settings.data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- export / import ------------------------------------------------------------------------


def _derive(passphrase: str, salt: bytes) -> bytes:
    """A Fernet key from ``passphrase``: scrypt (n=2**15, r=8, p=1), urlsafe base64."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


def _read_export(source: Path) -> dict[str, Any]:
    not_export = f"{source.name} is not a MultiCoder settings export: choose a file made by Export"
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{source} does not exist: choose an export file") from None
    except (OSError, ValueError):
        raise InputError(not_export) from None
    if (not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT
            or not isinstance(payload.get("settings_toml"), str)):
        raise InputError(not_export)
    if payload.get("version") != EXPORT_VERSION:
        raise InputError(f"{source.name} is a settings export of version"
                         f" {payload.get('version')}; this MultiCoder reads version"
                         f" {EXPORT_VERSION}: update MultiCoder")
    return payload


def _decrypt_keys(sealed: Any, passphrase: str) -> dict[str, str]:
    """The ``{entry: key}`` of an export's ``keys``.

    Raises:
        InputError: a wrong passphrase or a damaged export.

    """
    from cryptography.fernet import Fernet, InvalidToken

    try:
        salt = base64.b64decode(sealed["salt"], validate=True)
        plain = Fernet(_derive(passphrase, salt)).decrypt(str(sealed["token"]).encode("ascii"))
    except InvalidToken:
        raise InputError("the passphrase does not open the keys in this export") from None
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise InputError("the keys in this export are damaged: export them again") from None
    try:
        keys = json.loads(plain)
    except ValueError:
        raise InputError("the keys in this export are damaged: export them again") from None
    if not isinstance(keys, dict):
        raise InputError("the keys in this export are damaged: export them again")
    return {str(entry): str(key) for entry, key in keys.items()
            if KEY_ENTRY.fullmatch(str(entry)) and key}


# -- attachments ----------------------------------------------------------------------------


class _Cancelled(Exception):
    """The person cancelled a copy."""


def _claim(folder: Path, name: str) -> tuple[Path, BinaryIO]:
    """Create ``folder/name`` (or ``name-2``, ``name-3`` ...) exclusively, open for writing."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(1, 10_000):
        target = folder / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            return target, target.open("xb")
        except FileExistsError:
            continue
    raise FileExistsError(f"too many files named {name} in {folder}")
