"""Fetching a page as readable text (G10).

HTML is turned into text with the standard library's :mod:`html.parser`: scripts, styles and
other invisible parts are dropped, blocks become lines, links keep their address in
parentheses and images become placeholders without their address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from tools.web.base import WebError
from tools.web.http import WebHttp

#: Elements whose content is never text.
HIDDEN = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe",
                    "object", "canvas"})
#: Elements that start a new line.
BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article",
                    "header", "footer", "nav", "main", "aside", "pre", "blockquote", "h1",
                    "h2", "h3", "h4", "h5", "h6", "hr", "dt", "dd", "form", "figure"})
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml",
              "application/x-yaml", "application/toml")


class _TextParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.title = ""
        self._hidden = 0
        self._in_title = False
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        if tag in HIDDEN:
            self._hidden += 1
            return
        if self._hidden:
            return
        if tag in BLOCKS:
            self.parts.append("\n")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.parts.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("- ")
        elif tag == "img":
            alt = " ".join(values.get("alt", "").split())[:100]
            self.parts.append(f"[image: {alt} — link withheld]" if alt
                              else "[image — link withheld]")
        elif tag == "a":
            href = values.get("href", "")
            self._href = urljoin(self.base_url, href) if href else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in HIDDEN:
            self._hidden = max(0, self._hidden - 1)
            return
        if self._hidden:
            return
        if tag == "a" and self._href:
            if self._href.startswith(("http://", "https://")):
                self.parts.append(f" ({self._href})")
            self._href = None
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str, base_url: str = "") -> tuple[str, str]:
    """``(title, text)`` of an HTML document: visible text, one block per line.

    Runs of spaces are collapsed and at most one empty line is kept between blocks.
    """
    parser = _TextParser(base_url)
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(parser.title.split()), text


@dataclass(frozen=True)
class Page:
    """A fetched page.

    ``url`` is the address after redirects, ``title`` may be empty, ``text`` is the readable
    text and ``content_type`` the media type without parameters.
    """

    url: str
    title: str
    text: str
    content_type: str


class PageFetcher:
    """Fetches pages as text through :class:`~tools.web.http.WebHttp` (cache, rate limit).

    Args:
        http: the shared client.
        max_bytes: largest page body read, in bytes.

    """

    def __init__(self, http: WebHttp, max_bytes: int = 2_000_000) -> None:
        self.http = http
        self.max_bytes = max_bytes

    def fetch(self, url: str) -> Page:
        """GET ``url`` and return its text (HTML converted, other text types as they are).

        Raises:
            WebError: not http(s), network error, non-2xx status, too large, or not text
                (images, archives, executables).

        """
        response = self.http.get(url, max_bytes=self.max_bytes)
        if not response.ok:
            raise WebError(f"{url} answered HTTP {response.status}")
        content_type = response.headers.get("content-type", "text/plain").split(";")[0].strip()
        content_type = content_type.lower() or "text/plain"
        if not content_type.startswith(TEXT_TYPES):
            raise WebError(f"{url} is {content_type}, not text; use download to save a file")
        body = response.text()
        if "html" in content_type:
            title, text = html_to_text(body, response.url)
        else:
            title, text = "", body
        return Page(url=response.url, title=title, text=text, content_type=content_type)
