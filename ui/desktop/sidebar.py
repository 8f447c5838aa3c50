"""The sidebar: new chat, search, chats by recency, projects as folders, the archive (U1).

One :class:`QTreeView` over a :class:`QStandardItemModel` holds everything (thousands of chats
stay cheap): the "New project" row and the project folders first (each expandable, holding its
chats), then the chats outside projects under the group headers of
:func:`graph.chats.group_by_recency` (Today, Yesterday, Previous 7 days, Older), then the
collapsed "Archived chats" folder. While a query is typed in the search field the list shows
:meth:`graph.chats.ChatStore.search` results instead.

Every change goes through the :class:`graph.chats.ChatStore`; the sidebar only shows it and
asks (rename inline, archive, delete after a confirmation, move to a project from the context
menu or by dragging a chat onto a folder). Deleting goes through :attr:`Sidebar.delete_handler`
when the window sets one (the engine then stops the chat's runs first).

The list loads :data:`PAGE_SIZE` chats (and as many archived ones) at first and the next
page each time it is scrolled to its end, so any number of chats is reachable without
searching.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from graph.chats import Chat, group_by_recency
from graph.errors import InputError
from ui.desktop.i18n import Retranslatable, register, tr
from ui.desktop.icons import icon
from ui.desktop.plain import ask, tooltip

if TYPE_CHECKING:
    from graph.chats import ChatStore, SearchHit

__all__ = ["CHAT_MIME", "GROUP_LABELS", "PAGE_SIZE", "ROLE_ID", "ROLE_KIND", "Sidebar"]

register({
    "New chat": "Новый чат",
    "Start a new chat (Ctrl+Shift+O)": "Начать новый чат (Ctrl+Shift+O)",
    "Search chats": "Поиск по чатам",
    "Search chats (Ctrl+K)": "Поиск по чатам (Ctrl+K)",
    "Search titles and messages of all chats": "Поиск по названиям и сообщениям всех чатов",
    "Today": "Сегодня",
    "Yesterday": "Вчера",
    "Previous 7 days": "Предыдущие 7 дней",
    "Older": "Ранее",
    "New project": "Новый проект",
    "New project…": "Новый проект…",
    "Archived chats": "Архив чатов",
    "Chats": "Чаты",
    "Chats and projects": "Чаты и проекты",
    "Rename": "Переименовать",
    "Archive": "В архив",
    "Restore from archive": "Вернуть из архива",
    "Delete": "Удалить",
    "Move to project": "Переместить в проект",
    "Remove from project": "Убрать из проекта",
    "Rename project": "Переименовать проект",
    "Delete project": "Удалить проект",
    "Delete chat?": "Удалить чат?",
    "Delete “{title}”? This cannot be undone.":
        "Удалить «{title}»? Это действие нельзя отменить.",
    "Delete project?": "Удалить проект?",
    "Delete the project “{name}”? Its chats stay, outside any project.":
        "Удалить проект «{name}»? Его чаты останутся — вне проектов.",
    "Project name:": "Название проекта:",
    "No chats found": "Чаты не найдены",
    "Settings": "Настройки",
    "Settings: providers, models, status of all systems":
        "Настройки: провайдеры, модели, состояние всех систем",
    "Task manager": "Диспетчер задач",
    "Every run with its status and progress": "Все запуски с их состоянием и ходом работы",
    "Hide the sidebar (Ctrl+Shift+S)": "Скрыть боковую панель (Ctrl+Shift+S)",
    "Hide the sidebar": "Скрыть боковую панель",
    "Right-click a chat for more; drag it onto a project to move it":
        "Правый щелчок по чату — действия; перетащите чат на проект, чтобы переместить",
})

#: Item data roles: what a row is and the id of its chat or project.
ROLE_KIND = Qt.ItemDataRole.UserRole + 1
ROLE_ID = Qt.ItemDataRole.UserRole + 2
_ROLE_LABEL = Qt.ItemDataRole.UserRole + 3  # the untranslated English label of a header

#: The sidebar groups' labels (English source; shown through :func:`tr`).
GROUP_LABELS: dict[str, str] = {"today": "Today", "yesterday": "Yesterday",
                                "previous_7_days": "Previous 7 days", "older": "Older"}

#: Drag-and-drop format of chats: their ids, one per line (UTF-8).
CHAT_MIME = "application/x-multicoder-chat-ids"

#: How many chats (and archived chats) the list loads at first and adds each time it is
#: scrolled to its end.
PAGE_SIZE = 500

_HEADER, _CHAT, _PROJECT, _NEW_PROJECT, _ARCHIVE, _EMPTY = (
    "header", "chat", "project", "new_project", "archive", "empty")


class _ChatModel(QStandardItemModel):
    """The tree's model; a dragged chat carries its id."""

    def mimeTypes(self) -> list[str]:
        """Only chats are dragged."""
        return [CHAT_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The ids of the dragged chats."""
        ids = [str(i.data(ROLE_ID)) for i in indexes if i.data(ROLE_KIND) == _CHAT]
        mime = QMimeData()
        mime.setData(CHAT_MIME, "\n".join(ids).encode("utf-8"))
        return mime


class _ChatTree(QTreeView):
    """The chat list; a chat dropped on a project folder (or on a chat in it) moves there."""

    chatsDropped = Signal(list, str)  # chat ids, project id
    renameRequested = Signal(QModelIndex)
    deleteRequested = Signal(QModelIndex)
    menuRequested = Signal(QPoint)  # viewport coordinates

    def _project_at(self, pos: QPoint) -> str | None:
        index = self.indexAt(pos)
        if index.data(ROLE_KIND) == _CHAT and index.parent().data(ROLE_KIND) == _PROJECT:
            index = index.parent()
        return str(index.data(ROLE_ID)) if index.data(ROLE_KIND) == _PROJECT else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept dragged chats."""
        if event.mimeData().hasFormat(CHAT_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Only a project folder takes a chat."""
        if event.mimeData().hasFormat(CHAT_MIME) and self._project_at(event.position().toPoint()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Move the dropped chats into the project under the pointer."""
        project_id = self._project_at(event.position().toPoint())
        data = bytes(event.mimeData().data(CHAT_MIME).data()).decode("utf-8")
        ids = [line for line in data.splitlines() if line]
        if project_id and ids:
            event.acceptProposedAction()
            self.chatsDropped.emit(ids, project_id)
        else:
            event.ignore()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The row's menu: under the pointer, or of the current row for the Menu key."""
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            pos = self.visualRect(self.currentIndex()).center()
        else:  # QAbstractScrollArea hands on the viewport's event: viewport coordinates
            pos = event.pos()
        self.menuRequested.emit(pos)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """F2 renames, Delete deletes (after confirming) the current chat."""
        index = self.currentIndex()
        if index.data(ROLE_KIND) in (_CHAT, _PROJECT) and self.state() != \
                QAbstractItemView.State.EditingState:
            if event.key() == Qt.Key.Key_F2:
                self.renameRequested.emit(index)
                return
            if event.key() == Qt.Key.Key_Delete and event.modifiers() == \
                    Qt.KeyboardModifier.NoModifier:
                self.deleteRequested.emit(index)
                return
        super().keyPressEvent(event)


class Sidebar(Retranslatable, QWidget):
    """The chat list with its actions.

    Args:
        store: the chats and projects.
        parent: the parent widget.

    Signals:
        chatSelected(str): the person opened a chat (its id).
        newChatRequested(): the New chat button.
        chatDeleted(str): a chat was deleted (its id).
        chatsChanged(): a chat was renamed, archived or moved (titles may differ).
        settingsRequested(), taskManagerRequested(): the buttons at the bottom.
        collapseRequested(): the hide-sidebar button.
        errorOccurred(str): an action failed (one sentence to show).

    """

    chatSelected = Signal(str)
    newChatRequested = Signal()
    chatDeleted = Signal(str)
    chatsChanged = Signal()
    settingsRequested = Signal()
    taskManagerRequested = Signal()
    collapseRequested = Signal()
    errorOccurred = Signal(str)

    def __init__(self, store: ChatStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._current: str | None = None
        self._building = False
        self._expanded_projects: set[str] = set()
        self._archive_expanded = False
        self._limit = PAGE_SIZE
        self._more = False  # the store holds more chats than the list shows
        #: Deletes a chat (after the confirmation) instead of the store; it calls
        #: :meth:`chat_removed` once the chat is gone. None: the store deletes it at once.
        self.delete_handler: Callable[[str], None] | None = None

        self.setObjectName("sidebar")
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        self.collapse_button = QToolButton(self)
        self.collapse_button.setIcon(icon("sidebar"))
        self.collapse_button.clicked.connect(self.collapseRequested)

        self.new_chat_button = QToolButton(self)
        self.new_chat_button.setIcon(icon("new-chat"))
        self.new_chat_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_chat_button.setSizePolicy(QSizePolicy.Policy.Expanding,
                                           QSizePolicy.Policy.Fixed)
        self.new_chat_button.clicked.connect(self.newChatRequested)

        self.search_field = QLineEdit(self)
        self.search_field.setClearButtonEnabled(True)
        self.search_field.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self._rebuild)
        self.search_field.textChanged.connect(self._query_changed)
        self.search_field.returnPressed.connect(self._open_first_result)

        self.model = _ChatModel(self)
        self.model.itemChanged.connect(self._item_changed)
        self.tree = _ChatTree(self)
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(self.fontMetrics().horizontalAdvance("M") * 3 // 2)
        self.tree.setUniformRowHeights(False)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setDragEnabled(True)
        self.tree.setAcceptDrops(True)
        self.tree.setDropIndicatorShown(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.tree.menuRequested.connect(self._context_menu)
        self.tree.clicked.connect(self._clicked)
        self.tree.activated.connect(self._clicked)
        self.tree.expanded.connect(self._expansion_changed)
        self.tree.collapsed.connect(self._expansion_changed)
        self.tree.chatsDropped.connect(self._chats_dropped)
        self.tree.renameRequested.connect(lambda index: self.tree.edit(index))
        self.tree.deleteRequested.connect(self._delete_index)
        self.tree.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.tree.verticalScrollBar().rangeChanged.connect(lambda _lo, _hi: self._scrolled())

        self.settings_button = QToolButton(self)
        self.settings_button.setIcon(icon("settings"))
        self.settings_button.clicked.connect(self.settingsRequested)
        self.tasks_button = QToolButton(self)
        self.tasks_button.setIcon(icon("activity"))
        self.tasks_button.clicked.connect(self.taskManagerRequested)
        for button in (self.settings_button, self.tasks_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        em = self.fontMetrics().height()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(em // 2, em // 2, em // 2, em // 2)
        layout.setSpacing(em // 3)
        top = QHBoxLayout()
        top.addWidget(self.collapse_button)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.new_chat_button)
        layout.addWidget(self.search_field)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.tasks_button)

        self.setTabOrder(self.collapse_button, self.new_chat_button)
        self.setTabOrder(self.new_chat_button, self.search_field)
        self.setTabOrder(self.search_field, self.tree)
        self.setTabOrder(self.tree, self.settings_button)
        self.setTabOrder(self.settings_button, self.tasks_button)
        self._restyle()
        self.retranslate()

    # -- texts and colours ------------------------------------------------------------------

    def retranslate(self) -> None:
        """Set every visible text in the current language (the list is rebuilt)."""
        self.collapse_button.setToolTip(tr("Hide the sidebar (Ctrl+Shift+S)"))
        self.collapse_button.setAccessibleName(tr("Hide the sidebar"))
        self.new_chat_button.setText(tr("New chat"))
        self.new_chat_button.setToolTip(tr("Start a new chat (Ctrl+Shift+O)"))
        self.new_chat_button.setAccessibleName(tr("New chat"))
        self.search_field.setPlaceholderText(tr("Search chats (Ctrl+K)"))
        self.search_field.setToolTip(tr("Search titles and messages of all chats"))
        self.search_field.setAccessibleName(tr("Search chats"))
        self.tree.setAccessibleName(tr("Chats and projects"))
        self.tree.setToolTip(tr("Right-click a chat for more; drag it onto a project to move it"))
        self.settings_button.setText(tr("Settings"))
        self.settings_button.setToolTip(tr("Settings: providers, models, status of all systems"))
        self.settings_button.setAccessibleName(tr("Settings"))
        self.tasks_button.setText(tr("Task manager"))
        self.tasks_button.setToolTip(tr("Every run with its status and progress"))
        self.tasks_button.setAccessibleName(tr("Task manager"))
        self._rebuild()

    def _restyle(self) -> None:
        self.tree.setStyleSheet(
            "QTreeView { background: palette(alternate-base); border: none;"
            " show-decoration-selected: 1; outline: 0; }"
            " QTreeView::item { padding: 0.3em 0.4em; border-radius: 0.5em; }"
            " QTreeView::item:hover { background: palette(midlight); }"
            " QTreeView::item:selected { background: palette(mid); color: palette(text); }"
            " QTreeView::item:focus { border: 1px solid palette(dark); }")
        self.new_chat_button.setStyleSheet("QToolButton { padding: 0.4em; }")

    def changeEvent(self, event: QEvent) -> None:
        """Re-style on palette changes (theme switch); re-translate on language changes."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and hasattr(self, "tree"):
            self._restyle()
            if not self._building:
                self._rebuild()
        super().changeEvent(event)

    # -- building the list ------------------------------------------------------------------

    def query(self) -> str:
        """The search text (stripped; "" when not searching)."""
        return self.search_field.text().strip()

    def refresh(self) -> None:
        """Reload the list from the store (or re-run the search while one is typed)."""
        self._rebuild()

    def _query_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _rebuild(self) -> None:
        self._search_timer.stop()
        self._building = True
        self.model.blockSignals(True)
        try:
            self.model.clear()
            root = self.model.invisibleRootItem()
            query = self.query()
            if query:
                self._fill_search(root, query)
            else:
                self._fill_list(root)
        except InputError as exc:
            self.errorOccurred.emit(str(exc))
        finally:
            self.model.blockSignals(False)
            self._building = False
        self.tree.reset()
        self._restore_expansion()
        self._select_current()

    def _fill_list(self, root: QStandardItem) -> None:
        projects = self.store.list_projects()
        # one more than shown tells whether there are more
        chats = self.store.list_chats(limit=self._limit + 1)
        archived = self.store.list_chats(archived=True, limit=self._limit + 1)
        self._more = len(chats) > self._limit or len(archived) > self._limit
        chats, archived = chats[:self._limit], archived[:self._limit]
        by_project: dict[str, list[Chat]] = {p.project_id: [] for p in projects}
        loose: list[Chat] = []
        for chat in chats:
            if chat.project_id in by_project:
                by_project[chat.project_id].append(chat)
            else:
                loose.append(chat)

        root.appendRow(self._item(_NEW_PROJECT, "", tr("New project"), "folder-plus"))
        for project in projects:
            folder = self._item(_PROJECT, project.project_id, project.name, "folder",
                                editable=True, drop=True)
            folder.appendRows([self._chat_item(c) for c in by_project[project.project_id]])
            root.appendRow(folder)
        for key, group in group_by_recency(loose):
            root.appendRow(self._header(GROUP_LABELS.get(key, key)))
            root.appendRows([self._chat_item(c) for c in group])
        if archived:
            folder = self._item(_ARCHIVE, "", tr("Archived chats"), "archive")
            folder.setData("Archived chats", _ROLE_LABEL)
            folder.appendRows([self._chat_item(c) for c in archived])
            root.appendRow(folder)

    def _fill_search(self, root: QStandardItem, query: str) -> None:
        hits: list[SearchHit] = self.store.search(query)
        if not hits:
            root.appendRow(self._header("No chats found"))
            return
        seen: set[str] = set()
        for hit in hits:
            if hit.chat.chat_id in seen:
                continue
            seen.add(hit.chat.chat_id)
            item = self._chat_item(hit.chat)
            snippet = " ".join(hit.snippet.split())
            if hit.message_id is not None and snippet:
                item.setText(f"{item.text()}\n{snippet}")
                item.setToolTip(tooltip(snippet))
            root.appendRow(item)

    def _item(self, kind: str, item_id: str, text: str, icon_name: str | None = None, *,
              editable: bool = False, drop: bool = False) -> QStandardItem:
        item = QStandardItem(text)
        item.setData(kind, ROLE_KIND)
        item.setData(item_id, ROLE_ID)
        item.setToolTip(tooltip(text))
        if icon_name:
            item.setIcon(icon(icon_name))
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        if drop:
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        item.setFlags(flags)
        return item

    def _chat_item(self, chat: Chat) -> QStandardItem:
        item = self._item(_CHAT, chat.chat_id, chat.title or tr("New chat"), editable=True)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsDragEnabled)
        return item

    def _header(self, label: str) -> QStandardItem:
        item = QStandardItem(tr(label))
        item.setData(_HEADER, ROLE_KIND)
        item.setData(label, _ROLE_LABEL)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        item.setFont(font)
        item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        return item

    def _restore_expansion(self) -> None:
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            kind = index.data(ROLE_KIND)
            if kind == _PROJECT:
                self.tree.setExpanded(index, str(index.data(ROLE_ID)) in
                                      self._expanded_projects)
            elif kind == _ARCHIVE:
                self.tree.setExpanded(index, self._archive_expanded)

    def _expansion_changed(self, index: QModelIndex) -> None:
        if self._building:
            return
        expanded = self.tree.isExpanded(index)
        kind = index.data(ROLE_KIND)
        if kind == _PROJECT:
            project_id = str(index.data(ROLE_ID))
            if expanded:
                self._expanded_projects.add(project_id)
            else:
                self._expanded_projects.discard(project_id)
            item = self.model.itemFromIndex(index)
            item.setIcon(icon("folder-open" if expanded else "folder"))
        elif kind == _ARCHIVE:
            self._archive_expanded = expanded

    # -- finding rows -----------------------------------------------------------------------

    def _indexes(self) -> list[QModelIndex]:
        found: list[QModelIndex] = []
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            found.append(index)
            for child in range(self.model.rowCount(index)):
                found.append(self.model.index(child, 0, index))
        return found

    def index_of(self, chat_id: str) -> QModelIndex:
        """The row of a chat in the list (invalid when it is not shown)."""
        for index in self._indexes():
            if index.data(ROLE_KIND) == _CHAT and index.data(ROLE_ID) == chat_id:
                return index
        return QModelIndex()

    def rows(self) -> list[tuple[str, str]]:
        """What the list shows, in order: ``(kind, text)`` per row.

        Children follow their folder; kinds: header, chat, project, new_project, archive.
        """
        return [(str(i.data(ROLE_KIND)), str(i.data(Qt.ItemDataRole.DisplayRole)))
                for i in self._indexes()]

    # -- selection ----------------------------------------------------------------------------

    def current_chat_id(self) -> str | None:
        """The chat shown in the window (None: a new, unsaved chat)."""
        return self._current

    def set_current(self, chat_id: str | None) -> None:
        """Mark ``chat_id`` as the open chat (None clears the selection)."""
        self._current = chat_id
        self._select_current()

    def _select_current(self) -> None:
        index = self.index_of(self._current) if self._current else QModelIndex()
        selection = self.tree.selectionModel()
        if not index.isValid():
            selection.clearSelection()
            return
        parent = index.parent()
        if parent.isValid() and not self.tree.isExpanded(parent):
            self.tree.setExpanded(parent, True)
        selection.setCurrentIndex(index, selection.SelectionFlag.ClearAndSelect)
        self.tree.scrollTo(index)

    def _clicked(self, index: QModelIndex) -> None:
        kind = index.data(ROLE_KIND)
        if kind == _CHAT:
            chat_id = str(index.data(ROLE_ID))
            if chat_id != self._current:
                self._current = chat_id
                self.chatSelected.emit(chat_id)
        elif kind in (_PROJECT, _ARCHIVE):
            self.tree.setExpanded(index, not self.tree.isExpanded(index))
        elif kind == _NEW_PROJECT:
            self.new_project()
            self._select_current()

    def current_project(self) -> str | None:
        """The project the person is in (None: none).

        The selected project folder, or the folder of the selected chat.
        """
        index = self.tree.currentIndex()
        if not index.isValid() or self.query():
            return None
        if index.data(ROLE_KIND) == _CHAT and index.parent().data(ROLE_KIND) == _PROJECT:
            index = index.parent()
        return str(index.data(ROLE_ID)) if index.data(ROLE_KIND) == _PROJECT else None

    def has_more(self) -> bool:
        """Whether the store holds chats the list does not show yet."""
        return self._more and not self.query()

    def load_more(self) -> None:
        """Show the next :data:`PAGE_SIZE` chats (the list keeps its scroll position)."""
        if not self.has_more():
            return
        bar = self.tree.verticalScrollBar()
        position = bar.value()
        self._limit += PAGE_SIZE
        self._rebuild()
        bar.setValue(position)

    def _scrolled(self, _value: int = 0) -> None:
        bar = self.tree.verticalScrollBar()
        if self.has_more() and not self._building and self.tree.isVisible() \
                and bar.value() >= bar.maximum():
            QTimer.singleShot(0, self, self.load_more)  # not inside the scroll bar's signal

    def _open_first_result(self) -> None:
        for index in self._indexes():
            if index.data(ROLE_KIND) == _CHAT:
                self.tree.setFocus()
                self._clicked(index)
                return

    def focus_search(self) -> None:
        """Put the cursor in the search field (Ctrl+K), its text selected."""
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    # -- actions -----------------------------------------------------------------------------

    def _run(self, action: str, *args: object) -> bool:
        try:
            getattr(self.store, action)(*args)
        except InputError as exc:
            self.errorOccurred.emit(str(exc))
            return False
        return True

    def rename_chat(self, chat_id: str) -> None:
        """Start renaming the chat in place (Enter keeps the new title, Esc cancels)."""
        index = self.index_of(chat_id)
        if index.isValid():
            self.tree.scrollTo(index)
            self.tree.setCurrentIndex(index)
            self.tree.edit(index)

    def rename_project(self, project_id: str) -> None:
        """Start renaming a project folder in place."""
        for index in self._indexes():
            if index.data(ROLE_KIND) == _PROJECT and index.data(ROLE_ID) == project_id:
                self.tree.setCurrentIndex(index)
                self.tree.edit(index)
                return

    def _item_changed(self, item: QStandardItem) -> None:
        if self._building:
            return
        kind, item_id = item.data(ROLE_KIND), str(item.data(ROLE_ID))
        text = item.text().strip()
        done = False
        if kind == _CHAT and text:
            done = self._run("rename_chat", item_id, text)
        elif kind == _PROJECT and text:
            done = self._run("rename_project", item_id, text)
        # an empty or refused name goes back to the stored one; the list is rebuilt after
        # the editor has closed
        QTimer.singleShot(0, self, self._rebuild)
        if done:
            self.chatsChanged.emit()

    def archive_chat(self, chat_id: str, archived: bool = True) -> None:
        """Archive (or restore) a chat; it moves to (or out of) "Archived chats"."""
        if self._run("set_archived", chat_id, archived):
            self._rebuild()
            self.chatsChanged.emit()

    def move_chat(self, chat_id: str, project_id: str | None) -> None:
        """Put a chat into a project (None: out of any project); the folder opens."""
        if self._run("move_chat", chat_id, project_id):
            if project_id:
                self._expanded_projects.add(project_id)
            self._rebuild()
            self.chatsChanged.emit()

    def delete_chat(self, chat_id: str, *, confirm: bool = True) -> bool:
        """Delete a chat after asking (when ``confirm``); True when it was deleted."""
        if confirm:
            try:
                title = self.store.get_chat(chat_id).title or tr("New chat")
            except InputError as exc:
                self.errorOccurred.emit(str(exc))
                return False
            if not ask(self, tr("Delete chat?"),
                       tr("Delete “{title}”? This cannot be undone.").format(title=title)):
                return False
        if self.delete_handler is not None:
            self.delete_handler(chat_id)  # calls chat_removed() when done
            return True
        if not self._run("delete_chat", chat_id):
            return False
        self.chat_removed(chat_id)
        return True

    def chat_removed(self, chat_id: str) -> None:
        """A chat was deleted: drop it from the list and emit :attr:`chatDeleted`."""
        if self._current == chat_id:
            self._current = None
        self._rebuild()
        self.chatDeleted.emit(chat_id)

    def new_project(self, name: str | None = None) -> str | None:
        """Create a project (asks for its name when none is given).

        Returns its id, or None when cancelled or refused (the reason goes to
        :attr:`errorOccurred`).
        """
        if name is None:
            name, ok = QInputDialog.getText(self, tr("New project"), tr("Project name:"))
            if not ok:
                return None
        try:
            project = self.store.create_project(name)
        except InputError as exc:
            self.errorOccurred.emit(str(exc))
            return None
        self._expanded_projects.add(project.project_id)
        self._rebuild()
        return project.project_id

    def delete_project(self, project_id: str, *, confirm: bool = True) -> bool:
        """Delete a project after asking; its chats stay, outside any project."""
        if confirm:
            names = {p.project_id: p.name for p in self.store.list_projects()}
            if not ask(self, tr("Delete project?"),
                       tr("Delete the project “{name}”? Its chats stay, outside any project.")
                       .format(name=names.get(project_id, ""))):
                return False
        if not self._run("delete_project", project_id):
            return False
        self._expanded_projects.discard(project_id)
        self._rebuild()
        self.chatsChanged.emit()
        return True

    def _delete_index(self, index: QModelIndex) -> None:
        kind, item_id = index.data(ROLE_KIND), str(index.data(ROLE_ID))
        if kind == _CHAT:
            self.delete_chat(item_id)
        elif kind == _PROJECT:
            self.delete_project(item_id)

    def _chats_dropped(self, chat_ids: list[str], project_id: str) -> None:
        for chat_id in chat_ids:
            self.move_chat(chat_id, project_id)

    def _move_to_new_project(self, chat_id: str) -> None:
        project_id = self.new_project()
        if project_id:
            self.move_chat(chat_id, project_id)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        menu = self.context_menu(index)
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a row (None for rows without one).

        Used on right-click and the Menu key.
        """
        kind, item_id = index.data(ROLE_KIND), str(index.data(ROLE_ID))
        menu = QMenu(self)
        if kind == _CHAT:
            try:
                chat = self.store.get_chat(item_id)
            except InputError as exc:  # deleted meanwhile (another window)
                self.errorOccurred.emit(str(exc))
                menu.deleteLater()
                self._rebuild()
                return None
            menu.addAction(icon("pencil"), tr("Rename"), lambda: self.rename_chat(item_id))
            if chat.archived:
                menu.addAction(icon("archive"), tr("Restore from archive"),
                               lambda: self.archive_chat(item_id, False))
            else:
                menu.addAction(icon("archive"), tr("Archive"),
                               lambda: self.archive_chat(item_id, True))
            move = menu.addMenu(icon("folder"), tr("Move to project"))
            for project in self.store.list_projects():
                action = QAction(project.name.replace("&", "&&"), move)  # "&" is no mnemonic
                action.setEnabled(project.project_id != chat.project_id)
                action.triggered.connect(
                    lambda _checked=False, pid=project.project_id: self.move_chat(item_id, pid))
                move.addAction(action)
            move.addSeparator()
            move.addAction(icon("folder-plus"), tr("New project…"),
                           lambda: self._move_to_new_project(item_id))
            if chat.project_id:
                move.addAction(tr("Remove from project"), lambda: self.move_chat(item_id, None))
            menu.addSeparator()
            menu.addAction(icon("trash"), tr("Delete"), lambda: self.delete_chat(item_id))
        elif kind == _PROJECT:
            menu.addAction(icon("pencil"), tr("Rename project"),
                           lambda: self.rename_project(item_id))
            menu.addAction(icon("trash"), tr("Delete project"),
                           lambda: self.delete_project(item_id))
        else:
            menu.deleteLater()
            return None
        menu.aboutToHide.connect(menu.deleteLater)
        return menu
