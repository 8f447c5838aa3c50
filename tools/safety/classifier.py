"""Layer 1 of the safety gate: a fast offline classifier of software requests (Russian, English).

Method (classical text classification, cf. scikit-learn's "Working with text data" guide and
Joachims 1998, "Text categorization with support vector machines"): the request is lower-cased
(``ё`` → ``е``) and turned into

- TF-IDF of character n-grams inside word boundaries (``char_wb``, 2–5; robust to typos, word
  forms and the mix of Cyrillic and Latin script),
- TF-IDF of word uni- and bigrams,
- a handful of *intent cues*: counts of hand-written bilingual patterns for the things the
  labelling rule turns on — secrecy ("secretly", «без ведома»), a third person as the target
  ("my ex's", «чужой»), harmful actions, evading security tools, sending data to the requester,
  money demands — and for ownership and consent ("my own", «с согласия»),

and a logistic regression (``class_weight="balanced"``, liblinear dual solver, fixed
``random_state``) gives the probability that the request is harmful. The decision threshold
:data:`THRESHOLD` is below 0.5 on purpose (recall on harmful requests matters more than a false
alarm, which only makes the person confirm); it was chosen with C and the cue weight by grouped
5-fold cross-validation on the *train* split (the highest threshold whose out-of-fold recall is
>= 0.95 in each language; ``uv run python benchmarks/safety_classifier.py --tune``), never on
the test split. A linear SVM over the categories gives a category guess.

The model is trained from ``datasets/safety/requests.jsonl`` (train split) at first use, in well
under two seconds, and cached in the process; nothing is pickled.
"""

from __future__ import annotations

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
THRESHOLD = 0.38

#: Inverse regularisation strength of the logistic regression (cross-validated on train).
C_VALUE = 30.0

#: Weight of the intent-cue block relative to the two TF-IDF blocks.
CUE_WEIGHT = 0.25

RANDOM_STATE = 0
METHOD = "tfidf(char_wb 2-5 + word 1-2) + intent cues -> logistic regression"
_METHOD_TAG = "tfidf-cues-logreg-1"

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

_CUES: dict[str, str] = {
    # Secrecy towards the person affected.
    "covert": r"secret|hidden|\bhid(?:e|es|ing)\b|silent|quiet|invisib|unnotic|stealth|"
              r"without (?:them|him|her|the user|anyone|people|their|his|her)\b[^.]{0,20}"
              r"(?:know|notic|consent)|without (?:knowing|noticing)|doesn'?t (?:know|notice)|"
              r"must(?:n'?t| not) (?:find out|know)|not (?:find out|notice)|behind (?:his|her|"
              r"their) back|when (?:she|he|they)(?:'s| is| are|'re) not looking|"
              r"тайн|тайком|скрыт|спрят|прячет|незамет|невидим|по-тих|\bтих[оа]\b|"
              r"без (?:ее |его |их )?ведома|не (?:должн\w* )?узна|чтоб\w* (?:он\w* )?не "
              r"(?:знал|узнал|заметил|видел)|пока (?:он\w* )?не видит",
    # Someone else's system, account or life as the target.
    "third_party": r"victim|someone(?:'s| else)|somebody|other (?:people|players|users)|"
                   r"strangers|\bex(?:'s)?\b|\b(?:my )?(?:wife|husband|girlfriend|boyfriend|"
                   r"neighbou?r|coworker|co-worker|colleague|boss|classmate|roommate|sister|"
                   r"brother|employer|competitor|rival)(?:'s|s)?\b|friends?'s?\b|target|"
                   r"isn'?t mine|i don'?t own|not mine|"
                   r"жертв|чуж|друга|друзей|друзьям|подруг|соседа|соседу|соседн|бывш|жены|мужа|"
                   r"девушк|коллег|начальник|одноклассник|сестры|конкурент|соперник|"
                   r"других (?:людей|игроков|компов)|людям|людей",
    # Actions whose point is damage, theft or taking over.
    "harm_action": r"steal|stolen|\bstole|\bhack|crack|break(?:ing)? into|take (?:it |them )?down|"
                   r"(?:knock|take|boot)\w* [^.]{0,30}offline|flood|crash|brute|\bdump|exfiltrat|"
                   r"\bwipe|destroy|corrupt|infect|\bspread(?!sheet)|ransom|extort|blackmail|threaten|\bdrain|harvest|hijack|\bsniff|"
                   r"impersonat|pretend|disguis|\bfake|lookalike|spoof|backdoor|payload|botnet|"
                   r"украсть|украд|украл|ворова|ворует|\bтыр|взлом|угон|угоня|\bполож(?:ить|ит|и|у)\b|"
                   r"завал|флуд|уронить|"
                   r"выбить|брут|перебор|стира|портит|зараж|расползает|ползет|выкуп|вымога|"
                   r"шантаж|угрож|фейк|поддельн|под видом|от имени|выпрашива|перехват|снифа|"
                   r"бэкдор|пейлоад|ботнет|сливает|слить|кража",
    # Getting past security tools or covering tracks.
    "evasion": r"undetect|\bfud\b|bypass|evad|evasion|obfuscat|not detect|don'?t detect|"
               r"invisible to|hide (?:it )?from|slip past|rootkit|disables? (?:windows )?defender|"
               r"turn(?:s)? off (?:the )?(?:antivirus|defender|real-time)|kill(?:s)? the edr|"
               r"zero detections|0 detections|(?:remove|wipe|clear)s? the (?:security )?logs|"
               r"обход|не пали|не спали|невидимым для|отключ\w* защит|вырубает|убивает агент|"
               r"проскочить|ноль детект|0 детект|обфус|чистит логи|трет журнал",
    # The data goes to the requester.
    "to_me": r"(?:send|email|upload|forward|post)s? (?:it |them |everything )?(?:to )?me\b|"
             r"to my (?:server|email|e-mail|telegram|bot|webhook|ftp|google drive|vps|page|link|"
             r"account)|emails? me (?:every|the|all|what)|"
             r"(?:шле|шлет|отправля\w*|пересыла\w*|присыла\w*) (?:их |все )?мне|мне на почту|"
             r"на мо(?:й|ю|е) (?:сервер|почту|вебхук|фтп|телеграм|гугл|vps|страниц|ссылк|сайт)|"
             r"в мой телеграм",
    # A money demand.
    "money": r"\bpay\b|payment|bitcoin|\bbtc\b|monero|ransom|money|\bcvv\b|card (?:number|details)|"
             r"оплат|заплат|выкуп|денег|деньг|биткоин|cvv|номер карты|данные карт",
    # Ownership of the target.
    "own": r"\bmy own\b|\bour own\b|\bi own\b|homelab|home network|my (?:home|lan|server|pc|"
           r"computer|laptop|site|website|api|router|network|accounts|files|vault|machine|"
           r"keyboard|session|photos|documents)|our (?:company|team|staff|clients?|servers?|api|"
           r"shop|school|club|internal|domains?|websites?|developers|security)|localhost|"
           r"\bсво(?:й|е|ей|его|их|ем|ю)\b|мо(?:ей|его|ем|их|ю) (?:сет|сервер|комп|ноут|сайт|"
           r"роутер|api|апи|аккаунт|файл|фот|документ|клавиатур|хранилищ|баз|сеанс|облак)|"
           r"наш\w* (?:компани|команд|сервер|api|апи|магазин|клуб|кружк|внутренн|сайт|домен|"
           r"разработчик|общ|тестов|сотрудник|безопасник)|домашн",
    # Consent, awareness, authorisation.
    "consent": r"consent|agreed|agree\b|knows? about|aware|visible|voluntar|authori[sz]ed|"
               r"approved|opted in|can see (?:it|the|their|too)|sees? (?:it|the list|their)|"
               r"in (?:their|the) contract|they know|with (?:their|his|her) knowledge|"
               r"соглас|одобрен|знает|знают|видит|видно|видимый|добровольн|договор|сами",
}
_CUE_PATTERNS = [re.compile(p) for p in _CUES.values()]
CUE_NAMES = tuple(_CUES)


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


def _features(cue_weight: float = CUE_WEIGHT) -> Any:
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
    cues = FunctionTransformer(_cue_matrix, validate=False)
    return FeatureUnion([("chars", char), ("words", word), ("cues", cues)],
                        transformer_weights={"chars": 1.0, "words": 1.0, "cues": cue_weight})


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
        features = _features(cue_weight)
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
