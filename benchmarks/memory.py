"""Memory at scale: archive insert rate, full-text and semantic recall latency (M1, M2).

Builds a throwaway data folder holding N archived chat messages (default 100,000, spread over
runs of 1,000 lines), made of real text: consecutive lines of the shipped cassettes' model
answers (prose, code, tool calls) and of the RU/EN safety dataset. Then it prints:

- the archive's bulk insert rate (``Archive.sync_all`` of run folders written beforehand) and
  its write-through rate (``RunRecord.chat`` with the archive attached: fsync + sync per line);
- full-text search latency (``Archive.search``, 20 hits) p50/p95 over Q queries of words of
  the archive's vocabulary, and separately of its 20 most common words (the worst case);
- the start-up check (``Archive.open_checked``) of the full archive;
- semantic memory's insert rate and recall latency (``Recall.search``, query embedding
  included) p50/p95 with the offline lexical embedder over S items (default: as many items
  as messages). Targets: p95 <= 50 ms for each recall.

Usage: uv run python benchmarks/memory.py [--messages 100000] [--semantic-items 100000]
       [--queries 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory.archive import Archive  # noqa: E402
from memory.records import RunRecord  # noqa: E402
from memory.redaction import Redactor  # noqa: E402

SPEAKERS = ("coder", "planner", "tester", "tool", "multicoder → coder", "person")
KINDS = ("message", "tool_call", "tool_result", "system", "decision")
WORD = re.compile(r"\w{3,}")


def real_lines() -> list[str]:
    """Real text to build messages from: the shipped cassettes' model answers (prose, code,
    tool calls) and the RU/EN requests of the safety dataset, one line each."""
    lines: list[str] = []
    for path in sorted((ROOT / "datasets" / "cassettes").glob("*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            response = json.loads(raw).get("response", {})
            texts = [response.get("content", "")] + [
                json.dumps(call.get("args", {}), ensure_ascii=False)
                for call in response.get("tool_calls", [])]
            for text in texts:
                for part in text.replace("\\n", "\n").splitlines():
                    if len(part.strip()) > 20:
                        lines.append(part.strip())
    for raw in (ROOT / "datasets" / "safety" / "requests.jsonl").read_text("utf-8").splitlines():
        lines.append(json.loads(raw)["text"])
    return lines


LINES = real_lines()
VOCABULARY = Counter(word.lower() for line in LINES for word in WORD.findall(line))


def sentence(rng: random.Random) -> str:
    """A chat message: 1-8 consecutive real lines (code, prose, requests)."""
    start = rng.randrange(len(LINES))
    return "\n".join(LINES[start:start + rng.randint(1, 8)])


def write_runs(runs_root: Path, messages: int, rng: random.Random, per_run: int = 1000
               ) -> list[str]:
    """Write run folders (run.json + events.jsonl of message lines) holding ``messages`` lines."""
    texts = []
    seq_total = 0
    run_no = 0
    while seq_total < messages:
        run_id = f"20261101-000000-{run_no:06d}"
        run_dir = runs_root / run_id
        (run_dir / "workspace").mkdir(parents=True)
        (run_dir / "run.json").write_text(json.dumps(
            {"task": sentence(rng)[:200], "models": {}, "created_at": "2026-11-01T00:00:00+00:00"}),
            encoding="utf-8")
        lines = []
        for seq in range(1, min(per_run, messages - seq_total) + 1):
            text = sentence(rng)
            texts.append(text)
            lines.append(json.dumps({
                "ts": f"2026-11-01T00:{seq // 60 % 60:02d}:{seq % 60:02d}.000+00:00",
                "seq": seq, "type": "message", "speaker": rng.choice(SPEAKERS),
                "kind": rng.choice(KINDS), "title": None, "text": text}, ensure_ascii=False))
        (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        seq_total += len(lines)
        run_no += 1
    return texts


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of ``samples`` in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def queries(rng: random.Random, n: int, *, common: bool = False) -> list[str]:
    """``n`` searches of 1-3 words as a person types them: words of the archive's vocabulary
    (each distinct word equally likely); ``common``: drawn from its 20 most frequent words
    instead (the worst case: each matches a large share of all lines)."""
    words = ([w for w, _ in VOCABULARY.most_common(20)] if common
             else [w for w, c in VOCABULARY.items() if c >= 2])
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(n)]


def bench_archive(base: Path, messages: int, n_queries: int, rng: random.Random
                  ) -> list[tuple[str, str]]:
    runs_root = base / "runs"
    started = time.perf_counter()
    write_runs(runs_root, messages, rng)
    print(f"wrote {messages:,} message lines in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    archive = Archive(base / "archive.sqlite", runs_root)
    started = time.perf_counter()
    added = archive.sync_all()
    bulk = time.perf_counter() - started
    rows: list[tuple[str, str]] = [
        ("archive lines", f"{archive.counts()['entries']:,} ({added:,} added)"),
        ("archive bulk insert", f"{added / bulk:,.0f} lines/s ({bulk:.1f} s)"),
        ("archive file", f"{(base / 'archive.sqlite').stat().st_size / 1e6:,.0f} MB")]

    record = RunRecord.create(runs_root, "20261102-000000-write1", Redactor(), archive=archive)
    n_live = 2000
    started = time.perf_counter()
    for _ in range(n_live):
        record.chat("coder", sentence(rng))
    live = time.perf_counter() - started
    record.close()
    rows.append(("archive write-through", f"{n_live / live:,.0f} chat lines/s"
                 " (fsync'd journal + archive sync per line)"))

    for label, common in (("full-text recall (20 hits)", False),
                          ("full-text, 20 most common words", True)):
        latencies = []
        for query in queries(rng, n_queries, common=common):
            started = time.perf_counter()
            archive.search(query, limit=20)
            latencies.append(time.perf_counter() - started)
        p50, p95 = percentiles(latencies)
        rows.append((label, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {n_queries} queries"
                     f" {'OK' if p95 <= 50 else 'OVER 50 ms'}"))
    started = time.perf_counter()
    archive.close()
    _, check = Archive.open_checked(base / "archive.sqlite", runs_root)
    rows.append(("archive start-up check", f"{time.perf_counter() - started:.2f} s"
                 f" ({'ok' if check.ok else check.detail})"))
    return rows


def bench_semantic(base: Path, items: int, n_queries: int, rng: random.Random
                   ) -> list[tuple[str, str]]:
    from memory.recall import Recall
    from memory.semantic import MemoryItem, SemanticMemory

    data_dir = base / "semantic-data"
    memory = SemanticMemory(data_dir)
    started = time.perf_counter()
    batch = 2000
    collections = ("lessons", "errors", "summaries", "tasks", "plans")
    for start in range(0, items, batch):
        memory.upsert([MemoryItem(collection=collections[i % 5], item_id=f"bench-{i}",
                                  text=sentence(rng), metadata={"run_id": f"run-{i // 10}"})
                       for i in range(start, min(items, start + batch))])
    took = time.perf_counter() - started
    rows = [("semantic items", f"{sum(memory.counts().values()):,} in 5 collections"),
            ("semantic insert (lexical vectors)", f"{items / took:,.0f} items/s ({took:.0f} s)")]
    recall = Recall(memory)
    latencies = []
    for query in queries(rng, n_queries):
        started = time.perf_counter()
        recall.search(query, limit=8)
        latencies.append(time.perf_counter() - started)
    p50, p95 = percentiles(latencies)
    rows.append((f"semantic recall ({memory.active.label.split(' (')[0]}, 5 collections)",
                 f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {n_queries} queries"
                 f" {'OK' if p95 <= 50 else 'OVER 50 ms'}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--semantic-items", type=int, default=None,
                        help="items in semantic memory (default: as many as messages)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = args.keep or Path(tempfile.mkdtemp(prefix="mc-memory-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        for name, value in bench_archive(base, args.messages, args.queries, rng):
            print(f"{name:<36}  {value}", flush=True)
        for name, value in bench_semantic(base, args.semantic_items or args.messages,
                                          args.queries, rng):
            print(f"{name:<36}  {value}", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
