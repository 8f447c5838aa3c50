"""The chat area of the desktop app.

Messages (:mod:`.view`, :mod:`.message`), Markdown (:mod:`.markdown`), code blocks
(:mod:`.code_block`), the composer and the cards.

Import the modules themselves (``from ui.desktop.chat.view import ChatView``); this package
imports nothing, so loading one part does not load the others.
"""
