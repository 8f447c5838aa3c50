"""Which backend a run gets: Docker first, then bubblewrap, local only when chosen."""

import pytest

from graph import sandboxes
from graph.errors import InputError
from graph.settings import SandboxSettings


@pytest.fixture
def machine(monkeypatch):
    """Set what this pretend machine has: None = usable, a string = why not."""
    state = {"docker": None, "bwrap": None}
    monkeypatch.setattr(sandboxes, "_docker_problem", lambda _settings: state["docker"])
    monkeypatch.setattr(sandboxes, "_bwrap_problem", lambda: state["bwrap"])
    return state


def test_auto_prefers_docker_when_its_daemon_answers(machine):
    choice = sandboxes.choose_backend(SandboxSettings())
    assert (choice.name, choice.isolated) == ("docker", True)


def test_auto_falls_back_to_bubblewrap_and_says_why(machine):
    machine["docker"] = "no Docker daemon answers"
    choice = sandboxes.choose_backend(SandboxSettings())
    assert choice.name == "bwrap" and "no Docker daemon answers" in choice.reason


def test_auto_never_falls_back_to_unsandboxed(machine):
    machine.update(docker="no Docker daemon answers", bwrap="bwrap not installed")
    with pytest.raises(InputError) as caught:
        sandboxes.choose_backend(SandboxSettings())
    message = str(caught.value)
    assert "no sandbox is available" in message and "--sandbox local" in message
    assert "bwrap not installed" in message


def test_local_only_when_the_person_chooses_it(machine):
    machine.update(docker="x", bwrap="y")
    choice = sandboxes.choose_backend(SandboxSettings(backend="local"))
    assert (choice.name, choice.isolated) == ("local", False)
    assert sandboxes.choose_backend(SandboxSettings(), "local").name == "local"


def test_a_named_backend_that_cannot_run_is_refused_with_the_reason(machine):
    machine["docker"] = "image multicoder-sandbox:1 is missing: run `multicoder sandbox build`"
    with pytest.raises(InputError, match="multicoder sandbox build"):
        sandboxes.choose_backend(SandboxSettings(), "docker")
