"""What MultiCoder needs, checked: tools, settings, sandbox, keyring, providers, roles.

Every interface shows the same list (the CLI's ``doctor`` now; the desktop's status page later).
Nothing here talks to a provider over the network.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from typing import Literal

import uv
from pydantic import BaseModel

from graph.settings import CHECK_TOOLS, Settings, config_file, keyring_backend, lookup_key

State = Literal["ok", "warning", "error", "info"]


class Diagnostic(BaseModel):
    """One line of the report: a component, its state, and a detail or what to do."""

    component: str
    state: State
    detail: str


def _version(program: str) -> str:
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True,
                              check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""


def diagnose(settings: Settings) -> list[Diagnostic]:
    """The state of every component, in a fixed order (runs ``uv`` and ``docker --version``)."""
    rows = [
        Diagnostic(component="python", state="ok",
                   detail=f"{platform.python_version()} ({sys.executable})"),
        Diagnostic(component="platform", state="ok", detail=platform.platform()),
    ]
    uv_bin = uv.find_uv_bin()
    rows.append(Diagnostic(component="uv", state="ok", detail=_version(uv_bin) or uv_bin))
    rows.append(Diagnostic(component="settings",
                           state="ok" if config_file().is_file() else "info",
                           detail=f"{config_file()}"
                           + ("" if config_file().is_file() else " (not present: defaults)")))
    rows.append(Diagnostic(component="data folder", state="ok", detail=str(settings.data_dir)))
    rows.append(Diagnostic(component="check tools", state="ok",
                           detail="installed into each app's own environment: "
                           + ", ".join(CHECK_TOOLS)))
    rows.append(Diagnostic(component="sandbox", state="warning",
                           detail="local backend: generated code runs as you, time- and"
                           " output-limited but not isolated"))
    docker = shutil.which("docker")
    rows.append(Diagnostic(component="docker", state="info",
                           detail=(_version(docker) + " (not used yet by this version)")
                           if docker else "absent"))
    backend = keyring_backend()
    rows.append(Diagnostic(component="keyring", state="ok" if backend else "warning",
                           detail=backend or "unavailable: keys only from environment variables"))
    for name, provider in settings.providers.items():
        component = f"provider {name}"
        if not provider.enabled:
            rows.append(Diagnostic(component=component, state="info", detail="disabled"))
        elif provider.kind == "replay":
            rows.append(Diagnostic(component=component, state="ok",
                                   detail=f"cassettes in {provider.cassette_dir}"))
        elif not provider.needs_key:
            rows.append(Diagnostic(component=component, state="ok",
                                   detail=f"no key needed — {provider.base_url}"))
        elif lookup_key(name, provider):
            rows.append(Diagnostic(component=component, state="ok",
                                   detail=f"key set — {provider.base_url}"))
        else:
            rows.append(Diagnostic(component=component, state="warning",
                                   detail=f"no key — set {provider.api_key_env or 'its key'}"
                                   f" ({provider.base_url})"))
    for role, refs in settings.models.refs().items():
        rows.append(Diagnostic(component=f"role {role}", state="info",
                               detail=", ".join(map(str, refs))))
    return rows
