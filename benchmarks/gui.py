"""How fast the desktop app is, each figure beside a bare PySide6 window where that makes sense.

Usage: uv run python benchmarks/gui.py [-n 5] [--only start,stream,open] [--tokens 20000]
                                      [--executable dist/multicoder-desktop/multicoder-desktop]

Prints (offscreen: QT_QPA_PLATFORM=offscreen unless set; data, settings and Qt's own settings
in a temporary folder, never yours):

- cold start to first paint: a fresh process each time (median of N), from just before the
  process is spawned to the end of the main window's first paint event; the app is
  ``python -m ui.desktop`` (``ui.desktop.app.main``, unchanged: the benchmark only hooks
  ``create_window`` to watch the window), the bare window a QMainWindow with a QLabel. The
  app's engine (LangGraph) loads after the first paint on a worker thread: "engine ready"
  is when ``Bridge.ready`` fired.
- with ``--executable``: the same cold start for a built executable (``--smoke``; the first
  paint is the smoke line's arrival minus its "engine ready - first paint").
- idle RSS: resident memory (psutil if installed, else VmRSS of /proc/self/status) 1.5 s
  after the engine is ready (the bare window: 1.5 s after its first paint).
- the longest event-loop stall while N tokens stream into a ChatView at about 1 token per
  millisecond (a 1 ms timer appends the tokens due, in bursts): the largest gap between two
  ticks of a 5 ms heartbeat timer, minus 5 ms. Beside it, the same stream appended to a bare
  QPlainTextEdit. The text is a realistic answer: the csv2xlsx-gui cassette's texts and the
  real sources of the app it built, with Markdown lists, a table and fenced code. The
  stream starts once the view's idle warm-up of the code highlighting has finished (as in
  the app, where it ends seconds before the engine could answer anything; the report says
  how long it took).
- opening a chat of 1,000 messages (a third with code blocks) stored with the real ChatStore:
  MainWindow.open_chat until the chat view's first paint and until painting settles
  (median of N; another chat is opened in between; after the same warm-up). No bare
  equivalent.

Targets (issue 5): start <= 1.5 s, idle RSS <= 250 MB, no stall > 50 ms, open <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASSETTE = ROOT / "datasets" / "cassettes" / "csv2xlsx-gui.jsonl"
SOURCE = ROOT / "datasets" / "cassettes" / "csv2xlsx-gui" / "source"
TARGETS = {"start": 1.5, "rss": 250.0, "stall": 50.0, "open": 1.0}
IDLE_S = 1.5

# this folder holds benchmarks/memory.py, which would shadow the memory package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


# -- measuring helpers --------------------------------------------------------------------------


def rss_mb() -> float | None:
    """Resident memory of this process in MB (None when it cannot be read)."""
    try:
        import psutil  # type: ignore[import-not-found]

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        pass
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def isolated_env(base: Path) -> dict[str, str]:
    """Variables for a child process: data, settings and Qt settings under ``base``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MULTICODER_") and not k.endswith("_API_KEY")}
    env.update({
        "MULTICODER_DATA_DIR": str(base / "data"),
        "MULTICODER_CONFIG": str(base / "settings.toml"),
        "MULTICODER_SANDBOX__BACKEND": "local",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XDG_CONFIG_HOME": str(base / "config"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    })
    return env


def _paint_watcher(on_paint):
    """An event filter calling ``on_paint()`` once, just after the first paint finished."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Watcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.pending = True

        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if self.pending and event.type() == QEvent.Type.Paint:
                self.pending = False
                QTimer.singleShot(0, on_paint)
            return False

    return Watcher()


# -- children: one cold start each --------------------------------------------------------------


def child_app() -> None:
    """Run the real app; report first paint, engine ready and idle RSS as one JSON line."""
    spawned = float(os.environ["BENCH_SPAWNED"])
    result: dict[str, float | None] = {}
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import ui.desktop.app as desktop_app

    original = desktop_app.create_window

    def finish() -> None:
        result["rss_mb"] = rss_mb()
        print(json.dumps(result), flush=True)
        QApplication.instance().quit()

    def ready() -> None:
        result["ready_s"] = time.time() - spawned
        QTimer.singleShot(int(IDLE_S * 1000), finish)

    def failed(reason: str) -> None:
        print(json.dumps({"error": reason}), flush=True)
        QApplication.instance().exit(1)

    def painted() -> None:
        result["paint_s"] = time.time() - spawned
        result["rss_paint_mb"] = rss_mb()

    def create_window(bridge):
        window = original(bridge)
        watcher = _paint_watcher(painted)
        watcher.setParent(window)
        window.installEventFilter(watcher)
        bridge.ready.connect(ready)
        bridge.failed.connect(failed)
        return window

    desktop_app.create_window = create_window
    sys.exit(desktop_app.main([]))


def child_bare() -> None:
    """A QMainWindow with a QLabel: first paint and RSS as one JSON line."""
    spawned = float(os.environ["BENCH_SPAWNED"])
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("Hello"))
    window.resize(1280, 800)
    result: dict[str, float | None] = {}

    def finish() -> None:
        result["rss_mb"] = rss_mb()
        print(json.dumps(result), flush=True)
        app.quit()

    def painted() -> None:
        result["paint_s"] = time.time() - spawned
        result["rss_paint_mb"] = rss_mb()
        QTimer.singleShot(int(IDLE_S * 1000), finish)

    watcher = _paint_watcher(painted)
    window.installEventFilter(watcher)
    window.show()
    sys.exit(app.exec())


def cold_starts(kind: str, n: int, base: Path) -> list[dict[str, float]]:
    """``n`` fresh processes of ``kind`` (app or bare); their JSON results.

    Raises:
        RuntimeError: a child failed or printed no result.

    """
    runs = []
    for index in range(n):
        folder = base / f"{kind}-{index}"
        env = isolated_env(folder)
        env["BENCH_SPAWNED"] = repr(time.time())
        done = subprocess.run([sys.executable, __file__, "--child", kind], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"the {kind} child failed (exit {done.returncode}):\n"
                               f"{done.stdout[-2000:]}{done.stderr[-3000:]}")
        data = json.loads(lines[-1])
        if "error" in data:
            raise RuntimeError(f"the {kind} child failed: {data['error']}")
        runs.append(data)
    return runs


def packaged_starts(executable: Path, n: int, base: Path) -> list[tuple[float, float]]:
    """``n`` cold starts of a built executable with ``--smoke``: (first paint, engine ready)
    in seconds from just before the spawn.

    The smoke line gives both times from the start of ``main()``; the line is read as it
    arrives, so first paint = arrival - (engine ready - first paint).

    Raises:
        RuntimeError: the executable failed or printed no smoke line.

    """
    runs = []
    for index in range(n):
        env = isolated_env(base / f"exe-{index}")
        spawned = time.time()
        child = subprocess.Popen([str(executable), "--smoke"], cwd=base, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert child.stdout is not None
        line = child.stdout.readline()
        arrived = time.time()
        child.communicate(timeout=300)
        found = re.search(r"first paint ([\d.]+) s, engine ready ([\d.]+) s", line)
        if child.returncode != 0 or found is None:
            raise RuntimeError(f"{executable} --smoke failed (exit {child.returncode}): {line}")
        paint, ready = float(found[1]), float(found[2])
        runs.append((arrived - spawned - (ready - paint), arrived - spawned))
    return runs


# -- realistic text ---------------------------------------------------------------------------


def cassette_texts() -> dict[str, str]:
    """The csv2xlsx-gui cassette's model answers by call key (text content only)."""
    texts = {}
    for line in CASSETTE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts[record["key"]] = record["response"].get("content") or ""
    return texts


def answer_markdown() -> str:
    """A long assistant answer: prose, lists, a table and fenced code from the real app."""
    texts = cassette_texts()
    spec = json.loads(texts["spec_expander/0"])
    plan = json.loads(texts["planner/0"])
    parts = [f"## {spec['title']}", "", spec["summary"], "", "### What it does", ""]
    parts += [f"- {feature}" for feature in spec["features"]]
    parts += ["", "### The plan", "", "| Step | File | What |", "|---|---|---|"]
    for step in plan["steps"]:
        path = step.get("params", {}).get("path", "")
        parts.append(f"| {step['id']} | `{path}` | {step['description'][:90]} |")
    parts += ["", texts["coder/0/7"], "", texts["coder/1/0"], "", texts["coder/1/2"], ""]
    for name in ("core.py", "cli.py", "gui.py", "main.py"):
        code = (SOURCE / "csv2xlsx" / name).read_text(encoding="utf-8")
        parts += [f"`csv2xlsx/{name}`:", "", "```python", code.rstrip(), "```", ""]
    parts += ["### Errors", ""] + [f"1. {line}" for line in spec["error_handling"]]
    return "\n".join(parts) + "\n"


def tokens_of(text: str, count: int) -> list[str]:
    """``count`` model-like tokens (a word with its leading space, or a run of spaces/newlines);
    the text is repeated when it is shorter."""
    pieces = re.findall(r"\s+|[A-Za-z0-9_]+|[^\sA-Za-z0-9_]", text)
    tokens: list[str] = []
    while len(tokens) < count:
        tokens.extend(pieces)
    return tokens[:count]


# -- the stream ------------------------------------------------------------------------------


def run_until(done, poll_ms: int = 20) -> None:
    """Run the event loop until ``done()`` is true (checked every ``poll_ms``)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer(interval=poll_ms)
    poll.timeout.connect(lambda: loop.quit() if done() else None)
    poll.start()
    loop.exec()
    poll.stop()


def stream(target, tokens: list[str], pending=lambda: False) -> tuple[float, float]:
    """Append ``tokens`` through ``target(token)`` at ~1 token/ms from a 1 ms timer, while a
    5 ms heartbeat runs. Returns (longest stall in ms, seconds taken)."""
    from PySide6.QtCore import Qt, QTimer

    state = {"sent": 0, "stall": 0.0, "last": time.perf_counter()}
    started = time.perf_counter()

    def beat() -> None:
        now = time.perf_counter()
        state["stall"] = max(state["stall"], now - state["last"] - 0.005)
        state["last"] = now

    def feed() -> None:
        due = min(len(tokens), int((time.perf_counter() - started) * 1000))
        while state["sent"] < due:
            target(tokens[state["sent"]])
            state["sent"] += 1
        if state["sent"] >= len(tokens):
            feeder.stop()

    heart = QTimer(interval=5)
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.timeout.connect(beat)
    feeder = QTimer(interval=1)
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.timeout.connect(feed)
    state["last"] = time.perf_counter()
    heart.start()
    feeder.start()
    run_until(lambda: not feeder.isActive() and not pending())
    taken = time.perf_counter() - started
    end = time.perf_counter() + 0.3  # the last flush paints, still under the heartbeat
    run_until(lambda: time.perf_counter() >= end)
    heart.stop()
    return state["stall"] * 1000, taken


def measure_stream(count: int) -> dict[str, float]:
    """The longest stall streaming ``count`` tokens into a ChatView and a QPlainTextEdit."""
    from PySide6.QtWidgets import QPlainTextEdit

    from graph.chats import Message
    from ui.desktop.chat.code_block import highlighting_warm
    from ui.desktop.chat.view import ChatView

    tokens = tokens_of(answer_markdown(), count)
    now = "2026-01-01T00:00:00Z"
    view = ChatView()
    view.resize(1280, 800)
    view.show()
    view.add_message(Message(message_id="q", chat_id="c", role="user", created_at=now,
                             content=datasets_task()))
    view.add_message(Message(message_id="a", chat_id="c", role="assistant", created_at=now))
    # the app prepares its code highlighting while idle after the first paint, long before
    # the first answer can stream (the engine loads for seconds): wait for that here too
    warm_started = time.perf_counter()
    deadline = warm_started + 20
    run_until(lambda: highlighting_warm() or time.perf_counter() > deadline)
    warm_s = time.perf_counter() - warm_started
    view_stall, view_s = stream(lambda t: view.append_stream("a", t), tokens,
                                view.pending_stream)
    flush_ms = view.max_flush_ms
    view.close()

    bare = QPlainTextEdit()
    bare.resize(1280, 800)
    bare.show()

    def append(token: str) -> None:
        cursor = bare.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(token)

    bare_stall, bare_s = stream(append, tokens)
    bare.close()
    return {"view_stall_ms": view_stall, "view_s": view_s, "flush_ms": flush_ms,
            "bare_stall_ms": bare_stall, "bare_s": bare_s, "warm_s": warm_s,
            "warm": float(highlighting_warm())}


def datasets_task() -> str:
    """The csv2xlsx-gui task text (the person's first message)."""
    return (ROOT / "datasets" / "tasks" / "csv2xlsx-gui.md").read_text(encoding="utf-8").strip()


# -- a chat of 1,000 messages ----------------------------------------------------------------


QUESTIONS = [
    "Can it keep leading zeros like 007 as text?",
    "How does it split a file longer than the row limit?",
    "Show me the part that sniffs the delimiter.",
    "What happens if the workbook is open in Excel?",
    "Make the progress bar show the current file name too.",
    "Why does the window stay responsive during a big conversion?",
    "Add a --quiet flag to the command line.",
    "Что будет с кириллицей в именах листов?",
]


def fill_chat(store, count: int) -> str:
    """A chat of ``count`` messages (questions and answers, a third with code); its id."""
    texts = cassette_texts()
    prose = [texts["coder/0/7"], texts["coder/1/0"], texts["coder/1/2"],
             json.loads(texts["spec_expander/0"])["summary"]]
    code_lines = (SOURCE / "csv2xlsx" / "core.py").read_text(encoding="utf-8").splitlines()
    chat = store.create_chat()
    for index in range(count):
        if index % 2 == 0:
            text = datasets_task() if index == 0 else QUESTIONS[(index // 2) % len(QUESTIONS)]
            store.add_message(chat.chat_id, "user", text)
            continue
        text = prose[(index // 2) % len(prose)]
        if index % 3 == 1:
            start = (index * 37) % max(1, len(code_lines) - 40)
            snippet = "\n".join(code_lines[start:start + 12 + index % 30])
            text += f"\n\nThe relevant part of `csv2xlsx/core.py`:\n\n```python\n{snippet}\n```\n"
        store.add_message(chat.chat_id, "assistant", text)
    return chat.chat_id


def measure_open(n: int, base: Path) -> dict[str, list[float]]:
    """Open a 1,000-message chat ``n`` times in the real MainWindow (another chat between)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from graph.settings import Settings
    from ui.desktop.app import create_window, make_bridge
    from ui.desktop.chat.code_block import highlighting_warm

    settings = Settings(data_dir=base / "open-data")
    bridge = make_bridge(settings)
    big = fill_chat(bridge.store, 1000)
    small = bridge.store.create_chat()
    bridge.store.add_message(small.chat_id, "user", "A timer app")
    window = create_window(bridge)
    window.resize(1280, 800)
    window.show()
    view = window.chat_view
    paints: list[float] = []

    class Painted(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) \
                    and (watched is view or view.isAncestorOf(watched)):
                QTimer.singleShot(0, lambda: paints.append(time.perf_counter()))
            return False

    def settle(quiet_s: float = 0.25) -> None:
        seen = {"count": -1, "since": time.perf_counter()}

        def quiet() -> bool:
            if len(paints) != seen["count"]:
                seen["count"], seen["since"] = len(paints), time.perf_counter()
            return time.perf_counter() - seen["since"] >= quiet_s

        run_until(quiet, poll_ms=10)

    app = QApplication.instance()
    watcher = Painted()
    app.installEventFilter(watcher)
    deadline = time.perf_counter() + 20  # the highlighting's idle warm-up (see measure_stream)
    run_until(lambda: highlighting_warm() or time.perf_counter() > deadline)
    settle()
    first, settled = [], []
    for _ in range(n):
        window.open_chat(small.chat_id)
        settle()
        paints.clear()
        started = time.perf_counter()
        window.open_chat(big)
        settle()
        if not paints:
            raise RuntimeError("the chat view never painted after open_chat")
        first.append(paints[0] - started)
        settled.append(paints[-1] - started)
    shown = len(view.message_widgets()) if hasattr(view, "message_widgets") else -1
    app.removeEventFilter(watcher)
    window.close()
    bridge.shutdown()
    return {"first": first, "settled": settled, "widgets": [float(shown)]}


# -- report ------------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="cold starts / chat openings each")
    parser.add_argument("--only", default="start,stream,open",
                        help="comma-separated parts: start, stream, open")
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens to stream")
    parser.add_argument("--executable", type=Path, action="append", default=[],
                        help="also time cold starts of a built multicoder-desktop executable"
                             " (repeatable: the folder and the one-file builds)")
    parser.add_argument("--child", choices=("app", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.child == "app":
        child_app()
    if args.child == "bare":
        child_bare()
    parts = set(args.only.split(","))
    print(f"MultiCoder desktop benchmark ({os.environ['QT_QPA_PLATFORM']}, {os.cpu_count()} CPUs,"
          f" Python {sys.version.split()[0]})")
    with tempfile.TemporaryDirectory(prefix="mc-gui-bench-") as temp:
        base = Path(temp)
        for name, value in isolated_env(base).items():
            os.environ[name] = value
        if "start" in parts:
            app_runs = cold_starts("app", args.n, base)
            bare_runs = cold_starts("bare", args.n, base)
            paint = statistics.median(r["paint_s"] for r in app_runs)
            bare_paint = statistics.median(r["paint_s"] for r in bare_runs)
            ready = statistics.median(r["ready_s"] for r in app_runs)
            rss = statistics.median(r["rss_mb"] for r in app_runs)
            rss_paint = statistics.median(r["rss_paint_mb"] for r in app_runs)
            bare_rss = statistics.median(r["rss_mb"] for r in bare_runs)
            print(f"cold start to first paint  app {paint:5.2f} s   bare window {bare_paint:5.2f} s"
                  f"   target <= {TARGETS['start']} s  {verdict(paint, TARGETS['start'])}"
                  f"   (median of {args.n}; app min {min(r['paint_s'] for r in app_runs):.2f},"
                  f" max {max(r['paint_s'] for r in app_runs):.2f})")
            print(f"  engine ready (after paint) app {ready:5.2f} s")
            print(f"idle RSS                   app {rss:5.0f} MB  bare window {bare_rss:5.0f} MB"
                  f"   target <= {TARGETS['rss']:.0f} MB {verdict(rss, TARGETS['rss'])}"
                  f"   (engine loaded; at first paint {rss_paint:.0f} MB)")
        for executable in args.executable:
            runs = packaged_starts(executable.resolve(), args.n, base)
            paint = statistics.median(r[0] for r in runs)
            ready = statistics.median(r[1] for r in runs)
            print(f"cold start, executable      {paint:5.2f} s to first paint, engine ready"
                  f" {ready:5.2f} s   target <= {TARGETS['start']} s"
                  f"  {verdict(paint, TARGETS['start'])}   ({executable}, median of {args.n})")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv[:1])
        if "stream" in parts:
            figures = measure_stream(args.tokens)
            stall = figures["view_stall_ms"]
            print(f"longest stall, {args.tokens:,} tokens  ChatView {stall:5.0f} ms"
                  f"  bare QPlainTextEdit {figures['bare_stall_ms']:5.0f} ms"
                  f"   target <= {TARGETS['stall']:.0f} ms {verdict(stall, TARGETS['stall'])}"
                  f"   (streamed in {figures['view_s']:.1f} s; longest flush"
                  f" {figures['flush_ms']:.0f} ms; highlighting warmed"
                  f" {figures['warm_s']:.1f} s before{'' if figures['warm'] else ' (NOT done)'})")
        if "open" in parts:
            opened = measure_open(args.n, base)
            first = statistics.median(opened["first"])
            settled = statistics.median(opened["settled"])
            print(f"open a 1,000-message chat  app {first:5.2f} s   (no bare equivalent)"
                  f"   target <= {TARGETS['open']} s  {verdict(first, TARGETS['open'])}"
                  f"   (to first paint, median of {args.n}; settled {settled:.2f} s;"
                  f" {opened['widgets'][0]:.0f} message widgets made)")
        del app


if __name__ == "__main__":
    main()
