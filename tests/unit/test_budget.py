"""Per-run budgets: accounting, the stop at each budget, spending restored on resume, reuse."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from langchain_core.messages import HumanMessage

from agents.budget import RunBudget, RunSpending, UsageTotals, active_time_s
from agents.cassette import CassetteRecorder, Interaction, ResponseRecord
from agents.config import BudgetExceeded, Limits, ModelPrice, ProviderConfig
from agents.models import ModelRef, ModelSelector
from graph.settings import Settings

UNLIMITED = Limits(max_tokens=None, max_cost_usd=None, max_model_calls=None,
                   max_wall_time_s=None)
PRICED = {"paid": ProviderConfig(base_url="http://127.0.0.1:9/v1", needs_key=False,
                                 prices={"m": ModelPrice(input=2.0, output=8.0)}),
          "free": ProviderConfig(base_url="http://127.0.0.1:9/v1", needs_key=False)}


def limits(**values):
    return Limits(**(UNLIMITED.__dict__ | values))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(("budget", "values", "spend", "option"), [
    ("tokens", {"max_tokens": 1000}, (600, 400), "--max-tokens"),
    ("cost", {"max_cost_usd": 0.01}, (1000, 1000), "--max-cost"),  # $0.002 + $0.008
    ("calls", {"max_model_calls": 1}, (1, 1), "--max-calls"),
])
def test_each_budget_stops_at_its_limit_and_says_how_to_raise_it(budget, values, spend, option):
    tracker = RunBudget(limits(**values), run_id="run-7")
    tracker.check()  # nothing spent yet
    tracker.add(*spend, ModelPrice(input=2.0, output=8.0))
    with pytest.raises(BudgetExceeded) as caught:
        tracker.check()
    error = caught.value
    assert error.budget == budget and error.limit == next(iter(values.values()))
    assert error.spent >= error.limit
    message = str(error)
    assert f"{budget} budget" in message
    assert f"multicoder resume run-7 {option}" in message
    assert "limits.max_" in message  # the setting's name too


def test_the_time_budget_counts_earlier_sessions_and_this_one():
    clock = Clock()
    tracker = RunBudget(limits(max_wall_time_s=3600), time_before_s=3000, clock=clock,
                        run_id="r")
    clock.now += 599
    tracker.check()
    clock.now += 1
    with pytest.raises(BudgetExceeded, match=r"time budget: 1 h 00 min spent of 1 h 00 min"):
        tracker.check()


def test_calls_without_a_price_do_not_count_towards_the_cost_budget():
    tracker = RunBudget(limits(max_cost_usd=0.01))
    tracker.add(10**6, 10**6, None)  # a model without a known price
    tracker.check()
    assert tracker.spent.cost_text() == "unknown price"
    tracker.add(1000, 0, ModelPrice(input=2.0, output=8.0))
    assert tracker.spent.cost_text().startswith("$0.0020 + unknown (1 calls")


def ts(seconds):
    return (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).isoformat()


def write_run(run_dir, interactions, events):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "cassette.jsonl").write_text(
        "\n".join(i.model_dump_json() for i in interactions) + '\n{"key": "torn', "utf-8")
    (run_dir / "events.jsonl").write_text(
        "\n".join(json.dumps(e) for e in events) + "\n", "utf-8")


def interaction(key, model, tokens_in, tokens_out):
    return Interaction(key=key, role="coder", model=model, response=ResponseRecord(content="x"),
                       usage={"input_tokens": tokens_in, "output_tokens": tokens_out})


def test_spending_is_restored_from_the_run_folder_so_it_survives_a_resume(tmp_path):
    run_dir = tmp_path / "run"
    write_run(run_dir, [interaction("safety_gate/0", "paid:m", 1000, 500),
                        interaction("coder/0/0", "paid:m", 2000, 500),
                        interaction("coder/0/1", "free:other", 300, 30)], [
        {"ts": ts(0), "type": "run_created"},
        {"ts": ts(10), "type": "session_started"},
        {"ts": ts(70), "type": "interrupt"},              # session 1: 60 s, then waits
        {"ts": ts(4000), "type": "session_started"},       # an hour later the person answers
        {"ts": ts(4100), "type": "node_finished", "node": "coder", "duration_ms": 90000},
        {"ts": ts(9000), "type": "limits_changed"},       # `resume --max-calls` between sessions
        {"ts": ts(9500), "type": "session_started"},
        {"ts": ts(9520), "type": "budget_exceeded", "budget": "calls", "limit": 3, "spent": 3},
    ])
    tracker = RunBudget.restore(run_dir, limits(max_model_calls=3), PRICED, run_id="run")
    assert (tracker.spent.calls, tracker.spent.tokens) == (3, 4330)
    assert tracker.spent.cost_usd == pytest.approx((3000 * 2 + 1000 * 8) / 1e6)
    assert tracker.spent.unpriced_calls == 1
    assert tracker.time_before_s == pytest.approx(60 + 100 + 20)
    with pytest.raises(BudgetExceeded, match="calls budget"):
        tracker.check()

    spending = RunSpending.read(run_dir, PRICED)
    assert spending.by_node["coder"].calls == 2 and spending.by_node["safety_gate"].calls == 1
    assert spending.by_model["free:other"].cost_text() == "unknown price"
    report = "\n".join(spending.markdown(limits(max_model_calls=3)))
    assert "- model calls: 3" in report and "3,300 in, 1,030 out" in report
    assert "| free:other | 1 | 300 | 30 | unknown price |" in report
    assert "stopped at the calls budget (3 model calls spent of 3 model calls)" in report
    assert "| coder | 2 |" in report and "1 min 30 s" in report


def test_active_time_ignores_events_before_the_first_session():
    assert active_time_s([{"ts": ts(0), "type": "run_created"},
                          {"ts": ts(50), "type": "sandbox_chosen"}]) == 0


def replay_selector(tmp_path, recorder=None, budget=None, events=None):
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir(exist_ok=True)
    items = [Interaction(key=f"coder/0/{i}", role="coder", response=ResponseRecord(
        content=f"answer {i}"), usage={"input_tokens": 100, "output_tokens": 10})
        for i in range(5)]
    (cassettes / "t.jsonl").write_text("\n".join(i.model_dump_json() for i in items))
    providers = {"replay": ProviderConfig(kind="replay", needs_key=False, cassette_dir=cassettes)}
    return ModelSelector(roles={r: [ModelRef.parse("replay:t")]
                                for r in ("planner", "coder", "judge")},
                         providers=providers, key_lookup=lambda *_: None, recorder=recorder,
                         budget=budget, on_event=(events.append if events is not None else None))


def ask(selector, key, messages=1):
    return selector.invoke("coder", [HumanMessage("go")] * messages, key=key).content


def test_the_selector_stops_before_the_call_that_would_exceed_the_budget(tmp_path):
    tracker = RunBudget(limits(max_model_calls=2))
    selector = replay_selector(tmp_path, budget=tracker)
    assert ask(selector, "coder/0/0") == "answer 0"
    assert ask(selector, "coder/0/1") == "answer 1"
    with pytest.raises(BudgetExceeded, match="calls budget"):
        ask(selector, "coder/0/2")
    assert selector.usage["replay:t"].calls == 2  # the third call was never made
    assert tracker.spent.tokens == 220 and tracker.spent.cost_usd == 0  # a replay is free


def test_a_resumed_run_reuses_its_own_recorded_answers_without_paying_again(tmp_path):
    path = tmp_path / "cassette.jsonl"
    first = replay_selector(tmp_path, recorder=CassetteRecorder(path, str),
                            budget=RunBudget(limits(max_model_calls=2)))
    ask(first, "coder/0/0")
    ask(first, "coder/0/1")
    with pytest.raises(BudgetExceeded):
        ask(first, "coder/0/2")

    # the resume: a new selector over the same run folder, the budget raised
    events = []
    tracker = RunBudget.restore(tmp_path, limits(max_model_calls=3), {})
    again = replay_selector(tmp_path, recorder=CassetteRecorder(path, str), budget=tracker,
                            events=events)
    assert [ask(again, f"coder/0/{i}") for i in range(3)] == ["answer 0", "answer 1", "answer 2"]
    assert again.usage["replay:t"].calls == 1  # only coder/0/2 reached the provider
    assert [e["key"] for e in events if e["type"] == "model_reused"] == ["coder/0/0", "coder/0/1"]
    keys = [json.loads(line)["key"] for line in path.read_text().splitlines()]
    assert keys == ["coder/0/0", "coder/0/1", "coder/0/2"]  # each answered call recorded once
    with pytest.raises(BudgetExceeded):  # 3 of 3 calls spent, counted across both sessions
        ask(again, "coder/0/3")


def test_a_recorded_answer_to_a_different_conversation_is_not_reused(tmp_path):
    path = tmp_path / "cassette.jsonl"
    events = []
    selector = replay_selector(tmp_path, recorder=CassetteRecorder(path, str), events=events)
    ask(selector, "coder/0/0", messages=1)
    ask(selector, "coder/0/0", messages=3)  # same key, longer conversation: asked again
    assert selector.usage["replay:t"].calls == 2
    assert any(e["type"] == "recorded_answer_stale" for e in events)


def test_budget_settings_zero_means_no_limit_and_prices_can_be_added(monkeypatch, tmp_path):
    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("MULTICODER_LIMITS__MAX_TOKENS", "0")
    settings = Settings(providers={"openai": {"prices": {"gpt-9": {"input": 1, "output": 2}}}})
    assert settings.limits.to_limits().max_tokens is None
    assert settings.limits.max_model_calls == 400 and settings.limits.max_cost_usd == 5.0
    prices = settings.providers["openai"].prices
    assert prices["gpt-9"].output == 2 and prices["gpt-4.1"].input == 2.0  # defaults kept
    assert settings.providers["ollama"].price_of("llama3") == ModelPrice(input=0, output=0)
    assert settings.providers["openrouter"].price_of("x/y") is None


def test_usage_totals_add_up():
    totals = UsageTotals()
    totals.add(10, 5, ModelPrice(input=1, output=1))
    assert (totals.calls, totals.tokens, totals.cost_usd) == (1, 15, pytest.approx(15e-6))


def test_resume_budget_options_are_kept_in_run_json(tmp_path, monkeypatch):
    from graph import Engine, InputError

    monkeypatch.setenv("MULTICODER_CONFIG", str(tmp_path / "none.toml"))
    settings = Settings(data_dir=tmp_path / "data", sandbox={"backend": "local"},
                        models={r: ["replay:notes-sqlite"] for r in ("planner", "coder", "judge")})
    engine = Engine(settings)
    run_id = engine.start("a notes manager", limits={"max_model_calls": 5})
    services = engine.services(run_id)
    assert services.limits.max_model_calls == 5
    services.record.close()
    raised = engine.set_limits(run_id, {"max_model_calls": 200, "max_tokens": 0})
    assert (raised.max_model_calls, raised.max_tokens) == (200, None)
    services = engine.services(run_id)  # a later resume keeps them
    assert services.limits.max_model_calls == 200 and services.limits.max_tokens is None
    assert services.models.budget is not None and services.models.budget.run_id == run_id
    services.record.close()
    with pytest.raises(InputError, match="unknown budget"):
        engine.set_limits(run_id, {"max_lollipops": 3})


def test_the_cli_reads_durations():
    from ui.cli.app import parse_duration

    assert parse_duration("2h") == 7200 and parse_duration("90m") == 5400
    assert parse_duration("1h30m") == 5400 and parse_duration("3600") == 3600
    assert parse_duration("0") == 0
