"""Semantic memory from the settings: which embedder, the store, recall (M2).

``[memory] embeddings`` (see :class:`graph.settings.MemorySettings`) chooses the embedder:

- ``lexical``: offline, lexical only;
- ``chroma``: Chroma's local model; tried once with a short time-out (it downloads on first
  use), else lexical;
- ``PROVIDER:MODEL``: a provider's embeddings endpoint, with the provider's key from its
  environment variable or the OS keyring (:func:`graph.settings.lookup_key`); tried once with
  a one-text request, else lexical.

A misspelt setting (not one of the three forms, an unknown provider, a replay provider) is bad
input (:class:`graph.errors.InputError` naming the setting); an embedder that cannot work now
(no key, no network, key refused, model not downloadable) is not: memory falls back to
lexical vectors, logs why (logger ``multicoder.memory``) and says so in
:attr:`memory.recall.Recall.embedder_note` (``multicoder memory status`` shows it).

chromadb, scikit-learn and the openai client are imported when memory is opened, not when
this module is.

Secrets never reach semantic memory: the store redacts what it keeps and embeds
(:meth:`memory.semantic.SemanticMemory.redact`); :func:`open_recall` adds the caller's redactor
(the engine's, with the keys from the keyring).

The interfaces get what they need of lessons from here (:class:`Lesson`,
:class:`LessonNotFound`), never from ``memory/`` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from graph.errors import InputError
from graph.settings import Settings, lookup_key
from memory.lessons import Lesson, LessonNotFound

if TYPE_CHECKING:
    from memory.embeddings import Embedder
    from memory.lessons import Lessons
    from memory.recall import Collection, Recall
    from memory.semantic import SemanticMemory

__all__ = ["CHROMA_TIMEOUT_S", "EmbedderChoice", "Lesson", "LessonNotFound", "MemoryHit",
           "MemoryStatus", "RebuildResult", "SearchResult", "choose_embedder", "memory_status",
           "open_lessons", "open_recall", "open_semantic", "rebuild_memory", "require_recall",
           "search_memory"]

log = logging.getLogger("multicoder.memory")

#: Longest wait for Chroma's model on first use (download and load), in seconds.
CHROMA_TIMEOUT_S = 20.0
#: Longest wait for a provider's embeddings request, in seconds.
PROVIDER_TIMEOUT_S = 30.0
SETTING = "memory.embeddings"
SEMANTIC_OFF = ("semantic memory is off ([memory] semantic = false in the settings, or"
                " MULTICODER_MEMORY__SEMANTIC)")


@dataclass(frozen=True)
class EmbedderChoice:
    """The embedder picked from the settings.

    Attributes:
        requested: the setting's value (``lexical``, ``chroma`` or ``PROVIDER:MODEL``).
        embedder: the semantic embedder to use, or None for lexical vectors only.
        fallback: why the requested embedder is not used (None when it is, or for lexical).

    """

    requested: str
    embedder: Embedder | None
    fallback: str | None = None

    @property
    def note(self) -> str:
        """For people: what embeds texts now, and why when it is not what was asked for."""
        if self.embedder is not None:
            return self.embedder.label
        note = "lexical (shared words and word pieces; offline; not semantic)"
        if self.fallback:
            note += f" — '{self.requested}' is not used: {self.fallback}"
        return note


def choose_embedder(settings: Settings, *, chroma_timeout_s: float = CHROMA_TIMEOUT_S
                    ) -> EmbedderChoice:
    """Build and try the embedder the settings ask for; fall back to lexical when it fails.

    Args:
        settings: the settings (``memory.embeddings``, the providers).
        chroma_timeout_s: longest wait for Chroma's model to download and load.

    Returns:
        The choice; ``embedder`` is None for lexical vectors only.

    Raises:
        InputError: the setting is malformed, names an unknown provider, a replay provider,
            or a provider without ``base_url``.

    """
    from memory.embeddings import ChromaDefaultEmbedder, EmbedderError

    requested = settings.memory.embeddings.strip()
    if requested.lower() == "lexical":
        return EmbedderChoice(requested, None)
    try:
        embedder = (ChromaDefaultEmbedder(chroma_timeout_s) if requested.lower() == "chroma"
                    else _provider_embedder(settings, requested))
        embedder.probe()
    except EmbedderError as exc:
        log.warning("semantic memory: %s = %r cannot be used (%s); using lexical vectors",
                    SETTING, requested, exc)
        return EmbedderChoice(requested, None, str(exc))
    return EmbedderChoice(requested, embedder)


def _provider_embedder(settings: Settings, requested: str) -> Embedder:
    """A :class:`~memory.embeddings.ProviderEmbedder` for ``PROVIDER:MODEL``.

    Raises:
        InputError: a malformed value or an unusable provider configuration.
        EmbedderError: no key for a provider that needs one (memory falls back).

    """
    from memory.embeddings import EmbedderError, ProviderEmbedder

    provider, sep, model = requested.partition(":")
    provider, model = provider.strip(), model.strip()
    if not sep or not provider or not model:
        raise InputError(f"{SETTING} = '{requested}' is not lexical, chroma or PROVIDER:MODEL"
                         " (for example openai:text-embedding-3-small)")
    config = settings.providers.get(provider)
    if config is None:
        raise InputError(f"{SETTING} names the unknown provider '{provider}' (providers:"
                         f" {', '.join(sorted(settings.providers))}); add it under"
                         f" [providers.{provider}] or use lexical")
    if config.kind != "openai":
        raise InputError(f"{SETTING}: provider '{provider}' is a {config.kind} provider and has"
                         " no embeddings endpoint; use an OpenAI-compatible provider")
    if not config.base_url:
        raise InputError(f"{SETTING}: provider '{provider}' has no base_url"
                         f" (set [providers.{provider}] base_url)")
    if not config.enabled:
        raise EmbedderError(f"provider '{provider}' is disabled in the settings")
    key = lookup_key(provider, config)
    if config.needs_key and not key:
        where = f"set {config.api_key_env} or " if config.api_key_env else ""
        raise EmbedderError(f"no API key for {provider}: {where}run multicoder keys set"
                            f" {provider}")
    return ProviderEmbedder(provider, model, base_url=config.base_url, api_key=key,
                            timeout_s=min(config.timeout_s, PROVIDER_TIMEOUT_S),
                            max_retries=min(config.max_retries, 2))


def open_semantic(settings: Settings, choice: EmbedderChoice | None = None) -> SemanticMemory:
    """The semantic store in ``<data_dir>/semantic`` with the chosen embedder.

    Args:
        settings: the settings.
        choice: the embedder (default: :func:`choose_embedder`).

    Raises:
        InputError: a malformed ``memory.embeddings`` setting.
        memory.semantic.SemanticMemoryError: busy beyond the lock's time-out, or damaged.

    """
    from memory.semantic import SemanticMemory

    choice = choice or choose_embedder(settings)
    return SemanticMemory(settings.data_dir, embedder=choice.embedder)


def open_recall(settings: Settings, *, chroma_timeout_s: float = CHROMA_TIMEOUT_S,
                redactor: Callable[[str], str] | None = None) -> Recall | None:
    """Recall over semantic memory as the settings configure it; None when it is off.

    Off means ``[memory] semantic = false``. The embedder is chosen by
    :func:`choose_embedder` (falling back to lexical vectors with a logged reason).

    Args:
        settings: the settings.
        chroma_timeout_s: longest wait for Chroma's model to download and load.
        redactor: secrets to hide besides the environment's (the engine passes its
            :class:`~memory.redaction.Redactor`, which holds the keys from the keyring).

    Raises:
        InputError: a malformed ``memory.embeddings`` setting.
        memory.semantic.SemanticMemoryError: busy beyond the lock's time-out, or damaged (the
            message says to run ``multicoder memory rebuild --fresh``).

    """
    if not settings.memory.semantic:
        return None
    from memory.recall import Recall

    choice = choose_embedder(settings, chroma_timeout_s=chroma_timeout_s)
    return Recall(open_semantic(settings, choice), embedder_note=choice.note, redactor=redactor)


# -- what the interfaces show (``multicoder memory ...``) ----------------------------------------

MatchKind = Literal["full text", "semantic", "lexical-vector"]


@dataclass(frozen=True)
class MemoryHit:
    """One result of :func:`search_memory`.

    Attributes:
        kind: ``full text`` (the archive's FTS5 over every line), ``semantic`` (semantic
            memory, a semantic embedder's vectors) or ``lexical-vector`` (semantic memory,
            the lexical vectors: shared words only).
        score: relevance within its kind (similarity 0..1; for full text, the negated BM25
            rank: higher is better).
        source: where it is, e.g. ``lesson L3f2a9c0 · from run … · a rejected plan · date``
            or ``run … · events.jsonl line 42 · decision``.
        run_id: the run it belongs to (None for a person's own lesson).
        text: the matching text (a snippet for full text, with matches between « and »).

    """

    kind: MatchKind
    score: float
    source: str
    run_id: str | None
    text: str


@dataclass(frozen=True)
class SearchResult:
    """:func:`search_memory`'s answer: hits of both kinds interleaved, and notes for people."""

    hits: list[MemoryHit]
    notes: list[str] = field(default_factory=list)


def require_recall(settings: Settings) -> Recall:
    """:func:`open_recall`, when semantic memory is on.

    Raises:
        InputError: semantic memory is off, the setting is malformed, or the store is busy or
            damaged (the message says what to do).

    """
    from memory.semantic import SemanticMemoryError

    try:
        recall = open_recall(settings)
    except SemanticMemoryError as exc:
        raise InputError(str(exc)) from None
    if recall is None:
        raise InputError(SEMANTIC_OFF)
    return recall


def search_memory(settings: Settings, query: str, *, limit: int = 10, run_id: str | None = None,
                  lexical_only: bool = False) -> SearchResult:
    """Search everything: the archive's full text and semantic memory, merged.

    At most ``limit`` hits of each kind, interleaved best first (full text, semantic, full
    text ...), so both kinds show near the top. Semantic hits down to
    :data:`memory.recall.SEARCH_MIN_SCORE` are shown (lower than what prompts get: the person
    sees the scores). Semantic memory off or unusable, or the archive unusable, leaves its
    part out with a note saying why.

    Args:
        settings: the settings.
        query: what to look for (words; ``"phrases"`` and ``prefix*`` for full text).
        limit: most hits of each kind (at least 1).
        run_id: only this run's lines and items.
        lexical_only: semantic memory matches by its lexical vectors (no embeddings request).

    Raises:
        InputError: an empty query, ``limit`` below 1, or a malformed ``memory.embeddings``.

    """
    if not query.strip():
        raise InputError("the query is empty: give words to look for")
    if limit < 1:
        raise InputError(f"--limit must be at least 1, not {limit}")
    notes: list[str] = []
    full_text = _archive_hits(settings, query, limit, run_id, notes)
    vectors: list[MemoryHit] = []
    if settings.memory.semantic:
        from memory.recall import SEARCH_MIN_SCORE, source_of
        from memory.semantic import SemanticMemoryError

        try:
            recall = open_recall(settings)
        except SemanticMemoryError as exc:  # busy or damaged: the full text still helps
            notes.append(f"semantic memory left out: {exc}")
            recall = None
        if recall is not None:
            try:
                found = recall.search(query, limit=limit, only_run=run_id,
                                      lexical_only=lexical_only, min_scores=SEARCH_MIN_SCORE)
            except SemanticMemoryError as exc:
                notes.append(f"semantic memory left out: {exc}")
                found = []
            finally:
                recall.semantic.close()
            if not lexical_only and recall.semantic.embedder is None:
                notes.append(f"semantic memory matched by {recall.embedder_note}")
            vectors = [MemoryHit("semantic" if hit.match == "semantic" else "lexical-vector",
                                 round(hit.score, 3), source_of(hit.item),
                                 str(hit.item.metadata.get("run_id") or "") or None,
                                 hit.item.text) for hit in found]
    else:
        notes.append("semantic memory is off ([memory] semantic = false): full text only")
    merged: list[MemoryHit] = []
    for index in range(max(len(full_text), len(vectors))):
        merged += [hits[index] for hits in (full_text, vectors) if index < len(hits)]
    return SearchResult(merged, notes)


def _archive_hits(settings: Settings, query: str, limit: int, run_id: str | None,
                  notes: list[str]) -> list[MemoryHit]:
    import sqlite3

    from memory.archive import ARCHIVE_FILE, SOURCE_FILES, Archive, ArchiveSchemaError

    try:
        archive, check = Archive.open_checked(settings.data_dir / ARCHIVE_FILE,
                                              settings.runs_dir)
    except (ArchiveSchemaError, sqlite3.Error, OSError, TimeoutError) as exc:
        notes.append(f"full-text search left out: the archive cannot be opened ({exc})")
        return []
    try:
        if check.notice():
            notes.append(str(check.notice()))
        found = archive.search(query, limit=limit, run_id=run_id)
    finally:
        archive.close()
    return [MemoryHit("full text", round(hit.rank, 3),
                      f"run {hit.run_id} · {SOURCE_FILES.get(hit.source, hit.source)} line"
                      f" {hit.line} · {hit.type}" + (f" · {hit.speaker}" if hit.speaker else "")
                      + (f" · {hit.ts[:10]}" if hit.ts else ""),
                      hit.run_id, hit.snippet) for hit in found]


@dataclass(frozen=True)
class MemoryStatus:
    """What ``multicoder memory status`` shows.

    Attributes:
        setting: ``memory.embeddings`` as set.
        embedder: what embeds texts now (and why, after a fallback).
        semantic: True when a semantic embedder is in use, False for lexical vectors only.
        path: the Chroma folder.
        counts: items per collection.
        vector_sets: the sets of vectors on disk (embedder, dimension, in sync, in use).
        person_changes: lessons the person added, edited or deleted (``lessons.json``).

    """

    setting: str
    embedder: str
    semantic: bool
    path: Path
    counts: dict[Collection, int]
    vector_sets: list[dict[str, object]]
    person_changes: int


def memory_status(settings: Settings) -> MemoryStatus:
    """Embedder in use, semantic or lexical, counts per collection.

    Raises:
        InputError: semantic memory is off, unusable, or the setting is malformed.

    """
    recall = require_recall(settings)
    try:
        semantic = recall.semantic
        return MemoryStatus(settings.memory.embeddings, recall.embedder_note, semantic.semantic,
                            semantic.path, semantic.counts(), semantic.vector_sets(),
                            len(recall.book.entries()))
    finally:
        recall.semantic.close()


@dataclass(frozen=True)
class RebuildResult:
    """What :func:`rebuild_memory` did.

    Attributes:
        runs: run folders learned from.
        items: items stored for them.
        restored: lessons written by people put back.
        set_aside: where a damaged store was moved (``--fresh``), if it was.

    """

    runs: int
    items: int
    restored: int
    set_aside: Path | None = None


def rebuild_memory(settings: Settings, *, fresh: bool = False,
                   on_run: Callable[[int, int, str, int], None] | None = None
                   ) -> RebuildResult:
    """Learn every run folder again (``multicoder memory rebuild``).

    Args:
        settings: the settings.
        fresh: first move the store aside (``<data_dir>/semantic.broken-<time>``) and start
            empty: for a damaged store. Items of runs whose folders are gone are lost then;
            the person's own lessons and edits come back from ``lessons.json``.
        on_run: progress, ``(done, total, run_id, items)`` after each run.

    Raises:
        InputError: semantic memory is off, unusable, or the setting is malformed.

    """
    from memory.semantic import SemanticMemory, SemanticMemoryError

    if not settings.memory.semantic:
        raise InputError(SEMANTIC_OFF)
    moved = SemanticMemory.set_aside(settings.data_dir) if fresh else None
    recall = require_recall(settings)
    try:
        report = recall.rebuild(settings.runs_dir, on_run)
    except SemanticMemoryError as exc:
        raise InputError(str(exc)) from None
    finally:
        recall.semantic.close()
    return RebuildResult(report.runs, report.items, report.restored, moved)


def open_lessons(settings: Settings) -> tuple[Recall, Lessons]:
    """Recall and its lessons, for ``multicoder memory lessons`` (close ``recall.semantic``).

    Raises:
        InputError: semantic memory is off, unusable, or the setting is malformed.

    """
    recall = require_recall(settings)
    return recall, recall.lessons
