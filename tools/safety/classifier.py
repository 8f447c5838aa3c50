"""Layer 1 of the safety gate: a fast offline classifier of software requests (Russian, English).

Method (classical text classification, cf. scikit-learn's "Working with text data" guide and
Joachims 1998, "Text categorization with support vector machines"): the request is lower-cased
(``ё`` → ``е``) and turned into

- TF-IDF of character n-grams inside word boundaries (``char_wb``, 2–5; robust to typos, word
  forms and the mix of Cyrillic and Latin script),
- TF-IDF of word uni- and bigrams,
- TF-IDF of uni- and bigrams of Snowball stems (Russian stemmer for Cyrillic words, English for
  the rest): Russian is highly inflected, and a word seen in one form in training («сливает»)
  reaches the model in another at use («сливала») far more often than in English,
- a handful of *intent cues*: counts of hand-written bilingual patterns for the things the
  labelling rule turns on — secrecy ("secretly", «без ведома»), a third person as the target
  ("my ex's", «чужой»), harmful actions, evading security tools, sending data to the requester,
  money demands — and for ownership and consent ("my own", «с согласия»). Every alternative of
  every pattern matches at least one *train* request (a unit test checks it), so no cue can
  have been taken from the test split,

and a logistic regression (``class_weight="balanced"``, liblinear dual solver, fixed
``random_state``) gives the probability that the request is harmful. The decision threshold
:data:`THRESHOLD` was chosen with C and the block weights by 5-fold cross-validation on the
*train* split, never on the test split: folds hold out whole request families (label ×
category × writing batch), and the threshold is the one with the largest margin to both
targets in the worse language, with the recall target raised to 0.97 on the out-of-fold
predictions (false refusals <= 0.05) to leave room for unseen wording
(``uv run python benchmarks/safety_classifier.py --tune``). A linear
SVM over the categories gives a category guess.

The model is trained from ``datasets/safety/requests.jsonl`` (train split) at first use, in well
under two seconds, and cached in the process; nothing is pickled.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DATASET_PATH",
    "HARMFUL_CATEGORIES",
    "RANDOM_STATE",
    "THRESHOLD",
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
    "normalize",
]

#: The labelled requests (resolvable from the installed package: the wheel ships ``datasets/``
#: next to ``tools/``, like the cassettes of :data:`graph.settings.CASSETTE_DIR`).
DATASET_PATH = (Path(__file__).resolve().parent.parent.parent / "datasets" / "safety"
                / "requests.jsonl")

#: Probability of "harmful" at or above which a request is labelled harmful (chosen by
#: cross-validation on the train split, see the module docstring).
THRESHOLD = 0.52

#: Inverse regularisation strength of the logistic regression (cross-validated on train).
C_VALUE = 30.0

#: Weight of the intent-cue block relative to the character TF-IDF block.
CUE_WEIGHT = 0.1

#: Weight of the TF-IDF block of word uni/bigrams over surface forms.
WORD_WEIGHT = 0.5

#: Weight of the TF-IDF block of word uni/bigrams over Snowball stems.
STEM_WEIGHT = 1.0

RANDOM_STATE = 0
METHOD = ("tfidf(char_wb 2-5 + word 1-2 + snowball-stem 1-2) + intent cues"
          " -> logistic regression")
_METHOD_TAG = "tfidf-stems-cues-logreg-3"

Label = Literal["harmful", "benign"]
Split = Literal["train", "test"]

HARMFUL_CATEGORIES = ("malware", "ransomware", "credential_theft", "keylogger_spyware", "ddos",
                      "exploitation", "av_evasion", "phishing")


class DatasetError(ValueError):
    """The labelled dataset is missing or a line of it is malformed."""


@dataclass(frozen=True)
class Example:
    """One labelled request of ``datasets/safety/requests.jsonl``."""

    id: str
    text: str
    lang: Literal["ru", "en"]
    label: Label
    category: str
    split: Split


def load_examples(path: Path = DATASET_PATH) -> list[Example]:
    """Read the labelled requests (one JSON object per line; blank lines skipped).

    Raises:
        DatasetError: the file is missing, a line is not JSON, or a field is missing or has a
            value outside its set (``lang`` ru/en, ``label`` harmful/benign, ``split``
            train/test), or two lines share an id.

    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read the safety dataset {path}: {exc}") from exc
    examples: list[Example] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            example = Example(id=str(raw["id"]), text=str(raw["text"]), lang=raw["lang"],
                              label=raw["label"], category=str(raw["category"]),
                              split=raw["split"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path}:{number}: not a labelled request: {exc}") from exc
        if (example.lang not in ("ru", "en") or example.label not in ("harmful", "benign")
                or example.split not in ("train", "test") or not example.text.strip()):
            raise DatasetError(f"{path}:{number}: bad lang, label, split or empty text")
        examples.append(example)
    if len({e.id for e in examples}) != len(examples):
        raise DatasetError(f"{path}: duplicate ids")
    return examples


def normalize(text: str) -> str:
    """Lower-case, ``ё`` → ``е``, typographic quotes and dashes made plain, spaces collapsed."""
    text = text.lower().replace("ё", "е").replace("’", "'").replace("`", "'")
    text = re.sub(r"[«»“”„]", '"', text)
    text = re.sub(r"[–—]", "-", text)
    return re.sub(r"\s+", " ", text).strip()


# -- intent cues ----------------------------------------------------------------------------
#
# Each group is a tuple of regular-expression alternatives (searched in the normalised text).
# Every alternative, and every branch of an alternation inside one, must match at least one
# request of the *train* split: ``tests/unit/test_safety_classifier.py`` checks it, so a cue
# can only come from the training data, never from reading the test split.

_CUES: dict[str, tuple[str, ...]] = {
    # Secrecy towards the person affected.
    "covert": (
        r"secret", r"hidden", r"\bhid(?:e|es)\b", r"silent", r"invisib",
        r"without (?:them|her)\b[^.]{0,20}(?:know|notic)", r"must not find out",
        r"not find out", r"when she's not looking",
        r"тайн", r"тайком", r"скрыт", r"спрят", r"прячет", r"незамет", r"невидим", r"по-тих",
        r"\bтих[оа]\b", r"без (?:ее )?ведома", r"не (?:должн\w* )?узна",
        r"чтоб\w* (?:он\w* )?не (?:знал|заметил)", r"пока (?:он\w* )?не видит",
    ),
    # Someone else's system, account or life as the target.
    "third_party": (
        r"victim", r"someone's", r"other (?:people|players)", r"\bex(?:'s)?\b",
        r"\b(?:my )?(?:wife|husband|girlfriend|neighbou?r|coworker|colleague|boss|classmate|"
        r"roommate|sister|employer|competitor|rival)(?:'s|s)?\b",
        r"friends?'s?\b", r"target", r"isn'?t mine", r"i don'?t own",
        r"жертв", r"чуж", r"друга", r"друзей", r"друзьям", r"подруг", r"соседа", r"соседн",
        r"бывш", r"жены", r"мужа", r"девушк", r"коллег", r"начальник", r"одноклассник",
        r"сестры", r"конкурент", r"соперник", r"других игроков", r"людям", r"людей",
    ),
    # Actions whose point is damage, theft or taking over.
    "harm_action": (
        r"steal", r"\bhack", r"crack", r"break(?:ing)? into", r"knock\w* [^.]{0,30}offline",
        r"flood", r"crash", r"brute", r"\bdump", r"exfiltrat", r"\bwipe", r"corrupt",
        r"infect", r"\bspread(?!sheet)", r"ransom", r"extort", r"threaten", r"\bdrain",
        r"harvest", r"\bsniff", r"impersonat", r"pretend", r"disguis", r"\bfake", r"lookalike",
        r"spoof", r"backdoor", r"payload", r"botnet",
        r"ворует", r"\bтыр", r"взлом", r"угон", r"угоня", r"завал", r"флуд", r"уронить",
        r"выбить", r"брут", r"перебор", r"стира", r"портит", r"зараж", r"расползает",
        r"выкуп", r"вымога", r"угрож", r"фейк", r"от имени", r"перехват", r"снифа", r"бэкдор",
        r"пейлоад", r"ботнет", r"слить",
    ),
    # Getting past security tools or covering tracks.
    "evasion": (
        r"undetect", r"\bfud\b", r"bypass", r"don'?t detect", r"invisible to", r"rootkit",
        r"disables? (?:windows )?defender", r"kill(?:s)? the edr", r"zero detections",
        r"(?:remove|wipe)s? the (?:security )?logs",
        r"обход", r"не пали", r"не спали", r"невидимым для", r"отключ\w* защит",
        r"убивает агент", r"ноль детект", r"чистит логи", r"трет журнал",
    ),
    # The data goes to the requester.
    "to_me": (
        r"(?:send|email)s? (?:it |them |everything )?(?:to )?me\b",
        r"to my (?:server|telegram|ftp|google drive|vps|page|account)",
        r"emails? me (?:every|the)",
        r"(?:шлет|пересыла\w*|присыла\w*) (?:их |все )?мне", r"мне на почту",
        r"на мо(?:й|ю) (?:сервер|фтп|vps|страниц|сайт)", r"в мой телеграм",
    ),
    # A money demand.
    "money": (
        r"\bpay\b", r"payment", r"bitcoin", r"\bbtc\b", r"monero", r"ransom", r"money",
        r"card (?:number|details)",
        r"оплат", r"заплат", r"выкуп", r"денег", r"деньг", r"биткоин", r"номер карты",
        r"данные карт",
    ),
    # Ownership of the target.
    "own": (
        r"\bmy own\b", r"\bour own\b", r"\bi own\b", r"homelab", r"home network",
        r"my (?:home|lan|server|pc|computer|laptop|website|files|vault|photos)",
        r"our (?:company|clients?|school|internal|developers|security)",
        r"\bсво(?:й|е|ей|их)\b",
        r"мо(?:ей|его|ем) (?:комп|ноут|сайт|api|клавиатур|хранилищ|сеанс)",
        r"наш\w* (?:компани|команд|api|внутренн|разработчик|общ)", r"домашн",
    ),
    # Consent, awareness, authorisation.
    "consent": (
        r"consent", r"agreed", r"knows? about", r"aware", r"visible", r"authori[sz]ed",
        r"approved", r"opted in", r"can see (?:the|too)", r"sees? the list",
        r"in their contract",
        r"соглас", r"одобрен", r"знает", r"знают", r"видит", r"видимый", r"договор", r"сами",
    ),
}
_CUE_PATTERNS = [re.compile("|".join(alternatives)) for alternatives in _CUES.values()]
CUE_NAMES = tuple(_CUES)


def cue_alternatives() -> list[tuple[str, str]]:
    """Every (group, alternative) of the intent cues, in order."""
    return [(name, alternative) for name, alternatives in _CUES.items()
            for alternative in alternatives]


def _cue_matrix(texts: Iterable[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Counts (capped at 2) of each cue group per text: shape (n_texts, len(CUE_NAMES))."""
    import numpy as np

    rows = [[min(len(p.findall(normalize(t))), 2) for p in _CUE_PATTERNS] for t in texts]
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(_CUE_PATTERNS))


def cues_of(text: str) -> dict[str, int]:
    """The intent cues found in ``text``, by group (only the groups that matched)."""
    counts = _cue_matrix([text])[0]
    return {name: int(n) for name, n in zip(CUE_NAMES, counts, strict=True) if n}


_WORD = r"(?u)\b\w+\b"
_TOKEN = re.compile(_WORD)
_CYRILLIC = re.compile(r"[а-я]")
_STEMMERS = threading.local()


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """The Snowball stem of one normalised word (Russian stemmer for Cyrillic, else English)."""
    stemmers: dict[str, Any] | None = getattr(_STEMMERS, "by_language", None)
    if stemmers is None:  # one pair per thread: a Snowball stemmer object keeps state
        import snowballstemmer  # type: ignore[import-untyped]

        stemmers = {"ru": snowballstemmer.stemmer("russian"),
                    "en": snowballstemmer.stemmer("english")}
        _STEMMERS.by_language = stemmers
    stem: str = stemmers["ru" if _CYRILLIC.search(word) else "en"].stemWord(word)
    return stem


def stems(text: str) -> list[str]:
    """The words of ``text`` (already normalised) reduced to their Snowball stems.

    Russian is highly inflected: «сливала», «сливает», «слить» share the stem «слива»/«слит»
    far more often than a surface form, so word n-grams over stems carry what a request asks
    for across word forms the training data never showed.
    """
    return [_stem(word) for word in _TOKEN.findall(text)]


def _features(cue_weight: float = CUE_WEIGHT, stem_weight: float = STEM_WEIGHT,
              word_weight: float = WORD_WEIGHT) -> Any:
    # scikit-learn is imported here, not at module level: importing it costs about a second,
    # which a command that never reaches the safety gate should not pay.
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.pipeline import FeatureUnion  # type: ignore[import-untyped]
    from sklearn.preprocessing import FunctionTransformer  # type: ignore[import-untyped]

    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                           preprocessor=normalize, dtype=np.float64)
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                           preprocessor=normalize, token_pattern=_WORD, dtype=np.float64)
    stem = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                           preprocessor=normalize, tokenizer=stems, token_pattern=None,
                           lowercase=False, dtype=np.float64)
    cues = FunctionTransformer(_cue_matrix, validate=False)
    blocks = [("chars", char, 1.0), ("words", word, word_weight), ("stems", stem, stem_weight),
              ("cues", cues, cue_weight)]
    blocks = [block for block in blocks if block[2] > 0]  # a block weighted 0 is not computed
    return FeatureUnion([(name, block) for name, block, _ in blocks],
                        transformer_weights={name: weight for name, _, weight in blocks})


# -- the model ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassifierVerdict:
    """What layer 1 says about one request.

    Attributes:
        label: "harmful" when ``harmful_probability >= threshold``, else "benign".
        harmful_probability: the model's probability of "harmful", in [0, 1].
        category_guess: the likeliest category of that label (e.g. "keylogger_spyware" for a
            harmful request, "password_manager" or "ordinary" for a benign one).
        threshold: the decision threshold used.
        model_version: method tag plus the first 12 hex digits of the dataset's SHA-256.
        cues: the intent-cue groups found in the text, with their counts.

    """

    label: Label
    harmful_probability: float
    category_guess: str
    threshold: float
    model_version: str
    cues: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (probability rounded to 4 digits)."""
        return {"label": self.label, "harmful_probability": round(self.harmful_probability, 4),
                "category_guess": self.category_guess, "threshold": self.threshold,
                "model_version": self.model_version, "cues": dict(self.cues)}


class SafetyClassifier:
    """The trained layer-1 model (features, harmful/benign regression, category SVM).

    Build it with :meth:`train`; :func:`get_classifier` keeps one per process.
    """

    def __init__(self, features: Any, binary: Any, categories: Any, threshold: float,
                 model_version: str) -> None:
        self._features = features
        self._binary = binary
        self._categories = categories
        self.threshold = threshold
        self.model_version = model_version
        classes = list(binary.classes_)
        self._harmful_column = classes.index(1)
        names = [str(c) for c in categories.classes_]
        self._harmful_columns = [i for i, c in enumerate(names) if c in HARMFUL_CATEGORIES]
        self._benign_columns = [i for i, c in enumerate(names) if c not in HARMFUL_CATEGORIES]
        self._category_names = names

    @classmethod
    def train(cls, examples: Sequence[Example], *, threshold: float = THRESHOLD,
              c_value: float = C_VALUE, cue_weight: float = CUE_WEIGHT,
              stem_weight: float = STEM_WEIGHT, word_weight: float = WORD_WEIGHT,
              model_version: str | None = None) -> SafetyClassifier:
        """Fit on ``examples`` (all of them: pass the train split yourself).

        Deterministic: the same examples and parameters give the same model.

        Raises:
            DatasetError: fewer than two labels, or no harmful category among the examples.

        """
        import numpy as np
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
        from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

        texts = [e.text for e in examples]
        labels = np.array([1 if e.label == "harmful" else 0 for e in examples])
        if len(set(labels.tolist())) < 2:
            raise DatasetError("training needs both harmful and benign examples")
        if not any(e.category in HARMFUL_CATEGORIES for e in examples):
            raise DatasetError("training needs harmful categories")
        features = _features(cue_weight, stem_weight, word_weight)
        matrix = features.fit_transform(texts).tocsr()
        # liblinear's dual solver: far faster here (many more features than examples).
        binary = LogisticRegression(C=c_value, class_weight="balanced", solver="liblinear",
                                    dual=True, random_state=RANDOM_STATE, max_iter=5000)
        binary.fit(matrix, labels)
        categories = LinearSVC(C=1.0, random_state=RANDOM_STATE)
        categories.fit(matrix, [e.category for e in examples])
        version = model_version or f"{_METHOD_TAG}/unversioned"
        return cls(features, binary, categories, threshold, version)

    def harmful_probabilities(self, texts: Sequence[str]) -> list[float]:
        """P(harmful) for each text, in [0, 1]."""
        if not texts:
            return []
        matrix = self._features.transform(list(texts))
        return [float(p) for p in self._binary.predict_proba(matrix)[:, self._harmful_column]]

    def classify_many(self, texts: Sequence[str]) -> list[ClassifierVerdict]:
        """:meth:`classify` for several texts at once (faster than one by one)."""
        import numpy as np

        if not texts:
            return []
        matrix = self._features.transform(list(texts))
        harmful = self._binary.predict_proba(matrix)[:, self._harmful_column]
        scores = self._categories.decision_function(matrix)
        verdicts = []
        for text, p, row in zip(texts, harmful, scores, strict=True):
            label: Label = "harmful" if p >= self.threshold else "benign"
            columns = self._harmful_columns if label == "harmful" else self._benign_columns
            best = max(columns, key=lambda i: row[i]) if columns else int(np.argmax(row))
            verdicts.append(ClassifierVerdict(
                label=label, harmful_probability=float(p),
                category_guess=self._category_names[best], threshold=self.threshold,
                model_version=self.model_version, cues=cues_of(text)))
        return verdicts

    def classify(self, text: str) -> ClassifierVerdict:
        """Classify one request (any length; Russian, English or mixed).

        Raises:
            TypeError: ``text`` is not a string.

        """
        if not isinstance(text, str):
            raise TypeError(f"classify() needs a string, not {type(text).__name__}")
        return self.classify_many([text])[0]


_LOCK = threading.Lock()
_CACHE: dict[Path, SafetyClassifier] = {}


def dataset_digest(path: Path = DATASET_PATH) -> str:
    """The SHA-256 (hex) of the dataset file.

    Raises:
        DatasetError: the file cannot be read.

    """
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise DatasetError(f"cannot read the safety dataset {path}: {exc}") from exc


def get_classifier(path: Path = DATASET_PATH) -> SafetyClassifier:
    """The classifier trained on the train split of ``path``, trained once per process.

    Raises:
        DatasetError: the dataset is missing or malformed.

    """
    with _LOCK:
        cached = _CACHE.get(path)
        if cached is None:
            examples = [e for e in load_examples(path) if e.split == "train"]
            version = f"{_METHOD_TAG}/{dataset_digest(path)[:12]}"
            cached = SafetyClassifier.train(examples, model_version=version)
            _CACHE[path] = cached
        return cached


def classify(text: str) -> ClassifierVerdict:
    """Classify a software request with the cached model (trained at first use, < 2 s).

    Raises:
        DatasetError: the dataset is missing or malformed (first use only).
        TypeError: ``text`` is not a string.

    """
    return get_classifier().classify(text)


# -- evaluation -----------------------------------------------------------------------------

@dataclass
class LanguageMetrics:
    """Confusion counts on one language (or all), "harmful" being the positive class."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        """Of the requests flagged harmful, the share that are harmful (1.0 when none flagged)."""
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        """Of the harmful requests, the share flagged (1.0 when there are none)."""
        harmful = self.tp + self.fn
        return self.tp / harmful if harmful else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def false_refusal_rate(self) -> float:
        """Of the benign requests, the share flagged harmful (0.0 when there are none)."""
        benign = self.fp + self.tn
        return self.fp / benign if benign else 0.0

    @property
    def confusion(self) -> list[list[int]]:
        """``[[tn, fp], [fn, tp]]``: rows = true benign/harmful, columns = predicted."""
        return [[self.tn, self.fp], [self.fn, self.tp]]

    def add(self, harmful: bool, flagged: bool) -> None:
        """Count one prediction."""
        if harmful:
            self.tp += flagged
            self.fn += not flagged
        else:
            self.fp += flagged
            self.tn += not flagged


@dataclass
class Evaluation:
    """Figures of the classifier on one split.

    Attributes:
        split: "train" or "test".
        threshold / model_version: of the classifier evaluated.
        languages: "ru" and "en" → their metrics.
        overall: both languages together.
        errors: the misclassified examples with their probability (for people, not for tuning).

    """

    split: Split
    threshold: float
    model_version: str
    languages: dict[str, LanguageMetrics]
    overall: LanguageMetrics
    errors: list[tuple[Example, float]] = field(default_factory=list)

    def meets_targets(self, min_recall: float = 0.95, max_false_refusals: float = 0.05) -> bool:
        """True when every language reaches the recall and false-refusal targets."""
        return all(m.recall >= min_recall and m.false_refusal_rate <= max_false_refusals
                   for m in self.languages.values())


def evaluate(split: Split = "test", classifier: SafetyClassifier | None = None,
             path: Path = DATASET_PATH) -> Evaluation:
    """Precision, recall, F1, false refusals and confusion matrices per language on ``split``.

    Args:
        split: which part of the dataset to score (the model always learns from "train").
        classifier: the model to score; default :func:`get_classifier` for ``path``.
        path: the dataset.

    Raises:
        DatasetError: the dataset is missing or malformed, or ``split`` has no examples.

    """
    model = classifier or get_classifier(path)
    examples = [e for e in load_examples(path) if e.split == split]
    if not examples:
        raise DatasetError(f"the {split} split is empty")
    probabilities = model.harmful_probabilities([e.text for e in examples])
    languages: dict[str, LanguageMetrics] = {}
    overall = LanguageMetrics()
    errors: list[tuple[Example, float]] = []
    for example, p in zip(examples, probabilities, strict=True):
        harmful, flagged = example.label == "harmful", p >= model.threshold
        languages.setdefault(example.lang, LanguageMetrics()).add(harmful, flagged)
        overall.add(harmful, flagged)
        if harmful != flagged:
            errors.append((example, p))
    return Evaluation(split=split, threshold=model.threshold, model_version=model.model_version,
                      languages=dict(sorted(languages.items())), overall=overall, errors=errors)
