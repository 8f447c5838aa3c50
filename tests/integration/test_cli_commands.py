"""The everyday commands: --help, doctor, runs list/show, cancel."""

from tests.conftest import run_cli, run_id_of


def test_help_lists_the_commands_and_exit_codes(cli_env):
    result = run_cli(["--help"], cli_env)
    assert result.returncode == 0
    for command in ("build", "resume", "cancel", "runs", "doctor", "keys", "models"):
        assert command in result.stdout
    build = run_cli(["build", "--help"], cli_env)
    assert "--auto-approve" in build.stdout and "--replay" in build.stdout


def test_doctor_reports_tools_providers_and_what_to_set(cli_env):
    del cli_env["OPENAI_API_KEY"]
    result = run_cli(["doctor"], cli_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "uv" in out and "python" in out
    assert "provider openai" in out and "set OPENAI_API_KEY" in out and "warning" in out
    assert "provider replay" in out
    assert "role planner" in out


def test_runs_list_and_show_after_a_refused_run(cli_env):
    built = run_cli(["build", "--spec-file", "datasets/tasks/refused-keylogger.md", "--replay",
                     "refused-keylogger", "--auto-approve"], cli_env, timeout=300)
    assert built.returncode == 1
    run_id = run_id_of(built)
    listed = run_cli(["runs", "list"], cli_env)
    assert run_id in listed.stdout and "refused" in listed.stdout
    shown = run_cli(["runs", "show", run_id], cli_env)
    assert "refused by the safety gate" in shown.stdout
    again = run_cli(["resume", run_id], cli_env)
    assert again.returncode == 1 and "refused" in again.stdout  # finished runs stay finished
    cancelled = run_cli(["cancel", run_id], cli_env)
    assert cancelled.returncode == 2 and "already ended (refused)" in cancelled.stderr


def test_models_lists_what_a_provider_offers_and_refuses_a_bad_key(cli_env):
    from agents.cassette import Cassette, Interaction, ResponseRecord
    from tests.support.openai_server import CassetteServer

    cassette = Cassette([Interaction(key="k", role="judge", model="local:model-a",
                                     response=ResponseRecord(content="x"))])
    with CassetteServer(cassette, api_key="good-key", extra_models=["model-b"]) as server:
        cli_env |= {"MULTICODER_PROVIDERS__LOCAL__BASE_URL": server.base_url,
                    "MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV": "LOCAL_KEY",
                    "LOCAL_KEY": "good-key"}
        listed = run_cli(["models", "local"], cli_env)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split() == ["model-a", "model-b"]
        cli_env["LOCAL_KEY"] = "bad-key"
        refused = run_cli(["models", "local"], cli_env)
        assert refused.returncode == 2 and "refused the API key" in refused.stderr
    unknown = run_cli(["models", "nowhere"], cli_env)
    assert unknown.returncode == 2 and "unknown OpenAI-compatible provider" in unknown.stderr
