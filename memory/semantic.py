"""Semantic memory (M2): ChromaDB collections of tasks, plans, lessons, errors and summaries.

Storage: ``chromadb.PersistentClient(path=<data_dir>/semantic)``, cosine space, one Chroma
collection per logical collection (:data:`memory.recall.COLLECTIONS`) **and per embedder**:
``mc_<collection>_<8 hex of the embedder's key>``. Vectors of different embedders therefore
never mix, and each collection's metadata names the embedder that filled it.

Two vector sets are kept:

- the **lexical set** (:class:`~memory.embeddings.LexicalEmbedder`), always written. It is the
  record of truth: every item's text and metadata live there, and it works offline;
- the **semantic set** of the configured semantic embedder (Chroma's model or a provider's),
  when one works. It is derived from the lexical set: an item whose semantic vector could not
  be made (the provider was down) is still stored, and the semantic set is brought up to date
  from the lexical set's documents at the next open (only changed items are re-embedded).

Switching embedders therefore re-embeds from the stored documents, never mixes vectors, and
loses nothing; switching back re-embeds only what changed meanwhile (sets of embedders not in
use stay on disk until ``multicoder memory rebuild --fresh``).

Several processes (the CLI, the desktop app, the server) may share a data folder. What Chroma
guarantees: its embedded ``PersistentClient`` is made for **one process**; concurrent writers
from several processes can corrupt its HNSW index (chroma-core/chroma#6975), and a process
that keeps a client open does not see vectors another process wrote later (it only re-reads
them when it writes itself). So every operation here — reads included — holds an exclusive
file lock, ``<data_dir>/semantic.lock``, and a counter in ``<data_dir>/semantic-state.json``
(bumped by each write) tells a long-lived process that someone else wrote: it then closes
its client and opens a fresh one before going on. Threads of one process are serialised by
the same lock. Within a process, open one :class:`SemanticMemory` per data folder.

Secrets never reach the store nor an embedder: every item's text and string metadata, and
every query, go through :meth:`SemanticMemory.redact` first (:func:`memory.recall.memory_redactor`
and any redactor the caller adds), so neither Chroma's files nor a provider's embeddings
endpoint see them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filelock import FileLock, Timeout

from memory.embeddings import Embedder, EmbedderError, LexicalEmbedder
from memory.recall import COLLECTIONS, Collection, memory_redactor
from memory.records import atomic_write

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection as ChromaCollection

__all__ = [
    "ItemNotFound",
    "MemoryItem",
    "MetadataValue",
    "SemanticHit",
    "SemanticMemory",
    "SemanticMemoryError",
]

log = logging.getLogger("multicoder.memory")

MetadataValue = str | int | float | bool
"""What a metadata field may hold (Chroma's scalar types)."""

SEMANTIC_DIR = "semantic"
LOCK_FILE = "semantic.lock"
STATE_FILE = "semantic-state.json"
_HASH_KEY = "mc_hash"
_BATCH = 500


class SemanticMemoryError(RuntimeError):
    """Semantic memory cannot be used now.

    It is busy beyond the lock's time-out, or damaged (the message then says to run
    ``multicoder memory rebuild --fresh``).
    """


class ItemNotFound(KeyError):
    """No item with this id in the collection.

    Attributes:
        collection: the collection searched.
        item_id: the id asked for.

    """

    def __init__(self, collection: str, item_id: str) -> None:
        super().__init__(f"no item '{item_id}' in {collection}")
        self.collection = collection
        self.item_id = item_id

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class MemoryItem:
    """One stored item.

    Attributes:
        collection: its collection.
        item_id: its id, unique in the collection (stable: re-learning a run replaces it).
        text: the document (what is embedded and what recall shows).
        metadata: scalar fields (``run_id``, ``kind``, ``what``, ``date`` ...); keys starting
            with ``mc_`` are internal and never returned.

    """

    collection: Collection
    item_id: str
    text: str
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class SemanticHit:
    """One query result.

    Attributes:
        item: the stored item.
        score: cosine similarity to the query, clipped to 0..1 (1 = same direction).
        match: ``semantic`` when found with the semantic embedder's vectors, ``lexical`` when
            with the lexical vectors (shared words only).

    """

    item: MemoryItem
    score: float
    match: Literal["semantic", "lexical"]


@dataclass
class _State:
    """``semantic-state.json``: the write counter and how far each vector set is in sync."""

    generation: int = 0
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> _State:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):  # unreadable: every semantic set is re-checked
            return cls(generation=-1)
        if not isinstance(raw, dict):
            return cls(generation=-1)
        return cls(generation=int(raw.get("generation", 0)), sets=dict(raw.get("sets", {})))

    def write(self, path: Path) -> None:
        data = json.dumps({"generation": self.generation, "sets": self.sets}, indent=2)
        atomic_write(path, data.encode("utf-8"))


def _slug(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]


def _digest(text: str, metadata: Mapping[str, MetadataValue]) -> str:
    payload = json.dumps([text, sorted((k, v) for k, v in metadata.items())],
                         ensure_ascii=False, default=str)
    return hashlib.sha1(payload.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _public(metadata: Mapping[str, Any] | None) -> dict[str, MetadataValue]:
    return {k: v for k, v in (metadata or {}).items()
            if not k.startswith("mc_") and isinstance(v, str | int | float | bool)}


class SemanticMemory:
    """The five collections, with lexical vectors always and semantic ones when available.

    Args:
        data_dir: MultiCoder's data folder; Chroma lives in ``<data_dir>/semantic``.
        embedder: the semantic embedder to use besides the lexical one (None: lexical only).
            A :class:`LexicalEmbedder` here is the same as None.
        lexical: the lexical embedder (default: ``LexicalEmbedder()``).
        lock_timeout_s: longest wait for another process's operation.
        redactor: applied, after :func:`memory.recall.memory_redactor`, to every text and
            string metadata value stored and every query (see :meth:`add_redactor`).

    Raises:
        SemanticMemoryError: the lock cannot be taken in time, or Chroma cannot open its
            folder (damaged: ``multicoder memory rebuild --fresh``).

    """

    def __init__(self, data_dir: Path, *, embedder: Embedder | None = None,
                 lexical: LexicalEmbedder | None = None, lock_timeout_s: float = 30.0,
                 redactor: Callable[[str], str] | None = None) -> None:
        self.data_dir = data_dir
        self._redactors: list[Callable[[str], str]] = [memory_redactor()]
        if redactor is not None:
            self._redactors.append(redactor)
        self.path = data_dir / SEMANTIC_DIR
        self.lexical = lexical or LexicalEmbedder()
        self.embedder = None if isinstance(embedder, LexicalEmbedder) else embedder
        self.semantic_error: str | None = None
        """Why the semantic embedder stopped working in this process (None while it works)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(data_dir / LOCK_FILE, timeout=lock_timeout_s)
        self._state_path = data_dir / STATE_FILE
        self._client: ClientAPI | None = None
        self._handles: dict[tuple[str, str], ChromaCollection] = {}
        self._seen_generation: int | None = None
        with self._locked():
            pass  # opens the client and brings the semantic set up to date

    # -- what is in use --------------------------------------------------------------------

    @property
    def semantic(self) -> bool:
        """True while a semantic embedder is in use (not only lexical vectors)."""
        return self.embedder is not None and self.semantic_error is None

    @property
    def active(self) -> Embedder:
        """The embedder queries use: the semantic one while it works, else the lexical one."""
        return self.embedder if self.semantic and self.embedder is not None else self.lexical

    def collection_name(self, collection: Collection, embedder: Embedder | None = None) -> str:
        """Chroma's name of ``collection``'s set for ``embedder`` (default: the lexical one)."""
        key = (embedder or self.lexical).key
        return f"mc_{collection}_{_slug(key)}"

    # -- secrets ---------------------------------------------------------------------------

    def add_redactor(self, redactor: Callable[[str], str]) -> None:
        """Apply ``redactor`` too (text -> text with secrets hidden), from now on.

        For the caller's secrets that the environment does not hold (keys from the keyring):
        pass the engine's :class:`~memory.redaction.Redactor`. Adding the same one twice
        applies it once.
        """
        if all(redactor is not known for known in self._redactors):
            self._redactors.append(redactor)

    def redact(self, text: str) -> str:
        """``text`` with every secret this store knows replaced by ``[REDACTED]``."""
        for redactor in self._redactors:
            text = redactor(text)
        return text

    def redact_item(self, item: MemoryItem) -> MemoryItem:
        """``item`` with its text and string metadata values redacted (:meth:`redact`)."""
        metadata = {key: self.redact(value) if isinstance(value, str) else value
                    for key, value in item.metadata.items()}
        text = self.redact(item.text)
        if text == item.text and metadata == dict(item.metadata):
            return item
        return MemoryItem(item.collection, item.item_id, text, metadata)

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, items: Sequence[MemoryItem]) -> None:
        """Store ``items``, replacing any with the same collection and id.

        Texts and string metadata are redacted first (:meth:`redact_item`). The lexical
        vectors are always written; when the semantic embedder fails now, the items are stored
        anyway, :attr:`semantic_error` says why, and queries use lexical vectors until the
        semantic set is brought up to date (at the next open).

        Raises:
            SemanticMemoryError: busy or damaged.
            ValueError: an unknown collection.

        """
        if not items:
            return
        items = [self.redact_item(item) for item in items]
        with self._locked(write=True):
            for collection, group in self._by_collection(items).items():
                ids = [item.item_id for item in group]
                docs = [item.text for item in group]
                metas = [dict(_public(item.metadata))
                         | {_HASH_KEY: _digest(item.text, _public(item.metadata))}
                         for item in group]
                self._write(collection, ids, docs, metas)

    def replace(self, where: Mapping[str, Any], items: Sequence[MemoryItem]) -> int:
        """Delete every item matching ``where`` in every collection, then store ``items``.

        One step for other processes (one lock); used to learn a run again.

        Returns:
            How many items were deleted (before ``items`` were stored).

        Raises:
            SemanticMemoryError: busy or damaged.

        """
        with self._locked(write=True):
            deleted = sum(len(self.delete(collection, where=where)) for collection in COLLECTIONS)
            self.upsert(items)
            return deleted

    def add(self, items: Sequence[MemoryItem]) -> None:
        """Store new items (like :meth:`upsert`, but an existing id is an error).

        Raises:
            ValueError: an id exists already in its collection, or an unknown collection.
            SemanticMemoryError: busy or damaged.

        """
        with self._locked(write=True):
            for collection, group in self._by_collection(items).items():
                ids = [item.item_id for item in group]
                existing = self._handle(collection, self.lexical).get(ids=ids, include=[])["ids"]
                if existing:
                    raise ValueError(f"{collection} already has {', '.join(existing)}")
            self.upsert(items)

    def update(self, collection: Collection, item_id: str, *, text: str | None = None,
               metadata: Mapping[str, MetadataValue] | None = None) -> MemoryItem:
        """Change an item's text and/or some metadata fields (others are kept).

        Returns:
            The item as stored now.

        Raises:
            ItemNotFound: no such item.
            SemanticMemoryError: busy or damaged.

        """
        with self._locked(write=True):
            current = self.get(collection, ids=[item_id])
            if not current:
                raise ItemNotFound(collection, item_id)
            old = current[0]
            item = MemoryItem(collection, item_id, old.text if text is None else text,
                              dict(old.metadata) | dict(metadata or {}))
            self.upsert([item])
            return item

    def delete(self, collection: Collection, *, ids: Sequence[str] | None = None,
               where: Mapping[str, Any] | None = None) -> list[str]:
        """Delete the items with ``ids`` and/or matching ``where`` (Chroma's filter syntax).

        Returns:
            The ids deleted (ids that did not exist are left out).

        Raises:
            ValueError: neither ``ids`` nor ``where`` given, or an unknown collection.
            SemanticMemoryError: busy or damaged.

        """
        if ids is None and where is None:
            raise ValueError("give ids or where: delete never empties a collection by default")
        self._check(collection)
        with self._locked(write=True):
            found = self._handle(collection, self.lexical).get(
                ids=list(ids) if ids is not None else None,
                where=dict(where) if where else None, include=[])["ids"]
            if found:
                for embedder in self._live_embedders():
                    self._handle(collection, embedder).delete(ids=found)
            return list(found)

    # -- reading ---------------------------------------------------------------------------

    def query(self, collection: Collection, text: str, *, k: int = 8,
              where: Mapping[str, Any] | None = None, lexical_only: bool = False
              ) -> list[SemanticHit]:
        """The ``k`` items closest to ``text``, best first.

        Args:
            collection: where to look.
            text: the query.
            k: at most this many results.
            where: a Chroma metadata filter, e.g. ``{"run_id": {"$ne": "RUN"}}`` (items
                without the field match ``$ne``). A filter makes Chroma scan the metadata:
                about 3 ms per 1,000 items, against 1-2 ms for the whole query without one.
            lexical_only: use the lexical vectors even when a semantic embedder works.

        Raises:
            SemanticMemoryError: busy or damaged.
            ValueError: an unknown collection.

        """
        return self.query_many([collection], text, k=k, where=where,
                               lexical_only=lexical_only)[collection]

    def query_many(self, collections: Sequence[Collection], text: str, *, k: int = 8,
                   where: Mapping[str, Any] | None = None, lexical_only: bool = False
                   ) -> dict[Collection, list[SemanticHit]]:
        """:meth:`query` in several collections at once (``text`` is embedded once).

        ``text`` is redacted (:meth:`redact`) before it is embedded.

        Returns:
            Collection -> its ``k`` closest items, best first.

        Raises:
            SemanticMemoryError: busy or damaged.
            ValueError: an unknown collection.

        """
        for collection in collections:
            self._check(collection)
        found: dict[Collection, list[SemanticHit]] = {c: [] for c in collections}
        if k < 1 or not text.strip() or not collections:
            return found
        text = self.redact(text)
        with self._locked():
            embedder = self.lexical if lexical_only else self.active
            try:
                vector = embedder.embed_query([text])[0]
            except EmbedderError as exc:
                self._semantic_failed(exc)
                embedder = self.lexical
                vector = embedder.embed_query([text])[0]
            results = {c: self._handle(c, embedder).query(
                query_embeddings=[vector], n_results=k, where=dict(where) if where else None,
                include=["documents", "metadatas", "distances"]) for c in collections}
        match: Literal["semantic", "lexical"] = "semantic" if embedder.semantic else "lexical"
        for collection, result in results.items():
            ids = result["ids"][0]
            docs = (result["documents"] or [[]])[0]
            metas = (result["metadatas"] or [[]])[0]
            distances = (result["distances"] or [[]])[0]
            found[collection] = [
                SemanticHit(MemoryItem(collection, item_id, doc or "", _public(meta)),
                            max(0.0, min(1.0, 1.0 - float(distance))), match)
                for item_id, doc, meta, distance in zip(ids, docs, metas, distances,
                                                        strict=True)]
        return found

    def get(self, collection: Collection, *, ids: Sequence[str] | None = None,
            where: Mapping[str, Any] | None = None, limit: int | None = None
            ) -> list[MemoryItem]:
        """Stored items by id and/or filter (all of the collection when neither is given).

        Ids that do not exist are left out. Order: as Chroma returns them (insertion order).

        Raises:
            SemanticMemoryError: busy or damaged.
            ValueError: an unknown collection.

        """
        self._check(collection)
        with self._locked():
            result = self._handle(collection, self.lexical).get(
                ids=list(ids) if ids is not None else None, where=dict(where) if where else None,
                limit=limit, include=["documents", "metadatas"])
        docs = result["documents"] or []
        metas = result["metadatas"] or []
        return [MemoryItem(collection, item_id, doc or "", _public(meta))
                for item_id, doc, meta in zip(result["ids"], docs, metas, strict=True)]

    def count(self, collection: Collection) -> int:
        """How many items ``collection`` holds."""
        self._check(collection)
        with self._locked():
            return self._handle(collection, self.lexical).count()

    def counts(self) -> dict[Collection, int]:
        """Items per collection, for every collection."""
        with self._locked():
            return {c: self._handle(c, self.lexical).count() for c in COLLECTIONS}

    def vector_sets(self) -> list[dict[str, Any]]:
        """The vector sets known: ``{"embedder", "dimension", "in_sync", "in_use"}`` each.

        ``dimension`` is None for a set with no vectors yet.
        """
        with self._locked() as state:
            live = {e.key for e in self._live_embedders()}
            assert self._client is not None
            names = {c.name for c in self._client.list_collections()}
            sets = []
            for key, info in sorted(state.sets.items()):
                dimension = None
                for collection in COLLECTIONS:
                    name = f"mc_{collection}_{_slug(key)}"
                    if name not in names:
                        continue
                    peek = self._client.get_collection(name).get(limit=1, include=["embeddings"])
                    if peek["embeddings"] is not None and len(peek["embeddings"]):
                        dimension = len(peek["embeddings"][0])
                        break
                sets.append({"embedder": key, "dimension": dimension, "in_use": key in live,
                             "in_sync": key == self.lexical.key
                             or info.get("synced") == state.generation})
            return sets

    # -- life cycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Release Chroma's client (its files stay). Safe to call more than once."""
        self._handles.clear()
        client, self._client = self._client, None
        close = getattr(client, "close", None)  # chromadb's Client has it, ClientAPI does not
        if close is not None:
            close()

    def __enter__(self) -> SemanticMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def set_aside(data_dir: Path) -> Path | None:
        """Move ``<data_dir>/semantic`` aside (a damaged store), to ``semantic.broken-<time>``.

        Returns:
            Where it went (None when there was nothing to move).

        """
        path = data_dir / SEMANTIC_DIR
        if not path.exists():
            return None
        with FileLock(data_dir / LOCK_FILE, timeout=30):
            target = data_dir / f"{SEMANTIC_DIR}.broken-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            shutil.move(path, target)
            (data_dir / STATE_FILE).unlink(missing_ok=True)
        return target

    # -- internals -------------------------------------------------------------------------

    @contextmanager
    def _locked(self, *, write: bool = False) -> Iterator[_State]:
        """Hold the lock; reopen Chroma when another process wrote; on ``write``, count it."""
        try:
            self._lock.acquire()
        except Timeout:
            raise SemanticMemoryError(
                f"semantic memory is busy: another MultiCoder process has held"
                f" {self._lock.lock_file} for more than {self._lock.timeout:.0f} s") from None
        try:
            outermost = self._lock.lock_counter == 1
            state = _State.read(self._state_path)
            if outermost and (self._client is None
                              or state.generation != self._seen_generation):
                self._reopen()
                self._ensure_sets(state)
                self._sync(state)
            if write and outermost:
                state.generation += 1  # written first: a crash leaves the semantic set stale
                previous_synced = {key: info.get("synced") for key, info in state.sets.items()}
                state.write(self._state_path)
            yield state
            if write and outermost:
                for embedder in self._live_embedders():
                    if previous_synced.get(embedder.key) == state.generation - 1:
                        state.sets.setdefault(embedder.key, {})["synced"] = state.generation
                state.write(self._state_path)
            if outermost:
                self._seen_generation = state.generation
        finally:
            self._lock.release()

    def _reopen(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.close()
        try:
            self._client = chromadb.PersistentClient(
                path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False))
        except Exception as exc:  # Chroma raises several types for a damaged folder
            # Chroma caches a system per path before starting it, and keeps the broken one
            # after a failed start: forget it, so a later open (after a rebuild) can succeed.
            from chromadb.api.shared_system_client import SharedSystemClient

            systems = getattr(SharedSystemClient, "_identifier_to_system", None)
            if isinstance(systems, dict):
                systems.pop(str(self.path), None)
            reason = " ".join(str(exc).split())[:200]
            raise SemanticMemoryError(
                f"semantic memory at {self.path} cannot be opened ({reason});"
                " `multicoder memory rebuild --fresh` sets it aside and rebuilds it from the"
                " run folders") from None

    def _live_embedders(self) -> list[Embedder]:
        return [self.lexical] + ([self.embedder]
                                 if self.embedder is not None and self.semantic_error is None
                                 else [])

    def _handle(self, collection: Collection, embedder: Embedder) -> ChromaCollection:
        name = self.collection_name(collection, embedder)
        handle = self._handles.get((collection, embedder.key))
        if handle is None:
            assert self._client is not None, "used outside _locked()"
            handle = self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata={"mc_embedder": embedder.key, "mc_collection": collection})
            self._handles[(collection, embedder.key)] = handle
        return handle

    def _ensure_sets(self, state: _State) -> None:
        """Record the sets in use in the state (the lexical one is always in sync)."""
        changed = False
        for embedder in self._live_embedders():
            if embedder.key not in state.sets:
                state.sets[embedder.key] = {
                    "synced": state.generation if embedder is self.lexical else -1}
                changed = True
        if changed:
            state.write(self._state_path)

    def _sync(self, state: _State) -> None:
        """Bring the semantic set up to date from the lexical set's documents."""
        embedder = self.embedder
        if embedder is None or self.semantic_error is not None:
            return
        info = state.sets.setdefault(embedder.key, {})
        if info.get("synced") == state.generation:
            return
        embedded = removed = 0
        try:
            for collection in COLLECTIONS:
                source = self._handle(collection, self.lexical)
                target = self._handle(collection, embedder)
                wanted = _hashes(source)
                have = _hashes(target)
                stale = [i for i, h in wanted.items() if have.get(i) != h]
                extra = [i for i in have if i not in wanted]
                for start in range(0, len(stale), _BATCH):
                    batch = source.get(ids=stale[start:start + _BATCH],
                                       include=["documents", "metadatas"])
                    # redacted again: items stored before redaction existed
                    docs = [self.redact(d or "") for d in batch["documents"] or []]
                    metas = [dict(m or {}) for m in batch["metadatas"] or []]
                    vectors = embedder(docs)
                    target.upsert(ids=batch["ids"], embeddings=vectors, documents=docs,
                                  metadatas=metas)  # type: ignore[arg-type]
                    embedded += len(docs)
                if extra:
                    target.delete(ids=extra)
                    removed += len(extra)
        except EmbedderError as exc:
            self._semantic_failed(exc)
            return
        info["synced"] = state.generation
        state.write(self._state_path)
        if embedded or removed:
            log.info("semantic memory: %s brought up to date (%d re-embedded, %d removed)",
                     embedder.key, embedded, removed)

    def _write(self, collection: Collection, ids: list[str], docs: list[str],
               metas: list[dict[str, Any]]) -> None:
        for embedder in self._live_embedders():
            try:
                vectors = embedder(docs)
            except EmbedderError as exc:
                if embedder is self.lexical:
                    raise
                self._semantic_failed(exc)
                continue
            self._handle(collection, embedder).upsert(
                ids=ids, embeddings=vectors, documents=docs,
                metadatas=metas)  # type: ignore[arg-type]

    def _semantic_failed(self, error: EmbedderError) -> None:
        if self.semantic_error is None:
            log.warning("semantic memory: %s stopped working (%s); using lexical vectors",
                        self.embedder.key if self.embedder else "?", error)
        self.semantic_error = str(error)

    @staticmethod
    def _check(collection: str) -> None:
        if collection not in COLLECTIONS:
            raise ValueError(f"unknown collection '{collection}' (collections:"
                             f" {', '.join(COLLECTIONS)})")

    def _by_collection(self, items: Sequence[MemoryItem]
                       ) -> dict[Collection, list[MemoryItem]]:
        groups: dict[Collection, dict[str, MemoryItem]] = {}
        for item in items:
            self._check(item.collection)
            groups.setdefault(item.collection, {})[item.item_id] = item  # last one wins
        return {c: list(g.values()) for c, g in groups.items()}


def _hashes(handle: ChromaCollection) -> dict[str, str]:
    result = handle.get(include=["metadatas"])
    return {item_id: str((meta or {}).get(_HASH_KEY, ""))
            for item_id, meta in zip(result["ids"], result["metadatas"] or [], strict=True)}

