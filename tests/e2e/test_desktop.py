"""The desktop app end to end (offscreen), driven the way a person uses it.

The engine answers from the recorded csv2xlsx-gui cassette (every role
``replay:csv2xlsx-gui`` through ``MULTICODER_MODELS__*``; the local sandbox backend), so the
flow is offline: type the task of ``datasets/tasks/csv2xlsx-gui.md`` and press Enter, approve
the safety card, approve the plan, watch the activity line change, get the artifact card (a
real PyInstaller build: marked slow). Stop cancels a running run. Each shortcut has a visible
effect, and switching the language changes the visible texts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from tests.support.qt import answer_boxes
from ui.desktop import i18n
from ui.desktop.app import create_window, make_bridge

ROOT = Path(__file__).resolve().parents[2]
TASK = (ROOT / "datasets" / "tasks" / "csv2xlsx-gui.md").read_text(encoding="utf-8").strip()
ROLES = ("planner", "coder", "judge")
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
ENGINE_TIMEOUT_MS = 120_000


@pytest.fixture
def settings(isolated_settings, monkeypatch):
    """Isolated settings whose every role answers from the csv2xlsx-gui cassette."""
    from graph.settings import Settings

    for role in ROLES:
        monkeypatch.setenv(f"MULTICODER_MODELS__{role.upper()}", "replay:csv2xlsx-gui")
    return Settings()


@pytest.fixture
def window(qtbot, settings, english):
    """The main window, shown and active; the engine not loaded (call ``load``)."""
    bridge = make_bridge(settings)
    main = create_window(bridge)
    qtbot.addWidget(main)
    main.resize(main.fontMetrics().height() * 80, main.fontMetrics().height() * 50)
    main.show()
    main.activateWindow()
    qtbot.waitExposed(main)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
    yield main
    main.close()


def load(qtbot, window):
    with qtbot.waitSignal(window.bridge.ready, timeout=ENGINE_TIMEOUT_MS):
        window.bridge.load()


def messages_of(window, kind):
    return [m for m in window.chat_view.messages() if m.kind == kind]


def card_button(window, message, text):
    card = window.chat_view.card_for(message.message_id)
    assert card is not None, f"no card for the {message.kind} message"
    buttons = [b for b in card.findChildren(QPushButton) if b.text() == text]
    assert buttons, f"no {text!r} button on the {message.kind} card"
    return buttons[0]


def wait_for_card(qtbot, window, kind, timeout=ENGINE_TIMEOUT_MS):
    qtbot.waitUntil(lambda: bool(messages_of(window, kind)), timeout=timeout)
    return messages_of(window, kind)[-1]


def approve(qtbot, window, kind):
    message = wait_for_card(qtbot, window, kind)
    button = card_button(window, message, "Approve")
    qtbot.waitUntil(button.isEnabled)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(m.kind == "decision" and m.parent_id == message.message_id
                                for m in window.chat_view.messages()))
    return message


def type_task_and_enter(qtbot, window, text=TASK):
    editor = window.composer.editor
    editor.setFocus()
    window.composer.set_text(text)  # as typed (keyClicks of 600 characters is slow)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def activity_line(window):
    progress = messages_of(window, "progress")
    if not progress:
        return ""
    widget = window.chat_view.widget_for(progress[-1].message_id)
    return widget.body.toggle.text() if widget is not None else ""


# -- the Done-when flow ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_task_goes_from_the_composer_to_the_artifact_card(qtbot, window):
    load(qtbot, window)
    assert window.status.text() == "Ready"
    type_task_and_enter(qtbot, window)

    first = window.chat_view.messages()[0]
    assert first.role == "user" and first.content == TASK
    assert window.composer.text() == ""
    chat_id = window.current_chat_id()
    assert chat_id is not None and window.sidebar.index_of(chat_id).isValid()
    # the run starts on the thread pool; the stored message then titles the chat
    qtbot.waitUntil(lambda: window.store.get_chat(chat_id).title != "")
    qtbot.waitUntil(lambda: window.title_label.text() == window.store.get_chat(chat_id).title)

    approve(qtbot, window, "safety")
    approve(qtbot, window, "plan")

    lines: set[str] = set()
    window.bridge.runEvent.connect(lambda _event: lines.add(activity_line(window)))
    qtbot.waitUntil(lambda: bool(messages_of(window, "artifact") or messages_of(window, "error")),
                    timeout=600_000)
    errors = messages_of(window, "error")
    assert not errors, errors[-1].content
    (artifact,) = messages_of(window, "artifact")
    assert Path(artifact.data["artifact"]["path"]).is_file()
    assert window.chat_view.card_for(artifact.message_id) is not None
    assert len(lines - {""}) >= 3, f"the activity line hardly changed: {lines}"
    qtbot.waitUntil(lambda: not window.composer.is_busy())
    assert window.status.text() == "Ready"


@pytest.mark.slow
def test_a_message_sent_while_the_engine_starts_waits_and_stop_cancels_the_run(qtbot, window):
    type_task_and_enter(qtbot, window)  # before the engine is loaded
    assert window.status.text() == "Starting…"
    assert [m.content for m in window.chat_view.messages()] == [TASK]  # shown at once
    assert window.composer.is_busy()

    load(qtbot, window)  # the waiting message is sent now
    approve(qtbot, window, "safety")
    approve(qtbot, window, "plan")
    qtbot.waitUntil(lambda: bool(messages_of(window, "progress")))
    coordinator = window.bridge.coordinator
    run_id = window.chat_view.messages()[0].run_id
    qtbot.waitUntil(lambda: coordinator.task(run_id).status == "running", timeout=60_000)

    assert window.composer.is_busy()
    qtbot.mouseClick(window.composer.send_button, Qt.MouseButton.LeftButton)  # Stop

    qtbot.waitUntil(lambda: bool(messages_of(window, "error")), timeout=120_000)
    assert messages_of(window, "error")[-1].content == "Cancelled"
    assert coordinator.task(run_id).status == "cancelled"
    qtbot.waitUntil(lambda: not window.composer.is_busy())
    assert not messages_of(window, "artifact")


# -- shortcuts -----------------------------------------------------------------------------------


@pytest.fixture
def answered_chat(window):
    """A stored chat with a question and an answer holding two code blocks, opened."""
    store = window.store
    chat = store.create_chat()
    store.add_message(chat.chat_id, "user", "How do I read a CSV file?")
    store.add_message(chat.chat_id, "assistant",
                      "Use the csv module:\n\n```python\nimport csv\n```\n\nthen read rows:\n\n"
                      "```python\nrows = list(csv.reader(open('a.csv')))\n```\n")
    window.sidebar.refresh()
    window.open_chat(chat.chat_id)
    return chat


def test_ctrl_shift_o_starts_a_new_chat(qtbot, window, answered_chat):
    assert window.stack.currentWidget() is window.chat_view
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_O, CTRL_SHIFT)
    assert window.current_chat_id() is None
    assert window.stack.currentWidget() is window.empty_state
    assert window.title_label.text() == "New chat"
    assert window.chat_view.messages() == []
    assert window.composer.editor.hasFocus()


def test_ctrl_k_focuses_the_search(qtbot, window):
    window.composer.editor.setFocus()
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.sidebar.search_field.hasFocus()


def test_ctrl_shift_s_hides_and_shows_the_sidebar(qtbot, window):
    assert window.sidebar.isVisible() and not window.show_sidebar_button.isVisible()
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_S, CTRL_SHIFT)
    assert not window.sidebar.isVisible()
    assert window.show_sidebar_button.isVisible()  # a way back without the keyboard
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_S, CTRL_SHIFT)
    assert window.sidebar.isVisible()
    qtbot.mouseClick(window.sidebar.collapse_button, Qt.MouseButton.LeftButton)
    assert not window.sidebar.isVisible()
    qtbot.mouseClick(window.show_sidebar_button, Qt.MouseButton.LeftButton)
    assert window.sidebar.isVisible()


def test_shift_esc_focuses_the_composer(qtbot, window):
    window.sidebar.focus_search()
    assert window.sidebar.search_field.hasFocus()
    qtbot.keyClick(window.sidebar.search_field, Qt.Key.Key_Escape,
                   Qt.KeyboardModifier.ShiftModifier)
    assert window.composer.editor.hasFocus()


def test_ctrl_shift_c_copies_the_last_answer(qtbot, window, answered_chat):
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_C, CTRL_SHIFT)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Use the csv module:") and "csv.reader" in copied
    assert window.status.text() == "Answer copied"


def test_ctrl_shift_semicolon_copies_the_last_code_block(qtbot, window, answered_chat):
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Semicolon, CTRL_SHIFT)
    assert QGuiApplication.clipboard().text().strip() == "rows = list(csv.reader(open('a.csv')))"


def test_ctrl_shift_backspace_deletes_the_chat_after_confirming(qtbot, window, answered_chat,
                                                               monkeypatch):
    asked = answer_boxes(monkeypatch)
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Backspace, CTRL_SHIFT)
    assert asked and "How do I read a CSV file?" in asked[0]
    assert window.store.list_chats() == []
    assert not window.sidebar.index_of(answered_chat.chat_id).isValid()
    assert window.current_chat_id() is None
    assert window.stack.currentWidget() is window.empty_state


def test_ctrl_slash_opens_the_shortcuts_dialog(qtbot, window):
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog("shortcuts")
    assert dialog is not None and dialog.isVisible()
    assert len(dialog.descriptions()) == 8
    dialog.close()


# -- the rest of the shell -----------------------------------------------------------------------


def test_switching_the_language_changes_the_visible_texts(qtbot, window):
    assert window.sidebar.new_chat_button.text() == "New chat"
    assert window.composer.editor.placeholderText() == "Describe the app to build…"
    assert window.empty_state.heading.text() == "What should I build?"

    i18n.set_language("ru")

    qtbot.waitUntil(lambda: window.sidebar.new_chat_button.text() == "Новый чат")
    qtbot.waitUntil(lambda: window.composer.editor.placeholderText() ==
                    "Опишите приложение, которое нужно собрать…")
    assert window.sidebar.settings_button.text() == "Настройки"
    assert window.sidebar.search_field.placeholderText() == "Поиск по чатам (Ctrl+K)"
    assert window.empty_state.heading.text() == "Что будем создавать?"
    assert window.status.text() == "Запуск…"
    assert window.title_label.text() == "Новый чат"


def test_an_example_chip_fills_the_composer(qtbot, window):
    chip = window.empty_state.chips[0]
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert window.composer.text() == chip.text()
    assert window.composer.editor.hasFocus()


def test_tab_goes_from_the_sidebar_to_the_chat_to_the_composer(qtbot, window):
    order = []
    widget = window.sidebar.new_chat_button
    for _ in range(12):
        order.append(widget)
        widget = widget.nextInFocusChain()
        while not (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) or not widget.isVisible():
            widget = widget.nextInFocusChain()
    search = order.index(window.sidebar.search_field)
    tree = order.index(window.sidebar.tree)
    composer = next(i for i, w in enumerate(order) if window.composer.isAncestorOf(w)
                    or w is window.composer)
    assert search < tree < composer


def test_settings_and_task_manager_open_from_the_sidebar(qtbot, window):
    qtbot.mouseClick(window.sidebar.settings_button, Qt.MouseButton.LeftButton)
    settings = window.dialog("settings")
    assert settings is not None and settings.isVisible()
    settings.close()
    qtbot.mouseClick(window.sidebar.tasks_button, Qt.MouseButton.LeftButton)
    tasks = window.dialog("tasks")
    assert tasks is not None and tasks.isVisible()
    tasks.close()


def test_a_run_that_cannot_start_shows_why_in_the_chat(qtbot, window):
    load(qtbot, window)
    window.models = {"coder": ["nosuchprovider:model"]}
    type_task_and_enter(qtbot, window, "A tiny timer")
    qtbot.waitUntil(lambda: bool(messages_of(window, "error")))
    error = messages_of(window, "error")[-1]
    assert "nosuchprovider" in error.content
    assert window.chat_view.messages()[0].content == "A tiny timer"
    assert not window.composer.is_busy()


def test_editing_a_message_forks_a_branch_and_the_switcher_goes_back(qtbot, window):
    load(qtbot, window)
    type_task_and_enter(qtbot, window)
    wait_for_card(qtbot, window, "safety")
    first = window.chat_view.messages()[0]

    widget = window.chat_view.widget_for(first.message_id)
    widget.start_edit()
    widget.editor().setPlainText("A CSV to XLSX converter for the command line only")
    widget.save_edit()

    qtbot.waitUntil(lambda: window.chat_view.messages()[0].content ==
                    "A CSV to XLSX converter for the command line only")
    edited = window.chat_view.widget_for(window.chat_view.messages()[0].message_id)
    assert edited.branch_label.text() == "2/2"
    wait_for_card(qtbot, window, "safety")  # the edited task runs in its own branch

    qtbot.mouseClick(edited.branch_prev, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.chat_view.messages()[0].content == TASK)
    original = window.chat_view.widget_for(window.chat_view.messages()[0].message_id)
    assert original.branch_label.text() == "1/2"
    assert messages_of(window, "safety")  # the original branch keeps its card


def test_regenerate_without_a_run_says_so_in_the_chat(qtbot, window, answered_chat):
    load(qtbot, window)
    answer = window.chat_view.messages()[-1]
    widget = window.chat_view.widget_for(answer.message_id)
    qtbot.mouseClick(widget.regenerate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(messages_of(window, "error")))
    assert messages_of(window, "error")[-1].content == \
        "There is nothing to regenerate in this chat yet."


def test_an_engine_that_fails_to_load_is_shown_and_the_waiting_message_says_so(qtbot, settings,
                                                                               english):
    def broken(_settings):
        raise RuntimeError("the data folder is read-only")

    bridge = make_bridge(settings, engine_factory=broken)
    window = create_window(bridge)
    qtbot.addWidget(window)
    window.show()
    type_task_and_enter(qtbot, window, "A tiny timer")
    with qtbot.waitSignal(bridge.failed, timeout=ENGINE_TIMEOUT_MS):
        bridge.load()
    assert window.status.text() == "Engine failed"
    assert "read-only" in window.status.toolTip()
    qtbot.waitUntil(lambda: bool(messages_of(window, "error")))
    assert "read-only" in messages_of(window, "error")[-1].content
    assert not window.composer.is_busy()
    window.close()


def test_settings_changes_apply_theme_and_language_at_once(qtbot, window):
    from graph.control import update_settings
    from ui.desktop.theme import is_dark

    try:
        update_settings({"ui": {"language": "ru", "theme": "dark"}})
        window.bridge.reload_settings()
        qtbot.waitUntil(lambda: window.sidebar.new_chat_button.text() == "Новый чат")
        assert is_dark()
    finally:
        from ui.desktop.theme import apply_theme

        apply_theme(QApplication.instance(), "light")


# -- nothing blocks the window; links; a damaged history; branches; projects; deleting -----------


def test_a_run_starts_off_the_gui_thread_and_the_composer_says_starting(qtbot, window,
                                                                        monkeypatch):
    import threading

    load(qtbot, window)
    conversations = window.bridge.conversations
    release, threads = threading.Event(), []
    real_send = conversations.send

    def slow_send(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        release.wait(10)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(conversations, "send", slow_send)
    window.models = {"coder": ["nosuchprovider:model"]}  # refused at once, offline
    type_task_and_enter(qtbot, window, "A tiny timer")
    # the key press came back while the run is still starting
    assert [m.content for m in window.chat_view.messages()] == ["A tiny timer"]
    assert window.composer.is_starting() and window.composer.is_busy()
    assert window.composer.editor.placeholderText() == "Starting the run…"
    qtbot.waitUntil(lambda: threads == [False])  # on a worker thread
    release.set()
    qtbot.waitUntil(lambda: bool(messages_of(window, "error")))
    assert "nosuchprovider" in messages_of(window, "error")[-1].content
    assert not window.composer.is_starting() and not window.composer.is_busy()
    assert window.composer.editor.placeholderText() == "Describe the app to build…"


def test_links_in_the_chat_open_only_web_addresses_after_asking(qtbot, window, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toString()) or True)
    for url in ("smb://attacker/share/run.exe", "file:///etc/passwd", "javascript:alert(1)",
                "search-ms:query=x"):
        shown = answer_boxes(monkeypatch, QMessageBox.StandardButton.Ok)
        window.chat_view.linkActivated.emit(url)
        assert opened == [] and len(shown) == 1 and "was not opened" in shown[0]
    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.No)
    window.chat_view.linkActivated.emit("https://example.org/docs")
    assert opened == [] and "https://example.org/docs" in asked[0]
    answer_boxes(monkeypatch, QMessageBox.StandardButton.Yes)
    window.chat_view.linkActivated.emit("https://example.org/docs")
    assert opened == ["https://example.org/docs"]


def test_a_damaged_chat_history_is_set_aside_said_once_and_the_app_works(qtbot, settings,
                                                                         english):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "chats.sqlite").write_bytes(b"this is not a database at all " * 200)
    bridge = make_bridge(settings)
    window = create_window(bridge)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.recovery_notice is not None
                    and window.recovery_notice.isVisible())
    notice = window.recovery_notice
    moved = bridge.store.recovered_from
    assert moved is not None and moved.is_file() and str(moved) in notice.text()
    assert notice.textFormat() == Qt.TextFormat.PlainText
    assert not notice.isModal()  # the window stays usable
    # it works: a message sent now starts a chat that is listed
    type_task_and_enter(qtbot, window, "A tiny timer")
    chat_id = window.current_chat_id()
    assert chat_id is not None and window.sidebar.index_of(chat_id).isValid()
    assert [c.chat_id for c in window.store.list_chats()] == [chat_id]
    notice.close()
    window.close()


def test_regenerate_shows_the_new_answer_as_a_branch_in_place_of_the_old_one(qtbot, window):
    load(qtbot, window)
    type_task_and_enter(qtbot, window)
    wait_for_card(qtbot, window, "safety")
    qtbot.waitUntil(lambda: not window.composer.is_busy())  # the run waits for an answer
    asked = window.chat_view.messages()[0]
    old = {m.message_id for m in window.chat_view.messages()[1:]}

    window.chat_view.regenerateRequested.emit()

    def replaced():
        shown = window.chat_view.messages()
        return len(shown) > 1 and shown[1].message_id not in old

    qtbot.waitUntil(replaced, timeout=ENGINE_TIMEOUT_MS)
    shown = window.chat_view.messages()
    assert shown[0].message_id == asked.message_id
    assert not old & {m.message_id for m in shown}  # not below the old answer
    branch = window.store.branches(shown[1].message_id)
    assert (branch.index, branch.count) == (2, 2)
    widget = window.chat_view.widget_for(shown[1].message_id)
    qtbot.waitUntil(lambda: widget.branch_label.text() == "2/2")
    wait_for_card(qtbot, window, "safety")  # the new run asks again, in its own branch
    assert not old & {m.message_id for m in window.chat_view.messages()}

    qtbot.mouseClick(widget.branch_prev, Qt.MouseButton.LeftButton)  # the old one is kept
    qtbot.waitUntil(lambda: window.chat_view.messages()[1].message_id in old)


def test_a_new_chat_started_in_a_project_is_stored_in_it(qtbot, window):
    project = window.store.create_project("Client work")
    window.sidebar.refresh()
    folder = next(i for i in window.sidebar._indexes() if i.data() == "Client work")
    window.sidebar.tree.setCurrentIndex(folder)
    qtbot.mouseClick(window.sidebar.new_chat_button, Qt.MouseButton.LeftButton)
    assert window.title_label.text() == "New chat in Client work"
    type_task_and_enter(qtbot, window, "A tiny timer")  # waits for the engine
    chat = window.store.get_chat(window.current_chat_id())
    assert chat.project_id == project.project_id
    assert window.sidebar.index_of(chat.chat_id).parent().data() == "Client work"


def test_deleting_a_chat_stops_its_run(qtbot, window, monkeypatch):
    load(qtbot, window)
    type_task_and_enter(qtbot, window)
    wait_for_card(qtbot, window, "safety")
    run_id = window.chat_view.messages()[0].run_id
    coordinator = window.bridge.coordinator
    assert coordinator.task(run_id).status == "waiting"
    asked = answer_boxes(monkeypatch)
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Backspace, CTRL_SHIFT)
    assert len(asked) == 1
    qtbot.waitUntil(lambda: window.current_chat_id() is None)
    assert window.store.list_chats() == []
    qtbot.waitUntil(lambda: coordinator.task(run_id).status == "cancelled")


def test_the_artifact_card_runs_the_app_through_the_engine(qtbot, window, monkeypatch):
    import graph.control

    store = window.store
    chat = store.create_chat("Built app")
    store.add_message(chat.chat_id, "user", "Build it")
    shown_path = window.bridge.settings.data_dir / "elsewhere" / "app"
    run_id = "20250101-000000-abcdef"
    artifact = store.add_message(
        chat.chat_id, "assistant", kind="artifact", run_id=run_id,
        data={"status": "done", "artifact": {"path": str(shown_path), "size_bytes": 10,
                                             "sha256": "ab" * 32}})
    window.sidebar.refresh()
    window.open_chat(chat.chat_id)
    card = window.chat_view.card_for(artifact.message_id)
    asked = answer_boxes(monkeypatch)
    qtbot.mouseClick(card.run, Qt.MouseButton.LeftButton)
    assert asked and asked[0].startswith("Run app? It was built and checked by MultiCoder")
    qtbot.waitUntil(lambda: card.error_label.isVisible())  # no such run: refused, not run
    assert card.error_label.text()

    started, folders = [], []
    monkeypatch.setattr(graph.control, "launch_artifact",
                        lambda settings, rid: started.append(rid) or shown_path)
    monkeypatch.setattr(graph.control, "artifact_folder",
                        lambda settings, rid: folders.append(rid) or shown_path.parent)
    qtbot.mouseClick(card.run, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: started == [run_id])  # the engine is asked by run, not by path
    qtbot.waitUntil(lambda: window.status.text() == "app was started.")

    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    qtbot.mouseClick(card.open_folder, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [u.toLocalFile() for u in opened] == [str(shown_path.parent)])
    assert folders == [run_id]


def test_a_settings_change_that_cannot_apply_live_is_said(qtbot, window):
    sentence = "the data folder changes when MultiCoder restarts"
    window.bridge.notice.emit(sentence)
    assert window.status.text().startswith("the data folder changes")
    assert sentence in window.status.toolTip() or window.status.text() == sentence


@pytest.mark.slow  # two app starts in subprocesses: 10-30 s
def test_multicoder_desktop_smoke_prints_its_times(cli_env):
    from tests.conftest import run_cli

    env = cli_env | {"QT_QPA_PLATFORM": "offscreen"}
    result = run_cli(["desktop", "--smoke", "--language", "ru", "--theme", "dark"], env,
                     timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("multicoder desktop ok: first paint ")
    assert "engine ready" in result.stdout

    (Path(env["MULTICODER_CONFIG"])).write_text("[ui]\nlanguage = 'klingon'\n",
                                                encoding="utf-8")
    result = run_cli(["desktop", "--smoke"], env, timeout=300)
    assert result.returncode == 2
    assert "ui.language" in result.stderr and "Traceback" not in result.stderr
