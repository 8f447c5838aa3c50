"""Embedders for semantic memory: texts in, unit vectors out (ChromaDB's EmbeddingFunction).

Three kinds, chosen by the ``[memory] embeddings`` setting (``graph.memory`` builds them):

- :class:`LexicalEmbedder` (``lexical``): offline, from what MultiCoder installs (scikit-learn's
  ``HashingVectorizer``). It hashes character n-grams taken within words plus the words
  themselves into a fixed-size vector. Texts that share words and word pieces ("поиск" /
  "поиска", "csv" / "CSV-файл") come out close, in any language and any script, but it knows
  nothing of meaning: "удалить" and "delete" are far apart. **Lexical, not semantic.**
- :class:`ChromaDefaultEmbedder` (``chroma``): Chroma's default model, all-MiniLM-L6-v2 run
  with ONNX — **semantic**, local once downloaded; the first use downloads about 80 MB,
  so without the internet it fails, after at most ``download_timeout_s``, with a clear
  :class:`EmbedderError` (it never hangs).
- :class:`ProviderEmbedder` (``PROVIDER:MODEL``): an OpenAI-compatible ``/embeddings``
  endpoint (OpenAI, OpenRouter, Ollama, LM Studio, vLLM ...) — **semantic**; needs the
  provider's key, which the caller passes in (this module never reads settings or keyrings).

Each embedder says whether it is semantic (:attr:`Embedder.semantic`) and has a stable
:attr:`Embedder.key` naming the model that made its vectors: semantic memory keeps vectors
of different keys apart (see :mod:`memory.semantic`).

This module imports chromadb's light type module only; scikit-learn, onnxruntime and the
openai client load when an embedder is built.
"""

from __future__ import annotations

import re
import threading
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space

__all__ = [
    "MAX_EMBED_CHARS",
    "ChromaDefaultEmbedder",
    "Embedder",
    "EmbedderError",
    "LexicalEmbedder",
    "ProviderEmbedder",
]

#: Longest text (in characters) an embedder reads; longer texts are embedded by their start.
#: 8,000 characters stay under the 8,191-token input limit of OpenAI's embedding models.
MAX_EMBED_CHARS = 8_000
WORD_PATTERN = r"(?u)\b\w+\b"
"""Words for the lexical embedder: runs of letters or digits (one-letter words count too)."""
_WORDS = re.compile(WORD_PATTERN)


class EmbedderError(RuntimeError):
    """An embedder cannot turn texts into vectors now.

    The model is not downloadable, the endpoint is down, the key is refused or the model is
    unknown; the message is one sentence saying what to do.
    """


class Embedder(EmbeddingFunction[Documents]):
    """What semantic memory needs from an embedding function, beyond Chroma's protocol.

    Calling an embedder with a list of texts returns one L2-normalised float32 vector per
    text (Chroma validates the shape). Subclasses set :attr:`semantic` and :attr:`label`.

    Raises (from ``__call__`` and :meth:`probe`):
        EmbedderError: the embedder cannot work now.
    """

    semantic: ClassVar[bool] = False
    """True when nearby vectors mean related meaning, not only shared words."""

    @property
    @abstractmethod
    def key(self) -> str:
        """Which model made the vectors; vectors of different keys never mix.

        For example ``lexical-hash-v1-1024`` or ``provider:openai:text-embedding-3-small``.
        """

    @property
    @abstractmethod
    def label(self) -> str:
        """A short description for people, e.g. ``lexical (shared words, offline)``."""

    def default_space(self) -> Space:
        """Cosine: every embedder here returns unit vectors."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Cosine only (similarity scores in :mod:`memory.recall` assume it)."""
        return ["cosine"]

    def probe(self) -> int:
        """Embed one short text to prove the embedder works now.

        Returns:
            The vectors' dimension.

        Raises:
            EmbedderError: it does not work (the message says why and what to do).

        """
        return len(self(["probe"])[0])


def _unit_rows(matrix: np.ndarray[Any, np.dtype[np.float32]]
               ) -> np.ndarray[Any, np.dtype[np.float32]]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray[Any, np.dtype[np.float32]] = (matrix / norms).astype(np.float32)
    return unit


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Russian function words, left out by the lexical embedder (English ones come from
#: scikit-learn's list).
RUSSIAN_STOP_WORDS = _word_set("""
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него
до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для
мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того
потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем
всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про
всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том
нельзя такой им более всегда конечно всю между это также должен должна должно должны нужно
""")

#: Words every run's records share (check output, our own item templates), left out too:
#: without them, any two pytest failures looked alike.
RECORD_STOP_WORDS = _word_set("""
pytest test tests py failed failure error errors assertionerror assert diff use get right left
contains item items round rounds repair fixed fix coder note files file changed changes
building build task plan outcome artifact top findings finding check checks reports report
person past run runs line lines index bytes none true false self return def import
""")


class LexicalEmbedder(Embedder):
    """Offline lexical vectors: hashed character n-grams within words, plus whole words.

    Texts are case-folded, accents stripped ("Ёлка" matches "елка") and function words
    (English, Russian) and words every run's records share (:data:`RECORD_STOP_WORDS`) left
    out. ``n_features`` dimensions in two parts: three quarters for character 3- to 5-grams
    inside word boundaries (so inflections and compounds still share most pieces: "заметка",
    "заметки", "заметок"), one quarter for whole words. Each part is L2-normalised, weighted
    (``word_weight`` for words) and the sum normalised again. Signs alternate by hash, so
    unrelated texts score about 0, not the positive bias of colliding counts.

    Only the first ``max_chars`` characters are embedded: MultiCoder's items say what they
    are about first (the task before the spec, the error and its fix before the diff), and a
    short vector matches a short query far better than one diluted by a long text.

    The defaults were chosen on texts of MultiCoder's own runs (see :mod:`memory.recall`).

    Args:
        n_features: the vector's dimension (at least 64; a multiple of 4).
        word_weight: how much whole words count against word pieces (0..1).
        max_chars: how much of each text is embedded.

    Raises:
        ValueError: ``n_features`` or ``word_weight`` out of range.

    """

    VERSION: ClassVar[int] = 1
    semantic: ClassVar[bool] = False

    def __init__(self, n_features: int = 1024, word_weight: float = 0.5,
                 max_chars: int = 2_000) -> None:
        if n_features < 64 or n_features % 4:
            raise ValueError("n_features must be a multiple of 4, at least 64")
        if not 0.0 <= word_weight <= 1.0:
            raise ValueError("word_weight must be between 0 and 1")
        from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]
            ENGLISH_STOP_WORDS,
            HashingVectorizer,
            strip_accents_unicode,
        )

        self.n_features = n_features
        self.word_weight = word_weight
        self.max_chars = max(1, max_chars)
        self._fold = strip_accents_unicode
        self._stop = frozenset(strip_accents_unicode(word) for word in (
            set(ENGLISH_STOP_WORDS) | RUSSIAN_STOP_WORDS | RECORD_STOP_WORDS))
        word_features = n_features // 4
        self._pieces = HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=n_features - word_features,
            preprocessor=self._preprocess, alternate_sign=True, norm="l2")
        self._words = HashingVectorizer(
            analyzer="word", token_pattern=WORD_PATTERN, n_features=word_features,
            preprocessor=self._preprocess, alternate_sign=True, norm="l2")

    def _preprocess(self, text: str) -> str:
        folded: str = self._fold(text.lower())
        return " ".join(w for w in _WORDS.findall(folded) if w not in self._stop)

    @property
    def key(self) -> str:
        """``lexical-hash-v<VERSION>-<n_features>`` (plus the other settings when not default)."""
        key = f"lexical-hash-v{self.VERSION}-{self.n_features}"
        if (self.word_weight, self.max_chars) != (0.5, 2_000):
            key += f"-w{self.word_weight:g}-c{self.max_chars}"
        return key

    @property
    def label(self) -> str:
        """Says plainly that this is lexical."""
        return "lexical (shared words and word pieces; offline; not semantic)"

    def __call__(self, input: Documents) -> Embeddings:
        """One unit vector of ``n_features`` float32 per text (an empty text: all zeros)."""
        texts = [text[:self.max_chars] for text in input]
        pieces = self._pieces.transform(texts).toarray()
        words = self._words.transform(texts).toarray() * self.word_weight
        matrix = np.hstack([pieces * (1.0 - self.word_weight), words]).astype(np.float32)
        return list(_unit_rows(matrix))

    @staticmethod
    def name() -> str:
        """Chroma's name for this embedding function."""
        return "multicoder_lexical"

    def get_config(self) -> dict[str, Any]:
        """Chroma's serialisable configuration."""
        return {"n_features": self.n_features, "word_weight": self.word_weight,
                "max_chars": self.max_chars, "version": self.VERSION}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LexicalEmbedder:
        """Rebuild from :meth:`get_config`."""
        return LexicalEmbedder(int(config.get("n_features", 1024)),
                               float(config.get("word_weight", 0.5)),
                               int(config.get("max_chars", 2_000)))


class ChromaDefaultEmbedder(Embedder):
    """Chroma's default embedding model (all-MiniLM-L6-v2 with ONNX, 384 dimensions): semantic.

    The model is downloaded on first use to ``~/.cache/chroma/onnx_models`` (about 80 MB).
    The first call runs in a worker thread and gives up after ``download_timeout_s``, so an
    offline machine gets an :class:`EmbedderError` instead of a hang; a download still under
    way in the background may complete later and is then used by the next process.

    Args:
        download_timeout_s: longest wait for the first call (download and model load).

    """

    semantic: ClassVar[bool] = True

    def __init__(self, download_timeout_s: float = 20.0) -> None:
        from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

        self.download_timeout_s = download_timeout_s
        try:
            self._model = ONNXMiniLM_L6_V2()
        except ValueError as exc:  # onnxruntime or tokenizers missing
            raise EmbedderError(f"Chroma's default model cannot load: {exc}") from None
        self._ready = False

    @property
    def key(self) -> str:
        """``chroma:all-MiniLM-L6-v2``."""
        return f"chroma:{self._model.MODEL_NAME}"

    @property
    def label(self) -> str:
        """Names the model."""
        return f"semantic (Chroma's local model {self._model.MODEL_NAME})"

    def __call__(self, input: Documents) -> Embeddings:
        """One 384-dimension unit vector per text.

        Raises:
            EmbedderError: the model is not downloaded and cannot be fetched in time.

        """
        texts = [text[:MAX_EMBED_CHARS] for text in input]
        if self._ready:
            return self._embed(texts)
        result: list[Embeddings] = []
        failure: list[BaseException] = []

        def first_call() -> None:
            try:
                result.append(self._embed(texts))
            except BaseException as exc:  # reported below, in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=first_call, name="chroma-model-download", daemon=True)
        worker.start()
        worker.join(self.download_timeout_s)
        if worker.is_alive():
            raise EmbedderError(
                f"Chroma's model {self._model.MODEL_NAME} is not downloaded and could not be"
                f" fetched within {self.download_timeout_s:.0f} s (it needs the internet once;"
                " or use embeddings = \"lexical\" or a provider's model)")
        if failure:
            raise EmbedderError(
                f"Chroma's model {self._model.MODEL_NAME} cannot be used: {_one_line(failure[0])}"
                " (the first use downloads it from the internet)")
        self._ready = True
        return result[0]

    def _embed(self, texts: list[str]) -> Embeddings:
        vectors = np.asarray(self._model(texts), dtype=np.float32)
        return list(_unit_rows(vectors))

    @staticmethod
    def name() -> str:
        """Chroma's name for this embedding function."""
        return "multicoder_chroma_default"

    def get_config(self) -> dict[str, Any]:
        """Chroma's serialisable configuration."""
        return {"download_timeout_s": self.download_timeout_s}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaDefaultEmbedder:
        """Rebuild from :meth:`get_config`."""
        return ChromaDefaultEmbedder(float(config.get("download_timeout_s", 20.0)))


class ProviderEmbedder(Embedder):
    """An OpenAI-compatible embeddings endpoint (``POST {base_url}/embeddings``): semantic.

    Texts are sent in batches of ``batch_size``, as floats (``encoding_format="float"``, which
    every compatible server understands). The key is passed in by the caller.

    Args:
        provider: the provider's name in the settings (for messages and :attr:`key`).
        model: the embedding model, e.g. ``text-embedding-3-small``.
        base_url: the API root, e.g. ``https://api.openai.com/v1``.
        api_key: the key (None for local servers that need none).
        timeout_s: seconds per request.
        max_retries: retries of a failed request (rate limits, 5xx, dropped connections).
        batch_size: texts per request.

    """

    semantic: ClassVar[bool] = True

    def __init__(self, provider: str, model: str, *, base_url: str, api_key: str | None,
                 timeout_s: float = 30.0, max_retries: int = 2, batch_size: int = 64) -> None:
        import openai

        self.provider = provider
        self.model = model
        self.base_url = base_url
        self.batch_size = max(1, batch_size)
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                                     timeout=timeout_s, max_retries=max_retries)

    @property
    def key(self) -> str:
        """``provider:<provider>:<model>``."""
        return f"provider:{self.provider}:{self.model}"

    @property
    def label(self) -> str:
        """Names the provider and model."""
        return f"semantic ({self.provider}:{self.model} embeddings)"

    def __call__(self, input: Documents) -> Embeddings:
        """One unit vector per text, in order.

        Raises:
            EmbedderError: key refused, model unknown, endpoint unreachable or a malformed
                answer (one sentence naming the provider).

        """
        import openai

        texts = [text[:MAX_EMBED_CHARS] or " " for text in input]
        rows: list[list[float]] = []
        where = f"{self.provider} ({self.base_url})"
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            try:
                answer = self._client.embeddings.create(model=self.model, input=batch,
                                                        encoding_format="float")
            except openai.AuthenticationError:
                raise EmbedderError(f"{where} refused the API key for embeddings (401): store a"
                                    f" valid key (multicoder keys set {self.provider})") from None
            except openai.PermissionDeniedError as exc:
                raise EmbedderError(f"{where} denied access to {self.model}: "
                                    f"{_one_line(exc)}") from None
            except openai.NotFoundError:
                raise EmbedderError(f"{where} has no embedding model '{self.model}'"
                                    " (check [memory] embeddings)") from None
            except openai.APIConnectionError as exc:  # includes time-outs
                raise EmbedderError(f"cannot reach {where}: {_one_line(exc)}") from None
            except openai.APIError as exc:
                raise EmbedderError(f"{where} failed to embed: {_one_line(exc)}") from None
            data = sorted(answer.data, key=lambda item: item.index)
            if len(data) != len(batch) or any(not isinstance(d.embedding, list) for d in data):
                raise EmbedderError(f"{where} answered {len(data)} embeddings for"
                                    f" {len(batch)} texts")
            rows.extend(list(d.embedding) for d in data)
        if len({len(row) for row in rows}) > 1:
            raise EmbedderError(f"{where} answered vectors of different sizes")
        return list(_unit_rows(np.asarray(rows, dtype=np.float32)))

    @staticmethod
    def name() -> str:
        """Chroma's name for this embedding function."""
        return "multicoder_provider"

    def get_config(self) -> dict[str, Any]:
        """Chroma's serialisable configuration (never the key)."""
        return {"provider": self.provider, "model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ProviderEmbedder:
        """Rebuild from :meth:`get_config`, without a key (local servers only)."""
        return ProviderEmbedder(str(config["provider"]), str(config["model"]),
                                base_url=str(config["base_url"]), api_key=None)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]

