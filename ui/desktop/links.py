"""Opening a link from a chat: the one way any link leaves the app (U1).

Links in answers and cards come from models and servers, so no label opens them by itself
(no ``setOpenExternalLinks``): their ``linkActivated`` comes here. Only web and e-mail links
(``http``, ``https``, ``mailto``) are opened, and only after the person has seen the full
address and said yes; any other scheme (``file:``, ``smb:``, ``search-ms:``,
``javascript:``, a scheme-less ``//host`` ...) is refused with a message saying why.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.desktop.i18n import register, tr
from ui.desktop.plain import ask, tell

__all__ = ["ALLOWED_SCHEMES", "link_allowed", "open_link"]

#: The schemes a link may have to be opened.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

register({
    "Open link?": "Открыть ссылку?",
    "Open this address in your browser or mail program?\n\n{url}":
        "Открыть этот адрес в браузере или почтовой программе?\n\n{url}",
    "Open": "Открыть",
    "Link not opened": "Ссылка не открыта",
    "This link was not opened: only web (http, https) and e-mail (mailto) links open"
    " from MultiCoder.\n\n{url}":
        "Ссылка не открыта: из MultiCoder открываются только веб-адреса (http, https) и"
        " адреса почты (mailto).\n\n{url}",
})


def link_allowed(url: str) -> bool:
    """Whether ``url`` is a web or e-mail address that may be opened.

    ``http``/``https`` need a host; ``mailto`` an address. Everything else (other schemes,
    relative or scheme-less addresses, invalid URLs) is refused.
    """
    parsed = QUrl(url.strip(), QUrl.ParsingMode.StrictMode)
    if not parsed.isValid() or parsed.isRelative():
        return False
    scheme = parsed.scheme().lower()
    if scheme not in ALLOWED_SCHEMES:
        return False
    if scheme == "mailto":
        return bool(parsed.path())
    return bool(parsed.host())


def open_link(parent: QWidget | None, url: str) -> bool:
    """Open ``url`` after the person confirms it; True when it was handed to the system.

    A refused scheme shows a message with the address (plain text) and returns False;
    declining the confirmation returns False too.
    """
    if not link_allowed(url):
        tell(parent, tr("Link not opened"),
             tr("This link was not opened: only web (http, https) and e-mail (mailto) links"
                " open from MultiCoder.\n\n{url}").format(url=url),
             icon=QMessageBox.Icon.Warning)
        return False
    if not ask(parent, tr("Open link?"),
               tr("Open this address in your browser or mail program?\n\n{url}").format(
                   url=url),
               yes_text=tr("Open")):
        return False
    return bool(QDesktopServices.openUrl(QUrl(url.strip(), QUrl.ParsingMode.StrictMode)))
