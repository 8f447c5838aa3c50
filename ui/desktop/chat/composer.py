"""The composer: where the person types a request and attaches files (U1, issue 5 item 3).

A rounded box holding an editor that grows with its text (up to about ten lines, then it
scrolls), a + button to attach files, and the Send button (an arrow), which becomes Stop (a
square) while the chat's run works. Enter sends; Shift+Enter starts a new line; while an input
method composes text, keys go to it.

Files arrive by the + button, by drag and drop (on the composer, or on a window that calls
:meth:`Composer.watch_drops` / :meth:`Composer.handle_drop`) and by paste (file URLs, or an
image). Each attachment is a chip with its name, size, a progress bar while it is copied, and
a remove button. Copies run on the thread pool through :func:`graph.control.stage_attachment`
(the engine's side: chunked copy, 50 MB limit); progress reaches the chip through a queued
signal. A pasted image is encoded as PNG in memory and stored by
:func:`graph.control.stage_image`, also on the thread pool: the composer itself writes no
file. Files over 50 MB are refused at once, with a message above the editor.

While the window starts the run for a sent message the composer shows "Starting…"
(:meth:`Composer.set_starting`); Stop is offered at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QEvent,
    QFileInfo,
    QIODevice,
    QMimeData,
    QObject,
    QPoint,
    QRect,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QImage,
    QInputMethodEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QPlainTextEdit,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.chat.cards import STATUS_COLOURS, format_size
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.plain import plain_label, tooltip

__all__ = ["MAX_ATTACHMENT_BYTES", "MAX_LINES", "Composer"]

_log = logging.getLogger(__name__)

#: The largest file that can be attached (50 MB; the engine enforces the same limit).
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
#: The editor grows up to this many lines, then scrolls.
MAX_LINES = 10

register({
    "Describe the app to build…": "Опишите приложение, которое нужно собрать…",
    "Message": "Сообщение",
    "Attach files": "Прикрепить файлы",
    "Attach files (up to 50 MB each)": "Прикрепить файлы (до 50 МБ каждый)",
    "Send": "Отправить",
    "Send (Enter)": "Отправить (Enter)",
    "Stop": "Остановить",
    "Stop the run": "Остановить запуск",
    "Remove {name}": "Убрать {name}",
    "Copying {name}": "Копируется {name}",
    "{name} is larger than 50 MB: attach a smaller file":
        "{name} больше 50 МБ: прикрепите файл поменьше",
    "{name} is not a file: attach files only": "{name} — не файл: прикрепляйте только файлы",
    "The pasted image could not be saved: {problem}":
        "Не удалось сохранить вставленное изображение: {problem}",
    "no image data": "нет данных изображения",
    "Starting…": "Запуск…",
    "Starting the run…": "Запуск…",
    "Stop starting this run": "Остановить запуск, не дожидаясь начала",
    "Attachments": "Вложения",
    "Dismiss": "Скрыть",
    "Hide these messages": "Скрыть эти сообщения",
})


def _em(widget: QWidget, factor: float) -> int:
    return max(1, round(widget.fontMetrics().height() * factor))


# -- the editor ------------------------------------------------------------------------------


class _Editor(QPlainTextEdit):
    """A plain-text editor that grows with its text and sends on Enter.

    Signals:
        submitted(): Enter (without Shift) was pressed outside input-method composition.

    Args:
        files: called with dropped or pasted data; returns True when it took them as files.
        accepts: whether such data is files it would take.

    """

    submitted = Signal()

    def __init__(self, files: Callable[[QMimeData], bool], accepts: Callable[[QMimeData], bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._files, self._accepts = files, accepts
        self._composing = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QPlainTextEdit { background: transparent; }")
        self.document().documentLayout().documentSizeChanged.connect(self._grow)

    def lines(self) -> int:
        """How many lines the text takes at the current width (wrapped lines count)."""
        return max(1, round(self.document().documentLayout().documentSize().height()))

    def _height_for(self, lines: int) -> int:
        margins = self.contentsMargins()
        # QPlainTextEdit shows its scroll bar unless one pixel more than the text is visible
        return (lines * QFontMetrics(self.font()).lineSpacing()
                + round(2 * self.document().documentMargin()) + 1 + margins.top()
                + margins.bottom())

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._height_for(min(self.lines(), MAX_LINES)))

    def minimumSizeHint(self) -> QSize:
        return QSize(_em(self, 4), self._height_for(1))

    def _grow(self) -> None:
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # wrapping changed

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        self._composing = bool(event.preeditString())
        super().inputMethodEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self._composing:
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if modifiers == Qt.KeyboardModifier.ShiftModifier:
                self.textCursor().insertText("\n")
                self.ensureCursorVisible()
                return
            if modifiers == Qt.KeyboardModifier.NoModifier:
                self.submitted.emit()
                return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return self._accepts(source) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if not self._files(source):
            super().insertFromMimeData(source)


# -- attachments -----------------------------------------------------------------------------


class _StageSignals(QObject):
    """A copy's news, emitted on a pool thread and delivered (queued) on the GUI thread."""

    progress = Signal(int, int)
    staged = Signal(str)
    failed = Signal(str)


class _CancelToken:
    """Set by the GUI thread, polled by the copy (a plain bool read is atomic under the GIL)."""

    def __init__(self) -> None:
        self.cancelled = False


class _StageJob(QRunnable):
    """Copies one file into the staging folder with ``stage_attachment``."""

    def __init__(self, stage: Callable[..., Path], source: Path, staging_dir: Path,
                 signals: _StageSignals, token: _CancelToken) -> None:
        super().__init__()
        self._stage, self._source, self._staging_dir = stage, source, staging_dir
        self._signals, self._token = signals, token

    def run(self) -> None:
        try:
            staged = self._stage(self._source, self._staging_dir,
                                 lambda done, total: self._signals.progress.emit(done, total),
                                 lambda: self._token.cancelled)
        except Exception as exc:  # shown in the composer, never lost (InputError: one sentence)
            _log.debug("staging %s failed", self._source, exc_info=True)
            self._signals.failed.emit(str(exc) or type(exc).__name__)
            return
        self._signals.staged.emit(str(staged))


class _ImageJob(QRunnable):
    """Encodes a pasted image as PNG (in memory) and stores it with ``stage_image``."""

    def __init__(self, image: QImage, staging_dir: Path, name: str,
                 signals: _StageSignals) -> None:
        super().__init__()
        self._image, self._staging_dir, self._signals = image, staging_dir, signals
        self._name = name

    def run(self) -> None:
        from graph.control import stage_image

        try:
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            if not self._image.save(buffer, "PNG"):  # type: ignore[call-overload]
                raise ValueError("the image could not be encoded as PNG")
            data = bytes(buffer.data().data())
            buffer.close()
            staged = stage_image(data, self._staging_dir, self._name)
        except Exception as exc:  # shown in the composer, never lost
            _log.debug("staging a pasted image failed", exc_info=True)
            self._signals.failed.emit(str(exc) or type(exc).__name__)
            return
        self._signals.staged.emit(str(staged))


class _Chip(Retranslatable, QFrame):
    """One attachment: file icon, name, size, progress while copying, remove button.

    Signals:
        removeRequested(object): the person clicked × (the chip itself).
        changed(): the copy finished (``staged`` is set).
        failed(object, str): the copy was refused (the chip, the reason).

    """

    removeRequested = Signal(object)
    changed = Signal()
    failed = Signal(object, str)

    def __init__(self, source: Path, size_bytes: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.size_bytes = size_bytes
        self.staged: Path | None = None
        self.token = _CancelToken()
        self.signals: _StageSignals | None = None
        self._glyph = QLabel()
        self._name = plain_label(QLabel())  # a file name may hold any character
        self._size = plain_label(QLabel())
        self._size.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(max(2, self.fontMetrics().height() // 4))
        self.remove = QToolButton()
        self.remove.setIcon(icon("x"))
        self.remove.clicked.connect(lambda: self.removeRequested.emit(self))
        text = QVBoxLayout()
        text.setSpacing(max(1, _em(self, 0.15)))
        text.addWidget(self._name)
        text.addWidget(self._size)
        text.addWidget(self.progress)
        layout = QHBoxLayout(self)
        pad = _em(self, 0.4)
        layout.setContentsMargins(pad, pad, pad // 2, pad)
        layout.setSpacing(pad)
        layout.addWidget(self._glyph)
        layout.addLayout(text)
        layout.addWidget(self.remove, 0, Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self._draw_glyph()
        self.retranslate()

    def retranslate(self) -> None:
        """Set the name (elided), size and the remove button's texts."""
        name = self.source.name
        self._name.setText(self.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle,
                                                         _em(self, 11)))
        self._name.setToolTip(tooltip(str(self.source)))
        self._size.setText(format_size(self.size_bytes))
        self.remove.setToolTip(tr("Remove {name}").format(name=name))
        self.remove.setAccessibleName(tr("Remove {name}").format(name=name))
        self.progress.setAccessibleName(tr("Copying {name}").format(name=name))
        self.setAccessibleName(f"{name}, {format_size(self.size_bytes)}")

    def _draw_glyph(self) -> None:
        side = _em(self, 1.6)
        pixmap: QPixmap = icon("file").pixmap(QSize(side, side), self.devicePixelRatioF())
        self._glyph.setPixmap(pixmap)

    def is_copying(self) -> bool:
        """Whether the copy has not finished yet."""
        return self.staged is None

    def set_progress(self, done: int, total: int) -> None:
        """The copy's progress (bytes copied of ``total``)."""
        self.progress.setValue(100 if total <= 0 else min(100, done * 100 // total))

    def set_staged(self, path: str) -> None:
        """The copy is complete at ``path`` (a size not known yet is read from it)."""
        self.staged = Path(path)
        if self.size_bytes <= 0:
            self.size_bytes = max(0, QFileInfo(path).size())
            self.retranslate()
        self.progress.setValue(100)
        self.progress.hide()
        self.changed.emit()

    def set_failed(self, reason: str) -> None:
        """The copy was refused or failed (ignored when the person removed the chip)."""
        if not self.token.cancelled:
            self.failed.emit(self, reason)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._draw_glyph()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(self.palette().color(QPalette.ColorRole.AlternateBase))
        radius = _em(self, 0.6)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5),
                                radius, radius)


class _FlowLayout(QLayout):
    """Lays widgets out left to right, wrapping to new rows (the attachment chips)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem:
        return self._items[index] if 0 <= index < len(self._items) else None  # type: ignore[return-value]

    def takeAt(self, index: int) -> QLayoutItem:
        return (self._items.pop(index) if 0 <= index < len(self._items)
                else None)  # type: ignore[return-value]

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        gap = max(0, self.spacing())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and row_height > 0:
                x, y, row_height = area.x(), y + row_height + gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + gap
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + margins.bottom()


class _SendButton(QToolButton):
    """The round Send / Stop button.

    A filled circle in the text colour with the glyph in the background colour (greyed
    while it cannot be used).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.glyph = "arrow-up"
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_glyph(self, name: str) -> None:
        """Show icon ``name``."""
        self.glyph = name
        self.update()

    def sizeHint(self) -> QSize:
        side = _em(self, 1.9)
        return QSize(side, side)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # the app's palette: this button's own has transparent roles from the style sheet
        palette = QApplication.palette()
        side = min(self.width(), self.height())
        circle = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        if self.isEnabled():
            fill = palette.color(QPalette.ColorRole.Text)
            if self.isDown():
                fill = fill.lighter(140) if fill.lightness() < 128 else fill.darker(130)
        else:
            fill = palette.color(QPalette.ColorRole.Mid)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawEllipse(circle.adjusted(1, 1, -1, -1))
        if self.hasFocus():
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(circle.adjusted(1, 1, -1, -1))
        glyph_side = round(side * 0.5)
        glyph_rect = QRect(round(circle.center().x() - glyph_side / 2),
                           round(circle.center().y() - glyph_side / 2), glyph_side, glyph_side)
        icon(self.glyph, palette.color(QPalette.ColorRole.Base)).paint(painter, glyph_rect)


class _Box(QFrame):
    """The composer's rounded outline (highlighted while files are dragged over it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drop_active = False

    def set_drop_active(self, active: bool) -> None:
        """Highlight the outline (a drag with files is over the window)."""
        self.drop_active = active
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        role = QPalette.ColorRole.Highlight if self.drop_active else QPalette.ColorRole.Mid
        width = 2 if self.drop_active else 1
        painter.setPen(QPen(palette.color(role), width))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        radius = _em(self, 1.1)
        inset = width / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(inset, inset, -inset, -inset),
                                radius, radius)


# -- the composer ----------------------------------------------------------------------------


class Composer(Retranslatable, QWidget):
    """The message box with attachments (see the module docstring).

    Args:
        staging_dir: where attached files are copied (and pasted images saved) until sent.
        parent: the owning widget.

    Signals:
        sendRequested(str, list): the text (stripped) and the staged attachments
            (``list[Path]``); the composer then empties itself (the window may put the text
            back with :meth:`set_text` if sending failed).
        stopRequested(): Stop was clicked while busy.

    """

    sendRequested = Signal(str, list)
    stopRequested = Signal()

    def __init__(self, staging_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._staging_dir = Path(staging_dir)
        self._busy = False
        self._starting = False
        self._chips: list[_Chip] = []
        #: Messages about refused files: (English template, its fields); a template of None
        #: stands for text from the engine, shown as it is (``fields["text"]``).
        self._notices: list[tuple[str | None, dict[str, str]]] = []
        self.setAcceptDrops(True)

        self.box = _Box()
        self.editor = _Editor(self.handle_drop, self.accepts_drop)
        self.editor.submitted.connect(self._submit)
        self.editor.textChanged.connect(self._update_send)
        self.attach_button = QToolButton()
        self.attach_button.setIcon(icon("plus"))
        self.attach_button.clicked.connect(self.choose_files)
        self.send_button = _SendButton()
        self.send_button.clicked.connect(self._send_clicked)

        self._chip_area = QWidget()
        self._chip_layout = _FlowLayout(self._chip_area)
        self._chip_layout.setContentsMargins(0, 0, 0, 0)
        self._chip_layout.setSpacing(_em(self, 0.4))
        self._chip_area.hide()
        self._notice = plain_label(QLabel())  # may hold the engine's refusal
        self._notice.setWordWrap(True)
        palette = self._notice.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(STATUS_COLOURS["red"]))
        self._notice.setPalette(palette)
        self._dismiss = QToolButton()
        self._dismiss.setIcon(icon("x"))
        self._dismiss.clicked.connect(self.clear_notices)
        notice_row = QHBoxLayout()
        notice_row.setContentsMargins(0, 0, 0, 0)
        notice_row.addWidget(self._notice, 1)
        notice_row.addWidget(self._dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self._notice_box = QWidget()
        self._notice_box.setLayout(notice_row)
        self._notice_box.hide()

        row = QHBoxLayout()
        row.setSpacing(_em(self, 0.4))
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.editor, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        inner = QVBoxLayout(self.box)
        pad = _em(self, 0.5)
        inner.setContentsMargins(pad, pad, pad, pad)
        inner.setSpacing(pad)
        inner.addWidget(self._chip_area)
        inner.addWidget(self._notice_box)
        inner.addLayout(row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.box)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setFocusProxy(self.editor)
        QWidget.setTabOrder(self.attach_button, self.editor)
        QWidget.setTabOrder(self.editor, self.send_button)
        self._update_send()
        self.retranslate()

    # -- public API ----------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set every visible text (placeholder, tooltips, accessible names, notices)."""
        self.editor.setPlaceholderText(tr("Starting the run…") if self._starting
                                       else tr("Describe the app to build…"))
        self.editor.setAccessibleName(tr("Message"))
        self.editor.setToolTip(tr("Describe the app to build…"))
        self.attach_button.setAccessibleName(tr("Attach files"))
        self.attach_button.setToolTip(tr("Attach files (up to 50 MB each)"))
        self._chip_area.setAccessibleName(tr("Attachments"))
        self._dismiss.setAccessibleName(tr("Dismiss"))
        self._dismiss.setToolTip(tr("Hide these messages"))
        self._update_send_texts()
        self._show_notices()

    def set_busy(self, busy: bool) -> None:
        """Show Stop instead of Send while the chat's run works (Enter then sends nothing).

        ``False`` also ends "Starting…" (:meth:`set_starting`).
        """
        self._busy = busy
        if not busy and self._starting:
            self._starting = False
            self.editor.setPlaceholderText(tr("Describe the app to build…"))
        self.send_button.set_glyph("square" if busy else "arrow-up")
        self._update_send_texts()
        self._update_send()

    def is_busy(self) -> bool:
        """Whether Stop is shown."""
        return self._busy

    def set_starting(self, starting: bool) -> None:
        """Show that the run of a sent message is being started ("Starting…"; Stop works).

        ``False`` goes back to the plain busy state (:meth:`set_busy` sets the rest).
        """
        self._starting = starting
        if starting:
            self.set_busy(True)
        else:
            self._update_send_texts()
        self.retranslate()

    def is_starting(self) -> bool:
        """Whether "Starting…" is shown."""
        return self._starting

    def focus_input(self) -> None:
        """Put the keyboard focus in the editor (Shift+Esc)."""
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def text(self) -> str:
        """The editor's text as typed."""
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the editor's text (cursor at the end)."""
        self.editor.setPlainText(text)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)

    def attachments(self) -> list[Path]:
        """The staged copies of the attachments whose copy has finished, in order."""
        return [chip.staged for chip in self._chips if chip.staged is not None]

    def is_copying(self) -> bool:
        """Whether an attachment is still being copied (Send waits for it)."""
        return any(chip.is_copying() for chip in self._chips)

    def notices(self) -> list[str]:
        """The messages about refused files shown now (in the interface's language)."""
        return [tr(template).format(**fields) if template else fields["text"]
                for template, fields in self._notices]

    def clear_notices(self) -> None:
        """Hide the messages about refused files."""
        self._notices.clear()
        self._show_notices()

    def clear(self) -> None:
        """Empty the editor and drop every attachment (copies in progress are cancelled)."""
        self.editor.clear()
        for chip in list(self._chips):
            self._remove_chip(chip)
        self.clear_notices()

    def choose_files(self) -> None:
        """Ask for files with the system's file dialog and attach them."""
        names, _filter = QFileDialog.getOpenFileNames(self, tr("Attach files"))
        if names:
            self.add_files([Path(name) for name in names])

    def add_files(self, paths: list[Path]) -> None:
        """Attach ``paths``: each file gets a chip and is copied into the staging folder.

        A path that is not a file, or a file over 50 MB, is refused at once with a message
        (nothing is copied); the copy's own refusal (:class:`graph.errors.InputError`) is shown
        the same way when it comes.
        """
        self.clear_notices()
        for path in paths:
            info = QFileInfo(str(path))
            if not info.isFile():
                self._add_notice("{name} is not a file: attach files only", name=path.name)
            elif info.size() > MAX_ATTACHMENT_BYTES:
                self._add_notice("{name} is larger than 50 MB: attach a smaller file",
                                 name=path.name)
            else:
                self._start_copy(Path(path), info.size())
        self._update_send()

    def accepts_drop(self, mime: QMimeData) -> bool:
        """Whether ``mime`` holds local files or an image (what a drop or paste attaches)."""
        return (any(url.isLocalFile() for url in mime.urls()) if mime.hasUrls()
                else mime.hasImage())

    def handle_drop(self, mime: QMimeData) -> bool:
        """Attach the local files (or the image) in ``mime``; False when it holds neither.

        Windows call this from their own drop handling (or use :meth:`watch_drops`).
        """
        if mime.hasUrls():
            paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
            if paths:
                self.add_files(paths)
                return True
        if mime.hasImage():
            self._attach_image(mime.imageData())
            return True
        return False

    def watch_drops(self, widget: QWidget) -> None:
        """Let files dropped anywhere on ``widget`` (e.g. the main window) be attached."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    # -- events --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Drops on a watched widget (see :meth:`watch_drops`)."""
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(
                event, QDragMoveEvent):
            if event.mimeData() is not None and self.accepts_drop(event.mimeData()):
                event.acceptProposedAction()
                self.box.set_drop_active(True)
                return True
        elif kind == QEvent.Type.DragLeave:
            self.box.set_drop_active(False)
        elif kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            self.box.set_drop_active(False)
            if event.mimeData() is not None and self.handle_drop(event.mimeData()):
                event.acceptProposedAction()
                return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and images (the outline lights up)."""
        if self.accepts_drop(event.mimeData()):
            event.acceptProposedAction()
            self.box.set_drop_active(True)
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Keep accepting files and images."""
        if self.accepts_drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        """Turn the outline's highlight off."""
        self.box.set_drop_active(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Attach the dropped files or image."""
        self.box.set_drop_active(False)
        if self.handle_drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    # -- internals -----------------------------------------------------------------------

    def _can_send(self) -> bool:
        return not self.is_copying() and (bool(self.text().strip()) or bool(self._chips))

    def _update_send(self) -> None:
        self.send_button.setEnabled(self._busy or self._can_send())

    def _update_send_texts(self) -> None:
        if self._busy and self._starting:
            self.send_button.setAccessibleName(tr("Starting…"))
            self.send_button.setToolTip(tr("Stop starting this run"))
        elif self._busy:
            self.send_button.setAccessibleName(tr("Stop"))
            self.send_button.setToolTip(tr("Stop the run"))
        else:
            self.send_button.setAccessibleName(tr("Send"))
            self.send_button.setToolTip(tr("Send (Enter)"))

    def _send_clicked(self) -> None:
        if self._busy:
            self.stopRequested.emit()
        else:
            self._submit()

    def _submit(self) -> None:
        if self._busy or not self._can_send():
            return
        text, paths = self.text().strip(), self.attachments()
        self.editor.clear()
        for chip in list(self._chips):
            self._drop_chip(chip)
        self.clear_notices()
        self._update_send()
        self.sendRequested.emit(text, paths)

    def _start_copy(self, source: Path, size_bytes: int) -> None:
        # looked up at each copy (kept off the window's first paint)
        from graph.control import stage_attachment

        chip = self._add_chip(source, size_bytes)
        signals = _StageSignals()
        chip.signals = signals  # kept alive with the chip
        queued = Qt.ConnectionType.QueuedConnection
        signals.progress.connect(chip.set_progress, queued)
        signals.staged.connect(chip.set_staged, queued)
        signals.failed.connect(chip.set_failed, queued)
        job = _StageJob(stage_attachment, source, self._staging_dir, signals,
                        chip.token)
        QThreadPool.globalInstance().start(job)

    def _add_chip(self, source: Path, size_bytes: int) -> _Chip:
        chip = _Chip(source, size_bytes)
        chip.removeRequested.connect(self._remove_chip)
        chip.changed.connect(self._update_send)
        chip.failed.connect(self._chip_failed)
        self._chips.append(chip)
        self._chip_layout.addWidget(chip)
        self._chip_area.show()
        self._chip_area.updateGeometry()
        return chip

    def _attach_image(self, data: object) -> None:
        """A pasted image: a chip at once; encoded and stored on the thread pool."""
        image = data if isinstance(data, QImage) else (
            data.toImage() if isinstance(data, QPixmap) else QImage())
        self.clear_notices()
        if image.isNull():
            self._add_notice("The pasted image could not be saved: {problem}",
                             problem=tr("no image data"))
            return
        # each image of one message has its own name: the run gets its inputs by name
        taken = {chip.source.name for chip in self._chips}
        name, n = "pasted-image.png", 2
        while name in taken:
            name, n = f"pasted-image-{n}.png", n + 1
        chip = self._add_chip(Path(name), 0)
        signals = _StageSignals()
        chip.signals = signals  # kept alive with the chip
        queued = Qt.ConnectionType.QueuedConnection
        signals.staged.connect(chip.set_staged, queued)
        signals.failed.connect(chip.set_failed, queued)
        QThreadPool.globalInstance().start(
            _ImageJob(image.copy(), self._staging_dir, name, signals))

    def _remove_chip(self, chip: _Chip) -> None:
        chip.token.cancelled = True
        if chip.staged is not None:  # taken back: the staged copy goes too
            from graph.control import discard_attachment

            discard_attachment(chip.staged, self._staging_dir)
        self._drop_chip(chip)
        self._update_send()
        self.editor.setFocus()

    def _drop_chip(self, chip: _Chip) -> None:
        if chip in self._chips:
            self._chips.remove(chip)
        self._chip_layout.removeWidget(chip)
        chip.hide()
        chip.deleteLater()
        self._chip_area.setVisible(bool(self._chips))

    def _chip_failed(self, chip: _Chip, reason: str) -> None:
        self._drop_chip(chip)
        self._notices.append((None, {"text": reason}))
        self._show_notices()
        self._update_send()

    def _add_notice(self, template: str, **fields: str) -> None:
        self._notices.append((template, fields))
        self._show_notices()

    def _show_notices(self) -> None:
        self._notices = self._notices[-4:]
        self._notice.setText("\n".join(self.notices()))
        self._notice_box.setVisible(bool(self._notices))
