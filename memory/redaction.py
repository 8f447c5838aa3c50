"""Redaction: secrets never reach a file MultiCoder writes (L1).

A :class:`Redactor` knows two kinds of things to hide:

- **secret strings** it was given (API keys from the environment, the keyring, the settings);
  every occurrence is replaced, together with the JSON-escaped and URL-encoded spellings of
  the same value;
- **key-looking patterns** that need no prior knowledge: OpenAI ``sk-...`` / ``sk-proj-...``,
  OpenRouter ``sk-or-v1-...``, Google ``AIza...``, GitHub ``ghp_...`` / ``github_pat_...`` and
  the token after ``Bearer``.

Each hidden span becomes ``[REDACTED]``. Overlapping or touching matches are merged first, so
no fragment of a secret survives next to the mark. :class:`RedactingFilter` applies a redactor to
log records, and :meth:`Redactor.redact_obj` to JSON-like values before they are serialised.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"
"""What every hidden span is replaced with."""

MIN_SECRET_LENGTH = 8
"""Secrets shorter than this many characters are ignored (they would mask ordinary words)."""

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
"""An environment variable whose name matches this (anywhere, any case) holds a secret."""

NOT_SECRET_NAMES = frozenset({"XAUTHORITY", "SSH_AUTH_SOCK", "PYTHON_KEYRING_BACKEND"})
"""Variables whose names match :data:`SECRET_NAME` but hold well-known, harmless paths or
settings; redacting them would mangle ordinary paths in the logs."""

def _names_a_variable(name: str) -> bool:
    """Whether the variable holds another variable's name (``…__API_KEY_ENV``), not a secret.

    Hiding such a value would hide that name in every "set LOCAL_TEST_KEY" hint.
    """
    return name.upper().endswith("_ENV")


_B64URL_CHARS = r"[A-Za-z0-9\-._~+/]"

DEFAULT_PATTERNS: tuple[re.Pattern[str], ...] = (
    # OpenAI (sk-..., sk-proj-...), OpenRouter (sk-or-v1-...), Anthropic (sk-ant-...).
    re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"),
    # Google API keys.
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),
    # GitHub classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained tokens.
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    # The token of an HTTP bearer credential; the word "Bearer" stays readable. Prose such as
    # "Bearer authentication" is left alone: a token has a digit or is at least 20 long.
    re.compile(
        rf"\b[Bb]earer\s+(?P<secret>(?={_B64URL_CHARS}*\d|{_B64URL_CHARS}{{20}}){_B64URL_CHARS}{{8,}}=*)"
    ),
    # The password of credentials in a URL (https://user:password@host/ of a private index).
    re.compile(r"://[^/\s:@]+:(?P<secret>[^@/\s]+)@"),
)
"""Patterns hidden by default. A pattern with a group named ``secret`` hides only that group."""


class Redactor:
    """Replaces known secrets and key-looking strings with ``[REDACTED]``.

    Calling the redactor on text returns the redacted text. It is safe to :meth:`add` secrets
    from one thread while others redact: readers use an immutable snapshot.

    Args:
        secrets: initial secret strings (each goes through :meth:`add`).
        patterns: regular expressions to hide; defaults to :data:`DEFAULT_PATTERNS`.

    """

    def __init__(self, secrets: Iterable[str] = (),
                 patterns: Iterable[re.Pattern[str]] = DEFAULT_PATTERNS) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._patterns: list[re.Pattern[str]] = list(patterns)
        # (secrets longest first, patterns): replaced as a whole, read without the lock.
        self._snapshot: tuple[tuple[str, ...], tuple[re.Pattern[str], ...]] = ((), ())
        self._publish()
        for secret in secrets:
            self.add(secret)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        """A redactor holding the values of every secret-looking environment variable.

        A variable counts when its name matches :data:`SECRET_NAME` (``OPENAI_API_KEY``,
        ``GITHUB_TOKEN``, ``DB_PASSWORD`` …), except the harmless :data:`NOT_SECRET_NAMES` and
        names ending in ``_ENV``, which name another variable (``…__API_KEY_ENV``).

        Args:
            environ: the variables to scan; ``os.environ`` when omitted.

        Returns:
            A new redactor with the default patterns and those values.

        """
        source = os.environ if environ is None else environ
        return cls(value for name, value in source.items()
                   if SECRET_NAME.search(name) and name.upper() not in NOT_SECRET_NAMES
                   and not _names_a_variable(name))

    def add(self, secret: str | None) -> None:
        """Hide ``secret`` from now on (with its JSON-escaped and URL-encoded spellings).

        Values shorter than :data:`MIN_SECRET_LENGTH` characters after stripping surrounding
        whitespace, and ``None``, are ignored.

        Args:
            secret: the value to hide.

        """
        if not secret:
            return
        stripped = secret.strip()
        if len(stripped) < MIN_SECRET_LENGTH:
            return
        variants = set()
        for value in {secret, stripped}:
            if len(value.strip()) < MIN_SECRET_LENGTH:
                continue
            variants.add(value)
            variants.add(json.dumps(value)[1:-1])  # as it appears inside a JSON string
            variants.add(urllib.parse.quote(value, safe=""))  # as it appears in a URL
        with self._lock:
            if variants <= self._secrets:
                return
            self._secrets |= variants
            self._publish()

    def add_pattern(self, pattern: str | re.Pattern[str]) -> None:
        """Hide every match of ``pattern`` from now on.

        Args:
            pattern: a regular expression; if it has a group named ``secret`` only that group
                is hidden, otherwise the whole match.

        Raises:
            re.error: ``pattern`` is not a valid regular expression.

        """
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self._lock:
            self._patterns.append(compiled)
            self._publish()

    def __len__(self) -> int:
        """The number of secret spellings held (patterns not counted)."""
        return len(self._snapshot[0])

    def __repr__(self) -> str:
        secrets, patterns = self._snapshot
        return f"Redactor(<{len(secrets)} secrets>, <{len(patterns)} patterns>)"

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret and key-looking span replaced by ``[REDACTED]``.

        Args:
            text: any text (a log line, a chat message, a serialised JSON line).

        Returns:
            The redacted text; ``text`` itself when nothing matched.

        """
        if not text:
            return text
        secrets, patterns = self._snapshot
        spans: list[tuple[int, int]] = []
        for secret in secrets:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        for pattern in patterns:
            hides_group = "secret" in pattern.groupindex
            for match in pattern.finditer(text):
                span = match.span("secret") if hides_group else match.span()
                if span[1] > span[0]:
                    spans.append(span)
        if not spans:
            return text
        return _replace_spans(text, spans)

    def redact_obj(self, obj: Any) -> Any:
        """Redact a JSON-like value recursively.

        Strings (including dict keys) are redacted; dicts, lists and tuples are rebuilt with
        redacted members (same container types); a number whose decimal spelling is a secret
        becomes ``"[REDACTED]"``; ``bool``, ``None`` and other objects are returned unchanged
        (serialise those with a ``default=`` hook that redacts ``str(obj)``).

        Args:
            obj: the value, e.g. an event's fields or a report.

        Returns:
            A redacted copy; the input is not modified.

        """
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, Mapping):
            return {self(k) if isinstance(k, str) else k: self.redact_obj(v)
                    for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.redact_obj(item) for item in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact_obj(item) for item in obj)
        if isinstance(obj, int | float) and not isinstance(obj, bool):
            spelled = str(obj)
            return obj if self(spelled) == spelled else REDACTED
        return obj

    def _publish(self) -> None:
        # Longest first: when one secret contains another the longer one is found first;
        # overlapping spans are merged anyway, so this only fixes the order of the work.
        self._snapshot = (tuple(sorted(self._secrets, key=lambda s: (-len(s), s))),
                          tuple(self._patterns))


def _replace_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace the union of ``spans`` (half-open ``[start, end)`` indexes) with the mark."""
    spans.sort()
    parts: list[str] = []
    position = 0
    start, end = spans[0]
    for next_start, next_end in spans[1:]:
        if next_start <= end:  # overlapping or touching: one mark
            end = max(end, next_end)
            continue
        parts += [text[position:start], REDACTED]
        position = end
        start, end = next_start, next_end
    parts += [text[position:start], REDACTED, text[end:]]
    return "".join(parts)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record in place and always lets it pass.

    The message is formatted with its arguments first (so a secret passed as ``%s`` argument is
    caught), then redacted; ``args`` is cleared. Exception and stack text are formatted and
    redacted too, so handlers print the redacted versions.

    Args:
        redactor: the redactor to apply.

    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place.

        Args:
            record: the record about to be emitted.

        Returns:
            Always ``True``.

        """
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must still be logged, never raise here
            message = f"{record.msg!r} (arguments {record.args!r})"
        record.msg = self.redactor(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True
