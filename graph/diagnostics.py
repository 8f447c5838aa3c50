"""Health of every component MultiCoder depends on (L3), for ``doctor`` and the status panel.

Each :class:`Health` row is ``ok`` / ``degraded`` / ``down`` with a reason and, when it is not
ok, a recommendation: what the person should do. The components: the sandbox backend (and the
Docker daemon and image, bubblewrap), each enabled provider (its key checked by listing its
models unless ``offline``), the tools MultiCoder runs, disk space in the data folder, the
integrity of the run index, checkpoint and archive databases, the keyring, and the models per
role.

:func:`diagnose` is the one entry point; every interface shows its rows as they are.
"""

from __future__ import annotations

import platform
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import uv
from pydantic import BaseModel

from graph.errors import InputError
from graph.settings import CHECK_TOOLS, Settings, config_file, keyring_backend, lookup_key

State = Literal["ok", "degraded", "down"]

#: Below this much free space in the data folder a build is likely to fail (bytes).
LOW_DISK_BYTES = 5 * 1024**3
#: Below this much free space nothing can be built (bytes).
NO_DISK_BYTES = 1 * 1024**3
#: Seconds each provider gets to list its models.
PROVIDER_TIMEOUT_S = 10.0


class Health(BaseModel):
    """One component's state.

    Attributes:
        component: what was checked ("sandbox", "docker image", "provider openai", ...).
        state: ok, degraded (works, with a limitation) or down (does not work).
        reason: what was found, in one line.
        recommendation: what to do about it (empty when ok).

    """

    component: str
    state: State
    reason: str
    recommendation: str = ""


def _version(program: str) -> str:
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True,
                              check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = done.stdout.strip() or done.stderr.strip()
    return text.splitlines()[0] if text else ""


def _sandbox_rows(settings: Settings) -> list[Health]:
    """The chosen backend, then Docker (daemon, image) and bubblewrap individually."""
    from graph.sandboxes import choose_backend
    from tools.sandbox import bwrap as bwrap_backend
    from tools.sandbox import docker as docker_backend

    rows: list[Health] = []
    try:
        choice = choose_backend(settings.sandbox)
    except InputError as exc:
        rows.append(Health(component="sandbox", state="down", reason=str(exc),
                           recommendation="install Docker and run `multicoder sandbox build`,"
                           " or install bubblewrap (Linux: apt install bubblewrap)"))
    else:
        if choice.isolated:
            rows.append(Health(component="sandbox", state="ok",
                               reason=f"runs use {choice.name}: {choice.reason}"))
        else:
            rows.append(Health(component="sandbox", state="degraded",
                               reason="runs use the local backend: generated code runs as you,"
                               " NOT sandboxed (no file-system or network isolation)",
                               recommendation="install Docker (then `multicoder sandbox build`)"
                               " or bubblewrap, and set [sandbox] backend = \"auto\""))
    version = docker_backend.daemon_version()
    if version is None:
        rows.append(Health(component="docker", state="down",
                           reason="no Docker daemon answers"
                           + ("" if shutil.which("docker") else " (Docker is not installed)"),
                           recommendation="install Docker (Docker Desktop on Windows/macOS,"
                           " docker.io on Debian/Ubuntu) and start it; until then runs use"
                           " bubblewrap where available"))
    else:
        rows.append(Health(component="docker", state="ok", reason=f"daemon {version}"))
        if docker_backend.image_present(settings.sandbox.image):
            rows.append(Health(component="docker image", state="ok",
                               reason=f"{settings.sandbox.image} is present"))
        else:
            rows.append(Health(component="docker image", state="down",
                               reason=f"{settings.sandbox.image} is missing",
                               recommendation="run `multicoder sandbox build`"))
    problem = bwrap_backend.unavailable_reason()
    if problem is None:
        rows.append(Health(component="bubblewrap", state="ok",
                           reason=_version("bwrap") or "usable"))
    else:
        rows.append(Health(component="bubblewrap",
                           state="down" if sys.platform.startswith("linux") else "degraded",
                           reason=problem,
                           recommendation="apt install bubblewrap" if sys.platform.startswith(
                               "linux") else "not available on this system; use Docker"))
    return rows


def _provider_row(name: str, settings: Settings, offline: bool) -> Health:
    """One provider: disabled, no key, key refused, unreachable, or ok with its model count."""
    import openai

    from agents.models import ProviderAuthError, ProviderUnavailable, list_models

    provider = settings.providers[name]
    component = f"provider {name}"
    if provider.kind == "replay":
        found = sorted(p.stem for p in (provider.cassette_dir or Path()).glob("*.jsonl"))
        return Health(component=component, state="ok",
                      reason=f"{len(found)} recorded cassettes in {provider.cassette_dir}")
    key = lookup_key(name, provider) if provider.needs_key else None
    if provider.needs_key and not key:
        return Health(component=component, state="degraded",
                      reason=f"no key ({provider.base_url})",
                      recommendation=f"set {provider.api_key_env or 'its key variable'}"
                      f" or run `multicoder keys set {name}`")
    if offline:
        return Health(component=component, state="ok",
                      reason=("key set" if key else "no key needed")
                      + f" — not contacted (--offline) — {provider.base_url}")
    try:
        models = list_models(name, provider, key, timeout_s=PROVIDER_TIMEOUT_S, max_retries=0)
    except ProviderAuthError as exc:
        return Health(component=component, state="down", reason=str(exc),
                      recommendation=f"store a valid key: `multicoder keys set {name}`")
    except ProviderUnavailable as exc:
        return Health(component=component, state="down", reason=str(exc),
                      recommendation="check the network or the provider's status; fallback"
                      " models of each role are used meanwhile")
    except openai.NotFoundError:
        return Health(component=component, state="degraded",
                      reason="the provider has no /models endpoint: the key was not checked",
                      recommendation="try a build to check the key")
    return Health(component=component, state="ok",
                  reason=f"key accepted, {len(models)} models — {provider.base_url}")


def _database_row(label: str, path: Path) -> Health:
    """``PRAGMA quick_check`` of one SQLite file (read-only)."""
    component = f"database {label}"
    if not path.exists():
        return Health(component=component, state="ok", reason=f"{path} (not created yet)")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            result = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return Health(component=component, state="down", reason=f"{path}: {exc}",
                      recommendation=f"move {path.name} aside; MultiCoder creates a new one")
    if result and result[0] == "ok":
        return Health(component=component, state="ok", reason=f"{path} (integrity ok)")
    return Health(component=component, state="down",
                  reason=f"{path}: integrity check failed: {result[0] if result else '?'}",
                  recommendation=f"move {path.name} aside; MultiCoder creates a new one")


def _archive_row(settings: Settings) -> Health:
    """The archive's integrity; a damaged one is kept aside and rebuilt at the next start."""
    from memory.archive import ARCHIVE_FILE

    row = _database_row("archive", settings.data_dir / ARCHIVE_FILE)
    if row.state == "ok":
        return row
    return row.model_copy(update={
        "recommendation": "nothing to do by hand: the next MultiCoder start (a build, resume,"
        " `runs show`) keeps the damaged file aside as archive.sqlite.damaged-<time> and"
        " rebuilds the archive from the run folders"})


def _disk_row(settings: Settings) -> Health:
    folder = settings.data_dir
    probe = folder if folder.exists() else next(
        (p for p in folder.parents if p.exists()), Path.home())
    free = shutil.disk_usage(probe).free
    text = f"{free / 1024**3:.1f} GB free in {folder}"
    if free < NO_DISK_BYTES:
        return Health(component="disk", state="down", reason=text,
                      recommendation="free space: a build needs about 2 GB"
                      " (old runs: `multicoder runs list`; retention in settings)")
    if free < LOW_DISK_BYTES:
        return Health(component="disk", state="degraded", reason=text,
                      recommendation="free space: large GUI builds need several GB")
    return Health(component="disk", state="ok", reason=text)


def diagnose(settings: Settings, *, offline: bool = False,
             only: Callable[[str], bool] | None = None) -> list[Health]:
    """The health of every component, in a fixed order.

    Args:
        settings: the validated settings.
        offline: do not contact providers (their keys are only looked up).
        only: keep the rows whose component name this returns True for (all when None).

    Returns:
        Rows in display order: python, platform, uv, settings, sandbox (backend, docker,
        docker image, bubblewrap), disk, databases, keyring, providers, roles. Providers are
        contacted concurrently, each for at most :data:`PROVIDER_TIMEOUT_S` seconds.

    """
    rows = [
        Health(component="python", state="ok",
               reason=f"{platform.python_version()} ({sys.executable})"),
        Health(component="platform", state="ok", reason=platform.platform()),
    ]
    uv_bin = uv.find_uv_bin()
    rows.append(Health(component="uv", state="ok", reason=_version(uv_bin) or uv_bin))
    rows.append(Health(component="settings", state="ok",
                       reason=f"{config_file()}" + ("" if config_file().is_file()
                                                     else " (not present: defaults)")))
    rows.append(Health(component="check tools", state="ok",
                       reason="installed into each app's own environment: "
                       + ", ".join(CHECK_TOOLS)))
    rows.extend(_sandbox_rows(settings))
    rows.append(_disk_row(settings))
    rows.append(_database_row("runs", settings.data_dir / "runs.sqlite"))
    rows.append(_database_row("checkpoints", settings.data_dir / "checkpoints.sqlite"))
    rows.append(_archive_row(settings))
    backend = keyring_backend()
    rows.append(Health(component="keyring", state="ok" if backend else "degraded",
                       reason=backend or "unavailable: keys only from environment variables",
                       recommendation="" if backend else "set each provider's key variable"))
    enabled = [name for name, p in settings.providers.items() if p.enabled]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(enabled)))) as pool:
        provider_rows = list(pool.map(lambda n: _provider_row(n, settings, offline), enabled))
    rows.extend(provider_rows)
    for name, provider in settings.providers.items():
        if not provider.enabled:
            rows.append(Health(component=f"provider {name}", state="ok", reason="disabled"))
    down = {row.component.removeprefix("provider ") for row in provider_rows
            if row.state != "ok"}
    for role, refs in settings.models.refs().items():
        usable = [str(r) for r in refs if r.provider not in down
                  and r.provider in settings.providers and settings.providers[r.provider].enabled]
        rows.append(Health(
            component=f"role {role}", state="ok" if usable else "down",
            reason=", ".join(map(str, refs)) + ("" if usable else ": no usable model"),
            recommendation="" if usable else f"give the {role} a model whose provider works"
            f" (MULTICODER_MODELS__{role.upper()}=provider:model)"))
    return [row for row in rows if only is None or only(row.component)]
