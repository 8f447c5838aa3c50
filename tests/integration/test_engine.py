"""The engine's API as the interfaces use it: start with attachments, validation first."""

import pytest

from graph import Engine, InputError, Settings


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    settings = Settings(data_dir=tmp_path / "data",
                        models={r: ["replay:notes-sqlite"] for r in ("planner", "coder", "judge")})
    return Engine(settings)


def test_attachments_are_copied_into_the_workspace_as_inputs(engine, tmp_path):
    data = tmp_path / "people.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    run_id = engine.start("convert my CSV", attachments=[data])
    workspace = engine.services(run_id).record.workspace
    assert (workspace / "inputs" / "people.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert engine.get_run(run_id).status == "created"


def test_an_attachment_over_50_mb_is_refused_before_anything_is_written(engine, tmp_path):
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(InputError, match="larger than 50 MB"):
        engine.start("convert", attachments=[big])
    with pytest.raises(InputError, match="attachment not found"):
        engine.start("convert", attachments=[tmp_path / "missing.csv"])
    assert engine.list_runs() == []
    assert list((tmp_path / "data" / "runs").iterdir()) == []


def test_an_unknown_role_in_overrides_is_refused(engine):
    with pytest.raises(InputError, match="unknown role 'tester'"):
        engine.start("a timer", models={"tester": ["replay:notes-sqlite"]})
