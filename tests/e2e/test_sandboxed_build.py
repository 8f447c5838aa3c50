"""End to end in the isolated backends: the default choice, the fallback, the opt-in warning.

The README build runs in Docker wherever a daemon answers; without Docker the same build runs
in bubblewrap, and ``doctor`` says why and what to do; the local backend runs only when chosen
and is flagged as not sandboxed.
"""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import isolated_env, run_cli, run_id_of

pytestmark = pytest.mark.slow

NO_DOCKER = "unix:///nonexistent/docker.sock"


def _backend_or_skip(name: str, problem: str | None) -> None:
    """Skip when the backend is unusable here, but fail when CI requires it."""
    if problem is None:
        return
    flag = f"MULTICODER_REQUIRE_{name.upper()}"
    if os.environ.get(flag) == "1":
        pytest.fail(f"{name} is required ({flag}=1) but unusable: {problem}")
    pytest.skip(f"{name} unusable here: {problem}")


def _auto_env(base: Path) -> dict[str, str]:
    env = isolated_env(base)
    env.pop("MULTICODER_SANDBOX__BACKEND")  # the default: auto
    return env


def _run_config(env, run_id):
    run_dir = Path(env["MULTICODER_DATA_DIR"]) / "runs" / run_id
    return json.loads((run_dir / "run.json").read_text()), run_dir


def _events(run_dir):
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_without_docker_doctor_says_so_and_the_build_uses_bubblewrap(tmp_path):
    from tools.sandbox import bwrap

    _backend_or_skip("bwrap", bwrap.unavailable_reason())
    env = _auto_env(tmp_path) | {"DOCKER_HOST": NO_DOCKER}

    doctor = run_cli(["doctor", "--offline"], env, timeout=120)
    assert doctor.returncode == 0, doctor.stderr
    docker_row = next(line for line in doctor.stdout.splitlines()
                      if "no Docker daemon answers" in line)
    assert " down " in docker_row and "install Docker" in docker_row
    assert "runs use bwrap" in doctor.stdout

    built = run_cli(["build", "--spec-file", "datasets/tasks/notes-sqlite.md", "--replay",
                     "notes-sqlite", "--auto-approve"], env, timeout=1800)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "sandbox: bwrap" in built.stdout
    config, run_dir = _run_config(env, run_id_of(built))
    assert config["sandbox"] == "bwrap"
    chosen = [e for e in _events(run_dir) if e["type"] == "sandbox_chosen"]
    assert chosen and chosen[0]["backend"] == "bwrap" and chosen[0]["isolated"] is True
    manifest = json.loads((run_dir / "dist" / "manifest.json").read_text())
    assert (run_dir / "dist" / manifest["file"]).stat().st_size > 1_000_000


def test_the_readme_build_runs_in_docker_by_default(tmp_path):
    from graph.settings import SANDBOX_IMAGE
    from tools.sandbox import docker

    _backend_or_skip("docker", docker.unavailable_reason(SANDBOX_IMAGE))
    env = _auto_env(tmp_path)
    built = run_cli(["build", "--spec-file", "datasets/tasks/csv2xlsx-gui.md", "--replay",
                     "csv2xlsx-gui", "--auto-approve"], env, timeout=2400)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "sandbox: docker" in built.stdout and "NOT SANDBOXED" not in built.stderr
    config, run_dir = _run_config(env, run_id_of(built))
    assert config["sandbox"] == "docker"
    checks = json.loads((run_dir / "checks.json").read_text())
    assert all(result["passed"] for result in checks["results"]), checks
    manifest = json.loads((run_dir / "dist" / "manifest.json").read_text())
    assert (run_dir / "dist" / manifest["file"]).is_file()


def test_the_local_backend_only_when_chosen_and_then_flagged(tmp_path):
    env = isolated_env(tmp_path)  # [sandbox] backend = local, as the person's choice
    refused = run_cli(["build", "--spec-file", "datasets/tasks/refused-keylogger.md",
                       "--replay", "refused-keylogger", "--auto-approve", "--sandbox", "local"],
                      env, timeout=300)
    assert refused.returncode == 1
    assert "NOT SANDBOXED" in refused.stderr
    bad = run_cli(["build", "a timer", "--sandbox", "chroot"], env, timeout=120)
    assert bad.returncode == 2 and "unknown sandbox 'chroot'" in bad.stderr
