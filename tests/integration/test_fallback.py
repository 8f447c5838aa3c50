"""Retries and fallback with the real langchain-openai client over a socket (G6, Q3)."""

import json

import pytest
from langchain_core.messages import HumanMessage

from agents.cassette import HEADER_CALL_KEY, Cassette, Interaction, ResponseRecord
from agents.models import (
    ModelRef,
    ModelSelector,
    ProviderAuthError,
    ProviderConfig,
    ProviderUnavailable,
)
from tests.conftest import run_cli
from tests.support.openai_server import CassetteServer

KEY = "judge/0"


def cassette(text):
    return Cassette([Interaction(key=KEY, role="judge", model="local:m",
                                 response=ResponseRecord(content=text))])


@pytest.fixture
def primary():
    with CassetteServer(cassette("from primary"), api_key="k1") as srv:
        yield srv


@pytest.fixture
def backup():
    with CassetteServer(cassette("from backup"), api_key="k2") as srv:
        yield srv


def selector(primary, backup, *, timeout_s=10.0):
    providers = {
        "one": ProviderConfig(base_url=primary.base_url, api_key_env="K1", max_retries=2,
                              timeout_s=timeout_s),
        "two": ProviderConfig(base_url=backup.base_url, api_key_env="K2", max_retries=0),
    }
    keys = {"one": "k1", "two": "k2"}
    events = []
    s = ModelSelector(roles={"judge": [ModelRef.parse("one:m"), ModelRef.parse("two:m")]},
                      providers=providers, key_lookup=lambda name, _: keys[name],
                      on_event=events.append)
    return s, events


def ask(s):
    return s.invoke("judge", [HumanMessage("hi")], key=KEY).content


def test_429_is_retried_on_the_same_model(primary, backup):
    primary.inject("429")
    s, _ = selector(primary, backup)
    assert ask(s) == "from primary"
    assert len(primary.requests) == 2 and backup.requests == []
    assert all(r.headers[HEADER_CALL_KEY.lower()] == KEY for r in primary.requests)


def test_persistent_500_falls_back_to_the_next_model(primary, backup):
    primary.inject("500", times=3)
    s, events = selector(primary, backup)
    assert ask(s) == "from backup"
    assert len(primary.requests) == 3  # first try + max_retries=2
    assert [e["type"] for e in events if e["type"] == "model_fallback"] == ["model_fallback"]
    assert s.usage["one:m"].failures == 1 and s.usage["two:m"].calls == 1


def test_timeouts_are_retried_then_fall_back(primary, backup):
    primary.inject("timeout", times=3, delay_s=5)
    s, _ = selector(primary, backup, timeout_s=0.5)
    assert ask(s) == "from backup"


def test_a_malformed_body_falls_back(primary, backup):
    primary.inject("malformed")
    s, _ = selector(primary, backup)
    assert ask(s) == "from backup"


def test_every_model_failing_is_one_clear_error(primary, backup):
    primary.inject("500", times=3)
    backup.inject("503")
    s, _ = selector(primary, backup)
    with pytest.raises(ProviderUnavailable, match=r"one:m: .*500.*two:m: .*503"):
        ask(s)


def test_refused_keys_are_an_auth_error(primary, backup):
    primary.inject("401")
    backup.inject("401")
    s, _ = selector(primary, backup)
    with pytest.raises(ProviderAuthError, match="key refused"):
        ask(s)


REFUSAL = json.dumps({"level": "red", "recommendation": "reject",
                      "categories": ["keylogger"], "reasons": ["steals passwords"]})


def test_an_outage_mid_run_saves_the_run_and_resume_finishes_it(cli_env):
    """The provider fails after the run exists: exit 3, run saved; resume completes it."""
    c = Cassette([Interaction(key="safety_gate/0", role="judge", model="local:m",
                              response=ResponseRecord(content=REFUSAL))])
    with CassetteServer(c, api_key="k") as srv:
        cli_env |= {"MULTICODER_PROVIDERS__LOCAL__BASE_URL": srv.base_url,
                    "MULTICODER_PROVIDERS__LOCAL__API_KEY_ENV": "LOCAL_K",
                    "MULTICODER_PROVIDERS__LOCAL__MAX_RETRIES": "1", "LOCAL_K": "k"}
        srv.inject("500", times=2)
        args = ["build", "a keylogger", *[a for r in ("planner", "coder", "judge")
                                          for a in ("--model", f"{r}=local:m")]]
        first = run_cli(args, cli_env, timeout=300)
        assert first.returncode == 3, first.stdout + first.stderr
        assert "multicoder resume" in first.stderr
        run_id = first.stdout.split()[1]
        shown = run_cli(["runs", "show", run_id], cli_env)
        assert "failed" in shown.stdout
        second = run_cli(["resume", run_id], cli_env, timeout=300)
        assert second.returncode == 1, second.stdout + second.stderr
        assert "refused" in second.stdout
