"""The desktop app's shell without the engine: sidebar, theme, shortcuts table, app options.

The sidebar runs over a real :class:`graph.chats.ChatStore` in a temporary folder; the tests
read what a person sees (the rows' texts in order, the search field, the dialogs).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDropEvent, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from graph.chats import ChatStore
from tests.support.qt import answer_boxes
from ui.desktop import i18n
from ui.desktop.shortcuts import SHORTCUTS, ShortcutsDialog
from ui.desktop.sidebar import CHAT_MIME, Sidebar
from ui.desktop.theme import apply_theme, is_dark


@pytest.fixture
def store(tmp_path):
    chats = ChatStore(tmp_path / "chats.sqlite")
    yield chats
    chats.close()


@pytest.fixture
def sidebar(qtbot, store, english):
    widget = Sidebar(store)
    qtbot.addWidget(widget)
    widget.resize(widget.fontMetrics().height() * 18, widget.fontMetrics().height() * 40)
    widget.show()
    return widget


def chat_at(store, monkeypatch, when: datetime, first_message: str):
    """A chat whose messages were written at ``when`` (local time)."""
    import memory.chats

    stamp = when.astimezone(UTC).isoformat(timespec="microseconds")
    monkeypatch.setattr(memory.chats, "_now", lambda: stamp)
    chat = store.create_chat()
    store.add_message(chat.chat_id, "user", first_message)
    monkeypatch.undo()
    return store.get_chat(chat.chat_id)


def texts(sidebar, kind=None):
    return [text for k, text in sidebar.rows() if kind is None or k == kind]


def test_chats_are_grouped_by_recency_under_translated_headers(qtbot, store, sidebar,
                                                               monkeypatch):
    now = datetime.now().astimezone().replace(hour=12, minute=0, second=0, microsecond=0)
    chat_at(store, monkeypatch, now - timedelta(days=40), "An old **inventory** tool")
    chat_at(store, monkeypatch, now - timedelta(days=4), "A timer for tea")
    chat_at(store, monkeypatch, now - timedelta(days=1), "A notes app with SQLite")
    store.create_chat()  # untitled until its first message
    sidebar.refresh()

    rows = [(k, t) for k, t in sidebar.rows() if k in ("header", "chat")]
    assert rows == [
        ("header", "Today"), ("chat", "New chat"),
        ("header", "Yesterday"), ("chat", "A notes app with SQLite"),
        ("header", "Previous 7 days"), ("chat", "A timer for tea"),
        ("header", "Older"), ("chat", "An old inventory tool"),  # title without Markdown
    ]

    i18n.set_language("ru")  # widgets hear of it through posted LanguageChange events
    qtbot.waitUntil(lambda: texts(sidebar, "header") == [
        "Сегодня", "Вчера", "Предыдущие 7 дней", "Ранее"])
    assert "Новый чат" in texts(sidebar, "chat")
    assert sidebar.new_chat_button.text() == "Новый чат"
    assert sidebar.search_field.placeholderText() == "Поиск по чатам (Ctrl+K)"
    i18n.set_language("en")
    qtbot.waitUntil(lambda: texts(sidebar, "header")[0] == "Today")


def test_a_search_replaces_the_list_while_typed_and_finds_message_text(qtbot, store, sidebar):
    converter = store.create_chat()
    store.add_message(converter.chat_id, "user", "A CSV to XLSX converter")
    store.add_message(converter.chat_id, "assistant", "The plan uses openpyxl in write-only mode")
    notes = store.create_chat()
    store.add_message(notes.chat_id, "user", "Заметки с поиском")
    sidebar.refresh()
    assert len(texts(sidebar, "chat")) == 2

    qtbot.keyClicks(sidebar.search_field, "OPENPYXL")
    qtbot.waitUntil(lambda: texts(sidebar, "header") == [] and len(texts(sidebar, "chat")) == 1)
    (shown,) = texts(sidebar, "chat")
    assert shown.startswith("A CSV to XLSX converter\n") and "openpyxl" in shown

    sidebar.search_field.setText("заметки")
    qtbot.waitUntil(lambda: texts(sidebar, "chat") == ["Заметки с поиском"])

    sidebar.search_field.setText("no such words anywhere")
    qtbot.waitUntil(lambda: texts(sidebar, "header") == ["No chats found"])

    sidebar.search_field.clear()
    qtbot.waitUntil(lambda: "Today" in texts(sidebar, "header"))
    assert len(texts(sidebar, "chat")) == 2


def test_enter_in_the_search_opens_the_first_result(qtbot, store, sidebar):
    chat = store.create_chat("Pomodoro timer")
    sidebar.refresh()
    qtbot.keyClicks(sidebar.search_field, "pomodoro")
    qtbot.waitUntil(lambda: texts(sidebar, "chat") == ["Pomodoro timer"])
    with qtbot.waitSignal(sidebar.chatSelected) as opened:
        qtbot.keyClick(sidebar.search_field, Qt.Key.Key_Return)
    assert opened.args == [chat.chat_id]


def test_clicking_a_chat_opens_it(qtbot, store, sidebar):
    chat = store.create_chat("Duplicate finder")
    sidebar.refresh()
    index = sidebar.index_of(chat.chat_id)
    rect = sidebar.tree.visualRect(index)
    with qtbot.waitSignal(sidebar.chatSelected) as opened:
        qtbot.mouseClick(sidebar.tree.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert opened.args == [chat.chat_id]
    assert sidebar.tree.currentIndex() == index


def test_rename_in_place(qtbot, store, sidebar):
    chat = store.create_chat("Old title")
    sidebar.refresh()
    sidebar.rename_chat(chat.chat_id)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == "Old title"
    editor.selectAll()
    qtbot.keyClicks(editor, "Budget tracker")
    with qtbot.waitSignal(sidebar.chatsChanged):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert store.get_chat(chat.chat_id).title == "Budget tracker"
    qtbot.waitUntil(lambda: texts(sidebar, "chat") == ["Budget tracker"])


def test_an_empty_name_is_refused_and_the_title_stays(qtbot, store, sidebar):
    chat = store.create_chat("Keep me")
    sidebar.refresh()
    sidebar.rename_chat(chat.chat_id)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.clear()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: texts(sidebar, "chat") == ["Keep me"])
    assert store.get_chat(chat.chat_id).title == "Keep me"


def test_archive_moves_a_chat_into_the_collapsed_archive_and_back(qtbot, store, sidebar):
    chat = store.create_chat("Finished work")
    store.create_chat("Still active")
    sidebar.refresh()
    menu = sidebar.context_menu(sidebar.index_of(chat.chat_id))
    archive = next(a for a in menu.actions() if a.text() == "Archive")
    archive.trigger()

    assert store.get_chat(chat.chat_id).archived
    assert ("archive", "Archived chats") in sidebar.rows()
    archive_row = sidebar.model.index(len(sidebar.rows()) - 2, 0)  # folder, then its child
    assert archive_row.data() == "Archived chats"
    assert not sidebar.tree.isExpanded(archive_row)  # collapsed
    assert sidebar.rows()[-1] == ("chat", "Finished work")
    assert "Finished work" not in [t for k, t in sidebar.rows()[:-2]]

    menu = sidebar.context_menu(sidebar.index_of(chat.chat_id))
    next(a for a in menu.actions() if a.text() == "Restore from archive").trigger()
    assert not store.get_chat(chat.chat_id).archived
    assert ("archive", "Archived chats") not in sidebar.rows()


def test_delete_asks_first(qtbot, store, sidebar, monkeypatch):
    chat = store.create_chat("Throwaway")
    sidebar.refresh()
    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.No)
    assert sidebar.delete_chat(chat.chat_id) is False
    assert asked == ["Delete “Throwaway”? This cannot be undone."]
    assert texts(sidebar, "chat") == ["Throwaway"]

    answer_boxes(monkeypatch, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(sidebar.chatDeleted) as deleted:
        menu = sidebar.context_menu(sidebar.index_of(chat.chat_id))
        next(a for a in menu.actions() if a.text() == "Delete").trigger()
    assert deleted.args == [chat.chat_id]
    assert texts(sidebar, "chat") == []
    assert store.list_chats() == []


def test_projects_are_folders_chats_move_in_by_menu_or_drag(qtbot, store, sidebar,
                                                            monkeypatch):
    first = store.create_chat("Spreadsheet tool")
    second = store.create_chat("Photo renamer")
    monkeypatch.setattr("PySide6.QtWidgets.QInputDialog.getText",
                        lambda *args, **kwargs: ("Client work", True))
    new_project_row = sidebar.model.index(0, 0)
    assert new_project_row.data() == "New project"
    sidebar.tree.clicked.emit(new_project_row)  # asks for the name
    (project,) = store.list_projects()
    assert ("project", "Client work") in sidebar.rows()

    menu = sidebar.context_menu(sidebar.index_of(first.chat_id))
    move = next(a for a in menu.actions() if a.text() == "Move to project").menu()
    next(a for a in move.actions() if a.text() == "Client work").trigger()
    assert store.get_chat(first.chat_id).project_id == project.project_id
    rows = sidebar.rows()
    folder = rows.index(("project", "Client work"))
    assert rows[folder + 1] == ("chat", "Spreadsheet tool")  # inside the (open) folder
    assert sidebar.index_of(first.chat_id).parent().data() == "Client work"

    # drag the other chat onto the folder
    mime = sidebar.model.mimeData([sidebar.index_of(second.chat_id)])
    assert mime.hasFormat(CHAT_MIME)
    target = sidebar.tree.visualRect(sidebar.model.index(1, 0)).center()
    drop = QDropEvent(target.toPointF(), Qt.DropAction.MoveAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    sidebar.tree.dropEvent(drop)
    assert store.get_chat(second.chat_id).project_id == project.project_id
    assert sidebar.index_of(second.chat_id).parent().data() == "Client work"

    # a drop outside any folder moves nothing
    elsewhere = QMimeData()
    elsewhere.setData(CHAT_MIME, second.chat_id.encode())
    sidebar.tree.dropEvent(QDropEvent(QPoint(-5, -5).toPointF(), Qt.DropAction.MoveAction,
                                      elsewhere, Qt.MouseButton.LeftButton,
                                      Qt.KeyboardModifier.NoModifier))
    assert store.get_chat(second.chat_id).project_id == project.project_id

    # out of the project again, then the project deleted: its chats stay
    menu = sidebar.context_menu(sidebar.index_of(first.chat_id))
    move = next(a for a in menu.actions() if a.text() == "Move to project").menu()
    next(a for a in move.actions() if a.text() == "Remove from project").trigger()
    assert store.get_chat(first.chat_id).project_id is None
    answer_boxes(monkeypatch)
    assert sidebar.delete_project(project.project_id)
    assert store.list_projects() == []
    assert sorted(texts(sidebar, "chat")) == ["Photo renamer", "Spreadsheet tool"]


def test_a_duplicate_project_name_is_reported_not_raised(qtbot, store, sidebar):
    sidebar.new_project("Home")
    with qtbot.waitSignal(sidebar.errorOccurred) as error:
        assert sidebar.new_project("Home") is None
    assert "Home" in error.args[0] or "name" in error.args[0].lower()


def test_thousands_of_chats_load_quickly(qtbot, store, sidebar):
    import time

    from ui.desktop.sidebar import PAGE_SIZE

    for n in range(2000):
        store.create_chat(f"Chat number {n}")
    started = time.perf_counter()
    sidebar.refresh()
    elapsed = time.perf_counter() - started
    assert len(texts(sidebar, "chat")) == PAGE_SIZE and sidebar.has_more()
    assert elapsed < 2.0, f"the list of 2,000 chats took {elapsed:.2f} s"


def scroll_to_end(sidebar):
    bar = sidebar.tree.verticalScrollBar()
    bar.setValue(bar.maximum())


def test_scrolling_to_the_end_loads_the_older_chats(qtbot, store, monkeypatch, english):
    import ui.desktop.sidebar as sidebar_module

    monkeypatch.setattr(sidebar_module, "PAGE_SIZE", 20)
    for n in range(50):
        store.create_chat(f"Chat number {n}")
    widget = Sidebar(store)
    qtbot.addWidget(widget)
    widget.resize(widget.fontMetrics().height() * 18, widget.fontMetrics().height() * 20)
    widget.show()
    qtbot.waitExposed(widget)
    assert len(texts(widget, "chat")) == 20 and widget.has_more()
    assert "Chat number 0" not in texts(widget, "chat")  # the oldest is not listed yet

    scroll_to_end(widget)
    qtbot.waitUntil(lambda: len(texts(widget, "chat")) == 40)
    scroll_to_end(widget)
    qtbot.waitUntil(lambda: len(texts(widget, "chat")) == 50)
    assert not widget.has_more() and "Chat number 0" in texts(widget, "chat")


def test_chat_titles_and_snippets_show_as_typed_not_as_html(qtbot, store, sidebar,
                                                           monkeypatch):
    from ui.desktop.plain import tooltip

    title = "<b>Bold</b> <a href='smb://host/x'>link</a> & co"
    chat = store.create_chat(title)
    sidebar.refresh()
    index = sidebar.index_of(chat.chat_id)
    assert index.data() == title
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert tip == tooltip(title) and "<b>" not in tip and "&lt;b&gt;" in tip
    assert tooltip("plain words") == "plain words"

    boxes = []

    def exec_(box):
        boxes.append((box.text(), box.textFormat()))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    sidebar.delete_chat(chat.chat_id)
    assert boxes == [(f"Delete “{title}”? This cannot be undone.", Qt.TextFormat.PlainText)]


def test_the_current_project_is_the_selected_folder_or_the_folder_of_the_chat(
        qtbot, store, sidebar):
    project = store.create_project("Client work")
    inside = store.create_chat("Inside", project_id=project.project_id)
    outside = store.create_chat("Outside")
    sidebar.refresh()
    assert sidebar.current_project() is None
    sidebar.set_current(inside.chat_id)
    assert sidebar.current_project() == project.project_id
    sidebar.set_current(outside.chat_id)
    assert sidebar.current_project() is None
    folder = next(i for i in sidebar._indexes() if i.data() == "Client work")
    sidebar.tree.setCurrentIndex(folder)
    assert sidebar.current_project() == project.project_id


def test_a_delete_handler_deletes_instead_of_the_store(qtbot, store, sidebar, monkeypatch):
    chat = store.create_chat("Running chat")
    sidebar.refresh()
    answer_boxes(monkeypatch)
    handled = []
    sidebar.delete_handler = handled.append
    assert sidebar.delete_chat(chat.chat_id)
    assert handled == [chat.chat_id] and store.list_chats() != []  # the handler decides
    store.delete_chat(chat.chat_id)
    with qtbot.waitSignal(sidebar.chatDeleted) as deleted:
        sidebar.chat_removed(chat.chat_id)
    assert deleted.args == [chat.chat_id] and texts(sidebar, "chat") == []


def test_the_theme_switches_and_system_follows_the_os(qapp, monkeypatch):
    import ui.desktop.theme as theme

    try:
        apply_theme(qapp, "dark")
        assert is_dark()
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == "#212121"
        assert qapp.palette().color(QPalette.ColorRole.AlternateBase).name() == "#171717"
        apply_theme(qapp, "light")
        assert not is_dark()

        monkeypatch.setattr(theme, "_system_is_dark", lambda: True)
        apply_theme(qapp, "system")
        assert is_dark()
        monkeypatch.setattr(theme, "_system_is_dark", lambda: False)
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert not is_dark()  # followed the OS live

        apply_theme(qapp, "dark")  # a fixed theme ignores the OS
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert is_dark()
    finally:
        apply_theme(qapp, "light")


def test_the_shortcuts_dialog_lists_every_shortcut(qtbot, english):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    rows = dialog.descriptions()
    assert len(rows) == len(SHORTCUTS) == 8
    shown = dict(rows)
    native = QKeySequence.SequenceFormat.NativeText
    assert shown["New chat"] == QKeySequence("Ctrl+Shift+O").toString(native)
    assert shown["Copy the last code block"] == QKeySequence("Ctrl+Shift+;").toString(native)
    i18n.set_language("ru")
    qtbot.waitUntil(lambda: "Скопировать последний ответ" in dict(dialog.descriptions()))
    assert dialog.windowTitle() == "Сочетания клавиш"


def test_app_help_and_a_bad_settings_file(tmp_path, monkeypatch, capsys, qapp):
    from ui.desktop import app

    with pytest.raises(SystemExit) as done:
        app.main(["--help"])
    assert done.value.code == 0
    assert "--smoke" in capsys.readouterr().out

    bad = tmp_path / "settings.toml"
    bad.write_text("[ui]\ntheme = 'purple'\n", encoding="utf-8")
    monkeypatch.setenv("MULTICODER_CONFIG", str(bad))
    assert app.main(["--smoke"]) == 2
    err = capsys.readouterr().err
    assert "ui.theme" in err and str(bad) in err and "Traceback" not in err

    shown = answer_boxes(monkeypatch, QMessageBox.StandardButton.Ok)
    bad.write_text("[ui\n", encoding="utf-8")
    assert app.main([]) == 2
    assert len(shown) == 1 and "TOML" in shown[0]


def test_a_chat_history_that_cannot_be_opened_is_one_sentence_and_exit_2(
        tmp_path, monkeypatch, capsys, qapp, isolated_settings):
    from graph.errors import InputError
    from ui.desktop import app

    def newer(_settings):
        raise InputError("chats.sqlite was written by a newer MultiCoder: update it.")

    monkeypatch.setattr(app, "make_bridge", newer)
    assert app.main(["--smoke"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "newer MultiCoder" in err and "Traceback" not in err

    def unwritable(_settings):
        raise PermissionError(13, "Permission denied", str(tmp_path / "data"))

    monkeypatch.setattr(app, "make_bridge", unwritable)
    shown = answer_boxes(monkeypatch, QMessageBox.StandardButton.Ok)
    assert app.main([]) == 2
    assert len(shown) == 1 and "Permission denied" in shown[0]


# -- links ---------------------------------------------------------------------------------


@pytest.fixture
def opened(monkeypatch):
    from PySide6.QtGui import QDesktopServices

    urls = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url.toString())
                        or True)
    return urls


@pytest.mark.parametrize("url", [
    "smb://attacker/share/file.exe", "file:///etc/passwd", "javascript:alert(1)",
    "search-ms:query=x&crumb=location:\\\\attacker\\share", "//attacker/share",
    "ftp://example.org/x", "http://", "relative/path", "",
])
def test_links_with_other_schemes_are_refused_and_not_opened(qapp, monkeypatch, opened, url,
                                                           english):
    from ui.desktop.links import link_allowed, open_link

    shown = answer_boxes(monkeypatch, QMessageBox.StandardButton.Ok)
    assert not link_allowed(url)
    assert open_link(None, url) is False
    assert opened == []
    assert len(shown) == 1 and "was not opened" in shown[0] and url in shown[0]


def test_a_web_link_opens_only_after_the_person_confirms_the_full_address(
        qapp, monkeypatch, opened, english):
    from ui.desktop.links import link_allowed, open_link

    url = "https://example.org/some/page?q=1#part"
    assert link_allowed(url) and link_allowed("mailto:someone@example.org")
    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.No)
    assert open_link(None, url) is False and opened == []
    assert len(asked) == 1 and url in asked[0]

    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.Yes)
    assert open_link(None, url) is True
    assert opened == [url] and url in asked[0]


def test_semantic_memory_opens_when_the_person_types_not_at_start(isolated_settings, qtbot):
    from ui.desktop.bridge import Bridge

    class Engine:
        def __init__(self):
            self.warmed = 0

        def warm_up(self):
            self.warmed += 1

    bridge = Bridge(isolated_settings)
    try:
        bridge.prepare_for_run()  # typed before the engine is ready: remembered
        engine = Engine()
        with qtbot.waitSignal(bridge.ready):
            bridge._loaded((engine, object(), object()))  # the engine finished loading
        qtbot.waitUntil(lambda: engine.warmed == 1, timeout=5000)
        bridge.prepare_for_run()  # once only
        bridge.pool.waitForDone(5000)
        assert engine.warmed == 1
    finally:
        bridge.store.close()
