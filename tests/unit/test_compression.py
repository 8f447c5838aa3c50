"""Context compression: prompts stay within the budget, whole turns are folded into a summary."""

import gc
import tracemalloc

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents.cassette import request_fingerprint
from agents.compression import ContextCompressor, ContextTooSmall, split_turns
from agents.tokens import TokenCounter
from tools.actions import default_registry

CONTEXT = 12_000
TOOLS = default_registry().tool_schemas()
COUNTER = TokenCounter()  # the estimate: what a run without a tokenizer uses


def call(call_id, name, **args):
    return {"id": call_id, "name": name, "args": args, "type": "tool_call"}


def turn(i, size=6_000):
    """The coder writes a file of ``size`` characters, then reads another one back."""
    body = "value = compute(1, 2)\n" * (size // 22)
    return [
        AIMessage(content=f"Writing part {i}.", tool_calls=[
            call(f"w{i}", "write_file", path=f"app/part{i}.py",
                 content=f"# PART{i}-START\n{body}# PART{i}-END\n"),
            call(f"l{i}", "list_dir", path="app")]),
        ToolMessage(content='{"success": true, "data": {"bytes": 6000}}', tool_call_id=f"w{i}"),
        ToolMessage(content='{"success": true, "data": {"entries": ["app/"]}}',
                    tool_call_id=f"l{i}"),
    ]


def opening():
    return [SystemMessage("You are the coder of MultiCoder."),
            HumanMessage("# Specification\n\nA calculator.\n\n# Approved plan\n\n1. write it")]


class Summariser:
    """A scripted summary model: records each request, answers with a numbered summary."""

    def __init__(self):
        self.requests = []

    def __call__(self, key, request, title):
        self.requests.append((key, request, title))
        return f"SUMMARY-{len(self.requests)}: parts written so far are fine."


def assert_pairs_whole(view):
    """Every tool call is followed by its result, and every result follows its call."""
    expected = []
    for message in view:
        if isinstance(message, ToolMessage):
            assert expected and message.tool_call_id == expected.pop(0), "result without its call"
        else:
            assert not expected, "a call without its result"
            if isinstance(message, AIMessage):
                expected = [c["id"] for c in message.tool_calls]
    assert not expected


def converse(turns, summariser, context=CONTEXT):
    """Grow a conversation turn by turn as the coder does; returns (compressor, prompts)."""
    compressor = ContextCompressor(COUNTER, context, summariser, tools=TOOLS)
    messages = opening()
    prompts = []
    for i in range(turns):
        prompts.append((messages[:], compressor.prepare(messages, f"coder/0/{i}")))
        messages += turn(i)
    return compressor, prompts


def test_a_long_conversation_is_folded_into_a_running_summary_within_the_budget():
    summariser = Summariser()
    _, prompts = converse(60, summariser)
    whole = COUNTER.count_messages(prompts[-1][0])
    assert whole > 10 * CONTEXT  # the conversation itself is far beyond the budget
    for messages, view in prompts:
        assert COUNTER.count_messages(view) + COUNTER.count_tools(TOOLS) <= CONTEXT
        assert view[0] is messages[0] and view[1] is messages[1]  # instructions, spec and plan
        assert_pairs_whole(view)
        _, turns = split_turns(messages)
        if turns:  # the newest turn is sent verbatim
            assert view[-len(turns[-1]):] == turns[-1]
            assert all(a is b for a, b in zip(view[-len(turns[-1]):], turns[-1], strict=True))
    assert len(summariser.requests) >= 5  # compressed several times, not on every turn
    assert len(summariser.requests) < 20
    # each summary folds the previous summary with the newly folded turns
    for (_, request, _), number in zip(summariser.requests[1:], range(1, 1000), strict=False):
        assert f"SUMMARY-{number}:" in request[-1].content
        assert COUNTER.count_messages(request) <= CONTEXT  # summary requests fit as well
    last_view = prompts[-1][1]
    summary = [m for m in last_view if f"SUMMARY-{len(summariser.requests)}:" in m.text]
    assert len(summary) == 1 and isinstance(summary[0], HumanMessage)
    # nothing was dropped unseen: every folded part reached a summary request or is still sent
    seen = "".join(m.text for _, r, _ in summariser.requests for m in r) + "".join(
        str(m.tool_calls) for m in last_view if isinstance(m, AIMessage))
    assert all(f"PART{i}-START" in seen for i in range(59))


def test_summary_calls_have_deterministic_keys_and_titles():
    summariser = Summariser()
    converse(30, summariser)
    for key, _, title in summariser.requests:
        prefix, _, rest = key.partition("/summary")
        assert prefix.startswith("coder/0/") and rest in ("", *(f"/{n}" for n in range(1, 9)))
        assert title.startswith("summary of coder turns 1–")


def test_the_same_conversation_gives_the_same_prompts_so_recorded_answers_are_reused():
    _, first = converse(30, Summariser())
    _, again = converse(30, Summariser())  # a round re-run after a crash
    assert [request_fingerprint(v) for _, v in first] == [request_fingerprint(v) for _, v in again]


def test_a_short_conversation_is_sent_unchanged():
    summariser = Summariser()
    compressor = ContextCompressor(COUNTER, 100_000, summariser, tools=TOOLS)
    messages = opening() + turn(0) + turn(1)
    view = compressor.prepare(messages, "coder/0/2")
    assert view == messages and all(a is b for a, b in zip(view, messages, strict=True))
    assert summariser.requests == []


def test_one_tool_result_too_large_by_itself_is_cut_keeping_head_and_tail():
    summariser = Summariser()
    compressor = ContextCompressor(COUNTER, CONTEXT, summariser, tools=TOOLS)
    huge = "HEAD-MARK " + "row,1,2,3\n" * 20_000 + " TAIL-MARK"
    messages = [*opening(), AIMessage(content="", tool_calls=[
        call("r1", "read_file", path="data.csv")]), ToolMessage(content=huge, tool_call_id="r1")]
    view = compressor.prepare(messages, "coder/0/1")
    assert COUNTER.count_messages(view) + COUNTER.count_tools(TOOLS) <= CONTEXT
    sent = view[-1].text
    assert sent.startswith("HEAD-MARK") and sent.endswith("TAIL-MARK")
    assert "characters cut here" in sent and len(sent) < len(huge) / 10
    assert messages[-1].text == huge  # the conversation (and so the archive) keeps it whole
    assert_pairs_whole(view)


def test_a_huge_file_written_by_the_model_is_cut_in_the_prompt_not_in_the_workspace():
    compressor = ContextCompressor(COUNTER, CONTEXT, Summariser(), tools=TOOLS)
    content = "START\n" + "x = 1\n" * 30_000 + "END\n"
    write = AIMessage(content="", tool_calls=[call("w", "write_file", path="big.py",
                                                    content=content)])
    messages = [*opening(), write, ToolMessage(content='{"success": true}', tool_call_id="w")]
    view = compressor.prepare(messages, "coder/0/1")
    sent = view[2].tool_calls[0]["args"]
    assert sent["path"] == "big.py" and sent["content"].startswith("START")
    assert sent["content"].endswith("END\n") and len(sent["content"]) < len(content)
    assert write.tool_calls[0]["args"]["content"] == content
    assert COUNTER.count_messages(view) + COUNTER.count_tools(TOOLS) <= CONTEXT


def test_a_budget_that_cannot_hold_the_tools_is_refused_with_the_setting_to_raise():
    with pytest.raises(ContextTooSmall, match=r"limits\.context_tokens"):
        ContextCompressor(COUNTER, 2_000, Summariser(), tools=TOOLS)


def test_a_long_round_does_not_keep_every_prompt_it_made():
    # each prompt of a compressed conversation makes new messages (the summary message, cut
    # copies); a round of hundreds of turns must not keep them all in memory
    compressor = ContextCompressor(COUNTER, CONTEXT, Summariser(), tools=TOOLS)
    messages = opening()
    for i in range(40):
        compressor.prepare(messages, f"coder/0/{i}")
        messages += turn(i)
    huge = "row,1,2,3\n" * 20_000  # one result cut in every prompt
    messages += [AIMessage(content="", tool_calls=[call("r", "read_file", path="data.csv")]),
                 ToolMessage(content=huge, tool_call_id="r")]

    def used():
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        for _ in range(10):
            compressor.prepare(messages, "coder/0/40")
        settled = used()
        for _ in range(200):
            view = compressor.prepare(messages, "coder/0/40")
        grown = used() - settled
    finally:
        tracemalloc.stop()
    assert "characters cut here" in view[-1].text  # these prompts were compressed and cut
    assert grown < 50_000, f"{grown:,} bytes kept after 200 prompts of the same conversation"
