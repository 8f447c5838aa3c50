"""A code block of a message: language label, Copy and Save, Pygments highlighting (U1).

:class:`CodeBlock` shows one code fence in a read-only monospace editor that fits its lines
(up to :data:`MAX_LINES`, then it scrolls) and never wraps. :class:`PygmentsHighlighter`
colours it line by line through ``QSyntaxHighlighter``; for Pygments' regex lexers the lexer
state at the end of each line is kept as the block state, so a multi-line string stays a
string and appending a line re-highlights only that line. The highlighter is created the
first time the block is shown, with a light or dark Pygments style chosen from the palette,
and re-styled when the palette changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QIODevice,
    QSaveFile,
    QSize,
    QStandardPaths,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPalette,
    QShowEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon

__all__ = ["MAX_LINES", "CodeBlock", "PygmentsHighlighter", "code_block_style",
           "is_dark_palette", "shared_icon"]

#: A code block shows at most this many lines before it scrolls.
MAX_LINES = 28
#: Pygments styles for light and dark palettes.
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
#: Lines coloured per event-loop turn until a block has caught up.
CHUNK_LINES = 16
_ALL = 1 << 62
#: How long the Copy button says "Copied", in milliseconds.
COPIED_MS = 2000

#: File name suffixes offered by Save, by language.
_SUFFIXES = {
    "python": "py", "py": "py", "python3": "py", "bash": "sh", "sh": "sh", "shell": "sh",
    "zsh": "sh", "console": "txt", "javascript": "js", "js": "js", "typescript": "ts",
    "ts": "ts", "json": "json", "html": "html", "css": "css", "yaml": "yaml", "yml": "yaml",
    "toml": "toml", "ini": "ini", "sql": "sql", "c": "c", "cpp": "cpp", "c++": "cpp",
    "rust": "rs", "go": "go", "java": "java", "markdown": "md", "md": "md", "xml": "xml",
    "powershell": "ps1", "dockerfile": "Dockerfile", "diff": "diff", "csv": "csv",
}

register({
    "Copy": "Копировать",
    "Copied": "Скопировано",
    "Save": "Сохранить",
    "Copy the code": "Скопировать код",
    "Save the code to a file": "Сохранить код в файл",
    "Save code": "Сохранение кода",
    "code": "код",
    "Code ({language})": "Код ({language})",
    "All files (*)": "Все файлы (*)",
    "Could not save": "Не удалось сохранить",
    "Could not save the file: {reason}. Choose another folder and try again.":
        "Не удалось сохранить файл: {reason}. Выберите другую папку и попробуйте ещё раз.",
})


@cache
def shared_icon(name: str) -> QIcon:
    """:func:`ui.desktop.icons.icon`, one shared instance per name.

    QIcon is implicitly shared and paints in the palette's colour at paint time, so sharing
    follows theme changes; making a new one per button would slow down opening a chat.
    """
    return icon(name)


def is_dark_palette(palette: QPalette | None = None) -> bool:
    """Whether ``palette`` (default: the application's) has a dark background."""
    if palette is None:
        palette = QApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


# -- highlighting -------------------------------------------------------------------------

def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
    from pygments.lexers.special import TextLexer  # type: ignore[import-untyped]
    from pygments.util import ClassNotFound  # type: ignore[import-untyped]

    try:
        return get_lexer_by_name(language.strip().lower()) if language.strip() else TextLexer()
    except ClassNotFound:
        return TextLexer()


def _regex_lex(lexer: Any, text: str, stack: list[str]) -> tuple[list[tuple[int, Any, str]],
                                                                   list[str]]:
    """Pygments' ``RegexLexer.get_tokens_unprocessed`` (BSD-licensed, the same loop).

    Returns the tokens ``[(offset, token type, text)]`` and the state stack the lexer ends
    with, so the next line can start from it.
    """
    from pygments.token import Error, Whitespace, _TokenType  # type: ignore[import-untyped]

    tokens: list[tuple[int, Any, str]] = []
    pos = 0
    tokendefs = lexer._tokens
    statestack = list(stack)
    statetokens = tokendefs[statestack[-1]]
    while True:
        for rexmatch, action, new_state in statetokens:
            m = rexmatch(text, pos)
            if not m:
                continue
            if action is not None:
                if type(action) is _TokenType:
                    tokens.append((pos, action, m.group()))
                else:
                    tokens.extend(action(lexer, m))
            pos = m.end()
            if new_state is not None:
                if isinstance(new_state, tuple):
                    for state in new_state:
                        if state == "#pop":
                            if len(statestack) > 1:
                                statestack.pop()
                        elif state == "#push":
                            statestack.append(statestack[-1])
                        else:
                            statestack.append(state)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(statestack):
                        del statestack[1:]
                    else:
                        del statestack[new_state:]
                elif new_state == "#push":
                    statestack.append(statestack[-1])
                statetokens = tokendefs[statestack[-1]]
            break
        else:
            if pos >= len(text):
                return tokens, statestack
            if text[pos] == "\n":
                statestack = ["root"]
                statetokens = tokendefs["root"]
                tokens.append((pos, Whitespace, "\n"))
            else:
                tokens.append((pos, Error, text[pos]))
            pos += 1


class PygmentsHighlighter(QSyntaxHighlighter):
    """Highlights a document with Pygments, one line (text block) at a time.

    A document is coloured progressively, :data:`CHUNK_LINES` lines per event-loop turn
    (Pygments takes a fraction of a millisecond per line, so a long block coloured at once
    would freeze the window); once it has caught up, new lines are coloured as they arrive.

    Args:
        document: the document to colour.
        language: a Pygments lexer name or alias (``python``, ``bash``, ``js``...); unknown
            or empty means plain text (no colours).
        dark: use the dark style (:data:`DARK_STYLE`) rather than the light one.

    """

    def __init__(self, document: QTextDocument, language: str, dark: bool) -> None:
        super().__init__(document)
        from pygments.lexer import RegexLexer  # type: ignore[import-untyped]

        self._lexer = _lexer(language)
        own = type(self._lexer).get_tokens_unprocessed
        self._regex = isinstance(self._lexer, RegexLexer) and hasattr(self._lexer, "_tokens")
        #: the lexer post-processes tokens itself but still takes a start state
        code = getattr(own, "__code__", None)
        takes_stack = code is not None and "stack" in code.co_varnames[:code.co_argcount]
        self._own_tokens = self._regex and own is not RegexLexer.get_tokens_unprocessed and \
            takes_stack
        if self._regex and own is not RegexLexer.get_tokens_unprocessed \
                and not self._own_tokens:
            self._regex = False
        self._states: list[tuple[str, ...]] = [("root",)]
        self._state_ids: dict[tuple[str, ...], int] = {("root",): 0}
        self._formats: dict[Any, QTextCharFormat | None] = {}
        self._style: Any = None
        self._dark = dark
        self._load_style(dark)
        self._ready = -1  # blocks numbered above this wait for the progressive pass
        self._done = -1  # the highest block coloured in this pass
        QTimer.singleShot(0, self, self._advance)

    def caught_up(self) -> bool:
        """Whether every line has been coloured (new lines are coloured at once)."""
        return self._ready == _ALL

    def _advance(self) -> None:
        document = self.document()
        if document is None or self._ready == _ALL:
            return
        start = self._ready + 1
        self._ready = start + CHUNK_LINES - 1
        block = document.findBlockByNumber(start)
        while block.isValid() and block.blockNumber() <= self._ready:
            if block.blockNumber() > self._done:
                self.rehighlightBlock(block)
            block = block.next()
        if self._ready >= document.blockCount() - 1:
            self._ready = _ALL
        else:
            QTimer.singleShot(0, self, self._advance)

    @property
    def lexer_name(self) -> str:
        """The Pygments lexer's name (``Python``, ``Bash``, ``Text only``...)."""
        return str(self._lexer.name)

    def set_dark(self, dark: bool) -> None:
        """Switch between the light and the dark style and re-colour the document."""
        if dark != self._dark:
            self._dark = dark
            self._load_style(dark)
            restart = self._ready == _ALL
            self._ready = self._done = -1
            if restart:
                QTimer.singleShot(0, self, self._advance)

    def _load_style(self, dark: bool) -> None:
        from pygments.styles import get_style_by_name  # type: ignore[import-untyped]

        self._style = get_style_by_name(DARK_STYLE if dark else LIGHT_STYLE)
        self._formats = {}

    def _format(self, ttype: Any) -> QTextCharFormat | None:
        if ttype in self._formats:
            return self._formats[ttype]
        fmt: QTextCharFormat | None = None
        known = ttype
        while not self._style.styles_token(known) and known.parent is not None:
            known = known.parent
        if self._style.styles_token(known):
            spec = self._style.style_for_token(known)
            if spec["color"] or spec["bold"] or spec["italic"] or spec["underline"]:
                fmt = QTextCharFormat()
                if spec["color"]:
                    fmt.setForeground(QColor("#" + spec["color"]))
                if spec["bold"]:
                    fmt.setFontWeight(QFont.Weight.Bold)
                if spec["italic"]:
                    fmt.setFontItalic(True)
                if spec["underline"]:
                    fmt.setFontUnderline(True)
        self._formats[ttype] = fmt
        return fmt

    def _tokens(self, text: str, stack: list[str]) -> tuple[Iterator[tuple[int, Any, str]],
                                                           list[str]]:
        if not self._regex:
            return iter(self._lexer.get_tokens_unprocessed(text)), ["root"]
        tokens, end = _regex_lex(self._lexer, text, stack)
        if self._own_tokens:
            return iter(self._lexer.get_tokens_unprocessed(text, stack=tuple(stack))), end
        return iter(tokens), end

    def highlightBlock(self, text: str) -> None:
        """Colour one line; its end state becomes the block state (Qt calls this)."""
        number = self.currentBlock().blockNumber()
        if number > self._ready:
            return  # the progressive pass comes here later
        self._done = max(self._done, number)
        previous = self.previousBlockState()
        stack = list(self._states[previous]) if 0 <= previous < len(self._states) \
            else ["root"]
        tokens, end = self._tokens(text + "\n", stack)
        wide = any(ord(char) > 0xFFFF for char in text)
        length = len(text.encode("utf-16-le")) // 2 if wide else len(text)
        for pos, ttype, value in tokens:
            fmt = self._format(ttype)
            if fmt is None or not value:
                continue
            start = len(text[:pos].encode("utf-16-le")) // 2 if wide else pos
            size = len(value.encode("utf-16-le")) // 2 if wide else len(value)
            size = min(size, length - start)
            if size > 0:
                self.setFormat(start, size, fmt)
        key = tuple(end)
        state = self._state_ids.get(key)
        if state is None:
            state = self._state_ids[key] = len(self._states)
            self._states.append(key)
        self.setCurrentBlockState(state)


# -- the widget ----------------------------------------------------------------------------

def code_block_style(palette: QPalette) -> str:
    """The style sheet rules for code blocks, coloured from ``palette``.

    The chat view sets them once for all its blocks (a style sheet per block would make
    opening a long chat slow); a block shown elsewhere gets them with ``setStyleSheet``.
    """
    R = QPalette.ColorRole  # noqa: N806

    def colour(role: QPalette.ColorRole) -> str:
        return palette.color(role).name()

    return (
        f"QFrame#codeBlock {{ background: {colour(R.AlternateBase)};"
        f" border: 1px solid {colour(R.Mid)}; border-radius: 0.6em; }}"
        f" QWidget#codeHeader {{ background: {colour(R.Midlight)};"
        " border-top-left-radius: 0.6em; border-top-right-radius: 0.6em; }"
        f" QLabel#codeLanguage {{ color: {colour(R.PlaceholderText)}; }}"
        f" QPlainTextEdit#codeText {{ background: {colour(R.AlternateBase)};"
        f" color: {colour(R.Text)}; border: none;"
        " border-bottom-left-radius: 0.6em; border-bottom-right-radius: 0.6em; }"
    )


class _CodeEdit(QPlainTextEdit):
    """Read-only, unwrapped monospace text whose height fits its lines (up to MAX_LINES)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeText")
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(QApplication.font().pointSizeF() * 0.95)
        self.setFont(font)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        self.horizontalScrollBar().rangeChanged.connect(self.fit_height)
        self.fit_height()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
            self.fit_height()

    def fit_height(self) -> None:
        """Set the height to show every line, at most :data:`MAX_LINES` (then scroll)."""
        lines = max(1, self.document().blockCount())
        shown = min(lines, MAX_LINES)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if lines > MAX_LINES
                                        else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        height = shown * self.fontMetrics().lineSpacing() \
            + 2 * int(self.document().documentMargin()) + 2 * self.frameWidth() + 1
        bar = self.horizontalScrollBar()
        if bar.maximum() > 0:
            height += bar.sizeHint().height()
        if self.height() != height or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:
        """Wide as the parent allows, high as :meth:`fit_height` says."""
        return QSize(super().sizeHint().width(), self.height())


class CodeBlock(Retranslatable, QFrame):
    """One code block: a header (language, Copy, Save) over the highlighted code.

    Args:
        language: the fence's language (``python``, ``bash``...; ``""`` for none).
        text: the code (no final newline needed).
        parent: the parent widget.

    Signals:
        copied(): the code was put on the clipboard.

    Attributes:
        language_label, copy_button, save_button (QToolButton), editor (QPlainTextEdit).

    """

    copied = Signal()

    def __init__(self, language: str = "", text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self._language = language
        self._text = ""
        self._highlighter: PygmentsHighlighter | None = None
        self._copied = False

        self._header = QWidget(self)
        self._header.setObjectName("codeHeader")
        self.language_label = QLabel(self._header)
        self.language_label.setObjectName("codeLanguage")
        self.copy_button = QToolButton(self._header)
        self.copy_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.copy_button.setIcon(shared_icon("copy"))
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QToolButton(self._header)
        self.save_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.save_button.setIcon(shared_icon("download"))
        self.save_button.clicked.connect(self.save)
        header = QHBoxLayout(self._header)
        em = self.fontMetrics().horizontalAdvance("M")
        header.setContentsMargins(em, em // 5, em // 3, em // 5)
        header.setSpacing(em // 3)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        header.addWidget(self.save_button)

        self.editor = _CodeEdit(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        layout.addWidget(self._header)
        layout.addWidget(self.editor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_code(text)
        self.retranslate()

    # -- content ---------------------------------------------------------------------------

    def language(self) -> str:
        """The language label's source (as given, may be ``""``)."""
        return self._language

    def text(self) -> str:
        """The code shown."""
        return self._text

    def highlighter(self) -> PygmentsHighlighter | None:
        """The highlighter (None until the block has been shown once)."""
        return self._highlighter

    def set_language(self, language: str) -> None:
        """Change the language (a streamed fence's info line may arrive in pieces)."""
        if language == self._language:
            return
        self._language = language
        self.retranslate()
        if self._highlighter is not None:
            self._highlighter.setDocument(None)
            self._highlighter.deleteLater()
            self._highlighter = PygmentsHighlighter(self.editor.document(), language,
                                                    is_dark_palette())

    def set_code(self, text: str) -> None:
        """Show ``text``; when it extends the code shown, only the new part is added."""
        if text == self._text:
            return
        if text.startswith(self._text) and self._text:
            self.append_text(text[len(self._text):])
            return
        self._text = text
        self.editor.setPlainText(text)
        self.editor.fit_height()

    def append_text(self, delta: str) -> None:
        """Add streamed code at the end (re-highlights only the lines it touches)."""
        if not delta:
            return
        bar = self.editor.verticalScrollBar()
        follow = bar.value() >= bar.maximum()
        self._text += delta
        cursor = QTextCursor(self.editor.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(delta)
        self.editor.fit_height()
        if follow:
            bar.setValue(bar.maximum())

    # -- actions ---------------------------------------------------------------------------

    def copy(self) -> None:
        """Put the code on the clipboard; the button says "Copied" for a moment."""
        QGuiApplication.clipboard().setText(self._text)
        self._copied = True
        self.copy_button.setIcon(shared_icon("check"))
        self.retranslate()
        QTimer.singleShot(COPIED_MS, self._uncopy)
        self.copied.emit()

    def _uncopy(self) -> None:
        self._copied = False
        self.copy_button.setIcon(shared_icon("copy"))
        self.retranslate()

    def suggested_file_name(self) -> str:
        """``snippet.<suffix>`` for the language (``snippet.txt`` when unknown)."""
        suffix = _SUFFIXES.get(self._language.strip().lower(), "txt")
        return suffix if suffix == "Dockerfile" else f"snippet.{suffix}"

    def save(self) -> None:
        """Ask where to save the code (a file dialog) and write it there as UTF-8.

        A failure to write is shown in a message box; cancelling does nothing.
        """
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        start = f"{folder}/{self.suggested_file_name()}" if folder else \
            self.suggested_file_name()
        path, _filter = QFileDialog.getSaveFileName(self, tr("Save code"), start,
                                                    tr("All files (*)"))
        if path:
            self.write_to(path)

    def write_to(self, path: str) -> bool:
        """Write the code (plus a final newline) to ``path``; False after showing why not."""
        file = QSaveFile(path)
        data = self._text if self._text.endswith("\n") else self._text + "\n"
        ok = file.open(QIODevice.OpenModeFlag.WriteOnly) and \
            file.write(QByteArray(data.encode("utf-8"))) >= 0 and file.commit()
        if not ok:
            reason = file.errorString()
            file.cancelWriting()
            QMessageBox.warning(self, tr("Could not save"), tr(
                "Could not save the file: {reason}. Choose another folder and try again."
            ).format(reason=reason))
        return bool(ok)

    # -- Qt --------------------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set the visible texts in the current language."""
        self.language_label.setText(self._language or tr("code"))
        self.copy_button.setText(tr("Copied") if self._copied else tr("Copy"))
        self.copy_button.setToolTip(tr("Copy the code"))
        self.copy_button.setAccessibleName(tr("Copy the code"))
        self.save_button.setText(tr("Save"))
        self.save_button.setToolTip(tr("Save the code to a file"))
        self.save_button.setAccessibleName(tr("Save the code to a file"))
        self.editor.setAccessibleName(tr("Code ({language})").format(
            language=self._language or tr("code")))

    def showEvent(self, event: QShowEvent) -> None:
        """Create the highlighter the first time the block is shown."""
        super().showEvent(event)
        if self._highlighter is None:
            self._highlighter = PygmentsHighlighter(self.editor.document(), self._language,
                                                    is_dark_palette())

    def changeEvent(self, event: QEvent) -> None:
        """Switch the Pygments style when the palette turns dark or light."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and self._highlighter is not None:
            self._highlighter.set_dark(is_dark_palette())
