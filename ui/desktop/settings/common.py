"""Pieces the settings pages share: status dots, inline messages, guarded background calls.

Every slow or disk-touching call of the pages runs through :func:`call_async` (the bridge's
thread pool); its result comes back on the GUI thread and is dropped when the page has been
closed meanwhile. Engine errors (:class:`graph.errors.InputError`) become one sentence in an
:class:`InlineMessage`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from graph.errors import InputError
from graph.settings import env_override as _env_override
from ui.desktop.i18n import register, tr
from ui.desktop.icons import icon

if TYPE_CHECKING:
    from graph.control import ProviderStatus
    from ui.desktop.bridge import Bridge

__all__ = ["STATE_COLORS", "InlineMessage", "ProviderChecks", "call_async", "em",
           "env_override", "error_text", "state_icon"]

T = TypeVar("T")

#: The only hard-coded colours of the dialog: the status dots (green / yellow / red).
STATE_COLORS: dict[str, str] = {"ok": "#2e9d4f", "degraded": "#d9a400", "down": "#d93a3a"}

register({
    "Something went wrong: {0}": "Что-то пошло не так: {0}",
    "Set by the environment variable {0}, which overrides this setting.":
        "Задано переменной окружения {0}; она важнее этой настройки.",
})


def em(widget: QWidget) -> int:
    """The height of one line of ``widget``'s font, in device-independent pixels."""
    return max(1, widget.fontMetrics().height())


def state_icon(state: str) -> Any:
    """A filled dot in the colour of ``state`` (ok / degraded / down; grey-ish otherwise)."""
    color = STATE_COLORS.get(state)
    return icon("dot", color) if color else icon("dot")


def error_text(exc: BaseException) -> str:
    """One sentence for the person: an :class:`InputError` as it is, anything else wrapped."""
    if isinstance(exc, InputError):
        return str(exc)
    return tr("Something went wrong: {0}").format(str(exc) or type(exc).__name__)


def env_override(*path: str) -> str | None:
    """The ``MULTICODER_*`` variable overriding the setting at ``path``, or None.

    ``path`` is e.g. ``("sandbox", "backend")``; None when no such variable is set. The
    naming is pydantic-settings' own (:func:`graph.settings.env_override` reads the
    settings' ``env_prefix`` and ``env_nested_delimiter``).
    """
    return _env_override(*path)


def override_note(*path: str) -> str:
    """The sentence saying the setting at ``path`` is overridden ("" when it is not)."""
    name = env_override(*path)
    if name is None:
        return ""
    return tr("Set by the environment variable {0}, which overrides this setting.").format(name)


def call_async(bridge: Bridge, owner: QObject, fn: Callable[[], T],
               on_done: Callable[[T], None] | None = None,
               on_error: Callable[[Exception], None] | None = None) -> None:
    """Run ``fn`` on the bridge's thread pool; ``on_done``/``on_error`` on the GUI thread.

    The callbacks are skipped when ``owner`` has been deleted meanwhile (the dialog closed).
    """
    def done(value: T) -> None:
        if shiboken6.isValid(owner) and on_done is not None:
            on_done(value)

    def failed(exc: Exception) -> None:
        if shiboken6.isValid(owner) and on_error is not None:
            on_error(exc)

    bridge.run_async(fn, done, failed)


class InlineMessage(QWidget):
    """A one-paragraph message under a form: an error, a warning or a note (hidden when empty).

    ``text()`` returns what is shown; ``kind()`` is ``"error"``, ``"warning"`` or ``"info"``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind: Literal["error", "warning", "info"] = "info"
        self._icon = QLabel(self)
        self._label = QLabel(self)
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # engine and server sentences
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._label, 1)
        self.setVisible(False)

    def text(self) -> str:
        """The message shown ("" when none)."""
        return "" if self.isHidden() else self._label.text()

    def kind(self) -> str:
        """error, warning or info."""
        return self._kind

    def show_message(self, text: str,
                     kind: Literal["error", "warning", "info"] = "info") -> None:
        """Show ``text`` ("" hides the message)."""
        self._kind = kind
        if not text:
            self.clear()
            return
        name = {"error": "alert-triangle", "warning": "alert-triangle", "info": ""}[kind]
        size = self._label.fontMetrics().height()
        if name:
            color = STATE_COLORS["down"] if kind == "error" else STATE_COLORS["degraded"]
            self._icon.setPixmap(icon(name, color).pixmap(QSize(size, size),
                                                          self.devicePixelRatioF()))
        self._icon.setVisible(bool(name))
        self._label.setText(text)
        self._label.setAccessibleName(text)
        self.setVisible(True)

    def show_error(self, exc_or_text: BaseException | str) -> None:
        """Show an error (an exception becomes one sentence, see :func:`error_text`)."""
        text = exc_or_text if isinstance(exc_or_text, str) else error_text(exc_or_text)
        self.show_message(text, "error")

    def clear(self) -> None:
        """Hide the message."""
        self._label.clear()
        self.setVisible(False)


class ProviderChecks(QObject):
    """The results of provider checks made while the dialog is open, shared by its pages.

    The Providers tab stores each :class:`graph.control.ProviderStatus` a check returned; the
    Models tab offers the models of the valid ones as completions.

    Signals:
        changed(str): the provider whose result changed.

    """

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: dict[str, ProviderStatus] = {}

    def put(self, status: ProviderStatus) -> None:
        """Remember a check's result."""
        self._results[status.name] = status
        self.changed.emit(status.name)

    def forget(self, name: str) -> None:
        """Forget a provider's result (its key or URL changed, or it was removed)."""
        if self._results.pop(name, None) is not None:
            self.changed.emit(name)

    def get(self, name: str) -> ProviderStatus | None:
        """The last check of ``name`` (None when unchecked)."""
        return self._results.get(name)

    def results(self) -> Mapping[str, ProviderStatus]:
        """Every result, by provider name."""
        return dict(self._results)

    def model_refs(self) -> list[str]:
        """``provider:model`` for every model of every valid checked provider, sorted."""
        return sorted(f"{name}:{model}" for name, status in self._results.items()
                      if status.state == "valid" for model in status.models)
