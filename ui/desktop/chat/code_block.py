"""A code block of a message: language label, Copy and Save, Pygments highlighting (U1).

:class:`CodeBlock` shows one code fence in a read-only monospace editor that fits its lines
(up to :data:`MAX_LINES`, then it scrolls) and never wraps. :class:`PygmentsHighlighter`
colours it line by line through ``QSyntaxHighlighter``; for Pygments' regex lexers the lexer
state at the end of each line is kept as the block state, so a multi-line string stays a
string and appending a line re-highlights only that line. The highlighter is created the
first time the block is shown, with a light or dark Pygments style chosen from the palette,
and re-styled when the palette changes.

Pygments compiles a lexer's regular expressions the first time the lexer is used (20-70 ms
for Python, CSS or Markdown), which would freeze the window when a code block first appears
in a streamed answer. :func:`warm_up_highlighting` prepares the common lexers
(:data:`WARM_LANGUAGES`) and both styles while the app is idle, one small step per timer
tick on the GUI thread (no Qt object leaves it); :func:`postpone_warm_up` keeps the steps
away from a streaming answer.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from functools import cache, partial
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QIODevice,
    QObject,
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
    QTextBlockFormat,
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
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon

__all__ = ["MAX_LINES", "WARM_LANGUAGES", "CodeBlock", "PygmentsHighlighter", "code_block_style",
           "highlighting_warm", "is_dark_palette", "postpone_warm_up", "shared_icon",
           "warm_up_highlighting"]

#: A code block shows at most this many lines before it scrolls.
MAX_LINES = 28
#: Extra space between code lines, as a fraction of the line's height.
LINE_GAP = 0.25
#: Pygments styles for light and dark palettes.
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
#: Lines coloured per event-loop turn until a block has caught up.
CHUNK_LINES = 16
_ALL = 1 << 62
#: How long the Copy button says "Copied", in milliseconds.
COPIED_MS = 2000
#: Lexers prepared while the app is idle (the languages of most answers).
WARM_LANGUAGES = ("python", "bash", "json", "toml", "yaml", "text", "markdown", "sql",
                  "javascript", "html", "css", "ini")
#: The warm-up's steps are this far apart (milliseconds)...
WARM_STEP_MS = 30
#: ...and wait until this long after the last streamed text was shown (milliseconds).
WARM_QUIET_MS = 500

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

@cache
def _aliases() -> dict[str, str]:
    """Pygments' built-in lexers by alias (``py`` -> ``Python``); plugins are not scanned."""
    from pygments.lexers import get_all_lexers  # type: ignore[import-untyped]

    return {alias: name for name, aliases, *_rest in get_all_lexers(plugins=False)
            for alias in aliases}


@cache
def _lexer_class(language: str) -> Any:
    """The lexer class for a language name or alias; ``TextLexer`` when unknown or empty.

    Imports the lexer's module (the first time only); the class compiles its regular
    expressions when it is first instantiated.
    """
    from pygments.lexers import find_lexer_class
    from pygments.lexers.special import TextLexer  # type: ignore[import-untyped]

    name = _aliases().get(language.strip().lower())
    found = find_lexer_class(name) if name else None
    return found if found is not None else TextLexer


def _lexer(language: str) -> Any:
    return _lexer_class(language)()


@cache
def _style(dark: bool) -> Any:
    from pygments.styles import get_style_by_name  # type: ignore[import-untyped]

    return get_style_by_name(DARK_STYLE if dark else LIGHT_STYLE)


def _warm_steps() -> Iterator[Callable[[], object]]:
    """The warm-up, in steps of at most a few tens of milliseconds each."""
    yield _aliases
    yield lambda: _style(False)
    yield lambda: _style(True)
    for language in WARM_LANGUAGES:
        yield partial(_lexer_class, language)  # import the module
        yield partial(_lexer, language)  # compile its expressions


class _Warmer(QObject):
    """Runs :func:`_warm_steps` on the GUI thread, one step per timer tick when idle."""

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self._steps = _warm_steps()
        self._quiet_until = 0.0
        self.done = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._step)

    def start(self, delay_ms: int) -> None:
        if not self.done and not self._timer.isActive():
            self._timer.start(max(0, delay_ms))

    def postpone(self) -> None:
        self._quiet_until = time.monotonic() + WARM_QUIET_MS / 1000

    def _step(self) -> None:
        wait = self._quiet_until - time.monotonic()
        if wait > 0:
            self._timer.start(int(wait * 1000) + 1)
            return
        step = next(self._steps, None)
        if step is None:
            self.done = True
            return
        with contextlib.suppress(Exception):  # a broken lexer module: that language
            step()  # is prepared (or stays uncoloured) when a block needs it
        self._timer.start(WARM_STEP_MS)


_warmer: list[_Warmer] = []


def _the_warmer() -> _Warmer:
    if not _warmer:
        _warmer.append(_Warmer(QCoreApplication.instance()))
    return _warmer[0]


def warm_up_highlighting(delay_ms: int = 1000) -> None:
    """Prepare the lexers of :data:`WARM_LANGUAGES` and both styles while the app is idle.

    Starts ``delay_ms`` milliseconds from now (after the window's first paint, say); each
    step (an import or a lexer's compilation, at most tens of milliseconds) runs on its own
    timer tick, :data:`WARM_STEP_MS` apart, never within :data:`WARM_QUIET_MS` of
    :func:`postpone_warm_up`. Calling it again while it runs or after it finished does
    nothing. Needs a QCoreApplication.
    """
    _the_warmer().start(delay_ms)


def postpone_warm_up() -> None:
    """Keep the warm-up's next step :data:`WARM_QUIET_MS` away (text is streaming now)."""
    if _warmer:
        _warmer[0].postpone()


def highlighting_warm() -> bool:
    """Whether the warm-up has finished (a code block in those languages appears at once)."""
    return bool(_warmer) and _warmer[0].done


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
        self._style = _style(dark)
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
        f" QTextEdit#codeText {{ background: {colour(R.AlternateBase)};"
        f" color: {colour(R.Text)}; border: none;"
        " border-bottom-left-radius: 0.6em; border-bottom-right-radius: 0.6em; }"
    )


class _CodeEdit(QTextEdit):
    """Read-only, unwrapped monospace text whose height fits its lines (up to MAX_LINES).

    A QTextEdit rather than a QPlainTextEdit: only its layout honours a block's line height,
    and code needs some air between lines (:data:`LINE_GAP`), or an underscore, drawn at the
    very bottom of its line, touches the next line and all but disappears at scale 2.
    ``indent`` (pixels) is where the text starts, to line up with the header's label.
    """

    def __init__(self, indent: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._indent = indent
        self._format = QTextBlockFormat()
        self.setObjectName("codeText")
        self.setReadOnly(True)
        self.setAcceptRichText(False)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)
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
        self._apply_metrics()
        self.horizontalScrollBar().rangeChanged.connect(self.fit_height)

    def _apply_metrics(self) -> None:
        """Tab stops, margins and the line gap from the font (and the indent)."""
        metrics = self.fontMetrics()
        self.setTabStopDistance(4 * metrics.horizontalAdvance(" "))
        margin = max(2, metrics.height() // 3)
        self.document().setDocumentMargin(margin)
        self.setViewportMargins(max(0, self._indent - margin), 0, 0, 0)
        self._format = QTextBlockFormat()
        self._format.setLineHeight(max(2, round(metrics.height() * LINE_GAP)),
                                   QTextBlockFormat.LineHeightTypes.LineDistanceHeight.value)
        cursor = QTextCursor(self.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.mergeBlockFormat(self._format)
        self.fit_height()

    def set_text(self, text: str) -> None:
        """Replace the text (every line gets the line gap)."""
        document = self.document()
        document.clear()
        cursor = QTextCursor(document)
        cursor.setBlockFormat(self._format)
        cursor.insertText(text)
        self.fit_height()

    def append_code(self, text: str) -> None:
        """Add ``text`` at the end (new lines take the last line's gap)."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.fit_height()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._apply_metrics()

    def fit_height(self) -> None:
        """Set the height to show every line, at most :data:`MAX_LINES` (then scroll)."""
        document = self.document()
        lines = max(1, document.blockCount())
        shown = min(lines, MAX_LINES)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if lines > MAX_LINES
                                        else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = document.documentLayout()
        bottom = layout.blockBoundingRect(document.findBlockByNumber(shown - 1)).bottom()
        height = math.ceil(bottom + document.documentMargin()) + 2 * self.frameWidth()
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
        language_label, copy_button, save_button (QToolButton), editor (a read-only
        QTextEdit).

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

        self.editor = _CodeEdit(em, self)  # the text starts where the label does
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
        self.editor.set_text(text)

    def append_text(self, delta: str) -> None:
        """Add streamed code at the end (re-highlights only the lines it touches)."""
        if not delta:
            return
        bar = self.editor.verticalScrollBar()
        follow = bar.value() >= bar.maximum()
        self._text += delta
        self.editor.append_code(delta)
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
