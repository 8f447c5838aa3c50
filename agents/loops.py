"""Loops that should stop and ask the person instead of spending more model calls.

Two kinds are recognised after a coder round:

- ``tool_call``: the coder's :class:`agents.coder.LoopDetector` cut the round short (the same
  tool call with the same result again and again, or two calls alternating);
- ``finding``: a repair round was given failing findings and every one of them came back
  unchanged (same check, same message once volatile details are masked): no progress between
  two consecutive rounds.

Either way the graph goes to ``ask_human`` (continue, optionally with a hint, or stop) rather
than into another repair round. The functions here are pure (state in, verdict out), so the
routers and the interrupt agree on what happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from agents.state import RunState

__all__ = ["JUDGE_CHECK", "finding_signature", "from_judge", "repeated_findings", "signatures",
           "stuck"]

#: The check name of the spec judge's findings (see :mod:`agents.spec_judge`).
JUDGE_CHECK = "judge"

_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0x…"),  # object addresses
    (re.compile(r"\b\d+(?:\.\d+)?\s*(?:s|ms|sec|seconds)\b"), "… s"),  # durations
    (re.compile(r"(?:/tmp|/var/folders|[A-Za-z]:\\Users)[^\s'\"]*"), "<tmp>"),  # temp paths
    (re.compile(r"\bline \d+\b"), "line …"),
    (re.compile(r":\d+:(\d+:)?"), ":…:"),
]


def finding_signature(finding: Mapping[str, Any]) -> str:
    """``check: message``, normalised so the same failure compares equal across rounds.

    Whitespace is collapsed; addresses, timings, temporary paths and line numbers are masked.
    A judge finding is its criterion only: the judge words its evidence anew each round.
    """
    message = " ".join(str(finding.get("message", "")).split())
    if finding.get("check") == JUDGE_CHECK:
        message = message.split(" — ")[0]
    for pattern, mask in _VOLATILE:
        message = pattern.sub(mask, message)
    return f"{finding.get('check', '')}: {message}"


def from_judge(findings: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the spec judge sent the work back: ``findings`` (Finding dicts), all the judge's.

    False for no findings. The judge runs only on a round that passed every check, so a
    round's findings come from the paranoid tester or from the judge, never both.
    """
    checks = [f.get("check") for f in findings]
    return bool(checks) and all(check == JUDGE_CHECK for check in checks)


def signatures(findings: Iterable[Mapping[str, Any]]) -> list[str]:
    """The distinct signatures of ``findings``, in order."""
    return list(dict.fromkeys(finding_signature(f) for f in findings))


def repeated_findings(state: RunState) -> list[dict[str, Any]]:
    """The findings the last repair round was asked to fix, when every one of them came back.

    Empty when the round made progress (fixed at least one) or was not a repair round.
    """
    if state.get("checks_passed"):
        return []
    repairing = set(state.get("repairing", []))
    findings = state.get("findings", [])
    if not repairing or not repairing <= set(signatures(findings)):
        return []
    return [f for f in findings if finding_signature(f) in repairing]


def stuck(state: RunState) -> dict[str, Any] | None:
    """The loop the last round ran into, or None.

    Returns:
        ``{"kind": "tool_call" | "finding", "round": n, "detail": "one sentence",
        "findings": [...]}`` (``findings``: the repeated ones, for the ``finding`` kind).

    """
    if state.get("checks_passed"):
        return None
    round_ = state.get("round", 0)
    loop = state.get("loop") or {}
    if loop.get("kind") == "tool_call":
        return {"kind": "tool_call", "round": round_, "findings": [],
                "detail": f"the coder went in circles in round {round_}: {loop.get('detail')}"}
    repeated = repeated_findings(state)
    if repeated:
        first = finding_signature(repeated[0])
        more = f" (and {len(repeated) - 1} more)" if len(repeated) > 1 else ""
        return {"kind": "finding", "round": round_, "findings": repeated,
                "detail": f"repair round {round_} made no progress: the same failing finding"
                          f" came back — {first[:300]}{more}"}
    return None
