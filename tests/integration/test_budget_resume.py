"""Resume without re-paying, over a real socket: recorded answers are not asked for again."""

import json

import pytest
from langchain_core.messages import HumanMessage

from agents.budget import RunBudget
from agents.cassette import Cassette, CassetteRecorder, Interaction, ResponseRecord
from agents.config import BudgetExceeded, Limits, ModelPrice
from agents.models import ModelRef, ModelSelector, ProviderConfig
from tests.support.openai_server import CassetteServer

KEYS = ["planner/0", "coder/0/0", "coder/0/1"]
UNLIMITED = {"max_tokens": None, "max_cost_usd": None, "max_wall_time_s": None}


@pytest.fixture
def server():
    cassette = Cassette([Interaction(key=k, role="coder", model="local:m",
                                     response=ResponseRecord(content=f"answer to {k}"),
                                     usage={"input_tokens": 1000, "output_tokens": 100})
                         for k in KEYS])
    with CassetteServer(cassette, api_key="k") as srv:
        yield srv


def selector(server, run_dir, calls, events, prices=None):
    config = ProviderConfig(base_url=server.base_url, api_key_env="K", max_retries=0,
                            prices=prices or {})
    budget = RunBudget.restore(run_dir, Limits(max_model_calls=calls, **UNLIMITED),
                               {"local": config}, run_id="run-9")
    return ModelSelector(roles={r: [ModelRef.parse("local:m")]
                                for r in ("planner", "coder", "judge")},
                         providers={"local": config}, key_lookup=lambda *_: "k",
                         recorder=CassetteRecorder(run_dir / "cassette.jsonl", str),
                         on_event=events.append, budget=budget)


def chat_requests(server):
    return [r.call_key for r in server.requests if r.path.endswith("/completions")]


def test_a_resumed_session_replays_recorded_calls_without_asking_the_provider(server, tmp_path):
    events = []
    first = selector(server, tmp_path, calls=2, events=events)
    for key in KEYS[:2]:
        first.invoke("coder", [HumanMessage("go")], key=key)
    with pytest.raises(BudgetExceeded, match="resume run-9 --max-calls"):
        first.invoke("coder", [HumanMessage("go")], key=KEYS[2])
    assert chat_requests(server) == KEYS[:2]

    # resumed with a higher budget: the node runs again from its start
    again = selector(server, tmp_path, calls=10, events=events)
    answers = [again.invoke("coder", [HumanMessage("go")], key=k).content for k in KEYS]
    assert answers == [f"answer to {k}" for k in KEYS]
    assert chat_requests(server) == KEYS  # each key reached the provider exactly once
    assert again.budget is not None and again.budget.spent.calls == 3
    recorded = [json.loads(line)["key"] for line in
                (tmp_path / "cassette.jsonl").read_text().splitlines()]
    assert recorded == KEYS


def test_an_unknown_price_is_warned_about_once_and_a_known_one_is_charged(server, tmp_path):
    events = []
    (tmp_path / "a").mkdir()
    unpriced = selector(server, tmp_path / "a", calls=10, events=events)
    for key in KEYS[:2]:
        unpriced.invoke("coder", [HumanMessage("go")], key=key)
    warnings = [e for e in events if e["type"] == "price_unknown"]
    assert len(warnings) == 1 and "local:m" in warnings[0]["warning"]
    assert unpriced.budget is not None and unpriced.budget.spent.cost_text() == "unknown price"

    (tmp_path / "b").mkdir()
    priced = selector(server, tmp_path / "b", calls=10, events=[],
                      prices={"m": ModelPrice(input=3.0, output=15.0)})
    priced.invoke("coder", [HumanMessage("go")], key=KEYS[2])
    assert priced.budget is not None
    assert priced.budget.spent.cost_usd == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
