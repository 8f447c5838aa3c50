"""The desktop composer and the chat cards, driven as a person would (pytest-qt, offscreen)."""

from __future__ import annotations

import json
import os
import threading
import warnings

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QInputMethodEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from graph.chats import Message
from tests.support.qt import answer_boxes
from ui.desktop.chat.cards import (
    ArtifactCard,
    ChecksCard,
    DecisionCard,
    ErrorCard,
    FetchCard,
    PlanCard,
    QuestionCard,
    SafetyCard,
    make_card,
)
from ui.desktop.chat.composer import MAX_LINES, Composer
from ui.desktop.i18n import set_language

# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def composer(qtbot, tmp_path):
    widget = Composer(tmp_path / "staging")
    qtbot.addWidget(widget)
    widget.resize(widget.fontMetrics().averageCharWidth() * 80, widget.sizeHint().height())
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def russian(qapp):
    set_language("ru")
    yield
    set_language("en")


def message(kind, data, *, content="", role="assistant", message_id="m1"):
    return Message(message_id=message_id, chat_id="c1", role=role, kind=kind,
                   content=content, data=data, created_at="2025-01-01T00:00:00Z")


def show(qtbot, card):
    qtbot.addWidget(card)
    card.resize(card.fontMetrics().averageCharWidth() * 90, card.sizeHint().height())
    card.show()
    qtbot.waitExposed(card)
    return card


def button(widget, text):
    """The visible push button labelled ``text``, the last one when several match (the
    inline row's confirm button comes after the card's own)."""
    found = [b for b in widget.findChildren(QPushButton) if b.text() == text and b.isVisible()]
    assert found, f"no visible button {text!r} in " + repr(
        [b.text() for b in widget.findChildren(QPushButton) if b.isVisible()])
    return found[-1]


def texts(widget):
    from PySide6.QtWidgets import QLabel

    return "\n".join(label.text() for label in widget.findChildren(QLabel) if label.isVisible())


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def decide(qtbot, card, action):
    with qtbot.waitSignal(card.decided, timeout=2000) as blocker:
        action()
    message_id, decision = blocker.args
    assert message_id == card.message.message_id
    return decision


SAFETY = {
    "kind": "confirm_start", "options": ["approve", "reject", "edit"],
    "summary": "Safety verdict: YELLOW — recommendation: approve.",
    "needs_person": True,
    "details": {"task": "Build a CSV to XLSX converter with a window.",
                "verdict": {"level": "yellow", "recommendation": "approve",
                            "reasons": ["Reads local files only", "No network access"],
                            "categories": []}},
}
PLAN = {
    "summary": "A window app that converts CSV to XLSX",
    "app": {"name": "csv2xlsx", "entry": "app.py", "gui": True, "smoke_args": None},
    "dependencies": ["openpyxl>=3.1"],
    "steps": [
        {"id": "s1", "tool": "write_file", "params": {"path": "app.py"},
         "description": "Write the window"},
        {"id": "s2", "tool": "run_command", "params": {"argv": ["pytest", "-q"]},
         "description": "Run the tests"},
    ],
}
PLAN_PAYLOAD = {"kind": "approve_plan", "options": ["approve", "reject", "edit"],
                "summary": "**Plan:** ...",
                "details": {"plan": PLAN, "spec_markdown": "# CSV to XLSX\n\nConverts **CSV**."}}
FETCH = {"kind": "approve_fetch", "options": ["approve", "reject"], "summary": "fetch",
         "details": {"action": "download", "url": "https://example.org/data.zip",
                     "size_bytes": 2 * 1024 * 1024, "size_note": "HEAD request",
                     "dest": "data/data.zip", "dest_absolute": "/w/data/data.zip",
                     "reason": "downloads need your approval", "params": {}}}
QUESTION = {"kind": "ask_human", "options": ["continue", "stop"],
            "summary": "3 repair rounds did not make every check pass.",
            "details": {"findings": [{"check": "pytest", "file": "tests/test_app.py",
                                      "line": 12, "message": "assert 1 == 2"}],
                        "loop": None}}


# -- composer --------------------------------------------------------------------------------


def test_enter_sends_the_text_and_empties_the_editor(qtbot, composer):
    qtbot.keyClicks(composer.editor, "Build a todo app")
    with qtbot.waitSignal(composer.sendRequested, timeout=2000) as blocker:
        qtbot.keyClick(composer.editor, Qt.Key.Key_Return)
    assert blocker.args == ["Build a todo app", []]
    assert composer.text() == ""


def test_shift_enter_adds_a_line_and_does_not_send(qtbot, composer):
    sent = []
    composer.sendRequested.connect(lambda *args: sent.append(args))
    qtbot.keyClicks(composer.editor, "first")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.editor, "second")
    assert composer.text() == "first\nsecond"
    assert sent == []
    qtbot.keyClick(composer.editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert sent == [("first\nsecond", [])]


def test_enter_during_input_method_composition_does_not_send(qtbot, composer):
    sent = []
    composer.sendRequested.connect(lambda *args: sent.append(args))
    QApplication.sendEvent(composer.editor, QInputMethodEvent("ni", []))
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return)
    assert sent == []
    commit = QInputMethodEvent("", [])
    commit.setCommitString("你")
    QApplication.sendEvent(composer.editor, commit)
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return)
    assert sent == [("你", [])]


def test_empty_text_does_not_send(qtbot, composer):
    sent = []
    composer.sendRequested.connect(lambda *args: sent.append(args))
    qtbot.keyClicks(composer.editor, "   ")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return)
    assert sent == []
    assert not composer.send_button.isEnabled()


def test_the_editor_grows_with_its_lines_then_scrolls(qtbot, composer):
    one_line = composer.editor.height()
    composer.set_text("a\nb\nc\nd")
    qtbot.waitUntil(lambda: composer.editor.height() > one_line * 2)
    four_lines = composer.editor.height()
    assert not composer.editor.verticalScrollBar().isVisible()
    composer.set_text("\n".join("line"for _ in range(MAX_LINES + 10)))
    qtbot.waitUntil(lambda: composer.editor.height() > four_lines)
    tallest = composer.editor.height()
    line = composer.editor.fontMetrics().lineSpacing()
    assert tallest < line * (MAX_LINES + 3)  # capped: it scrolls instead
    qtbot.waitUntil(lambda: composer.editor.verticalScrollBar().isVisible())
    composer.set_text("")
    qtbot.waitUntil(lambda: composer.editor.height() == one_line)


def test_busy_turns_send_into_stop(qtbot, composer):
    assert composer.send_button.accessibleName() == "Send"
    composer.set_busy(True)
    assert composer.send_button.accessibleName() == "Stop"
    assert composer.send_button.isEnabled()
    sent = []
    composer.sendRequested.connect(lambda *args: sent.append(args))
    qtbot.keyClicks(composer.editor, "more")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return)
    assert sent == []  # Enter does not send while the run works
    with qtbot.waitSignal(composer.stopRequested, timeout=2000):
        click(qtbot, composer.send_button)
    composer.set_busy(False)
    assert composer.send_button.accessibleName() == "Send"
    with qtbot.waitSignal(composer.sendRequested, timeout=2000):
        click(qtbot, composer.send_button)


def chips(composer):
    from ui.desktop.chat.composer import _Chip

    return [c for c in composer.findChildren(_Chip) if c.isVisible()]


def test_attaching_a_file_copies_it_with_progress(qtbot, composer, tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    composer.add_files([source])
    chip = chips(composer)[0]
    assert chip.progress.isVisible()
    qtbot.waitUntil(lambda: composer.attachments() != [], timeout=5000)
    staged = composer.attachments()[0]
    assert staged.parent.parent == tmp_path / "staging" and staged.name == "data.csv"
    assert staged.read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert chip.progress.value() == 100
    assert "data.csv" in chip.accessibleName()
    assert chip.remove.accessibleName() == "Remove data.csv"
    assert composer.send_button.isEnabled()
    with qtbot.waitSignal(composer.sendRequested, timeout=2000) as blocker:
        qtbot.keyClick(composer.editor, Qt.Key.Key_Return)  # attachments alone may be sent
    assert blocker.args == ["", [staged]]
    assert chips(composer) == []


def test_send_waits_for_a_copy_and_remove_drops_the_chip(qtbot, composer, tmp_path,
                                                         monkeypatch):
    from graph import control

    gate = threading.Event()
    real = control.stage_attachment

    def held(source, staging_dir, on_progress=None, cancelled=None):
        gate.wait(5)
        return real(source, staging_dir, on_progress, cancelled)

    monkeypatch.setattr(control, "stage_attachment", held)
    source = tmp_path / "notes.txt"
    source.write_text("hello", encoding="utf-8")
    qtbot.keyClicks(composer.editor, "use the notes")
    composer.add_files([source])
    assert composer.is_copying()
    assert not composer.send_button.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: composer.send_button.isEnabled(), timeout=5000)
    click(qtbot, chips(composer)[0].remove)
    assert chips(composer) == [] and composer.attachments() == []


def test_a_file_over_50_mb_is_refused_and_not_copied(qtbot, composer, tmp_path):
    big = tmp_path / "video.bin"
    big.touch()
    os.truncate(big, 51 * 1024 * 1024)
    composer.add_files([big])
    assert composer.notices() == ["video.bin is larger than 50 MB: attach a smaller file"]
    from PySide6.QtWidgets import QLabel

    shown = [label.text() for label in composer.findChildren(QLabel) if label.isVisible()]
    assert any("video.bin is larger than 50 MB" in text for text in shown)
    assert chips(composer) == []
    assert not (tmp_path / "staging").exists() or not any((tmp_path / "staging").iterdir())


def test_the_engine_refusal_is_shown(qtbot, composer, tmp_path, monkeypatch):
    from graph import control
    from graph.errors import InputError

    def refuse(source, staging_dir, on_progress=None, cancelled=None):
        raise InputError(f"cannot copy {source.name}: permission denied")

    monkeypatch.setattr(control, "stage_attachment", refuse)
    source = tmp_path / "locked.txt"
    source.write_text("x", encoding="utf-8")
    composer.add_files([source])
    qtbot.waitUntil(lambda: composer.notices() == ["cannot copy locked.txt: permission denied"])
    assert chips(composer) == []


def drop(widget, mime):
    """Drag ``mime`` over ``widget`` and drop it there (Qt delivers a drop only after an
    accepted drag enter, as with a real mouse)."""
    where = widget.rect().center()
    with warnings.catch_warnings():  # PySide marks the QPoint constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def test_dropping_a_file_attaches_it(qtbot, composer, tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG fake")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(source))])
    assert composer.accepts_drop(mime)
    drop(composer, mime)
    qtbot.waitUntil(lambda: [p.name for p in composer.attachments()] == ["photo.png"],
                    timeout=5000)


def test_files_dropped_on_the_window_are_attached(qtbot, tmp_path):
    window = QWidget()
    qtbot.addWidget(window)
    composer = Composer(tmp_path / "staging", window)
    composer.watch_drops(window)
    source = tmp_path / "table.csv"
    source.write_text("x\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(source))])
    drop(window, mime)
    qtbot.waitUntil(lambda: [p.name for p in composer.attachments()] == ["table.csv"],
                    timeout=5000)


def test_pasting_files_and_images_attaches_them(qtbot, composer, tmp_path):
    source = tmp_path / "report.txt"
    source.write_text("r", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(source))])
    QApplication.clipboard().setMimeData(mime)
    composer.editor.setFocus()
    qtbot.keyClick(composer.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: [p.name for p in composer.attachments()] == ["report.txt"],
                    timeout=5000)
    assert composer.text() == ""  # the file's address was not pasted as text
    image = QImage(8, 6, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    QApplication.clipboard().setImage(image)
    qtbot.keyClick(composer.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(composer.attachments()) == 2, timeout=5000)
    pasted = composer.attachments()[1]
    assert (tmp_path / "staging") in pasted.parents and pasted.name == "pasted-image.png"
    assert QImage(str(pasted)).size() == image.size()
    # a second image in the same message gets a name of its own
    qtbot.keyClick(composer.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(composer.attachments()) == 3, timeout=5000)
    assert composer.attachments()[2].name == "pasted-image-2.png"


def test_composer_texts_follow_the_language(qtbot, composer, russian):
    qtbot.waitUntil(lambda: composer.send_button.accessibleName() == "Отправить")
    assert composer.editor.placeholderText() == "Опишите приложение, которое нужно собрать…"
    assert composer.attach_button.accessibleName() == "Прикрепить файлы"
    composer.set_busy(True)
    assert composer.send_button.accessibleName() == "Остановить"


# -- cards -----------------------------------------------------------------------------------


def test_safety_card_shows_the_verdict(qtbot):
    card = show(qtbot, make_card(message("safety", SAFETY)))
    assert isinstance(card, SafetyCard)
    shown = texts(card)
    for text in ("Caution", "Recommendation: approve", "Reads local files only",
                 "Build a CSV to XLSX converter with a window.", "Only you can approve"):
        assert text in shown
    for level, label in (("green", "Low risk"), ("red", "High risk")):
        data = json.loads(json.dumps(SAFETY))
        data["details"]["verdict"]["level"] = level
        assert label in texts(show(qtbot, make_card(message("safety", data))))


def test_safety_card_decisions(qtbot):
    card = show(qtbot, make_card(message("safety", SAFETY)))
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Approve"))) == {
        "action": "approve"}

    card = show(qtbot, make_card(message("safety", SAFETY)))
    click(qtbot, button(card, "Reject"))
    field = next(f for f in card.findChildren(QLineEdit) if f.isVisible())
    assert field.placeholderText() == "Reason (optional)"
    qtbot.keyClicks(field, "not now")
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Reject"))) == {
        "action": "reject", "feedback": "not now"}

    card = show(qtbot, make_card(message("safety", SAFETY)))
    click(qtbot, button(card, "Modify"))
    editor = next(e for e in card.findChildren(QPlainTextEdit) if e.isVisible())
    assert editor.toPlainText() == SAFETY["details"]["task"]
    editor.setPlainText("  ")
    click(qtbot, button(card, "Send"))
    assert "Type the task first." in texts(card)
    editor.setPlainText("Build a CSV to XLSX converter for the command line.")
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Send"))) == {
        "action": "edit", "content": "Build a CSV to XLSX converter for the command line."}


def test_plan_card_shows_spec_and_steps(qtbot):
    data = dict(PLAN_PAYLOAD, error="the edited plan is not valid: steps missing")
    card = show(qtbot, make_card(message("plan", data)))
    assert isinstance(card, PlanCard)
    shown = texts(card)
    assert "A window app that converts CSV to XLSX" in shown
    assert "Write the window" in shown and "Run the tests" in shown
    assert "<ol>" in card._steps.text() and card._steps.text().count("<li>") == 2
    assert "the edited plan is not valid: steps missing" in shown
    assert "Converts" not in shown  # the spec starts collapsed
    click(qtbot, card._spec_section.toggle)
    assert "Converts <strong>CSV</strong>" in card._spec.text() and card._spec.isVisible()


def test_plan_card_decisions(qtbot):
    card = show(qtbot, make_card(message("plan", PLAN_PAYLOAD)))
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Approve"))) == {
        "action": "approve"}

    card = show(qtbot, make_card(message("plan", PLAN_PAYLOAD)))
    click(qtbot, button(card, "Reject"))
    field = next(f for f in card.findChildren(QLineEdit) if f.isVisible())
    qtbot.keyClicks(field, "use tkinter")
    assert decide(qtbot, card, lambda: qtbot.keyClick(field, Qt.Key.Key_Return)) == {
        "action": "reject", "feedback": "use tkinter"}

    card = show(qtbot, make_card(message("plan", PLAN_PAYLOAD)))
    click(qtbot, button(card, "Edit"))
    editor = next(e for e in card.findChildren(QPlainTextEdit) if e.isVisible())
    assert editor.toPlainText() == json.dumps(PLAN, indent=2, ensure_ascii=False)
    editor.setPlainText("{not json")
    fired = []
    card.decided.connect(lambda *args: fired.append(args))
    click(qtbot, button(card, "Send"))
    assert fired == [] and "This is not valid JSON" in texts(card)
    edited = dict(PLAN, summary="Smaller")
    editor.setPlainText(json.dumps(edited))
    decision = decide(qtbot, card, lambda: click(qtbot, button(card, "Send")))
    assert decision["action"] == "edit" and json.loads(decision["content"]) == edited


def test_fetch_card(qtbot):
    card = show(qtbot, make_card(message("fetch", FETCH)))
    assert isinstance(card, FetchCard)
    shown = texts(card)
    for text in ("The coder wants to download a file", "https://example.org/data.zip",
                 "2.0 MB (HEAD request)", "data/data.zip", "downloads need your approval"):
        assert text in shown
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Approve"))) == {
        "action": "approve"}
    card = show(qtbot, make_card(message("fetch", FETCH)))
    click(qtbot, button(card, "Reject"))
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Reject"))) == {
        "action": "reject", "feedback": ""}


def test_question_card(qtbot):
    card = show(qtbot, make_card(message("question", QUESTION)))
    assert isinstance(card, QuestionCard)
    assert "3 repair rounds did not make every check pass." in texts(card)
    assert card._findings_section.toggle.text() == "Open findings (1)"
    click(qtbot, card._findings_section.toggle)
    assert "tests/test_app.py:12 assert 1 == 2" in texts(card)
    qtbot.keyClicks(card.hint, "mock the clock")
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Continue"))) == {
        "action": "continue", "feedback": "mock the clock"}
    card = show(qtbot, make_card(message("question", QUESTION)))
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Stop"))) == {
        "action": "stop"}


def test_generic_confirm_card_has_a_button_per_option(qtbot):
    data = {"kind": "something_new", "summary": "Go **on**?", "options": ["approve", "maybe"]}
    card = show(qtbot, make_card(message("confirm", data)))
    assert "Go <strong>on</strong>?" in card._summary.text()
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "maybe"))) == {
        "action": "maybe"}


def test_decision_pill(qtbot):
    card = show(qtbot, make_card(message("decision", {"action": "reject",
                                                      "feedback": "too risky"}, role="user")))
    assert isinstance(card, DecisionCard)
    assert card.pill.text() == "Rejected: too risky"
    card = show(qtbot, make_card(message("decision", {"action": "approve"}, role="user",
                                         content="Approved")))
    assert card.pill.text() == "Approved"


def test_answered_card_disables_its_actions(qtbot):
    card = show(qtbot, make_card(message("safety", SAFETY)))
    decide(qtbot, card, lambda: click(qtbot, button(card, "Approve")))
    actions = [button(card, text) for text in ("Approve", "Reject", "Modify")]
    assert not any(b.isEnabled() for b in actions)  # no second answer while it is stored
    card.reopen("the run does not wait for that answer any more")
    assert all(b.isEnabled() for b in actions)
    assert "the run does not wait for that answer any more" in texts(card)
    card.set_answered("Approved")
    assert not any(b.isEnabled() for b in actions)
    assert "Your answer: Approved" in texts(card)
    fired = []
    card.decided.connect(lambda *args: fired.append(args))
    click(qtbot, actions[0])
    assert fired == []


def test_checks_card_adds_results_as_they_come(qtbot):
    first = {"events": [{"type": "check_result", "check": "ruff", "passed": True,
                         "skipped": False, "findings": 0, "round": 0}]}
    card = show(qtbot, make_card(message("checks", first)))
    assert isinstance(card, ChecksCard)
    assert card.row_texts() == [("passed", "ruff", "")]
    more = {"events": [*first["events"],
                       {"type": "progress", "node": "tester"},
                       {"type": "check_result", "check": "pytest", "passed": False,
                        "skipped": False, "findings": 2, "round": 0,
                        "problems": ["tests/test_app.py:12 assert 1 == 2"]}]}
    card.set_message(message("checks", more))
    assert card.row_texts() == [("passed", "ruff", ""),
                                ("failed", "pytest", "tests/test_app.py:12 assert 1 == 2")]
    assert "1 passed, 1 failed" in card._title.text()
    report = {"checks": [{"check": "mypy", "passed": False, "skipped": False,
                          "findings": [{"check": "mypy", "file": "app.py", "line": 3,
                                        "message": "bad type"}]}]}
    card.set_message(message("checks", report))
    assert card.row_texts() == [("failed", "mypy", "app.py:3 bad type")]


@pytest.fixture
def finished_run(tmp_path):
    run_dir = tmp_path / "runs" / "r1"
    (run_dir / "dist").mkdir(parents=True)
    executable = run_dir / "dist" / "csv2xlsx"
    executable.write_bytes(b"\x7fELF")
    (run_dir / "report.md").write_text("# report\n", encoding="utf-8")
    return {"status": "done", "error": None, "run_dir": str(run_dir),
            "report": str(run_dir / "report.md"),
            "artifact": {"path": str(executable), "size_bytes": 12 * 1024 * 1024,
                         "sha256": "ab" * 32, "build_log_path": str(run_dir / "dist/b.log"),
                         "built_at": "2025-01-01T00:00:00Z"}}


def artifact_message(data):
    return Message(message_id="m1", chat_id="c1", role="assistant", kind="artifact",
                   data=data, run_id="r1", created_at="2025-01-01T00:00:00Z")


def test_artifact_card_asks_the_window_to_run_and_open_and_opens_the_report(
        qtbot, finished_run, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    card = show(qtbot, make_card(artifact_message(finished_run)))
    assert isinstance(card, ArtifactCard)
    shown = texts(card)
    assert "Your app is ready" in shown and "csv2xlsx" in shown and "12.0 MB" in shown
    names = {b.accessibleName() for b in card.findChildren(QPushButton)}
    assert {"Open folder", "Run", "Open report"} <= names

    # the window finds the folder from the run itself
    assert decide(qtbot, card, lambda: click(qtbot, card.open_folder)) == {
        "action": "open_folder"}
    assert opened == []

    # Run asks first; declined, nothing is asked of the window
    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.No)
    requests = []
    card.decided.connect(lambda *args: requests.append(args))
    click(qtbot, card.run)
    assert asked == ["Run csv2xlsx? It was built and checked by MultiCoder in a sandbox;"
                     " running it executes it on this computer."]
    assert requests == []
    answer_boxes(monkeypatch, QMessageBox.StandardButton.Yes)
    assert decide(qtbot, card, lambda: click(qtbot, card.run)) == {"action": "launch"}
    assert card.run.isEnabled() and card.open_folder.isEnabled()  # nothing was answered
    card.show_error("the executable of run r1 changed since it was built (sha256 differs)")
    assert "sha256 differs" in texts(card)

    click(qtbot, card.open_report)
    assert [u.toLocalFile() for u in opened] == [finished_run["report"]]


def test_artifact_card_does_not_guess_the_report_or_open_a_program_as_one(
        qtbot, finished_run, tmp_path):
    guessed = dict(finished_run, report=None)  # report.md lies beside the run: not used
    card = show(qtbot, make_card(artifact_message(guessed)))
    assert card.report_path() is None and not card.open_report.isEnabled()
    program = tmp_path / "report.exe"
    program.write_bytes(b"MZ")
    card = show(qtbot, make_card(artifact_message(dict(finished_run, report=str(program)))))
    assert not card.open_report.isEnabled()


def test_links_in_cards_go_through_the_guarded_handler(qtbot, monkeypatch):
    import ui.desktop.chat.cards as cards

    followed = []
    monkeypatch.setattr(cards, "open_link", lambda parent, url: followed.append(url) or False)
    payload = dict(QUESTION, summary="See [the share](smb://attacker/share) <b>now</b>")
    card = show(qtbot, make_card(message("question", payload)))
    rich = [label for label in card.findChildren(QLabel)
            if label.textFormat() == Qt.TextFormat.RichText]
    assert rich and not any(label.openExternalLinks() for label in card.findChildren(QLabel))
    summary = next(label for label in rich if "attacker" in label.text())
    assert "<b>now</b>" not in summary.text()  # raw HTML of the model is shown as text
    summary.linkActivated.emit("smb://attacker/share")
    assert followed == ["smb://attacker/share"]


def test_artifact_card_of_a_run_that_built_nothing(qtbot):
    data = {"status": "rejected", "artifact": {}, "error": "rejected at start: not now"}
    card = show(qtbot, make_card(message("artifact", data)))
    assert "The run was rejected" in texts(card)
    assert "rejected at start: not now" in texts(card)
    assert not card.run.isEnabled() and not card.open_folder.isEnabled()
    assert not card.open_report.isEnabled()


def test_error_card_offers_resume(qtbot):
    data = {"error": "the provider refused the key (401)", "resumable": True}
    card = show(qtbot, make_card(message("error", data)))
    assert isinstance(card, ErrorCard)
    assert "the provider refused the key (401)" in texts(card)
    assert decide(qtbot, card, lambda: click(qtbot, button(card, "Resume"))) == {
        "action": "resume"}
    card = show(qtbot, make_card(message("error", {"error": "cancelled", "resumable": False})))
    assert "You stopped the run." in texts(card)
    assert card.resume is None


def test_a_refused_request_is_titled_as_a_refusal_not_a_failure(qtbot):
    data = {"error": "The safety gate refused this request.", "resumable": False,
            "status": "refused"}
    card = show(qtbot, make_card(message("error", data)))
    assert "Request refused" in texts(card)
    assert "Something went wrong" not in texts(card)
    assert card.resume is None
    failed = show(qtbot, make_card(message("error", {"error": "boom", "resumable": True})))
    assert "Something went wrong" in texts(failed)


def visible_buttons(card):
    return {b.text() for b in card.findChildren(QPushButton) if b.isVisible()}


def test_cards_follow_the_language(qtbot, finished_run):
    card = show(qtbot, make_card(message("safety", SAFETY)))
    artifact = show(qtbot, make_card(message("artifact", finished_run)))
    assert {"Approve", "Reject", "Modify"} <= visible_buttons(card)
    try:
        set_language("ru")
        qtbot.waitUntil(lambda: {"Одобрить", "Отклонить", "Изменить"} <= visible_buttons(card))
        assert "Осторожно" in texts(card) and "Рекомендация: одобрить" in texts(card)
        qtbot.waitUntil(lambda: artifact.run.text() == "Запустить")
        assert artifact.run.accessibleName() == "Запустить"
        assert "12,0 МБ" in texts(artifact)
        fresh = show(qtbot, make_card(message("plan", PLAN_PAYLOAD)))
        assert {"Одобрить", "Отклонить", "Изменить"} <= visible_buttons(fresh)
    finally:
        set_language("en")
    qtbot.waitUntil(lambda: {"Approve", "Reject", "Modify"} <= visible_buttons(card))
