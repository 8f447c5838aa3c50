"""The desktop app's one link to the engine (U4).

It loads the engine off the GUI thread and turns its callbacks into queued Qt signals.

The window paints first with what is light (settings, the chat list); the engine, the
coordinator and the conversations load on a worker thread, then :attr:`Bridge.ready` fires.
Run events arrive on coordinator threads and are re-emitted as :attr:`Bridge.runEvent` on the
GUI thread (queued connection); :meth:`Bridge.run_async` runs any slow call (a provider check,
the status rows, an export) on the thread pool and hands the result back on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from graph.chats import ChatStore
from graph.errors import InputError
from graph.settings import Settings

if TYPE_CHECKING:
    from graph.conversation import Conversations
    from graph.coordinator import Coordinator
    from graph.engine import Engine, RunEvent

__all__ = ["Bridge"]

_log = logging.getLogger(__name__)
T = TypeVar("T")


class _Relay(QObject):
    """Carries a worker's outcome to the GUI thread (lives on the GUI thread)."""

    done = Signal(object, object)  # (callback, value)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay,
                 on_done: Callable[[Any], None] | None,
                 on_error: Callable[[Exception], None] | None) -> None:
        super().__init__()
        self._fn, self._relay, self._on_done, self._on_error = fn, relay, on_done, on_error

    def run(self) -> None:
        try:
            value = self._fn()
        except Exception as exc:  # handed to the GUI thread, never lost
            _log.debug("background call failed", exc_info=True)
            if self._on_error is not None:
                self._relay.done.emit(self._on_error, exc)
            return
        if self._on_done is not None:
            self._relay.done.emit(self._on_done, value)


class Bridge(QObject):
    """The engine side of the app.

    Args:
        settings: the validated settings.
        engine_factory: builds the engine (default ``graph.engine.Engine(settings)``; tests
            pass one with scripted models).
        max_parallel: coordinator worker threads.

    Signals:
        ready(): the engine, coordinator and conversations are loaded.
        failed(str): loading them failed (one sentence).
        runEvent(object): a :class:`graph.engine.RunEvent`, on the GUI thread.
        settingsChanged(): :attr:`settings` was reloaded.
        notice(str): something the person should know that no dialog asked for (one
            sentence), e.g. settings the running engine could not take.

    """

    ready = Signal()
    failed = Signal(str)
    runEvent = Signal(object)
    settingsChanged = Signal()
    notice = Signal(str)

    def __init__(self, settings: Settings, *,
                 engine_factory: Callable[[Settings], Engine] | None = None,
                 max_parallel: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = ChatStore.for_data_dir(settings.data_dir)
        self.staging_dir: Path = settings.data_dir / "uploads"
        self._engine_factory = engine_factory
        self._max_parallel = max_parallel
        self.engine: Engine | None = None
        self.coordinator: Coordinator | None = None
        self.conversations: Conversations | None = None
        self._prepare_wanted = self._prepared = False
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(4)
        self._shut_down = False

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Load the engine on a worker thread; :attr:`ready` or :attr:`failed` follows."""
        self.run_async(self._load, self._loaded,
                       lambda exc: self.failed.emit(f"the engine did not start: {exc}"))

    def _load(self) -> tuple[Engine, Coordinator, Conversations]:
        from graph.conversation import Conversations
        from graph.coordinator import Coordinator
        from graph.engine import Engine

        engine = (self._engine_factory or Engine)(self.settings)
        coordinator = Coordinator(engine, self._on_worker_event, max_parallel=self._max_parallel)
        return engine, coordinator, Conversations(self.store, coordinator)

    def _loaded(self, parts: tuple[Engine, Coordinator, Conversations]) -> None:
        if self._shut_down:  # the window closed while the engine loaded: stop it again
            parts[1].shutdown(wait=False)
            return
        self.engine, self.coordinator, self.conversations = parts
        self.ready.emit()
        if self._prepare_wanted:
            self.prepare_for_run()

    def prepare_for_run(self) -> None:
        """Open semantic memory ahead of the first run (once; when the person starts typing).

        Not at start-up: its libraries take ~100 MB, which an idle window should not hold on
        a weak PC; asked for before the engine is ready, it follows once it is.
        """
        if self.engine is None:
            self._prepare_wanted = True
            return
        if not self._prepared:
            self._prepared = True
            self.run_async(self.engine.warm_up)

    def is_ready(self) -> bool:
        """Whether :attr:`conversations` can be used."""
        return self.conversations is not None

    def _on_worker_event(self, event: RunEvent) -> None:
        # called on a coordinator thread: a signal emitted from there is queued to receivers
        # living on the GUI thread
        self.runEvent.emit(event)

    # -- background calls -------------------------------------------------------------------

    def run_async(self, fn: Callable[[], T], on_done: Callable[[T], None] | None = None,
                  on_error: Callable[[Exception], None] | None = None) -> None:
        """Call ``fn`` on the thread pool.

        ``on_done(result)`` or ``on_error(exception)`` then runs on the GUI thread.
        """
        self.pool.start(_Job(fn, self._relay, on_done, on_error))

    @Slot(object, object)
    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        callback(value)

    # -- settings ---------------------------------------------------------------------------

    def reload_settings(self) -> Settings:
        """Load the settings again (after the dialog changed them) and hand them to the engine.

        Emits :attr:`settingsChanged`. When the engine is loaded, runs started or resumed
        from now on use the new settings (:meth:`graph.engine.Engine.apply_settings`); a
        changed data folder is used after a restart only, so the engine keeps its own. When
        the engine refuses the settings, :attr:`notice` says why (it keeps the ones it had).
        """
        self.settings = Settings()
        engine = self.engine
        if engine is not None:
            # the data folder changes at the next start (the settings dialog says so); the
            # rest applies now
            current = self.settings.model_copy(update={"data_dir": engine.settings.data_dir})
            try:
                engine.apply_settings(current)
            except InputError as exc:
                _log.info("settings not applied to the engine: %s", exc)
                self.notice.emit(str(exc))
        self.settingsChanged.emit()
        return self.settings

    def restart(self, key: str, on_done: Callable[[str], None] | None = None,
                on_error: Callable[[Exception], None] | None = None) -> None:
        """Restart a component of the status panel on the thread pool.

        Args:
            key: a :data:`graph.control.SUBSYSTEMS` key: ``coordinator`` (worker threads
                that stopped are replaced), ``memory`` (semantic memory closed and opened
                again) or ``web`` (the web tools checked against the settings).
            on_done: called on the GUI thread with a sentence saying what happened.
            on_error: called on the GUI thread with the exception: InputError when the
                engine is still loading, or the component has nothing to restart.

        """
        def work() -> str:
            if key not in ("coordinator", "memory", "web"):
                raise InputError("this component has nothing to restart: check again instead")
            if self.engine is None or self.coordinator is None:
                raise InputError("the engine is still starting: try again in a moment")
            if key == "coordinator":
                return self.coordinator.restart()
            return self.engine.restart(key)

        self.run_async(work, on_done, on_error)

    def shutdown(self) -> None:
        """Stop the coordinator (running runs stay resumable) and close the chat store."""
        self._shut_down = True
        if self.coordinator is not None:
            self.coordinator.shutdown(wait=True, timeout_s=5.0)
        self.pool.waitForDone(5000)
        self.store.close()
