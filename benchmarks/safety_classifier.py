"""Held-out figures of the safety gate's offline classifier (layer 1 of G2).

    uv run python benchmarks/safety_classifier.py          # train on train, score the test split
    uv run python benchmarks/safety_classifier.py --tune   # grouped 5-fold CV on train only

The first form prints, per language and overall: precision / recall / F1 on harmful requests,
the false-refusal rate on benign ones, the confusion matrix, the training time and the mean
latency of one ``classify()`` call, then a PASS/FAIL line against the targets (recall >= 0.95
and false refusals <= 0.05 in each language). Exit code 0 on PASS, 1 on FAIL.

``--tune`` never looks at the test split: it scores a grid of (C, cue weight) by grouped
cross-validation on the train split (variants of one request stay in one fold) and reports,
for each, the highest threshold whose out-of-fold recall is >= 0.95 (the target) in each
language, with the false-refusal rate there; the setting with the lowest worst-language false
refusals wins. That is how the constants in tools/safety/classifier.py were chosen.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.safety.classifier import (  # noqa: E402
    C_VALUE,
    CUE_WEIGHT,
    DATASET_PATH,
    METHOD,
    THRESHOLD,
    Evaluation,
    Example,
    LanguageMetrics,
    SafetyClassifier,
    dataset_digest,
    evaluate,
    load_examples,
)

MIN_RECALL = 0.95
MAX_FALSE_REFUSALS = 0.05
TUNE_RECALL = 0.95  # the target itself, on out-of-fold predictions
FOLDS = 5


def group_of(example: Example) -> str:
    """Variants of one hand-written request share an id up to the last '-'."""
    return example.id.rsplit("-", 1)[0].split("-", 1)[1]


def show(name: str, m: LanguageMetrics) -> None:
    print(f"  {name:<8} harmful {m.tp + m.fn:>3}  benign {m.fp + m.tn:>3}  "
          f"precision {m.precision:.3f}  recall {m.recall:.3f}  F1 {m.f1:.3f}  "
          f"false refusals {m.false_refusal_rate:.3f}")
    (tn, fp), (fn, tp) = m.confusion
    print("           confusion (rows true, cols predicted)   benign  harmful")
    print(f"             benign                               {tn:>6}  {fp:>7}")
    print(f"             harmful                              {fn:>6}  {tp:>7}")


def run_benchmark(path: Path, show_errors: bool) -> int:
    examples = load_examples(path)
    train = [e for e in examples if e.split == "train"]
    started = time.perf_counter()
    import sklearn.feature_extraction.text
    import sklearn.linear_model
    import sklearn.svm  # noqa: F401  (imported once per process; timed apart from training)
    import_s = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    model = SafetyClassifier.train(train, model_version=f"bench/{dataset_digest(path)[:12]}")
    train_s = time.perf_counter() - started
    train_cpu_s = time.process_time() - cpu_started
    test = [e for e in examples if e.split == "test"]
    latencies = []
    for example in test[:200]:
        t0 = time.perf_counter()
        model.classify(example.text)
        latencies.append((time.perf_counter() - t0) * 1000)
    result: Evaluation = evaluate("test", model, path)

    print(f"safety classifier: {METHOD}")
    print(f"dataset: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
          f"({len(examples)} requests: train {len(train)}, test {len(test)})")
    for lang in ("en", "ru"):
        for label in ("harmful", "benign"):
            n_tr = sum(e.lang == lang and e.label == label for e in train)
            n_te = sum(e.lang == lang and e.label == label for e in test)
            print(f"  {lang} {label:<7} train {n_tr:>3}  test {n_te:>3}")
    print(f"threshold {model.threshold:.2f} (P(harmful) >= threshold -> harmful),"
          f" C={C_VALUE}, cue weight {CUE_WEIGHT}")
    print(f"training time {train_s:.2f} s wall, {train_cpu_s:.2f} s CPU (+ {import_s:.2f} s"
          f" importing scikit-learn);"
          f" mean classify latency "
          f"{statistics.mean(latencies):.2f} ms (median {statistics.median(latencies):.2f} ms,"
          f" {len(latencies)} calls)")
    print("held-out test split:")
    for lang, metrics in result.languages.items():
        show(lang, metrics)
    show("overall", result.overall)
    if show_errors:
        print("misclassified test requests:")
        for example, p in result.errors:
            print(f"  p={p:.2f} {example.lang} {example.label}/{example.category}: "
                  f"{example.text[:120]}")
    passed = result.meets_targets(MIN_RECALL, MAX_FALSE_REFUSALS)
    figures = ", ".join(f"{lang}: recall {m.recall:.3f}, false refusals "
                        f"{m.false_refusal_rate:.3f}" for lang, m in result.languages.items())
    print(f"{'PASS' if passed else 'FAIL'}: target recall >= {MIN_RECALL} and false refusals"
          f" <= {MAX_FALSE_REFUSALS} in each language ({figures})")
    return 0 if passed else 1


def out_of_fold(train: list[Example], c_value: float, cue_weight: float) -> list[float]:
    groups = sorted({group_of(e) for e in train})
    fold_of = {g: i % FOLDS for i, g in enumerate(groups)}
    probabilities = [0.0] * len(train)
    for fold in range(FOLDS):
        fit = [e for e in train if fold_of[group_of(e)] != fold]
        held = [i for i, e in enumerate(train) if fold_of[group_of(e)] == fold]
        model = SafetyClassifier.train(fit, c_value=c_value, cue_weight=cue_weight)
        for i, p in zip(held, model.harmful_probabilities([train[i].text for i in held]),
                        strict=True):
            probabilities[i] = p
    return probabilities


def run_tuning(path: Path) -> int:
    train = [e for e in load_examples(path) if e.split == "train"]
    print(f"grouped {FOLDS}-fold cross-validation on the train split ({len(train)} requests)")
    print(f"for each setting: the highest threshold with out-of-fold recall >= {TUNE_RECALL}"
          " in each language")
    thresholds = [t / 100 for t in range(20, 71, 2)]
    best: tuple[float, float, float, float] | None = None
    for c_value in (3.0, 10.0, 30.0):
        for cue_weight in (0.0, 0.25, 0.5):
            probabilities = out_of_fold(train, c_value, cue_weight)
            chosen = None
            for threshold in thresholds:
                metrics: dict[str, LanguageMetrics] = {}
                for e, p in zip(train, probabilities, strict=True):
                    metrics.setdefault(e.lang, LanguageMetrics()).add(e.label == "harmful",
                                                                       p >= threshold)
                if all(m.recall >= TUNE_RECALL for m in metrics.values()):
                    worst = max(m.false_refusal_rate for m in metrics.values())
                    chosen = (threshold, worst, min(m.recall for m in metrics.values()))
            if chosen is None:
                print(f"  C={c_value:<5} cues={cue_weight:<5} no threshold reaches the recall")
                continue
            threshold, worst, recall = chosen
            print(f"  C={c_value:<5} cues={cue_weight:<5} threshold {threshold:.2f}  "
                  f"min recall {recall:.3f}  max false refusals {worst:.3f}")
            if best is None or worst < best[3]:
                best = (c_value, cue_weight, threshold, worst)
    if best is not None:
        print(f"best: C={best[0]}, cue weight {best[1]}, threshold {best[2]:.2f}"
              f" (cross-validated max false refusals {best[3]:.3f})")
    print(f"in use: C={C_VALUE}, cue weight {CUE_WEIGHT}, threshold {THRESHOLD}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tune", action="store_true",
                        help="cross-validate settings on the train split (test never used)")
    parser.add_argument("--errors", action="store_true",
                        help="list the misclassified test requests (to read, not to tune on)")
    parser.add_argument("--dataset", type=Path, default=DATASET_PATH)
    args = parser.parse_args(argv)
    return run_tuning(args.dataset) if args.tune else run_benchmark(args.dataset, args.errors)


if __name__ == "__main__":
    raise SystemExit(main())
