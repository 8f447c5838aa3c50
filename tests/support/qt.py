"""Helpers for the desktop app's Qt tests: message boxes, the interface language, a keyring."""

from __future__ import annotations

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtWidgets import QMessageBox


@pytest.fixture(autouse=True)
def no_unexpected_boxes(monkeypatch):
    """A message box nobody expected fails the test instead of waiting for a click."""
    def unexpected(box):
        raise AssertionError(f"an unexpected message box: {box.text()!r}")

    monkeypatch.setattr(QMessageBox, "exec", unexpected)


def answer_boxes(monkeypatch, answer=QMessageBox.StandardButton.Yes):
    """Answer every message box with ``answer``; returns the list of their texts."""
    asked = []

    def exec_(box):
        asked.append(box.text())
        return answer

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return asked


@pytest.fixture
def english(qapp):
    """The interface in English, and English again afterwards."""
    from ui.desktop import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only (the OS one is never touched by tests)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture
def memory_keyring(isolated_settings):
    """A :class:`MemoryKeyring` installed for the test (the previous one restored after)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
