"""Safety gate (G2) in layers, before any work starts.

1. An offline classifier (:mod:`tools.safety.classifier`: TF-IDF + intent cues + logistic
   regression, trained on ``datasets/safety/requests.jsonl``) labels the request in
   milliseconds.
2. The judge model reviews the request and answers a structured :class:`SafetyVerdict`; its
   request carries the classifier's result as a hint it must verify, not obey.
3. The person confirms (:func:`agents.approvals.confirm_start`).

Combination: the final verdict is the judge's, except that a request the classifier flagged
can never end up green — it becomes yellow and needs the person's own confirmation (even under
``--auto-approve``), as does any verdict whose recommendation is not "approve" (a yellow
"reject" or "modify" of the judge). Red is final. When the judge cannot be reached the node
fails as before: the classifier alone never lets a request through.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.context import Context, emit, services_of
from agents.schemas import SafetyVerdict
from agents.state import RunState
from agents.structured import ask_structured, prompt, schema_text
from tools.safety import ClassifierVerdict, classify


def classifier_hint(layer1: ClassifierVerdict) -> str:
    """One line for the judge and the transcript, e.g. ``harmful (p=0.93, keylogger_spyware)``."""
    cues = ", ".join(sorted(layer1.cues)) or "none"
    return (f"{layer1.label} (probability of harm {layer1.harmful_probability:.2f}, threshold "
            f"{layer1.threshold:.2f}; likeliest category: {layer1.category_guess}; "
            f"intent cues: {cues})")


def combine(judge: SafetyVerdict, layer1: ClassifierVerdict) -> tuple[SafetyVerdict, bool]:
    """The final verdict from the judge's and the classifier's.

    The judge decides, with one exception: a request the classifier labelled harmful is at least
    yellow (a reason saying so is added, and its category joins the categories).

    Returns:
        ``(final verdict, needs_person)``; ``needs_person`` (only the person may approve it,
        never ``--auto-approve``) is True for a final verdict that is not red and either was
        flagged by the classifier or does not recommend "approve" (a yellow "reject" or
        "modify" of the judge alone). A yellow "approve" of the judge alone, unflagged, may be
        approved automatically.

    """
    flagged = layer1.label == "harmful"
    final = judge.model_copy(deep=True)
    if flagged and judge.level == "green":
        final.level = "yellow"
        final.reasons.append(
            f"The offline classifier flagged this request as possibly harmful "
            f"({layer1.category_guess}, probability {layer1.harmful_probability:.2f}) while the "
            f"judge found it legitimate: confirm that it is for your own systems or made with "
            f"the consent of the people it concerns.")
    if flagged and final.level == "yellow" and layer1.category_guess not in final.categories:
        final.categories.append(layer1.category_guess)
    needs_person = final.level != "red" and (flagged or final.recommendation != "approve")
    return final, needs_person


def _verdict_markdown(title: str, verdict: SafetyVerdict) -> str:
    lines = [f"**{title}: {verdict.level.upper()}** — recommendation: {verdict.recommendation}"]
    if verdict.categories:
        lines.append(f"- categories: {', '.join(verdict.categories)}")
    lines += [f"- {reason}" for reason in verdict.reasons]
    return "\n".join(lines)


def safety_gate(state: RunState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the classifier, then the judge, and combine their verdicts on ``state["task"]``.

    Returns ``{"safety": ...}``: the final :class:`SafetyVerdict` as a dict plus
    ``needs_person`` (bool), ``escalated`` (bool: the classifier raised green to yellow) and
    ``layers`` (``{"classifier": ClassifierVerdict.as_dict(), "judge": judge verdict}``).
    A red verdict also sets ``status="refused"``; the graph then goes straight to the
    reporter: no code is ever written for it. Each layer is written to events.jsonl
    (``safety_classifier``, ``safety_judge``, ``safety_verdict``) and to chat.md.

    Raises:
        tools.safety.DatasetError: the classifier's dataset is missing (the gate fails closed).
        the errors of :func:`agents.structured.ask_structured` when the judge gives no usable
        answer or cannot be reached.

    """
    record = services_of(runtime).record
    task = state["task"]

    layer1 = classify(task)
    emit(runtime, "safety_classifier", label=layer1.label,
         harmful_probability=round(layer1.harmful_probability, 4),
         category=layer1.category_guess, threshold=layer1.threshold,
         model_version=layer1.model_version, cues=layer1.cues)
    record.chat("safety classifier", f"**Layer 1 (offline classifier):** {classifier_hint(layer1)}"
                f"\n\n- model: `{layer1.model_version}`", title="safety gate, layer 1")

    system = prompt("safety_gate", schema=schema_text(SafetyVerdict))
    request = prompt("safety_gate_request", task=task, classifier=classifier_hint(layer1))
    record.chat("multicoder → judge", system, kind="system", title="safety gate instructions")
    record.chat("multicoder → judge", request)
    judge = ask_structured(runtime, "judge", [SystemMessage(system), HumanMessage(request)],
                           SafetyVerdict, key=f"safety_gate/{state.get('task_revision', 0)}",
                           speaker="judge")
    emit(runtime, "safety_judge", **judge.model_dump())

    final, needs_person = combine(judge, layer1)
    escalated = final.level != judge.level
    emit(runtime, "safety_verdict", **final.model_dump(), escalated=escalated,
         needs_person=needs_person)
    note = ""
    if escalated:
        note = "\n\nRaised from GREEN to YELLOW because the classifier flagged the request."
    if needs_person:
        note += "\n\nOnly the person can approve this request (auto-approval does not apply)."
    record.chat("multicoder", _verdict_markdown("Safety verdict", final) + note,
                title="safety gate, combined verdict")

    safety = final.model_dump() | {
        "needs_person": needs_person, "escalated": escalated,
        "layers": {"classifier": layer1.as_dict(), "judge": judge.model_dump()}}
    update: dict[str, Any] = {"safety": safety}
    if final.level == "red":
        update |= {"status": "refused",
                   "error": "refused by the safety gate: "
                   + "; ".join(r.strip().rstrip(".;") for r in final.reasons)}
    return update
