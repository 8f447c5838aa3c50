"""Bad input: one clear line, exit code 2, and no half-written run."""

import pytest

from agents.cassette import Cassette, Interaction, ResponseRecord
from tests.conftest import run_cli
from tests.support.openai_server import CassetteServer

ALL_ROLES = ("planner", "coder", "judge")


def runs_created(env):
    from pathlib import Path

    runs = Path(env["MULTICODER_DATA_DIR"]) / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.exists() else []


def models(ref):
    return [arg for role in ALL_ROLES for arg in ("--model", f"{role}={ref}")]


def assert_clean_failure(result, env, *needles):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert runs_created(env) == []


def test_empty_task(cli_env):
    assert_clean_failure(run_cli(["build", "  "], cli_env), cli_env, "task is empty")


def test_missing_spec_file(cli_env, tmp_path):
    result = run_cli(["build", "--spec-file", str(tmp_path / "nope.md")], cli_env)
    assert_clean_failure(result, cli_env, "spec file not found")


def test_unknown_provider(cli_env):
    result = run_cli(["build", "a timer", *models("nowhere:model-x")], cli_env)
    assert_clean_failure(result, cli_env, "unknown provider 'nowhere'")


def test_malformed_model_reference(cli_env):
    result = run_cli(["build", "a timer", "--model", "coder=gpt-4.1"], cli_env)
    assert_clean_failure(result, cli_env, "PROVIDER:MODEL")


def test_no_key_names_the_variable_to_set(cli_env):
    del cli_env["OPENAI_API_KEY"]
    result = run_cli(["build", "a timer"], cli_env)
    assert_clean_failure(result, cli_env, "OPENAI_API_KEY")


@pytest.fixture
def server():
    cassette = Cassette([Interaction(key="safety_gate/0", role="judge", model="local:known",
                                     response=ResponseRecord(content="{}"))])
    with CassetteServer(cassette, api_key="the-right-key") as srv:
        yield srv


def local_provider(env, server, key):
    env["MULTICODER_PROVIDERS__LOCAL__BASE_URL"] = server.base_url
    env["MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV"] = "LOCAL_TEST_KEY"
    env["LOCAL_TEST_KEY"] = key


def test_unknown_model_at_a_real_provider(cli_env, server):
    local_provider(cli_env, server, "the-right-key")
    result = run_cli(["build", "a timer", *models("local:no-such-model")], cli_env)
    assert_clean_failure(result, cli_env, "does not offer model 'no-such-model'")


def test_a_provider_answering_401(cli_env, server):
    local_provider(cli_env, server, "a-wrong-key")
    result = run_cli(["build", "a timer", *models("local:known")], cli_env)
    assert_clean_failure(result, cli_env, "refused the API key", "LOCAL_TEST_KEY")
    assert "a-wrong-key" not in result.stderr


def test_an_invalid_settings_file(cli_env, tmp_path):
    (tmp_path / "settings.toml").write_text("[limits]\nmax_repair_rounds = -4\n")
    result = run_cli(["build", "a timer"], cli_env)
    assert_clean_failure(result, cli_env, "limits.max_repair_rounds")


def test_unknown_run_for_resume(cli_env):
    result = run_cli(["resume", "20990101-000000-abcdef"], cli_env)
    assert_clean_failure(result, cli_env, "no run '20990101-000000-abcdef'")


def test_a_settings_file_that_is_not_toml(cli_env, tmp_path):
    (tmp_path / "settings.toml").write_text("[models\ncoder = \n", encoding="utf-8")
    for command in (["build", "a timer"], ["runs", "list"], ["doctor"]):
        result = run_cli(command, cli_env)
        assert_clean_failure(result, cli_env, "cannot read the settings file")
