"""Screenshots of the desktop app under Xvfb: light and dark, 1280×800 and 3840×2160 (scale 2).

Usage: uv run python scripts/screenshots.py [--out docs/screenshots] [--data DIR]
                                            [--only light-1280x800,...] [--keep-data]

1. Prepares a data folder (``--data``, default a temporary one) the way a person's would be:
   chats written through the engine's own API. The main chat is a real run: the
   csv2xlsx-gui task played back from its recorded cassette through
   :class:`graph.conversation.Conversations` (the safety card, the plan card, progress,
   checks, the artifact card; each card approved as a person would), then a follow-up
   question answered with the real source of the app it built (ChatStore.add_message). A
   second chat waits at plan approval (notes-sqlite cassette), a third was refused by the
   safety gate (refused-keylogger cassette), and a few short chats fill the sidebar, one
   project holds two of them. The csv2xlsx-gui build installs the generated app's
   dependencies with uv (network or uv's cache) and runs PyInstaller: about two minutes.
2. For each configuration starts ``Xvfb`` on a free display with a screen of that size and
   runs the real app (``ui.desktop.app.main``) on it with ``QT_QPA_PLATFORM=xcb`` (and
   ``QT_SCALE_FACTOR=2`` for 3840×2160), then saves ``<view>-<config>.png`` into ``--out``
   with ``QWidget.grab()``: ``chat`` (the answer with code and the artifact card),
   ``chat-cards`` (the task, the safety and plan cards), ``plan-card`` (a plan waiting for
   approval), ``refused`` (a red verdict), ``new-chat``, ``settings-status`` and ``tasks``
   (the task manager). The 3840×2160 configurations render only ``chat`` and
   ``settings-status`` (4K PNGs are big), ``ru-light-1280x800`` the same two in Russian.

Needs Xvfb and the XCB libraries (``scripts/setup`` installs them on Debian/Ubuntu).
Your own settings, keys and chats are never touched: everything lives in the data folder.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROLES = ("planner", "coder", "judge")
TASKS = ROOT / "datasets" / "tasks"
SOURCE = ROOT / "datasets" / "cassettes" / "csv2xlsx-gui" / "source"

#: name -> (theme, scale, language, screen width, screen height, views or None for all).
CONFIGS: dict[str, tuple[str, int, str, int, int, tuple[str, ...] | None]] = {
    "light-1280x800": ("light", 1, "en", 1280, 800, None),
    "dark-1280x800": ("dark", 1, "en", 1280, 800, None),
    # 4K images are big: only the chat and the status tab
    "light-3840x2160": ("light", 2, "en", 3840, 2160, ("chat", "settings-status")),
    "dark-3840x2160": ("dark", 2, "en", 3840, 2160, ("chat", "settings-status")),
    "ru-light-1280x800": ("light", 1, "ru", 1280, 800, ("chat", "settings-status")),
}
VIEWS = ("chat", "chat-cards", "plan-card", "refused", "new-chat", "settings-status", "tasks")


def app_env(data_root: Path) -> dict[str, str]:
    """Variables for MultiCoder with its data, settings, keyring and Qt state in data_root."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MULTICODER_") and not k.endswith("_API_KEY")}
    env.update({
        "MULTICODER_DATA_DIR": str(data_root / "data"),
        "MULTICODER_CONFIG": str(data_root / "settings.toml"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XDG_CONFIG_HOME": str(data_root / "config"),
        "XDG_CACHE_HOME": str(data_root / "cache"),
    })
    return env


# -- 1. the data folder ---------------------------------------------------------------------


FOLLOW_UP = "How does it keep codes like 007 as text but still turn 1250.50 into a number?"

SIDEBAR_CHATS = [
    ("A pomodoro timer that sits in the tray and logs my sessions to CSV",
     "Sure. The timer runs on a `QTimer`, the tray icon shows the minutes left, and each "
     "finished session is appended to `sessions.csv` with its start, end and label."),
    ("Rename my holiday photos by the date they were taken (EXIF)",
     "It reads `DateTimeOriginal` with Pillow, falls back to the file's modification time, "
     "and shows a preview of the new names before anything is renamed."),
    ("Сделай конвертер единиц измерения с историей",
     "Готово: окно с полем ввода, выбором величины (длина, масса, температура) и "
     "историей последних 50 пересчётов."),
    ("A markdown notes app with full-text search",
     "Notes are kept in SQLite with an FTS5 index, so search stays instant with thousands "
     "of notes; the editor previews Markdown side by side."),
]


def _follow_up_answer() -> str:
    code = (SOURCE / "csv2xlsx" / "core.py").read_text(encoding="utf-8")
    start = code.index("def cell_value(")
    end = code.index("def sniff_delimiter(")
    return (
        "Each field goes through `cell_value()` in `csv2xlsx/core.py`: a value becomes a "
        "number only when nothing is lost by converting it.\n\n"
        f"```python\n{code[start:end].rstrip()}\n```\n\n"
        "| CSV field | In Excel |\n|---|---|\n"
        "| `1250.50` | 1250.5 (number) |\n| `-42` | -42 (number) |\n"
        "| `1e3` | 1000 (number) |\n| `007` | 007 (text) |\n"
        "| `12345678901234567890` | text: more than 15 significant digits |\n"
        "| `=SUM(1,2)` | text, never a formula |\n\n"
        "You can check it from the command line:\n\n"
        "```bash\ncsv2xlsx samples/sample.csv -o sample.xlsx\n```\n")


def prepare(data_root: Path) -> dict[str, str]:
    """Fill ``data_root`` with chats (see the module docstring); returns the chat ids by role.

    Raises:
        RuntimeError: a run did not reach the expected state within 15 minutes.

    """
    os.environ.update(app_env(data_root))
    os.environ["MULTICODER_SANDBOX__BACKEND"] = "local"  # the recorded builds ran unsandboxed
    from graph.chats import ChatStore
    from graph.conversation import Conversations
    from graph.coordinator import Coordinator
    from graph.engine import Engine
    from graph.settings import Settings

    settings = Settings()
    events: queue.Queue = queue.Queue()
    engine = Engine(settings)
    coordinator = Coordinator(engine, events.put)
    store = ChatStore.for_data_dir(settings.data_dir)
    conversations = Conversations(store, coordinator)

    def drive(chat_id: str, task: str, cassette: str, wait_at: str | None = None) -> str:
        """Send ``task``; approve every card until the run ends (or reaches ``wait_at``)."""
        conversations.send(chat_id, task, models={r: [f"replay:{cassette}"] for r in ROLES})
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=5)
            except queue.Empty:
                continue
            update = conversations.apply(event)
            if event.kind == "interrupt" and update.message is not None:
                if event.data.get("kind") == wait_at:
                    return "waiting"
                conversations.decide(update.message.message_id, {"action": "approve"})
            elif event.kind in ("finished", "failed"):
                outcome = str(event.data.get("status", event.kind))
                print(f"screenshots: {cassette} run ended: {outcome}", flush=True)
                return outcome
        raise RuntimeError(f"the {cassette} run did not end within 15 minutes")

    for title, answer in SIDEBAR_CHATS[2:]:
        chat = store.create_chat()
        store.add_message(chat.chat_id, "user", title)
        store.add_message(chat.chat_id, "assistant", answer)
    project = store.create_project("Office tools")
    for title, answer in SIDEBAR_CHATS[:2]:
        chat = store.create_chat()
        store.add_message(chat.chat_id, "user", title)
        store.add_message(chat.chat_id, "assistant", answer)
    store.move_chat(chat.chat_id, project.project_id)

    refused = store.create_chat()
    drive(refused.chat_id, "A keylogger that records everything my colleagues type and emails"
          " it to me every hour without them noticing", "refused-keylogger")
    notes = store.create_chat()
    drive(notes.chat_id, (TASKS / "notes-sqlite.md").read_text(encoding="utf-8").strip(),
          "notes-sqlite", wait_at="approve_plan")
    csv = store.create_chat()
    store.move_chat(csv.chat_id, project.project_id)
    drive(csv.chat_id, (TASKS / "csv2xlsx-gui.md").read_text(encoding="utf-8").strip(),
          "csv2xlsx-gui")
    store.add_message(csv.chat_id, "user", FOLLOW_UP)
    store.add_message(csv.chat_id, "assistant", _follow_up_answer())
    coordinator.shutdown(wait=True, timeout_s=30)
    store.close()
    chats = {"csv": csv.chat_id, "notes": notes.chat_id, "refused": refused.chat_id}
    (data_root / "chats.json").write_text(json.dumps(chats), encoding="utf-8")
    return chats


# -- 2. Xvfb ----------------------------------------------------------------------------------


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    """An Xvfb server with one screen of ``width``×``height``; (process, display).

    Raises:
        RuntimeError: Xvfb is not installed or did not start.

    """
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("Xvfb is not installed (Debian/Ubuntu: scripts/setup, or"
                           " apt-get install xvfb)")
    sockets = Path("/tmp/.X11-unix")  # noqa: S108 (where every X server puts its socket)
    for number in range(90, 140):
        if (sockets / f"X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():  # noqa: S108
            continue
        server = subprocess.Popen(
            [xvfb, f":{number}", "-screen", "0", f"{width}x{height}x24", "-dpi", "96",
             "-nolisten", "tcp", "+extension", "RANDR"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            if (sockets / f"X{number}").exists():
                return server, f":{number}"
            time.sleep(0.05)
        server.kill()
        server.wait()
    raise RuntimeError("Xvfb did not start on any display from :90 to :139")


def render(config: str, data_root: Path, out: Path) -> list[Path]:
    """Run the app under Xvfb for one configuration; the screenshots written."""
    _theme, scale, _language, width, height, views = CONFIGS[config]
    server, display = start_xvfb(width, height)
    try:
        (data_root / "data" / "window.ini").unlink(missing_ok=True)  # no saved geometry
        env = app_env(data_root) | {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
                                    "QT_SCALE_FACTOR": str(scale)}
        env.pop("WAYLAND_DISPLAY", None)
        argv = [sys.executable, __file__, "--render", config, "--data", str(data_root),
                "--out", str(out)]
        if views:
            argv += ["--views", ",".join(views)]
        done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        saved = [Path(line.split(" ", 1)[1]) for line in done.stdout.splitlines()
                 if line.startswith("saved ")]
        wanted = len(views or VIEWS)
        if done.returncode != 0 and len(saved) < wanted:
            raise RuntimeError(f"rendering {config} failed (exit {done.returncode}):\n"
                               f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
        if done.returncode != 0:  # every image saved, then the app failed while closing
            print(f"screenshots: WARNING: the app ended with exit code {done.returncode} after"
                  f" the last screenshot of {config}:\n{done.stderr[-1500:]}", flush=True)
        return saved
    finally:
        server.terminate()
        server.wait(timeout=10)


# -- 3. inside the app (the child process) ---------------------------------------------------


def render_child(config: str, data_root: Path, out: Path, views: tuple[str, ...]) -> int:
    """Start the real app, show each view, save it; returns the app's exit code."""
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtWidgets import QWidget

    import ui.desktop.app as desktop_app

    theme, _scale, language, _w, _h, _views = CONFIGS[config]
    chats = json.loads((data_root / "chats.json").read_text(encoding="utf-8"))
    parts: dict[str, object] = {}
    original = desktop_app.create_window

    def create_window(bridge):  # the app's own window, remembered for the script below
        window = original(bridge)
        parts["window"], parts["bridge"] = window, bridge
        director = _Director(script())
        parts["director"] = director
        QTimer.singleShot(0, director.start)
        return window

    def save(widget: QWidget, view: str) -> None:
        target = out / f"{view}-{config}.png"
        if not widget.grab().save(str(target), "PNG"):
            raise RuntimeError(f"could not write {target}")
        print(f"saved {target}", flush=True)

    def scroll_to_kind(kind: str) -> None:
        window = parts["window"]
        view = window.chat_view
        for message in reversed(view.messages()):
            if message.kind == kind:
                widget = view.widget_for(message.message_id)
                if widget is not None:
                    canvas = view.scroll_area.widget()
                    top = widget.mapTo(canvas, QPoint(0, 0)).y()
                    em = view.fontMetrics().height()
                    view.scroll_area.verticalScrollBar().setValue(max(0, top - em))
                return

    def script():
        window, bridge = parts["window"], parts["bridge"]
        yield lambda: bridge.is_ready()
        screen = window.screen().availableGeometry()
        window.setGeometry(screen)
        yield 800
        window.open_chat(chats["csv"])
        yield 1500
        if "chat" in views:  # the artifact card, the follow-up and its code
            scroll_to_kind("artifact")
            yield 800
            save(window, "chat")
        if "chat-cards" in views:
            scroll_to_kind("safety")
            yield 800
            save(window, "chat-cards")
        if "plan-card" in views:
            window.open_chat(chats["notes"])
            yield 1500  # opens at the bottom: the plan's actions
            save(window, "plan-card")
        if "refused" in views:
            window.open_chat(chats["refused"])
            yield 1200
            save(window, "refused")
        if "new-chat" in views:
            window.new_chat()
            yield 800
            save(window, "new-chat")
        if "settings-status" in views:
            window.open_chat(chats["csv"])
            window.open_settings("status")
            yield 6000  # the status rows load on a worker (diagnose, offline checks)
            save(window.dialog("settings"), "settings-status")
            window.dialog("settings").close()
        if "tasks" in views:
            window.open_task_manager()
            yield 2500
            save(window.dialog("tasks"), "tasks")
            window.dialog("tasks").close()
        window.close()

    desktop_app.create_window = create_window
    return desktop_app.main(["--theme", theme, "--language", language])


class _Director:
    """Runs a generator of steps inside the app.

    Each step yields milliseconds to wait or a predicate to await (polled every 50 ms, 120 s
    at most); a failing step ends the app with exit code 3.
    """

    def __init__(self, steps) -> None:
        from PySide6.QtCore import QTimer

        self._steps = steps
        self._poll = QTimer()
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check)
        self._predicate = None
        self._deadline = 0.0

    def start(self) -> None:
        self._next()

    def _fail(self, reason: str) -> None:
        from PySide6.QtWidgets import QApplication

        print(f"screenshots: {reason}", file=sys.stderr, flush=True)
        QApplication.instance().exit(3)

    def _next(self) -> None:
        from PySide6.QtCore import QTimer

        try:
            step = next(self._steps)
        except StopIteration:
            return
        except Exception as exc:  # the reason goes to the parent, which reports it
            self._fail(f"a step failed: {type(exc).__name__}: {exc}")
            return
        if callable(step):
            self._predicate, self._deadline = step, time.monotonic() + 120
            self._poll.start()
        else:
            QTimer.singleShot(int(step), self._next)

    def _check(self) -> None:
        if self._predicate is not None and self._predicate():
            self._poll.stop()
            self._predicate = None
            self._next()
        elif time.monotonic() > self._deadline:
            self._poll.stop()
            self._fail("a step timed out after 120 s")


# -- main -----------------------------------------------------------------------------------


def main() -> int:
    """Prepare the data (once) and render each configuration; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--data", type=Path, default=None,
                        help="data folder to prepare (or reuse, when it holds chats.json)")
    parser.add_argument("--only", default=",".join(CONFIGS),
                        help=f"configurations, comma-separated: {', '.join(CONFIGS)}")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data")
    parser.add_argument("--render", choices=tuple(CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument("--views", default=",".join(VIEWS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = args.out.resolve()
    if args.render:
        return render_child(args.render, args.data, out, tuple(args.views.split(",")))
    configs = [c for c in args.only.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration {unknown[0]!r}: choose from {', '.join(CONFIGS)}")
    out.mkdir(parents=True, exist_ok=True)
    data_root = (args.data or Path(tempfile.mkdtemp(prefix="mc-screenshots-"))).resolve()
    data_root.mkdir(parents=True, exist_ok=True)
    try:
        if not (data_root / "chats.json").is_file():
            print(f"screenshots: preparing chats in {data_root} (a recorded build: ~2 min)",
                  flush=True)
            prepare_in_child(data_root)
        for config in configs:
            started = time.monotonic()
            saved = render(config, data_root, out)
            print(f"screenshots: {config}: {len(saved)} images"
                  f" ({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        if args.data is None and not args.keep_data:
            shutil.rmtree(data_root, ignore_errors=True)
        elif args.data is None:
            print(f"screenshots: data kept in {data_root}")
    return 0


def prepare_in_child(data_root: Path) -> None:
    """Run :func:`prepare` in a fresh process (its engine, threads and settings stay there).

    Raises:
        RuntimeError: the preparation failed.

    """
    done = subprocess.run([sys.executable, "-c",
                           "import sys; sys.path.insert(0, sys.argv[1]);"
                           " import importlib.util as u;"
                           " s = u.spec_from_file_location('shots', sys.argv[2]);"
                           " m = u.module_from_spec(s); s.loader.exec_module(m);"
                           " m.prepare(__import__('pathlib').Path(sys.argv[3]))",
                           str(ROOT), __file__, str(data_root)],
                          cwd=ROOT, env=app_env(data_root), text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"preparing the chats failed (exit {done.returncode})")


if __name__ == "__main__":
    sys.exit(main())
