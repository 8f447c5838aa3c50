"""The everyday commands: --help, doctor, runs list/show, cancel."""

from tests.conftest import run_cli, run_id_of


def test_help_lists_the_commands_and_exit_codes(cli_env):
    result = run_cli(["--help"], cli_env)
    assert result.returncode == 0
    for command in ("build", "resume", "cancel", "runs", "doctor", "keys", "models"):
        assert command in result.stdout
    build = run_cli(["build", "--help"], cli_env)
    assert "--auto-approve" in build.stdout and "--replay" in build.stdout


def test_doctor_reports_each_component_with_its_state_and_what_to_do(cli_env):
    del cli_env["OPENAI_API_KEY"]
    result = run_cli(["doctor", "--offline"], cli_env)
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
            if line.count("│") >= 4}
    for component in ("python", "uv", "sandbox", "docker", "bubblewrap", "disk",
                      "database runs", "database checkpoints", "provider openai",
                      "provider replay", "role planner"):
        assert component in rows, (component, result.stdout)
    assert " degraded " in rows["provider openai"] and "OPENAI_API_KEY" in rows["provider openai"]
    assert " ok " in rows["provider replay"] and " ok " in rows["disk"]
    # The person chose the local backend in this environment: flagged, with what to do.
    assert " degraded " in rows["sandbox"] and "NOT sandboxed" in rows["sandbox"]
    assert "components:" in result.stdout


def test_doctor_finds_a_damaged_database_and_says_what_to_do(cli_env, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "checkpoints.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    result = run_cli(["doctor", "--offline"], cli_env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "database checkpoints" in line)
    assert " down " in line and "move checkpoints.sqlite aside" in line


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
