"""What every web tool shares: the result card and the one error type (G10)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebError(Exception):
    """A web request failed or was refused (network error, HTTP error, size cap, bad URL).

    The message is one sentence meant for the model and the person; it never contains a token.
    """


class Card(BaseModel):
    """One search result as shown to the person and the model.

    Attributes:
        title: the page's title as the engine gave it (untrusted text).
        url: the address, verbatim from the engine.
        summary: the engine's snippet (untrusted text).
        source: where it came from, e.g. ``"duckduckgo"``, ``"searxng:bing"``, ``"github"``.

    """

    title: str
    url: str
    summary: str = ""
    source: str = Field(default="", description="the engine or API that returned it")

    def render(self) -> str:
        """The card as three plain-text lines: title, link, summary."""
        return f"{self.title}\n  {self.url}\n  {self.summary}".rstrip()
