"""The desktop app (PySide6 Widgets): a chat front end that drives the engine (U1–U7, L3, L4).

Presentation only: every action goes through the engine's public API (:mod:`graph.chats`,
:mod:`graph.conversation`, :mod:`graph.coordinator`, :mod:`graph.control`); the layer tests
check that nothing here stores, fetches or decides.
"""
