"""The offline layer of the safety gate (G2): a small bilingual classifier of software requests.

See :mod:`tools.safety.classifier`; the labelled requests live in ``datasets/safety/``.
"""

from tools.safety.classifier import (
    ClassifierVerdict,
    DatasetError,
    Evaluation,
    Example,
    LanguageMetrics,
    SafetyClassifier,
    classify,
    evaluate,
    get_classifier,
    load_examples,
)

__all__ = [
    "ClassifierVerdict",
    "DatasetError",
    "Evaluation",
    "Example",
    "LanguageMetrics",
    "SafetyClassifier",
    "classify",
    "evaluate",
    "get_classifier",
    "load_examples",
]
