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
  asked, then encrypted with a passphrase (Fernet, key derived with scrypt); an import that
  would send stored keys elsewhere, turn the sandbox off or move the data folder is refused
  until confirmed (:func:`import_risks` lists those changes);
- :func:`stage_attachment` / :func:`stage_image`: copies a file the person attached (or the
  image they pasted) into a folder of its own in the staging folder, in chunks, reporting
  progress, refusing files over 50 MB; :func:`clean_staging` removes stale ones;
- :func:`launch_artifact` / :func:`artifact_folder`: the executable a run built, started only
  when it is still the file the build recorded.

Every read-merge-write of the settings file holds ``<settings file>.lock`` (a file lock), so
changes saved at once from several threads or processes are all kept.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import SplitResult, urlsplit

import keyring
import keyring.errors
import tomlkit
from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource
from tomlkit.exceptions import TOMLKitError
from tomlkit.toml_document import TOMLDocument

from agents.config import ProviderConfig
from graph.diagnostics import Health, State, diagnose
from graph.errors import InputError
from graph.settings import (
    KEYRING_SERVICE,
    MAX_KEYS,
    KeyStoreError,
    Settings,
    config_file,
    default_providers,
    delete_key,
    key_entries,
    keyring_backend,
    lookup_key,
    lookup_keys,
    store_key,
)
from memory.records import EVENTS_JSONL, atomic_write

__all__ = [
    "SUBSYSTEMS",
    "ProviderStatus",
    "Subsystem",
    "add_provider",
    "artifact_folder",
    "check_provider",
    "clean_staging",
    "clear_log",
    "discard_attachment",
    "export_has_keys",
    "export_settings",
    "import_risks",
    "import_settings",
    "launch_artifact",
    "provider_statuses",
    "remove_provider",
    "set_provider_enabled",
    "stage_attachment",
    "stage_image",
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
#: scrypt's cost parameters for exported keys (n: CPU/memory cost, 128 * r * n bytes of
#: memory: 128 MiB; about 0.4 s), recorded in the export; exports written before they were
#: recorded used n = 2**15.
KDF_N = 2**17
KDF_R = 8
KDF_P = 1
LEGACY_KDF_N = 2**15
#: How long a settings change waits for another one in progress (seconds).
LOCK_TIMEOUT_S = 10.0
#: Staged attachments older than this are stale (seconds): see :func:`clean_staging`.
STALE_STAGING_S = 24 * 3600
#: The events each subsystem shows, from how many of the newest runs, read from how far
#: back in each events.jsonl (bytes), each cut to how many characters.
MAX_EVENTS = 5
EVENT_RUNS = 5
TAIL_BYTES = 256 * 1024
MAX_EVENT_CHARS = 200

_REFUSED = "the key was refused"
#: A run id as a folder name (``20260101-120000-a1b2c3``; letters, digits, ``.``, ``_``, ``-``).
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: The build's own description of the executable, beside it in ``dist``.
MANIFEST_FILE = "manifest.json"
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
    included) before the file is replaced atomically; comments survive. The read, merge and
    write happen under the settings file's lock, so changes made at once are all kept.

    Args:
        changes: the change.
        path: the settings file (default :func:`graph.settings.config_file`).

    Raises:
        InputError: the change makes the settings invalid, the file cannot be read or
            written, or another change held the lock for 10 s (nothing is written).

    """
    target = path or config_file()
    with _settings_lock(target):
        return _update(target, changes)


def _update(target: Path, changes: Mapping[str, Any]) -> Settings:
    """:func:`update_settings` with the lock already held."""
    document, settings = _prepared(target, changes)
    _write_document(target, document)
    return settings


@contextlib.contextmanager
def _settings_lock(target: Path) -> Iterator[None]:
    """Hold ``<target>.lock`` (10 s at most to get it) around a read-merge-write of ``target``.

    Raises:
        InputError: the folder cannot be created, or the lock stayed taken for 10 s.

    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write the settings file {target}: {exc.strerror or exc}"
                         ) from None
    lock = FileLock(str(target) + ".lock", timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(f"the settings file {target} is being changed by another window or"
                         " program: try again in a moment") from None
    except OSError as exc:
        raise InputError(f"cannot lock the settings file {target}: {exc.strerror or exc}"
                         ) from None
    try:
        yield
    finally:
        lock.release()


def add_provider(name: str, base_url: str, keys: Sequence[str] = (), *,
                 path: Path | None = None) -> Settings:
    """Add (or change the URL of) an OpenAI-compatible provider and store its keys.

    The keys go to the OS keyring only: the first as ``name``, more as ``name#2``,
    ``name#3`` ... (keys stored before beyond the new ones are removed). A new provider's
    key may also come from the environment variable ``<NAME>_API_KEY``.

    The address must be ``https://``, or ``http://`` to this computer only (``localhost``,
    ``127.0.0.0/8``, ``::1``): plain http elsewhere would send the key unencrypted. It may
    not carry a user name, password, query (``?...``) or fragment (``#...``), which could
    hold a secret that would then be stored in the settings file and its exports; messages
    name only the host (and port).

    Raises:
        InputError: bad name (letters, digits, ``-``/``_``), an address that is not usable
            (see above), or no usable keyring while keys were given (nothing is written
            then).

    """
    name = name.strip()
    if not PROVIDER_NAME.fullmatch(name):
        raise InputError(f"the provider name '{name}' is not usable: use letters, digits, - and"
                         " _ (at most 64 characters)")
    url = _provider_url(base_url)
    target = path or config_file()
    with _settings_lock(target):
        current = _load(target).providers.get(name)
        if current is not None and current.kind != "openai":
            raise InputError(f"'{name}' is a built-in {current.kind} provider: choose another"
                             " name")
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


def _provider_url(base_url: str) -> str:
    """``base_url`` checked for :func:`add_provider` (stripped, without a trailing ``/``).

    Raises:
        InputError: not http(s) with a host; a user name, password, query or fragment in
            it; plain http to another computer.

    """
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = None
    if parts.scheme.lower() not in ("http", "https") or not host:
        shown = f" '{url}'" if "@" not in url and "?" not in url else ""
        raise InputError(f"the address{shown} is not an http(s) URL: give the provider's"
                         " OpenAI-compatible endpoint, e.g. https://host/v1")
    label = _host_label(parts)
    if "@" in parts.netloc:
        raise InputError(f"the address of {label} contains a user name or password: remove it"
                         " and give the key in the key field instead")
    if "?" in url or "#" in url:
        raise InputError(f"the address of {label} contains a query (?...) or fragment (#...):"
                         " remove it and give the key in the key field instead")
    if parts.scheme.lower() == "http" and not _loopback(host):
        raise InputError(f"plain http would send the key to {label} unencrypted: use https"
                         " (http is allowed only for this computer: localhost, 127.0.0.1, ::1)")
    return url


def _safe_url(url: str) -> str:
    """``url`` as ``scheme://host[:port]/path``: without user name, password, query, fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{_host_label(parts)}{parts.path}" if parts.scheme else url


def _host_label(parts: SplitResult) -> str:
    """``hostname`` or ``hostname:port`` of a URL (never its user name, password or path)."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


def _loopback(host: str) -> bool:
    """Whether ``host`` is this computer: ``localhost`` (or ``*.localhost``), 127/8, ``::1``."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def remove_provider(name: str, *, path: Path | None = None) -> Settings:
    """Remove a provider the person added (built-in ones can only be disabled) and its keys.

    Raises:
        InputError: unknown or built-in provider, or a role still uses it.

    """
    target = path or config_file()
    with _settings_lock(target):
        settings = _load(target)
        if name not in settings.providers:
            raise InputError(f"unknown provider '{name}' (providers:"
                             f" {', '.join(settings.providers)})")
        if name in default_providers():
            raise InputError(f"'{name}' is built in: it can be disabled, not removed")
        users = [role for role, refs in settings.models.refs().items()
                 if any(ref.provider == name for ref in refs)]
        if users:
            raise InputError(f"the {', '.join(users)} still use '{name}': give them other"
                             " models first")
        updated = _update(target, {"providers": {name: None}})
    stored = len(_stored_keys(name))
    for entry in key_entries(name, stored):
        with contextlib.suppress(KeyStoreError):
            delete_key(entry)
    return updated


def set_provider_enabled(name: str, enabled: bool, *, path: Path | None = None) -> Settings:
    """Enable or disable a provider.

    Raises:
        InputError: unknown provider.

    """
    target = path or config_file()
    with _settings_lock(target):
        providers = _load(target).providers
        if name not in providers:
            raise InputError(f"unknown provider '{name}' (providers: {', '.join(providers)})")
        return _update(target, {"providers": {name: {"enabled": bool(enabled)}}})


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
    """Check a provider by listing its models (``GET {base_url}/models``) with its keys.

    ``key`` overrides the stored ones, to check before saving. With several keys (the
    environment variable, then ``name``, ``name#2`` ... in the keyring: the order runs use
    them in) each is checked: ``valid`` when at least one works, and the message says which
    were refused ("keys 1 and 3 of 3 work: 12 models; key 2 was refused (HTTP 401)"). Never
    raises for provider trouble: a 401/403 gives ``error`` "the key was refused", a timeout
    or connection error ``error`` with what happened (the other keys are not tried then); no
    key ever appears in the message.

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
    given = key.strip() if key is not None else ""
    secrets_: list[str] = ([given] if given else
                           lookup_keys(name, provider) if provider.needs_key else [])
    if provider.needs_key and not secrets_:
        return _status(name, provider, "missing", _no_key(provider))
    if len(secrets_) <= 1:
        secret = secrets_[0] if secrets_ else None
        state, message, models = _list_models(provider.base_url or "", secret, timeout_s)
        return _status(name, provider, state, _scrub(message, secret), models)
    return _check_keys(name, provider, secrets_, timeout_s)


def _check_keys(name: str, provider: ProviderConfig, keys: list[str], timeout_s: float
                ) -> ProviderStatus:
    """Check each of several keys; ``valid`` when one works (see :func:`check_provider`)."""
    working: list[int] = []
    refused: list[str] = []
    models: list[str] = []
    for number, secret in enumerate(keys, 1):
        state, message, listed = _list_models(provider.base_url or "", secret, timeout_s)
        if state == "valid":
            working.append(number)
            models = models or listed
        elif message.startswith(_REFUSED):
            refused.append(f"key {number} {message.replace(_REFUSED, 'was refused', 1)}")
        else:  # the provider cannot be reached: the other keys would not tell more
            return _status(name, provider, "error", _scrub_all(message, keys))
    total = len(keys)
    if not working:
        return _status(name, provider, "error", f"none of the {total} keys works: "
                       + "; ".join(refused))
    numbers = (str(working[0]) if len(working) == 1 else
               ", ".join(map(str, working[:-1])) + f" and {working[-1]}")
    verb = "works" if len(working) == 1 else "work"
    text = (f"all {total} keys work" if len(working) == total else
            f"key{'s' if len(working) > 1 else ''} {numbers} of {total} {verb}")
    detail = f"; {'; '.join(refused)}" if refused else ""
    return _status(name, provider, "valid", f"{text}: {len(models)} models{detail}", models)


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
    encrypted with ``passphrase`` (Fernet, key derived with scrypt) as ``"keys": {"kdf":
    "scrypt", "n": 131072, "r": 8, "p": 1, "salt": base64, "token": Fernet token}`` (the
    scrypt parameters are recorded so later versions can raise them). Returns ``target``.

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
                keys |= dict(zip(key_entries(name), _stored_keys(name), strict=False))
    payload: dict[str, Any] = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
                               "settings_toml": text, "keys": None}
    if keys is not None:
        from cryptography.fernet import Fernet

        salt = os.urandom(16)
        fernet = Fernet(_derive(passphrase or "", salt, KDF_N, KDF_R, KDF_P))
        payload["keys"] = {"kdf": "scrypt", "n": KDF_N, "r": KDF_R, "p": KDF_P,
                           "salt": base64.b64encode(salt).decode("ascii"),
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


def import_risks(source: Path, *, path: Path | None = None) -> list[str]:
    """What importing ``source`` would change that the person should confirm first.

    One sentence each, e.g. "provider openai would send your stored key to https://x/v1
    instead of https://api.openai.com/v1", "runs would execute WITHOUT a sandbox (backend
    local)", "the data folder would move to /elsewhere (chats and runs stay in /here)".
    Checked: every provider whose key is available now (in the keyring, or in the
    environment variable the imported settings name) and whose address (or key variable)
    would change; the GitHub token's address; a switch to the ``local`` sandbox backend; a
    new data folder. ``[]`` when the import is harmless in these respects.

    Args:
        source: the export file.
        path: the settings file it would replace (default :func:`graph.settings.config_file`).

    Raises:
        InputError: not an export, or its settings are invalid (as :func:`import_settings`).

    """
    _payload, _text, document = _export_document(source)
    new = _validated(document.unwrap())
    return _import_risks(path or config_file(), document.unwrap(), new)


def import_settings(source: Path, *, passphrase: str | None = None,
                    path: Path | None = None, accept_risks: bool = False) -> Settings:
    """Replace the settings with an export; the previous file is kept as ``settings.toml.bak``.

    Keys are restored into the keyring when the export has them and ``passphrase`` is given
    (without a passphrase only the settings are imported); a provider's keys stored before
    beyond the imported ones (``name#k``) are removed. The settings file is written first;
    if the keys then cannot be stored, the previous file is put back (and the keys touched
    restored as far as the keyring allows) before the error is raised.

    Args:
        source: the export file.
        passphrase: opens the export's keys.
        path: the settings file (default :func:`graph.settings.config_file`).
        accept_risks: import even when :func:`import_risks` lists something (the person
            confirmed it); otherwise such an import is refused.

    Raises:
        InputError: not an export, invalid settings, risky changes not accepted (the message
            lists them), a wrong passphrase, no usable keyring for the keys, or the file
            cannot be written (nothing changed).

    """
    payload, text, document = _export_document(source)
    settings = _validated(document.unwrap())
    keys: dict[str, str] = {}
    if payload.get("keys") is not None and passphrase:
        keys = _decrypt_keys(payload["keys"], passphrase)
    if keys and keyring_backend() is None:
        raise InputError("the OS keyring is not available, so the keys in this export cannot"
                         " be restored: import without the passphrase and set each"
                         " provider's environment variable instead")
    target = path or config_file()
    with _settings_lock(target):
        risks = _import_risks(target, document.unwrap(), settings)
        if risks and not accept_risks:
            raise InputError(f"importing {source.name} would change where your keys go or how"
                             f" runs are protected: {'; '.join(risks)}. Confirm to import it"
                             " anyway (nothing was changed)")
        try:
            previous = target.read_bytes() if target.is_file() else None
            if previous is not None:
                atomic_write(target.with_name(target.name + ".bak"), previous)
            atomic_write(target, text.encode("utf-8"))
        except OSError as exc:
            raise InputError(f"cannot write the settings file {target}:"
                             f" {exc.strerror or exc}") from None
        try:
            _restore_keys(keys)
        except InputError:
            with contextlib.suppress(OSError):
                if previous is not None:
                    atomic_write(target, previous)
                else:
                    target.unlink(missing_ok=True)
            raise
    return settings


def _export_document(source: Path) -> tuple[dict[str, Any], str, TOMLDocument]:
    """An export's JSON, its settings text and that text's parsed document.

    Raises:
        InputError: not an export, or not valid TOML.

    """
    payload = _read_export(source)
    text = str(payload["settings_toml"])
    try:
        return payload, text, tomlkit.parse(text)
    except TOMLKitError as exc:
        raise InputError(f"the settings in {source.name} are not valid TOML ({exc})") from None


def _import_risks(target: Path, data: Mapping[str, Any], new: Settings) -> list[str]:
    """See :func:`import_risks`; ``data`` is the imported file's content, ``new`` its settings."""
    try:
        old = _load(target)
        old_data = tomllib.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    except (InputError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        old, old_data = _validated({}), {}
    risks: list[str] = []
    for name, provider in new.providers.items():
        if provider.kind != "openai":
            continue
        before = old.providers.get(name)
        url = provider.base_url or ""
        old_url = (before.base_url or "") if before is not None and before.kind == "openai" \
            else None
        stored = bool(_stored_keys(name)[:1])
        variable = provider.api_key_env
        in_env = bool(variable and os.environ.get(variable))
        if old_url is None or old_url != url:
            what = ("your stored key" if stored else
                    f"the key in {variable}" if in_env else None)
            if what is None:
                continue
            where = f" instead of {_safe_url(old_url)}" if old_url else ""
            risks.append(f"provider {name} would send {what} to {_safe_url(url)}{where}")
        elif in_env and before is not None and variable != before.api_key_env:
            risks.append(f"provider {name} would send the key in {variable} to"
                         f" {_safe_url(url)}")
    web, old_web = new.web, old.web
    if os.environ.get(web.github_token_env) and (
            web.github_api != old_web.github_api
            or web.github_token_env != old_web.github_token_env):
        risks.append(f"the GitHub token in {web.github_token_env} would be sent to"
                     f" {_safe_url(web.github_api)} instead of {_safe_url(old_web.github_api)}")
    file_backend = _table(data, "sandbox").get("backend", "auto")
    old_file_backend = _table(old_data, "sandbox").get("backend", "auto")
    if (new.sandbox.backend == "local" and old.sandbox.backend != "local") or (
            file_backend == "local" and old_file_backend != "local"):
        risks.append("runs would execute WITHOUT a sandbox (backend local)")
    if _same_folder(new.data_dir, old.data_dir) is False:
        risks.append(f"the data folder would move to {new.data_dir} (chats and runs stay in"
                     f" {old.data_dir})")
    return risks


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, Mapping) else {}


def _same_folder(one: Path, other: Path) -> bool:
    try:
        return one.expanduser().resolve() == other.expanduser().resolve()
    except OSError:
        return one == other


def _restore_keys(keys: Mapping[str, str]) -> None:
    """Store an import's keys (``{entry: key}``); drop each provider's stale extra entries.

    Raises:
        InputError: the keyring refused a key (the entries written are put back as they were,
            as far as the keyring allows).

    """
    # only entries this MultiCoder writes: name, name#2 ... name#20
    keys = {entry: key for entry, key in keys.items()
            if "#" not in entry or 2 <= int(entry.partition("#")[2]) <= MAX_KEYS}
    if not keys:
        return
    providers: dict[str, int] = {}
    for entry in keys:
        name, _, number = entry.partition("#")
        providers[name] = max(providers.get(name, 0), int(number) if number else 1)
    previous = {name: _stored_keys(name) for name in providers}
    written: list[tuple[str, str | None]] = []
    try:
        for entry, key in keys.items():
            name, _, number = entry.partition("#")
            index = int(number) - 1 if number else 0
            old = previous[name][index] if index < len(previous[name]) else None
            store_key(entry, key)
            written.append((entry, old))
    except KeyStoreError as exc:
        for entry, old in reversed(written):
            with contextlib.suppress(KeyStoreError):
                if old is None:
                    delete_key(entry)
                else:
                    store_key(entry, old)
        raise InputError(str(exc)) from None
    for name, count in providers.items():
        for entry in key_entries(name, len(previous[name]))[count:]:
            with contextlib.suppress(KeyStoreError):
                delete_key(entry)


def stage_attachment(source: Path, staging_dir: Path,
                     on_progress: Callable[[int, int], None] | None = None,
                     cancelled: Callable[[], bool] | None = None) -> Path:
    """Copy an attached file into a folder of its own in ``staging_dir``, in 1 MiB chunks.

    The copy is ``staging_dir/<unique id>/<original name>``: its name is kept exactly (the
    run's input is ``inputs/<original name>``), even when the same file is attached twice.

    Args:
        source: the file the person chose, dropped or pasted.
        staging_dir: where attachments wait until the run starts (the engine then copies them
            into the run's workspace as inputs).
        on_progress: called with (bytes copied, total bytes) after each chunk.
        cancelled: polled between chunks; True stops and removes the partial copy.

    Returns:
        The staged copy's path.

    Raises:
        InputError: not a file, or larger than 50 MB (nothing is copied), or cancelled, or
            the copy failed (the partial copy and its folder are removed).

    """
    if not source.is_file():
        raise InputError(f"{source.name or source} is not a file: attach a file")
    try:
        total = source.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read {source.name}: {exc.strerror or exc}") from None
    if total > MAX_ATTACHMENT_BYTES:
        raise InputError(f"{source.name} is larger than 50 MB: attach a smaller file")
    target, handle = _claim(staging_dir, source.name)
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
        _unclaim(target)
        raise InputError(f"attaching {source.name} was cancelled") from None
    except OSError as exc:
        _unclaim(target)
        raise InputError(f"cannot copy {source.name}: {exc.strerror or exc}") from None
    except BaseException:
        _unclaim(target)
        raise
    return target


def stage_image(data: bytes, staging_dir: Path, name: str = "pasted-image.png") -> Path:
    """Save an image the person pasted (already encoded, e.g. PNG bytes) as an attachment.

    Like :func:`stage_attachment`, it goes into a folder of its own:
    ``staging_dir/<unique id>/<name>``. Give each image of one message its own ``name``:
    the run gets its inputs by name.

    Args:
        data: the encoded image.
        staging_dir: the staging folder.
        name: the file name (a plain name; any folder part is dropped).

    Returns:
        The staged file's path.

    Raises:
        InputError: empty, larger than 50 MB, an unusable name, or it cannot be written
            (nothing is left behind).

    """
    clean = Path(name.strip()).name if name else ""
    if clean in ("", ".", ".."):
        raise InputError(f"'{name}' is not a usable file name for the pasted image")
    if not data:
        raise InputError("the pasted image is empty: copy it again")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InputError("the pasted image is larger than 50 MB: paste a smaller one")
    target, handle = _claim(staging_dir, clean)
    try:
        with handle:
            handle.write(data)
    except OSError as exc:
        _unclaim(target)
        raise InputError(f"the pasted image could not be saved: {exc.strerror or exc}"
                         ) from None
    except BaseException:
        _unclaim(target)
        raise
    return target


def discard_attachment(staged: Path, staging_dir: Path) -> None:
    """Remove a staged attachment the person took back, and its folder when empty.

    Only a staged file is removed: a regular file (not a symbolic link) in a folder (itself
    not a link) directly inside ``staging_dir``, or, as attachments were staged before,
    directly in ``staging_dir``. Any other path is left alone; a no-op when it is gone.
    """
    try:
        root = staging_dir.resolve()
        folder = staged.parent
        if staged.is_symlink() or folder.is_symlink():
            return
        where = folder.resolve()
        if where != root and where.parent != root:
            return
        if staged.exists() and not staged.is_file():
            return
        staged.unlink(missing_ok=True)
        if where != root:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
    except OSError:
        return


def clean_staging(staging_dir: Path, older_than_s: float = STALE_STAGING_S) -> int:
    """Remove staged attachments older than ``older_than_s`` seconds (call it at start-up).

    Attachments wait in ``staging_dir`` until a run copies them; what a closed window left
    behind goes here. Each entry directly inside ``staging_dir`` (an attachment's folder,
    or a file staged the older way) whose modification time is older goes, links as links
    (their targets are never touched). A missing folder is fine.

    Returns:
        How many entries were removed.

    """
    cutoff = time.time() - older_than_s
    try:
        entries = list(staging_dir.iterdir())
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue
    return removed


# -- artifacts -----------------------------------------------------------------------------


def artifact_folder(settings: Settings, run_id: str) -> Path:
    """The folder of a run's built executable (``<runs_dir>/<run_id>/dist``): "Open folder".

    Raises:
        InputError: no such run, or it built nothing (no such folder).

    """
    dist = _run_dir(settings, run_id) / "dist"
    if dist.is_symlink() or not dist.is_dir():
        raise InputError(f"run {run_id} has no build folder: it built no executable")
    return dist.resolve()


def launch_artifact(settings: Settings, run_id: str) -> Path:
    """Start the executable run ``run_id`` built, detached, once it is proven unchanged.

    What was built is read from the run's own records, not from anything shown in a chat:
    the run must have finished with an executable (the run index), and the last
    ``packaging_built`` event of its ``events.jsonl`` (written by MultiCoder, outside the
    sandbox) gives the file, its size and sha256. The file must be a regular file (not a
    link) inside ``<runs_dir>/<run_id>/dist``; its sha256 is computed again and compared
    with the record and with ``dist/manifest.json``. It is then started on its own (a new
    session / process group, no console input or output), with its folder as working folder.

    Returns:
        The executable's path.

    Raises:
        InputError: no such run, no executable, the file is missing, outside the run's
            ``dist``, or changed since it was built ("... (sha256 differs): it was not
            started"), or the system refused to start it.

    """
    from graph.history import RunHistory

    run_dir = _run_dir(settings, run_id)
    row = RunHistory(settings).get(run_id)
    if not row.artifact:
        raise InputError(f"run {run_id} has no executable: it did not finish with one")
    built = _last_build(run_dir)
    if built is None:
        raise InputError(f"the build record of run {run_id} is missing: it was not started")
    recorded_path = Path(str(built.get("path", "")))
    sha = str(built.get("sha256", ""))
    if not recorded_path.name or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise InputError(f"the build record of run {run_id} is damaged: it was not started")
    dist = (run_dir / "dist").resolve()
    try:
        executable = recorded_path.resolve(strict=True)
    except OSError:
        raise InputError(f"the executable of run {run_id} ({recorded_path.name}) is gone:"
                         " build it again") from None
    if (recorded_path.is_symlink() or executable.parent != dist or not executable.is_file()
            or _resolved(Path(row.artifact)) != executable):
        raise InputError(f"the executable of run {run_id} is not the file its build made in"
                         f" {dist}: it was not started")
    if _sha256_of(executable) != sha or _manifest_sha(dist) not in (None, sha):
        raise InputError(f"the executable of run {run_id} changed since it was built (sha256"
                         " differs): it was not started")
    try:
        _start_detached(executable)
    except OSError as exc:
        raise InputError(f"the executable of run {run_id} could not be started:"
                         f" {exc.strerror or exc}") from None
    return executable


def _run_dir(settings: Settings, run_id: str) -> Path:
    """``<runs_dir>/<run_id>``, with ``run_id`` a plain folder name of an existing run folder.

    Raises:
        InputError: not a run id, or no such run folder.

    """
    if not RUN_ID.fullmatch(run_id or ""):
        raise InputError(f"'{run_id}' is not a run id")
    run_dir = settings.runs_dir / run_id
    if run_dir.is_symlink() or not run_dir.is_dir():
        raise InputError(f"no run '{run_id}': its folder {run_dir} does not exist")
    return run_dir


def _last_build(run_dir: Path) -> dict[str, Any] | None:
    """The last ``packaging_built`` event of the run's events.jsonl, or None."""
    found: dict[str, Any] | None = None
    try:
        with (run_dir / EVENTS_JSONL).open("rb") as handle:
            for line in handle:
                if b"packaging_built" not in line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("type") == "packaging_built":
                    found = event
    except OSError:
        return None
    return found


def _manifest_sha(dist: Path) -> str | None:
    """The sha256 ``dist/manifest.json`` names ("" when unreadable), None without one."""
    manifest = dist / MANIFEST_FILE
    if not manifest.exists() and not manifest.is_symlink():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(data.get("sha256", "")) if isinstance(data, dict) else ""


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _start_detached(executable: Path) -> None:
    """Start ``executable`` on its own: no console, its own session or process group.

    Raises:
        OSError: the system refused to start it.

    """
    if sys.platform == "win32":
        flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
        subprocess.Popen([str(executable)], cwd=executable.parent, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         creationflags=flags, close_fds=True)
    else:
        subprocess.Popen([str(executable)], cwd=executable.parent, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)


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


def _stored_keys(name: str) -> list[str]:
    """The provider's keys in the OS keyring, in order (up to the first gap)."""
    found = []
    for entry in key_entries(name):
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
    entries = key_entries(name, max(len(keys), previous))
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
    host = _host_label(urlsplit(url)) or "the provider"
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
        return "error", f"{_REFUSED} (HTTP {status})", []
    if status == 404:
        return "error", (f"{host} has no model list at {_safe_url(url)} (HTTP 404): check"
                         " the address"), []
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


def _scrub_all(text: str, keys: Sequence[str]) -> str:
    """``text`` with every occurrence of each of ``keys`` replaced by ``***``."""
    for key in sorted(keys, key=len, reverse=True):
        text = _scrub(text, key)
    return text


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
    "model_fallback": "providers", "preflight_warning": "providers", "key_rotated": "providers",
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
    if kind == "key_rotated":
        return (f"provider {get('provider')} refused key {get('refused')}; using key"
                f" {get('key')} of {get('keys')}")
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


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """A Fernet key from ``passphrase``: scrypt with cost ``n``, ``r``, ``p``, urlsafe base64."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=n, r=r, p=p)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


def _kdf_parameters(sealed: Mapping[str, Any]) -> tuple[int, int, int]:
    """The scrypt ``(n, r, p)`` an export's keys were sealed with (old exports: n = 2**15).

    Raises:
        InputError: another KDF, or parameters outside what MultiCoder writes or could
            afford (n a power of two from 2**14 to 2**20, r up to 32, p up to 16).

    """
    kdf = sealed.get("kdf", "scrypt")
    n, r, p = sealed.get("n", LEGACY_KDF_N), sealed.get("r", KDF_R), sealed.get("p", KDF_P)
    if kdf != "scrypt" or not all(isinstance(v, int) and not isinstance(v, bool)
                                  for v in (n, r, p)):
        raise InputError("the keys in this export are sealed in a way this MultiCoder does"
                         " not know: update MultiCoder")
    if not (2**14 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise InputError("the keys in this export are damaged: export them again")
    return n, r, p


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

    if not isinstance(sealed, Mapping):
        raise InputError("the keys in this export are damaged: export them again")
    n, r, p = _kdf_parameters(sealed)
    try:
        salt = base64.b64decode(sealed["salt"], validate=True)
        plain = Fernet(_derive(passphrase, salt, n, r, p)).decrypt(
            str(sealed["token"]).encode("ascii"))
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


def _claim(staging_dir: Path, name: str) -> tuple[Path, BinaryIO]:
    """Create ``staging_dir/<new unique folder>/name`` exclusively, open for writing.

    Raises:
        InputError: the staging folder cannot be written.

    """
    try:
        staging_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(100):
            folder = staging_dir / secrets.token_hex(8)
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            target = folder / name
            try:
                return target, target.open("xb")
            except BaseException:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                raise
        raise FileExistsError(f"no free folder name in {staging_dir}")
    except OSError as exc:
        raise InputError(f"cannot stage {name} in {staging_dir}: {exc.strerror or exc}"
                         ) from None


def _unclaim(target: Path) -> None:
    """Remove a partly staged file and its (then empty) folder."""
    with contextlib.suppress(OSError):
        target.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        target.parent.rmdir()
