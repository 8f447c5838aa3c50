"""How well the spec judge (G7) agrees with the hidden acceptance tests.

    uv run python benchmarks/judge_agreement.py                       # the scripted judge
    uv run python benchmarks/judge_agreement.py --model openai:gpt-4.1-mini --tasks all
    uv run python benchmarks/judge_agreement.py --model openai:gpt-4.1-mini --tasks all \\
        --record datasets/eval/judge-agreement.jsonl              # new scripted set

Each judged *pair* is a task of the evaluation set (``datasets/eval/tasks``) with one of its
solutions: the reference (its hidden tests pass, so the judge should accept: every criterion
met) or a broken variant (they fail, so the judge should call at least one criterion unmet and
send the work back). For each pair the solution is materialised into the workspace of a
throw-away run folder and the real ``spec_judge`` node runs on it, with a spec made from the
task (its request as the summary, its contract as the interface, its criteria as the acceptance
criteria) and no tester report: the judge decides from the code alone.

Without ``--model`` the judge's answers come from ``datasets/eval/judge-agreement.jsonl``
(cassette lines keyed ``judge-agreement/<task>/<solution>``), played through the ``replay``
provider; the tasks default to those with scripted answers. With ``--model PROVIDER:MODEL`` a
real model answers, with the providers and keys of the user's settings (environment variable,
then the OS keyring); the tasks default to all. ``--record FILE`` writes the real model's
answers in the scripted format (``model`` names who answered; the file is replaced, so record
every task you want in the new set). ``--verify`` first runs each pair's hidden tests to confirm its
label; a label the tests contradict is replaced by what they show (and said so). ``--keep DIR``
keeps each pair's run folder: the prompt the judge saw (chat.md) and its decision
(judgement.json).

Prints one line per pair, the confusion matrix, agreement, broken variants caught, references
accepted, unclear counts and the disagreements with the judge's evidence; ``--json FILE`` writes
the same figures. Exit 0 when every pair was judged (whatever the agreement: it is a
measurement), 1 when the judge could not answer for some pair, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from agents.cassette import Interaction
    from agents.models import KeyLookup, ProviderConfig
    from agents.schemas import Spec
    from memory.redaction import Redactor
    from tools.sandbox.base import CommandEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.evalset import (  # noqa: E402
    EVAL_ROOT,
    DatasetError,
    EvalTask,
    load_task,
    load_tasks,
    select,
)

SCRIPTED = EVAL_ROOT / "judge-agreement.jsonl"
TASKS_DIR = EVAL_ROOT / "tasks"
KEY_PREFIX = "judge-agreement"
SCRIPTED_MODEL = "replay:judge-agreement"
REFERENCE = "reference"
NEUTRAL = "As the request describes."


class BadInput(ValueError):
    """Bad command-line input or data: one line for the person, exit code 2."""


@dataclass
class Pair:
    """One judged (task, solution) pair and what came of it."""

    task: str
    solution: str  # "reference" or the broken variant's name
    expected: str  # "pass" or "fail": what the hidden tests show (or are known to show)
    why: str = ""  # a variant's bug, in a sentence
    label_confirmed: bool | None = None  # --verify: did the tests show the expected label?
    tests: dict[str, int] = field(default_factory=dict)  # --verify: passed / failed counts
    verdict: str = ""  # "accept", "rework", or "" when the judge gave no answer
    met: int = 0
    unmet: int = 0
    unclear: int = 0
    criteria: list[dict[str, str]] = field(default_factory=list)
    summary: str = ""
    error: str = ""
    input_tokens: int = 0  # a real model's use for this pair (0 for the scripted judge)
    output_tokens: int = 0

    @property
    def name(self) -> str:
        """``task/solution``."""
        return f"{self.task}/{self.solution}"

    @property
    def agrees(self) -> bool:
        """The judge accepted a passing solution or sent a failing one back."""
        return bool(self.verdict) and (self.verdict == "accept") == (self.expected == "pass")


# -- input ---------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (exit code 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"judge_agreement: error: {message} (see --help)\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (a malformed one: one line on stderr, exit code 2)."""
    parser = _Parser(
        prog="judge_agreement.py",
        description="How well the spec judge agrees with the hidden acceptance tests on the"
                    " reference solutions and their broken variants.")
    parser.add_argument("--tasks", help="tasks as in `multicoder eval --tasks` (all, ids, globs,"
                        " kind:KIND, lang:en|ru); default: the scripted ones, or all with"
                        " --model")
    parser.add_argument("--model", help="PROVIDER:MODEL: ask this real model (the settings'"
                        " providers and keys); default: the scripted answers")
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="with --model: write its answers in the scripted format")
    parser.add_argument("--verify", action="store_true",
                        help="run the hidden tests first to confirm each pair's label")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep each pair's run folder (the judge's prompt in chat.md, its"
                             " judgement.json) in DIR, a new or empty folder")
    return parser.parse_args(argv)


def check_output_path(path: Path | None, option: str) -> None:
    """Refuse an output file whose folder does not exist, before any work is done.

    Raises:
        BadInput: the folder is missing or the path is a folder.

    """
    if path is None:
        return
    if path.is_dir():
        raise BadInput(f"{option} {path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise BadInput(f"{option} {path}: the folder {path.parent} does not exist")


def check_keep_folder(path: Path | None) -> None:
    """Refuse a ``--keep`` folder that is a file or not empty.

    Raises:
        BadInput: it is a file, or a folder with something in it.

    """
    if path is None or not path.exists():
        return
    if not path.is_dir():
        raise BadInput(f"--keep {path} is a file: give a new or empty folder")
    if any(path.iterdir()):
        raise BadInput(f"--keep {path} is not empty: give a new or empty folder")


def scripted_answers() -> dict[str, Interaction]:
    """The scripted judge's answers by pair (``task/solution``): cassette interactions.

    Raises:
        BadInput: the file is missing or a line is not a cassette line.

    """
    from agents.cassette import Cassette, CassetteError

    try:
        cassette = Cassette.load(SCRIPTED)
    except CassetteError as exc:
        raise BadInput(f"{exc} (the scripted judge answers)") from None
    answers = {}
    for key in cassette.order:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise BadInput(f"{SCRIPTED}: key {key!r} is not {KEY_PREFIX}/<task>/<solution>")
        answers[f"{parts[1]}/{parts[2]}"] = cassette.get(key)
    return answers


def pairs_of(tasks: Sequence[EvalTask], answers: dict[str, Interaction] | None
             ) -> tuple[list[Pair], list[str]]:
    """The pairs to judge, and (scripted) the ones left out for want of an answer."""
    pairs, missing = [], []
    for task in tasks:
        solutions = [(REFERENCE, "pass", ""), *((v.name, "fail", v.why) for v in task.variants)]
        for solution, expected, why in solutions:
            pair = Pair(task=task.id, solution=solution, expected=expected, why=why)
            if answers is not None and pair.name not in answers:
                missing.append(pair.name)
            else:
                pairs.append(pair)
    return pairs, missing


def choose_tasks(selection: str | None, answers: dict[str, Interaction] | None
                 ) -> list[EvalTask]:
    """The tasks to judge: ``selection``, else the scripted ones (scripted) or all (model).

    Raises:
        BadInput: the dataset or the selection is invalid, or nothing is left to judge.

    """
    try:
        if selection is None and answers is not None:
            # only the scripted tasks' folders are read: a task being written elsewhere in
            # the set cannot stop the offline measurement
            scripted = sorted({name.split("/")[0] for name in answers})
            missing = [name for name in scripted if not (TASKS_DIR / name).is_dir()]
            if missing:
                raise BadInput(f"{SCRIPTED.relative_to(ROOT)} answers for tasks that do not"
                               f" exist: {', '.join(missing)}")
            return [load_task(TASKS_DIR / name) for name in scripted]
        tasks = load_tasks()
        return select(tasks, selection) if selection is not None else tasks
    except DatasetError as exc:
        raise BadInput(str(exc)) from None


# -- the model -----------------------------------------------------------------------------

Model = tuple["dict[str, ProviderConfig]", "KeyLookup", "Redactor"]
"""A real model's providers, key lookup and the redactor hiding its keys."""


def real_model(reference: str) -> Model:
    """The settings' provider for ``reference``, its key lookup and a redactor hiding its keys.

    Returns ``(providers, key_lookup, redactor)``.

    Raises:
        BadInput: invalid settings, a malformed reference, an unknown or disabled provider,
            or no key (the message names the variable to set).

    """
    from pydantic import ValidationError

    from agents.models import ROLES, ModelConfigError, ModelRef, ModelSelector
    from graph.settings import Settings, config_file, lookup_key, lookup_keys
    from memory.redaction import Redactor

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadInput(f"invalid setting {where}: {first['msg']} (file {config_file()} or"
                       " MULTICODER_* variables)") from None
    except (ValueError, OSError) as exc:
        raise BadInput(f"cannot read the settings file {config_file()}: {exc}") from None
    try:
        ref = ModelRef.parse(reference)
        provider = settings.providers.get(ref.provider)
        if (provider is not None and provider.enabled and provider.kind == "openai"
                and provider.needs_key and not lookup_key(ref.provider, provider)):
            where = f"set {provider.api_key_env}, or" if provider.api_key_env else ""
            raise ModelConfigError(f"no API key for provider '{ref.provider}': {where} store it"
                                   f" with `multicoder keys set {ref.provider}`")
        # unknown or disabled providers and missing cassettes, worded as the engine does
        ModelSelector(roles={role: [ref] for role in ROLES}, providers=settings.providers,
                      key_lookup=lookup_key).validate()
    except ModelConfigError as exc:
        raise BadInput(f"--model {reference}: {exc}") from None
    redactor = Redactor.from_environment()
    provider = settings.providers[ref.provider]
    for key in lookup_keys(ref.provider, provider):
        redactor.add(key)
    return dict(settings.providers), lookup_key, redactor


# -- judging one pair ----------------------------------------------------------------------

def spec_for(task: EvalTask) -> Spec:
    """The spec the judge gets: the task's request, contract and criteria; nothing more."""
    from agents.schemas import Spec

    return Spec(title=task.title, summary=task.text, features=[NEUTRAL],
                user_interface=task.contract, data=NEUTRAL, error_handling=[NEUTRAL],
                acceptance_criteria=list(task.criteria))


def verify(task: EvalTask, pair: Pair, scratch: Path) -> None:
    """Run the pair's hidden tests; the label becomes what they show."""
    from graph.evalset import check_solution

    variant = None if pair.solution == REFERENCE else pair.solution
    result = check_solution(task, variant, scratch)
    shown = "pass" if result.all_passed else "fail"
    pair.tests = {"passed": len(result.passed), "failed": len(result.failed)}
    pair.label_confirmed = shown == pair.expected
    pair.expected = shown


def judge(task: EvalTask, pair: Pair, scratch: Path, runs: Path, model: str | None,
          answer: Interaction | None, real: Model | None) -> Interaction | None:
    """Run the real ``spec_judge`` node on the pair's solution; fill in ``pair``.

    The run folder is ``runs/<task>--<solution>`` (the judge's prompt in chat.md, its
    decision in judgement.json); ``scratch`` holds the scripted answer's cassette. Either
    ``model`` and ``real`` (a real model) or ``answer`` (the scripted one) is given.
    Returns the model's answer as the run recorded it, or None when there is none.

    Raises:
        agents.models.ProviderAuthError: the provider refused its key.

    """
    from langgraph.runtime import Runtime

    from agents.cassette import CassetteError, CassetteRecorder
    from agents.config import Limits
    from agents.context import Context, Services
    from agents.models import (
        ROLES,
        BudgetExceeded,
        ModelConfigError,
        ModelRef,
        ModelSelector,
        ProviderConfig,
        ProviderUnavailable,
    )
    from agents.spec_judge import spec_judge
    from agents.structured import AnswerFormatError
    from graph.evalset import materialise
    from memory.records import RunRecord
    from memory.redaction import Redactor
    from tools.actions import Policy, default_registry
    from tools.sandbox.local import LocalSandbox

    run_id = f"{pair.task}--{pair.solution}"
    if model is None or real is None:  # the scripted answer, played by the replay provider
        if answer is None:
            raise ValueError("judge() needs a scripted answer or a real model")
        cassettes = scratch / "cassettes"
        cassettes.mkdir(exist_ok=True)
        line = answer.model_copy(update={"key": "spec_judge/0"})
        (cassettes / f"{run_id}.jsonl").write_text(line.model_dump_json() + "\n",
                                                   encoding="utf-8")
        providers = {"replay": ProviderConfig(kind="replay", needs_key=False,
                                              cassette_dir=cassettes)}
        key_lookup: KeyLookup = _no_key
        redactor, model = Redactor(), f"replay:{run_id}"
    else:
        providers, key_lookup, redactor = real
    record = RunRecord.create(runs, run_id, redactor)
    try:
        record.workspace.rmdir()  # materialise() makes the folder itself
        materialise(task, None if pair.solution == REFERENCE else pair.solution,
                    record.workspace)
        selector = ModelSelector(
            roles={role: [ModelRef.parse(model)] for role in ROLES}, providers=providers,
            key_lookup=key_lookup,
            recorder=CassetteRecorder(record.run_dir / "cassette.jsonl", redactor))
        services = Services(record=record, models=selector,
                            sandbox=LocalSandbox(record.workspace),
                            environment=_no_environment(), registry=default_registry(),
                            policy=Policy(workspace=record.workspace), limits=Limits())
        runtime = Runtime(context=Context(run_id=run_id, services=services))
        try:
            update = spec_judge({"spec": spec_for(task).model_dump(), "round": 0}, runtime)
        except (AnswerFormatError, CassetteError, ModelConfigError, ProviderUnavailable,
                BudgetExceeded, OSError, DatasetError) as exc:
            pair.error = redactor(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
            return None
        judgement = update["judgement"]
        pair.verdict = judgement["verdict"]
        pair.criteria = [{k: c[k] for k in ("criterion", "status", "evidence")}
                         for c in judgement["criteria"]]
        pair.summary = judgement["summary"]
        for item in pair.criteria:
            setattr(pair, item["status"], getattr(pair, item["status"]) + 1)
        pair.input_tokens = sum(u.input_tokens for u in selector.usage.values())
        pair.output_tokens = sum(u.output_tokens for u in selector.usage.values())
        return _last_answer(record.run_dir / "cassette.jsonl")
    finally:
        record.close()


def _last_answer(cassette: Path) -> Interaction | None:
    """The last answer a run recorded (after retries: the one that parsed), or None."""
    from agents.cassette import Interaction

    if not cassette.is_file():
        return None
    lines = [line for line in cassette.read_text(encoding="utf-8").splitlines() if line.strip()]
    return Interaction.model_validate_json(lines[-1]) if lines else None


def _no_key(provider: str, config: ProviderConfig) -> str | None:
    """The replay provider needs no key."""
    return None


def _no_environment() -> CommandEnvironment:
    """The app's environment: never used by the judge, so it does nothing."""
    from tools.sandbox.base import CommandEnvironment, CommandResult

    class NoEnvironment(CommandEnvironment):
        def ensure(self) -> list[CommandResult]:
            return []

        def program(self, name: str) -> str:
            return name

        def variables(self) -> dict[str, str]:
            return {}

    return NoEnvironment()


# -- figures -------------------------------------------------------------------------------

def ratio(part: int, whole: int) -> str:
    """``part/whole = 95.0%`` (``n/a`` for an empty whole)."""
    return f"{part}/{whole} = {100 * part / whole:.1f}%" if whole else f"{part}/0 = n/a"


def figures(pairs: Sequence[Pair]) -> dict[str, Any]:
    """The confusion matrix and the rates, over the pairs the judge answered."""
    judged = [p for p in pairs if p.verdict]
    a = sum(p.expected == "pass" and p.verdict == "accept" for p in judged)
    b = sum(p.expected == "pass" and p.verdict == "rework" for p in judged)
    c = sum(p.expected == "fail" and p.verdict == "accept" for p in judged)
    d = sum(p.expected == "fail" and p.verdict == "rework" for p in judged)
    n = a + b + c + d

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "pairs": n, "errors": len(pairs) - len(judged),
        "matrix": {"reference_accept": a, "reference_rework": b, "broken_accept": c,
                   "broken_rework": d},
        "agreement": rate(a + d, n), "broken_caught": rate(d, c + d),
        "references_accepted": rate(a, a + b),
        "unclear_criteria": sum(p.unclear for p in judged),
        "unclear_pairs": sum(p.unclear > 0 for p in judged),
        "criteria": sum(p.met + p.unmet + p.unclear for p in judged),
    }


def pair_line(pair: Pair, widths: tuple[int, int]) -> str:
    """The pair's line: task, solution, expected, verdict, met/unmet/unclear, ✓/✗."""
    task, solution = widths
    if pair.error:
        return (f"{pair.task:<{task}} {pair.solution:<{solution}} {pair.expected:<8}"
                f" {'error':<7} {'-':<17} ! {pair.error}")
    counts = f"{pair.met}/{pair.unmet}/{pair.unclear}"
    mark = "✓" if pair.agrees else "✗"
    note = "" if pair.label_confirmed is not False else "  (label from the hidden tests)"
    return (f"{pair.task:<{task}} {pair.solution:<{solution}} {pair.expected:<8}"
            f" {pair.verdict:<7} {counts:<17} {mark}{note}")


def report(pairs: Sequence[Pair], figs: dict[str, Any], missing: Sequence[str]) -> list[str]:
    """The summary printed after the pairs' lines."""
    m = figs["matrix"]
    a, b, c, d = (m["reference_accept"], m["reference_rework"], m["broken_accept"],
                  m["broken_rework"])
    lines = ["", "                       judge accept   judge rework",
             f"  reference (pass)      {a:>8}       {b:>8}",
             f"  broken (fail)         {c:>8}       {d:>8}", "",
             f"agreement            {ratio(a + d, figs['pairs'])}",
             f"broken caught        {ratio(d, c + d)}",
             f"references accepted  {ratio(a, a + b)}",
             f"unclear              {figs['unclear_criteria']} of {figs['criteria']} criteria,"
             f" in {figs['unclear_pairs']} of {figs['pairs']} pairs"]
    if figs["errors"]:
        lines.append(f"not judged           {figs['errors']} pairs (the judge gave no answer)")
    if missing:
        lines.append(f"no scripted answer   {len(missing)} pairs left out:"
                     f" {left_out(missing, pairs)}")
    unconfirmed = [p.name for p in pairs if p.label_confirmed is False]
    if unconfirmed:
        lines.append("labels the hidden tests contradicted (their outcome counts): "
                     + ", ".join(unconfirmed))
    disagreements = [p for p in pairs if p.verdict and not p.agrees]
    lines += ["", f"disagreements: {len(disagreements) or 'none'}"]
    for pair in disagreements:
        said = "accepted" if pair.verdict == "accept" else "sent back"
        lines.append(f"- {pair.name}: hidden tests {pair.expected}, the judge {said} it")
        if pair.why:
            lines.append(f"    the bug: {pair.why}")
        shown = [c for c in pair.criteria if c["status"] != "met"] or pair.criteria
        marks = {"met": "✓", "unmet": "✗", "unclear": "?"}
        lines += [f"    {marks[c['status']]} {c['criterion']} — {c['evidence']}" for c in shown]
    return lines


def left_out(missing: Sequence[str], judged: Sequence[Pair]) -> str:
    """``missing`` pairs (``task/solution``) named briefly: a task none of whose pairs is
    judged by its id and count alone (``wordfreq-cli (3)``)."""
    kept = {pair.task for pair in judged}
    by_task: dict[str, list[str]] = {}
    for name in missing:
        task, solution = name.split("/", 1)
        by_task.setdefault(task, []).append(solution)
    return ", ".join(
        f"{task} ({len(solutions)})" if task not in kept
        else ", ".join(f"{task}/{solution}" for solution in solutions)
        for task, solutions in by_task.items())


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    from memory.records import atomic_write

    atomic_write(path, text.encode("utf-8"))


# -- main ----------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    """Judge every pair, print the figures; returns the exit code.

    Raises:
        BadInput: bad input (exit 2).

    """
    if args.record is not None and args.model is None:
        raise BadInput("--record needs --model: it records a real model's answers")
    check_output_path(args.json, "--json")
    check_output_path(args.record, "--record")
    check_keep_folder(args.keep)
    answers = scripted_answers() if args.model is None else None
    tasks = choose_tasks(args.tasks, answers)
    pairs, missing = pairs_of(tasks, answers)
    if not pairs:
        raise BadInput(f"--tasks {args.tasks}: no scripted judge answers for these tasks"
                       f" ({SCRIPTED.relative_to(ROOT)}); give --model PROVIDER:MODEL to ask"
                       " a real model")
    real = real_model(args.model) if args.model is not None else None
    from agents.models import ProviderAuthError

    by_id = {task.id: task for task in tasks}
    widths = (max(len(p.task) for p in pairs), max(len(p.solution) for p in pairs))
    source = args.model or f"scripted ({SCRIPTED.relative_to(ROOT)})"
    print(f"judge: {source}; {len(pairs)} pairs from {len({p.task for p in pairs})} tasks"
          f"{'; labels checked by the hidden tests' if args.verify else ''}")
    print(f"{'task':<{widths[0]}} {'solution':<{widths[1]}} {'expected':<8} {'judge':<7}"
          f" {'met/unmet/unclear':<17} agrees")
    recorded: list[str] = []
    with tempfile.TemporaryDirectory(prefix="judge-agreement-") as folder:
        scratch = Path(folder)
        runs = args.keep if args.keep is not None else scratch / "runs"
        for number, pair in enumerate(pairs):
            work = scratch / str(number)
            work.mkdir()
            if args.verify:
                (work / "tests").mkdir()
                verify(by_id[pair.task], pair, work / "tests")
            try:
                answer = judge(by_id[pair.task], pair, work, runs, args.model,
                               answers[pair.name] if answers is not None else None, real)
            except ProviderAuthError as exc:
                hide = real[2] if real is not None else str
                raise BadInput(f"--model {args.model}: the provider refused the key"
                               f" ({hide(str(exc))})") from None
            if answer is not None and args.record is not None:
                line = answer.model_copy(update={
                    "key": f"{KEY_PREFIX}/{pair.task}/{pair.solution}", "role": "judge",
                    "request": None, "request_hash": None})
                recorded.append(line.model_dump_json(exclude_none=True))
            print(pair_line(pair, widths), flush=True)
    figs = figures(pairs)
    print("\n".join(report(pairs, figs, missing)))
    if args.model is not None:
        print(f"tokens               {sum(p.input_tokens for p in pairs)} in,"
              f" {sum(p.output_tokens for p in pairs)} out")
    if args.json is not None:
        data = {"judge": args.model or SCRIPTED_MODEL, "verified": args.verify, **figs,
                "left_out": list(missing),
                "results": [asdict(p) | {"agrees": p.agrees} for p in pairs]}
        write_atomic(args.json, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        print(f"figures written to {args.json}")
    if args.record is not None:
        write_atomic(args.record, "".join(f"{line}\n" for line in recorded))
        print(f"{len(recorded)} answers recorded in {args.record}")
    return 1 if figs["errors"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: bad input is one line on stderr and exit code 2."""
    args = parse_args(argv)
    try:
        return run(args)
    except BadInput as exc:
        print(f"judge_agreement: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("judge_agreement: interrupted; nothing written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
