"""The desktop Settings dialog and task manager, driven as a person would (offscreen)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from tests.support.qt import answer_boxes

WAIT_MS = 20_000
ENGINE_WAIT_MS = 120_000


@pytest.fixture
def make_bridge(qtbot):
    made = []

    def make(settings):
        from ui.desktop.bridge import Bridge

        bridge = Bridge(settings)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.shutdown()


@pytest.fixture
def bridge(isolated_settings, make_bridge):
    return make_bridge(isolated_settings)


@pytest.fixture
def dialog(qtbot, bridge):
    from ui.desktop.settings import SettingsDialog

    dlg = SettingsDialog(bridge)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def wait_for_status(qtbot, dlg):
    page = dlg.status_page
    qtbot.waitUntil(lambda: all(row.state for row in page.rows.values())
                    and not page.is_refreshing(), timeout=WAIT_MS)
    return page


# -- Status --------------------------------------------------------------------------------


def test_settings_open_on_the_status_tab_with_one_row_per_subsystem(qtbot, dialog):
    assert dialog.current_tab() == "status"
    assert dialog.stack.currentWidget() is dialog.status_page
    page = wait_for_status(qtbot, dialog)
    assert list(page.rows) == ["providers", "sandbox", "build", "memory", "uploads", "web",
                               "tester", "coordinator"]
    titles = [row.title.text() for row in page.rows.values()]
    assert titles[0] == "Model providers" and titles[-1] == "Task coordinator"
    assert all(row.isVisible() and row.reason.text() for row in page.rows.values())
    # the headline names the worst row
    states = {row.state for row in page.rows.values()}
    expected = ("Critical error" if "down" in states else "Warnings" if "degraded" in states
                else "All systems stable")
    assert page.overall.text() == expected
    # details unfold the diagnose rows the subsystem was made from
    build = page.rows["build"]
    assert not build.details.isVisible()
    qtbot.mouseClick(build.details_button, Qt.MouseButton.LeftButton)
    assert build.details.isVisible() and "uv" in build.rows_label.text()


def test_the_sandbox_row_is_yellow_or_red_with_its_reason_when_docker_is_absent(
        qtbot, isolated_settings, make_bridge, monkeypatch):
    from graph.settings import Settings
    from tools.sandbox import docker
    from ui.desktop.settings import SettingsDialog

    monkeypatch.setattr(docker, "daemon_version", lambda: None)
    monkeypatch.setattr(docker, "unavailable_reason",
                        lambda image: "no Docker daemon answers: start Docker")
    monkeypatch.setenv("MULTICODER_SANDBOX__BACKEND", "docker")
    dlg = SettingsDialog(make_bridge(Settings()))
    qtbot.addWidget(dlg)
    dlg.show()
    page = wait_for_status(qtbot, dlg)
    row = page.rows["sandbox"]
    assert row.state in ("degraded", "down")
    assert row.reason.isVisible() and "docker" in row.reason.text().lower()
    assert row.recommendation.isVisible() and row.recommendation.text()
    assert page.overall.text() in ("Warnings", "Critical error")


def test_the_headline_and_the_rows_show_a_known_state(qtbot, isolated_settings, make_bridge,
                                                     monkeypatch):
    import ui.desktop.settings.status as status
    from graph.control import SUBSYSTEMS, Subsystem
    from ui.desktop.settings import SettingsDialog

    def known(_settings, **_kwargs):
        return [Subsystem(key=key, state="degraded" if key == "web" else "ok",
                          reason=f"<b>{key}</b> reason & more", recommendation="",
                          rows=[], events=["<img src=x> event"]) for key in SUBSYSTEMS]

    monkeypatch.setattr(status, "system_status", known)
    dlg = SettingsDialog(make_bridge(isolated_settings))
    qtbot.addWidget(dlg)
    dlg.show()
    page = wait_for_status(qtbot, dlg)
    assert page.overall.text() == "Warnings" and page.overall_state() == "degraded"
    web = page.rows["web"]
    assert web.state == "degraded"
    # server and engine text is shown as written, never as HTML
    assert web.reason.text() == "<b>web</b> reason & more"
    assert web.reason.textFormat() == Qt.TextFormat.PlainText
    assert "<img src=x> event" in web.events_label.text()
    assert web.events_label.textFormat() == Qt.TextFormat.PlainText


def test_restart_is_offered_only_where_there_is_something_to_restart(qtbot, dialog, bridge):
    page = wait_for_status(qtbot, dialog)
    offered = {key for key, row in page.rows.items() if not row.restart_button.isHidden()}
    assert offered == {"memory", "web", "coordinator"}
    row = page.rows["memory"]
    row.set_expanded(True)
    qtbot.mouseClick(row.restart_button, Qt.MouseButton.LeftButton)
    assert page.message.kind() == "error" and "still starting" in page.message.text()
    # loading the engine and reopening semantic memory take long on a loaded machine
    with qtbot.waitSignal(bridge.ready, timeout=ENGINE_WAIT_MS):
        bridge.load()
    qtbot.mouseClick(row.restart_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.kind() == "info" and "emory" in page.message.text()
                    and row.restart_button.isEnabled(), timeout=ENGINE_WAIT_MS)


def test_paranoid_mode_is_switched_from_the_status_tab(qtbot, dialog, bridge):
    from graph.settings import config_file

    page = wait_for_status(qtbot, dialog)
    assert page.paranoid.isChecked()
    page.paranoid.click()
    qtbot.waitUntil(lambda: not bridge.settings.paranoid, timeout=WAIT_MS)
    assert "paranoid = false" in config_file().read_text(encoding="utf-8")
    qtbot.waitUntil(lambda: "off" in page.rows["tester"].reason.text(), timeout=WAIT_MS)


# -- Providers -----------------------------------------------------------------------------


def add_provider_through_the_tab(qtbot, dialog, name, url, key):
    dialog.show_tab("providers")
    page = dialog.providers_page
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    add = page.add_dialog
    assert add is not None and add.isVisible()
    qtbot.keyClicks(add.name_edit, name)
    qtbot.keyClicks(add.url_edit, url)
    qtbot.keyClicks(add.key_edits[0], key)
    assert add.key_edits[0].echoMode() == add.key_edits[0].EchoMode.Password
    qtbot.mouseClick(add.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: name in page.rows, timeout=WAIT_MS)
    return page


def test_a_custom_provider_checked_against_the_test_server_is_valid_with_its_models(
        qtbot, dialog, memory_keyring):
    from agents.cassette import Cassette
    from graph.settings import config_file
    from tests.support.openai_server import CassetteServer

    with CassetteServer(Cassette([]), api_key="right-key-123",
                        extra_models=["model-a", "model-b"]) as server:
        page = add_provider_through_the_tab(qtbot, dialog, "localtest", server.base_url,
                                            "right-key-123")
        row = page.rows["localtest"]
        qtbot.waitUntil(lambda: row.status.state == "valid", timeout=WAIT_MS)  # checked at once
        assert row.state_text() == "Valid"
        assert "model-a" in row.models.text() and "model-b" in row.models.text()
        assert row.keys.text() == "Keys: 1"
        # Check again by the button: still valid
        qtbot.mouseClick(row.check_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not row.checking and row.status.state == "valid",
                        timeout=WAIT_MS)
    # the key went to the keyring only; the models are offered on the Models tab
    assert ("multicoder", "localtest") in memory_keyring.store
    assert "right-key-123" not in config_file().read_text(encoding="utf-8")
    coder = dialog.models_page.editors["coder"].combo
    assert coder.findText("localtest:model-a") >= 0


def test_a_wrong_key_shows_an_error_on_401(qtbot, dialog, memory_keyring):
    from agents.cassette import Cassette
    from tests.support.openai_server import CassetteServer

    with CassetteServer(Cassette([]), api_key="right-key-123") as server:
        page = add_provider_through_the_tab(qtbot, dialog, "localtest", server.base_url,
                                            "wrong-key-456")
        row = page.rows["localtest"]
        qtbot.waitUntil(lambda: row.status.state == "error", timeout=WAIT_MS)
        assert row.state_text() == "Error"
        assert "refused" in row.message.text() and "wrong-key-456" not in row.message.text()
        assert not row.models.isVisible()
        # setting the right key through "Set key" makes it valid
        qtbot.mouseClick(row.key_button, Qt.MouseButton.LeftButton)
        fix = page.add_dialog
        assert fix is not None and fix.name_edit.isReadOnly()
        assert fix.url_edit.text() == server.base_url.rstrip("/")
        qtbot.keyClicks(fix.key_edits[0], "right-key-123")
        qtbot.mouseClick(fix.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.rows["localtest"].status.state == "valid",
                        timeout=WAIT_MS)


def test_a_bad_provider_address_is_refused_in_the_add_dialog(qtbot, dialog, memory_keyring):
    dialog.show_tab("providers")
    page = dialog.providers_page
    add = page.open_add_dialog()
    qtbot.keyClicks(add.name_edit, "bad")
    qtbot.keyClicks(add.url_edit, "ftp://nowhere")
    add.save()
    qtbot.waitUntil(lambda: "http" in add.message.text(), timeout=WAIT_MS)
    assert add.isVisible() and add.message.kind() == "error"
    assert "bad" not in page.rows


def test_without_a_keyring_the_providers_tab_says_so(qtbot, dialog):
    dialog.show_tab("providers")
    page = dialog.providers_page
    qtbot.waitUntil(lambda: "keyring" in page.keyring_note.text(), timeout=WAIT_MS)
    assert "environment variable" in page.keyring_note.text()
    assert page.rows["openai"].keys.text() == "Keys: 1"  # the planted OPENAI_API_KEY


# -- Models, General, Sandbox --------------------------------------------------------------


def test_an_invalid_model_is_shown_inline_and_a_valid_one_is_saved(qtbot, dialog, bridge):
    dialog.show_tab("models")
    page = dialog.models_page
    page.editors["coder"].combo.setCurrentText("no-colon-here")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.kind() == "error" and bool(page.message.text()),
                    timeout=WAIT_MS)
    assert "coder" in page.message.text()
    page.editors["coder"].combo.setCurrentText("replay:notes-sqlite")
    page.editors["coder"].fallbacks.setText("deepseek:deepseek-chat")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bridge.settings.models.coder == ["replay:notes-sqlite",
                                                             "deepseek:deepseek-chat"],
                    timeout=WAIT_MS)
    assert page.message.text() == "Saved."


def test_switching_the_language_changes_the_visible_texts(qtbot, dialog, bridge):
    from ui.desktop.i18n import set_language

    dialog.show_tab("general")
    page = dialog.general_page
    assert dialog.tab_titles()[0] == "Status"
    try:
        page.language.setCurrentIndex(page.language.findData("ru"))
        qtbot.waitUntil(lambda: dialog.tab_titles()[0] == "Состояние", timeout=WAIT_MS)
        assert "Поставщики и ключи" in dialog.tab_titles()
        assert dialog.windowTitle() == "Настройки"
        assert dialog.status_page.rows["sandbox"].title.text() == "Песочница"
        qtbot.waitUntil(lambda: bridge.settings.ui.language == "ru", timeout=WAIT_MS)
        page.language.setCurrentIndex(page.language.findData("en"))
        qtbot.waitUntil(lambda: dialog.tab_titles()[0] == "Status", timeout=WAIT_MS)
    finally:
        set_language("en")


def test_the_dark_theme_applies_a_dark_palette(qtbot, dialog, bridge):
    app = QApplication.instance()
    palette, sheet, style = app.palette(), app.styleSheet(), app.style().name()
    dialog.show_tab("general")
    page = dialog.general_page
    try:
        page.theme.setCurrentIndex(page.theme.findData("dark"))
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 128
        qtbot.waitUntil(lambda: bridge.settings.ui.theme == "dark", timeout=WAIT_MS)
        page.theme.setCurrentIndex(page.theme.findData("light"))
        assert app.palette().color(QPalette.ColorRole.Window).lightness() >= 128
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)
        app.setStyle(style)


def test_choosing_the_local_backend_warns_that_it_is_not_sandboxed(qtbot, dialog, bridge):
    dialog.show_tab("sandbox")
    page = dialog.sandbox_page
    assert page.selected_backend() == "local"  # the isolated environment chooses it
    assert "NOT SANDBOXED" in page.warning.text()
    assert "MULTICODER_SANDBOX__BACKEND" in page.override.text()
    page.backend.setCurrentIndex(page.backend.findData("auto"))
    assert page.warning.text() == ""
    page.memory_mb.setValue(1024)
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bridge.settings.sandbox.memory_mb == 1024, timeout=WAIT_MS)


def test_a_sandbox_and_model_change_in_the_dialog_reaches_the_next_run(
        qtbot, isolated_settings, make_bridge, monkeypatch):
    """The engine was loaded with Docker and one coder model; the dialog switches both."""
    from graph.settings import Settings, config_file
    from ui.desktop.settings import SettingsDialog

    monkeypatch.delenv("MULTICODER_SANDBOX__BACKEND")  # the file decides
    for role in ("planner", "judge"):
        monkeypatch.setenv(f"MULTICODER_MODELS__{role.upper()}", "replay:notes-sqlite")
    config_file().write_text("[sandbox]\nbackend = 'docker'\n\n[models]\n"
                             "coder = ['replay:csv2xlsx-gui']\n", encoding="utf-8")
    bridge = make_bridge(Settings())
    with qtbot.waitSignal(bridge.ready, timeout=ENGINE_WAIT_MS):
        bridge.load()
    assert bridge.engine.settings.sandbox.backend == "docker"
    dlg = SettingsDialog(bridge)
    qtbot.addWidget(dlg)
    dlg.show()

    dlg.show_tab("sandbox")
    sandbox = dlg.sandbox_page
    sandbox.backend.setCurrentIndex(sandbox.backend.findData("local"))
    qtbot.mouseClick(sandbox.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bridge.settings.sandbox.backend == "local", timeout=WAIT_MS)
    dlg.show_tab("models")
    models = dlg.models_page
    models.editors["coder"].combo.setCurrentText("replay:notes-sqlite")
    models.editors["coder"].fallbacks.setText("")
    qtbot.mouseClick(models.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bridge.settings.models.coder == ["replay:notes-sqlite"],
                    timeout=WAIT_MS)

    run_id = bridge.coordinator.start("a notes manager")
    run = json.loads((bridge.settings.runs_dir / run_id / "run.json").read_text("utf-8"))
    assert run["sandbox"] == "local"
    assert run["models"]["coder"] == ["replay:notes-sqlite"]
    bridge.coordinator.cancel(run_id)


def test_changing_the_data_folder_says_the_data_stays_behind(qtbot, dialog, bridge, tmp_path,
                                                            monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from graph.settings import config_file

    old = bridge.settings.data_dir
    new = tmp_path / "elsewhere"
    new.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(new))
    dialog.show_tab("general")
    page = dialog.general_page

    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.No)
    qtbot.mouseClick(page.change_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and str(old) in asked[0] and str(new) in asked[0]
    assert "does not move your data" in asked[0]
    assert page.data_dir.text() == str(old) and bridge.settings.data_dir == old

    answer_boxes(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(page.change_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.kind() == "warning" and bool(page.message.text()),
                    timeout=WAIT_MS)
    assert str(new) in config_file().read_text(encoding="utf-8")  # saved (the environment's
    # MULTICODER_DATA_DIR of the test still wins)
    assert str(old) in page.message.text() and "stay in" in page.message.text()


# -- Data ----------------------------------------------------------------------------------


def test_an_export_without_keys_holds_no_key_and_one_with_keys_is_encrypted(
        qtbot, dialog, memory_keyring, tmp_path, monkeypatch):
    from graph.control import add_provider

    add_provider("mine", "http://127.0.0.1:9/v1", ["secret-key-789"])
    dialog.show_tab("data")
    page = dialog.data_page
    plain, sealed = tmp_path / "plain.json", tmp_path / "sealed.json"

    monkeypatch.setattr(page, "ask_save_path", lambda *a: plain)
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "exported" in page.message.text(), timeout=WAIT_MS)
    text = plain.read_text(encoding="utf-8")
    assert "secret-key-789" not in text and json.loads(text)["keys"] is None
    assert "mine" in json.loads(text)["settings_toml"]

    page.include_keys.setChecked(True)
    monkeypatch.setattr(page, "ask_save_path", lambda *a: sealed)
    answers = iter(["long enough pass", "a different one!"])
    monkeypatch.setattr(page, "ask_passphrase", lambda *a: next(answers))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "The two passphrases differ." and not sealed.exists()
    monkeypatch.setattr(page, "ask_passphrase", lambda *a: "long enough pass")
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sealed.exists() and "exported" in page.message.text(),
                    timeout=WAIT_MS)
    text = sealed.read_text(encoding="utf-8")
    assert "secret-key-789" not in text and json.loads(text)["keys"] is not None

    # importing it with the passphrase restores the key into the keyring
    memory_keyring.store.clear()
    monkeypatch.setattr(page, "ask_open_path", lambda *a: sealed)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "imported" in page.message.text(), timeout=WAIT_MS)
    assert memory_keyring.store[("multicoder", "mine")] == "secret-key-789"


def test_an_import_that_moves_where_a_key_is_sent_asks_and_declined_does_nothing(
        qtbot, dialog, bridge, memory_keyring, tmp_path, monkeypatch):
    from graph.control import add_provider, export_settings
    from graph.settings import config_file

    add_provider("mine", "https://good.example/v1", ["secret-key-789"])
    bridge.reload_settings()
    exported = tmp_path / "export.json"
    export_settings(exported)
    payload = json.loads(exported.read_text(encoding="utf-8"))
    payload["settings_toml"] = payload["settings_toml"].replace("https://good.example/v1",
                                                                "https://attacker.example/v1")
    exported.write_text(json.dumps(payload), encoding="utf-8")
    before = config_file().read_text(encoding="utf-8")

    dialog.show_tab("data")
    page = dialog.data_page
    monkeypatch.setattr(page, "ask_open_path", lambda *a: exported)
    asked = answer_boxes(monkeypatch, QMessageBox.StandardButton.No)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text() == "Nothing was imported.", timeout=WAIT_MS)
    assert len(asked) == 1 and "attacker.example" in asked[0]
    assert config_file().read_text(encoding="utf-8") == before
    assert bridge.settings.providers["mine"].base_url == "https://good.example/v1"
    assert page.import_button.isEnabled()

    answer_boxes(monkeypatch, QMessageBox.StandardButton.Yes)  # accepted: imported
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "imported" in page.message.text(), timeout=WAIT_MS)
    assert bridge.settings.providers["mine"].base_url == "https://attacker.example/v1"


def test_chats_are_exported_as_json(qtbot, dialog, bridge, tmp_path, monkeypatch):
    chat = bridge.store.create_chat("Timer app")
    target = tmp_path / "chats.json"
    dialog.show_tab("data")
    page = dialog.data_page
    monkeypatch.setattr(page, "ask_save_path", lambda *a: target)
    qtbot.mouseClick(page.chats_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "exported" in page.message.text(), timeout=WAIT_MS)
    chats = json.loads(target.read_text(encoding="utf-8"))["chats"]
    assert [c["title"] for c in chats] == ["Timer app"] and chats[0]["chat_id"] == chat.chat_id


# -- Task manager --------------------------------------------------------------------------


def test_the_task_manager_lists_a_run_and_cancel_cancels_it(qtbot, bridge):
    from ui.desktop.tasks import TaskManager

    manager = TaskManager(bridge)
    qtbot.addWidget(manager)
    manager.show()
    assert manager.state.text() == "Starting…"
    with qtbot.waitSignal(bridge.ready, timeout=ENGINE_WAIT_MS):
        bridge.load()
    run_id = bridge.coordinator.start(
        "a notes manager", models={r: ["replay:notes-sqlite"] for r in
                                   ("planner", "coder", "judge")}, sandbox="local")

    def status():
        return next((i.status for i in manager.infos if i.run_id == run_id), None)

    # the engine's first run imports its safety classifier (scikit-learn) before its first
    # step: about 8 s on an idle machine, more on a busy one
    qtbot.waitUntil(lambda: status() == "waiting", timeout=3 * WAIT_MS)
    assert manager.select_run(run_id)
    row = manager.table.currentRow()
    assert manager.table.item(row, 0).text() == "a notes manager"
    assert manager.table.cellWidget(row, 2).value() > 0
    assert manager.cancel_button.isEnabled() and not manager.resume_button.isEnabled()
    qtbot.mouseClick(manager.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status() == "cancelled", timeout=WAIT_MS)
    assert manager.selected() is not None and manager.selected().run_id == run_id
    assert manager.resume_button.isEnabled() and not manager.cancel_button.isEnabled()
    assert manager.table.item(row, 1).text() == "Cancelled"


def test_every_control_has_an_accessible_name_and_a_tooltip(qtbot, dialog, bridge):
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QListWidget,
        QTableWidget,
    )

    from ui.desktop.tasks import TaskManager

    manager = TaskManager(bridge)
    qtbot.addWidget(manager)
    wait_for_status(qtbot, dialog)
    qtbot.waitUntil(lambda: "openai" in dialog.providers_page.rows, timeout=WAIT_MS)
    add = dialog.providers_page.open_add_dialog()
    kinds = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QListWidget, QTableWidget)
    missing = []
    for root in (dialog, add, manager):
        for kind in kinds:
            for control in root.findChildren(kind):
                if isinstance(control.parent(), QComboBox | QAbstractSpinBox) or \
                        type(control).__name__ == "QAbstractButton":  # a table's corner
                    continue
                if not control.accessibleName() or not control.toolTip():
                    missing.append(f"{type(root).__name__}: {type(control).__name__}"
                                   f" {control.accessibleName()!r}")
    assert not missing
