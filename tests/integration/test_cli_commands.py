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
    assert "provider openai" in out and "set OPENAI_API_KEY" in out
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
