"""The spec judge's answers for tests that script or record the models (G7).

Every run whose tester pass passes asks the judge role once (call key ``spec_judge/<round>``).
Tests that drive the whole graph give it these answers:

- :func:`judgement_json` — the answer text for a spec: every acceptance criterion met, except
  the ones named in ``unmet``;
- :func:`judge_interaction` — the same as a cassette line;
- :func:`judge_reply` — for a scripted model: the answer as an ``AIMessage``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.messages import AIMessage

from agents.cassette import Interaction, ResponseRecord
from agents.schemas import Spec

__all__ = ["judge_interaction", "judge_reply", "judgement_json"]


def _criteria(spec: Spec | Mapping[str, Any]) -> list[str]:
    return list(spec.acceptance_criteria if isinstance(spec, Spec)
                else spec.get("acceptance_criteria", []))


def judgement_json(spec: Spec | Mapping[str, Any], *, unmet: Iterable[str] = (),
                   evidence: str = "main.py:1 does it; the tester reports PASS pytest",
                   unmet_evidence: str = "nothing in the project does it",
                   summary: str = "") -> str:
    """A :class:`agents.schemas.Judgement` as JSON: each criterion met unless in ``unmet``.

    Args:
        spec: the spec (or its dict) whose acceptance criteria are judged, in order.
        unmet: criteria (exact texts) to call unmet; the verdict is then "rework".
        evidence / unmet_evidence: the evidence of met / unmet criteria.
        summary: the summary (a default says what was decided).

    """
    wanted = set(unmet)
    criteria = [{"criterion": text, "status": "unmet" if text in wanted else "met",
                 "evidence": unmet_evidence if text in wanted else evidence}
                for text in _criteria(spec)]
    verdict = "rework" if wanted else "accept"
    return json.dumps({"criteria": criteria, "verdict": verdict,
                       "summary": summary or f"{verdict}: {len(criteria) - len(wanted)} of"
                                             f" {len(criteria)} criteria met"},
                      ensure_ascii=False)


def judge_interaction(spec: Spec | Mapping[str, Any], round_: int = 0, *,
                      model: str = "", **options: Any) -> Interaction:
    """The cassette line answering ``spec_judge/<round_>`` (see :func:`judgement_json`)."""
    return Interaction(key=f"spec_judge/{round_}", role="judge", model=model,
                       response=ResponseRecord(content=judgement_json(spec, **options)))


def judge_reply(spec: Spec | Mapping[str, Any], **options: Any) -> AIMessage:
    """A scripted model's answer to the judge (see :func:`judgement_json`)."""
    return AIMessage(judgement_json(spec, **options))
