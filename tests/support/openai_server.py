"""A local OpenAI-compatible HTTP server that answers from a cassette and injects faults.

Tests point the real client (``ChatOpenAI(base_url=server.base_url, ...)``) at it, so the
whole HTTP path — headers, retries, time-outs, SSE parsing — is exercised over a socket::

    with CassetteServer(cassette) as server:
        server.inject("429")                        # the next chat call gets a rate limit
        model = ChatOpenAI(model="gpt-4.1", base_url=server.base_url, api_key="test-key")
        model.invoke("hi", extra_headers={HEADER_CALL_KEY: "planner/0"})
        assert len(server.requests) == 2            # the client retried once

Endpoints (all under ``/v1``):

- ``GET /v1/models`` and ``GET /v1/models/{id}``: the cassette's model ids (a ``provider:``
  prefix stripped) plus ``extra_models``.
- ``POST /v1/chat/completions``: the interaction named by the ``X-MultiCoder-Call`` header
  (:data:`agents.cassette.HEADER_CALL_KEY`), or without that header the cassette's interactions
  in recorded order. ``"stream": true`` answers with server-sent events.
- ``POST /v1/embeddings``: deterministic vectors made from the text (:func:`hash_embedding`:
  hashed lower-cased words, L2-normalised; texts sharing words are close), as floats or, with
  ``"encoding_format": "base64"``, as base64 of little-endian float32 — like OpenAI's API.

Every request is recorded in :attr:`CassetteServer.requests`. Faults queued with
:meth:`CassetteServer.inject` are served before normal answers, in the order they were queued.

Run ``python -m tests.support.openai_server --help`` to serve a cassette by hand.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import math
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast, get_args

from agents.cassette import HEADER_CALL_KEY, Cassette, CassetteError, Interaction

__all__ = [
    "CHAT_PATH",
    "EMBEDDINGS_PATH",
    "FAULTS",
    "MODELS_PATH",
    "CassetteServer",
    "Fault",
    "RecordedRequest",
    "hash_embedding",
    "main",
]

log = logging.getLogger(__name__)

Fault = Literal["429", "500", "503", "401", "timeout", "malformed", "drop"]
"""What :meth:`CassetteServer.inject` can do to a request instead of answering it."""

FAULTS: tuple[Fault, ...] = get_args(Fault)
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
EMBEDDINGS_PATH = "/v1/embeddings"
DEFAULT_TIMEOUT_DELAY_S = 30.0

_MALFORMED_BODY = b'{"id": "chatcmpl-malformed", "object": "chat.completion", "choices": [{'
_STATUS_FAULTS: dict[str, tuple[HTTPStatus, str, str | None, str]] = {
    # fault: (status, error type, error code, message) — shaped like OpenAI's own errors.
    "429": (HTTPStatus.TOO_MANY_REQUESTS, "requests", "rate_limit_exceeded",
            "Rate limit reached for requests (injected by the cassette server)."),
    "500": (HTTPStatus.INTERNAL_SERVER_ERROR, "server_error", None,
            "The server had an error while processing your request (injected)."),
    "503": (HTTPStatus.SERVICE_UNAVAILABLE, "server_error", "service_unavailable",
            "The server is overloaded or not ready yet (injected)."),
    "401": (HTTPStatus.UNAUTHORIZED, "invalid_request_error", "invalid_api_key",
            "Incorrect API key provided (injected)."),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the server received it.

    Attributes:
        method: ``GET`` or ``POST``.
        path: the request path without the query string, e.g. ``/v1/chat/completions``.
        headers: the request headers with lower-cased names (``"authorization"``, ...).
        body: the parsed JSON body; ``None`` when there was no body or it was not JSON.
        fault: the injected fault served instead of an answer, or ``None``.

    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    fault: Fault | None = None

    @property
    def call_key(self) -> str | None:
        """The call key sent in the ``X-MultiCoder-Call`` header, if any."""
        return self.headers.get(HEADER_CALL_KEY.lower())

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header as sent (e.g. ``"Bearer test-key"``)."""
        return self.headers.get("authorization")


@dataclass
class _PendingFault:
    fault: Fault
    remaining: int
    path: str
    delay_s: float


@dataclass
class _State:
    """Mutable server state shared by the handler threads (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[_PendingFault] = field(default_factory=list)
    cursor: int = 0
    connections: set[socket.socket] = field(default_factory=set)


class CassetteServer:
    """An OpenAI-compatible chat-completions server answering from a cassette.

    The server listens on ``host:port`` (port 0 picks a free port) and serves each request in
    its own daemon thread, so a held request (the ``"timeout"`` fault) never blocks
    :meth:`stop`. Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    Args:
        cassette: the recorded answers.
        api_key: the only key accepted in ``Authorization: Bearer <key>``; ``None`` accepts
            any request, with or without the header.
        host: the interface to bind.
        port: the TCP port; ``0`` lets the system choose (see :attr:`base_url`).
        extra_models: model ids listed by ``/v1/models`` in addition to the cassette's.
        stream_chunk_chars: the longest piece of content or tool-call arguments sent in one
            streamed chunk (short texts are still split into about three pieces).
        embedding_dimensions: the size of the vectors ``/v1/embeddings`` answers.

    """

    def __init__(self, cassette: Cassette, *, api_key: str | None = "test-key",
                 host: str = "127.0.0.1", port: int = 0,
                 extra_models: Iterable[str] = (), stream_chunk_chars: int = 24,
                 embedding_dimensions: int = 256) -> None:
        if stream_chunk_chars < 1:
            raise ValueError("stream_chunk_chars must be at least 1")
        if embedding_dimensions < 2:
            raise ValueError("embedding_dimensions must be at least 2")
        self.embedding_dimensions = embedding_dimensions
        self.cassette = cassette
        self.api_key = api_key
        self.host = host
        self.port = port
        self.stream_chunk_chars = stream_chunk_chars
        self.model_ids = _model_ids(cassette, extra_models)
        self._state = _State()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind the socket and serve in a background thread; returns ``self``.

        Raises:
            RuntimeError: the server was already started.
            OSError: the address cannot be bound (e.g. the port is taken).

        """
        if self._httpd is not None:
            raise RuntimeError("CassetteServer already started")
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler, owner=self)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"cassette-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release held requests and close every open connection (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._state.lock:
            connections = list(self._state.connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, the ``base_url`` to give an OpenAI client.

        Raises:
            RuntimeError: the server is not running.

        """
        if self._httpd is None:
            raise RuntimeError("CassetteServer is not running; call start() or use `with`")
        return f"http://{self.host}:{self.port}/v1"

    # -- test controls -------------------------------------------------------------------

    def inject(self, fault: Fault, times: int = 1, path: str = CHAT_PATH, *,
               delay_s: float = DEFAULT_TIMEOUT_DELAY_S) -> Self:
        """Queue a fault for the next ``times`` requests to ``path``; returns ``self``.

        Faults are served in the order they were queued and before any normal answer;
        a request that gets a fault does not use up a cassette interaction.

        Args:
            fault: ``"429"`` (rate limit, ``Retry-After: 0``), ``"500"``, ``"503"``, ``"401"``
                (OpenAI error bodies), ``"timeout"`` (hold the request ``delay_s`` seconds,
                or until :meth:`stop`, then close without answering), ``"malformed"`` (200
                with a body that is not valid JSON; a broken event for a streaming request)
                or ``"drop"`` (close the connection without any response).
            times: how many consecutive matching requests get this fault.
            path: the request path the fault applies to, e.g. ``/v1/models``.
            delay_s: how long a ``"timeout"`` fault holds the request.

        Raises:
            ValueError: unknown fault, ``times`` below 1 or a negative delay.

        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if delay_s < 0:
            raise ValueError("delay_s must not be negative")
        with self._state.lock:
            self._state.faults.append(_PendingFault(fault, times, _normalise(path), delay_s))
        return self

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot (a new list) of every request received so far, oldest first."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def pending_faults(self) -> int:
        """How many injected faults are still waiting to be served (``times`` counted)."""
        with self._state.lock:
            return sum(f.remaining for f in self._state.faults)

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._state.lock:
            self._state.requests.clear()

    # -- used by the handler -----------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._state.lock:
            self._state.requests.append(request)

    def _take_fault(self, path: str) -> _PendingFault | None:
        with self._state.lock:
            for index, pending in enumerate(self._state.faults):
                if pending.path == path:
                    pending.remaining -= 1
                    if pending.remaining == 0:
                        del self._state.faults[index]
                    return pending
        return None

    def _lookup(self, key: str | None) -> Interaction:
        """The interaction for ``key``, or the next one in recorded order without a key.

        Raises:
            CassetteError: no answer for the key, or the cassette is used up.

        """
        if key is not None:
            return self.cassette.get(key)
        with self._state.lock:
            cursor = self._state.cursor
            if cursor >= len(self.cassette.order):
                raise CassetteError(
                    f"cassette {self.cassette.source} is used up: all "
                    f"{len(self.cassette.order)} interactions were answered already")
            self._state.cursor += 1
        return self.cassette.get(self.cassette.order[cursor])

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._state.lock:
            if add:
                self._state.connections.add(conn)
            else:
                self._state.connections.discard(conn)


class _HTTPServer(ThreadingHTTPServer):
    """Daemon handler threads that ``server_close`` does not wait for."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *,
                 owner: CassetteServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._track(request, add=True)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.owner._track(request, add=False)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    """Routes one connection's requests (HTTP/1.1 keep-alive, like the real API)."""

    protocol_version = "HTTP/1.1"
    server_version = "MultiCoderCassette/1.0"

    @property
    def owner(self) -> CassetteServer:
        return cast(_HTTPServer, self.server).owner

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    # -- dispatch ----------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        try:
            self._dispatch(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. its own time-out)

    def _dispatch(self, method: str) -> None:
        path = _normalise(self.path.split("?", 1)[0])
        raw = self._read_body()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        pending = self.owner._take_fault(path)
        self.owner._record(RecordedRequest(method, path, headers, body,
                                           pending.fault if pending else None))
        if pending is not None:
            self._serve_fault(pending, body)
            return
        if not self._authorised():
            self._send_error(HTTPStatus.UNAUTHORIZED, "invalid_request_error", "invalid_api_key",
                             "Incorrect API key provided. The cassette server expects "
                             "'Authorization: Bearer <its api_key>'.")
            return
        if method == "GET" and path == MODELS_PATH:
            self._send_json(HTTPStatus.OK, {"object": "list",
                                            "data": [_model(i) for i in self.owner.model_ids]})
        elif method == "GET" and path.startswith(MODELS_PATH + "/"):
            model_id = path.removeprefix(MODELS_PATH + "/")
            if model_id in self.owner.model_ids:
                self._send_json(HTTPStatus.OK, _model(model_id))
            else:
                self._send_error(HTTPStatus.NOT_FOUND, "invalid_request_error", "model_not_found",
                                 f"The model '{model_id}' does not exist in this cassette.")
        elif method == "POST" and path == CHAT_PATH:
            self._chat(body, raw)
        elif method == "POST" and path == EMBEDDINGS_PATH:
            self._embeddings(body, raw)
        else:
            self._send_error(HTTPStatus.NOT_FOUND, "invalid_request_error", "unknown_url",
                             f"Unknown request URL: {method} {path}. The cassette server "
                             f"serves GET {MODELS_PATH}, POST {CHAT_PATH} and POST "
                             f"{EMBEDDINGS_PATH}.")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _authorised(self) -> bool:
        expected = self.owner.api_key
        return expected is None or self.headers.get("Authorization") == f"Bearer {expected}"

    def _chat(self, body: Any, raw: bytes) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error(HTTPStatus.BAD_REQUEST, "invalid_request_error", None,
                             "The body must be a JSON object with a 'messages' list "
                             f"(got {raw[:80]!r}).")
            return
        key = self.headers.get(HEADER_CALL_KEY)
        try:
            interaction = self.owner._lookup(key)
        except CassetteError as exc:
            self._send_error(HTTPStatus.NOT_FOUND, "invalid_request_error",
                             "unknown_call_key" if key is not None else "cassette_used_up",
                             str(exc))
            return
        model = str(body.get("model") or _strip_provider(interaction.model))
        if body.get("stream"):
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            self._send_events(_chunks(interaction, model, include_usage,
                                      self.owner.stream_chunk_chars))
        else:
            self._send_json(HTTPStatus.OK, _completion(interaction, model))

    def _embeddings(self, body: Any, raw: bytes) -> None:
        texts = body.get("input") if isinstance(body, dict) else None
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(body, dict) or not isinstance(body.get("model"), str) \
                or not isinstance(texts, list) or not texts \
                or not all(isinstance(t, str) for t in texts):
            self._send_error(HTTPStatus.BAD_REQUEST, "invalid_request_error", None,
                             "The body must be a JSON object with a 'model' and an 'input' that"
                             f" is a string or a non-empty list of strings (got {raw[:80]!r}).")
            return
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            self._send_error(HTTPStatus.BAD_REQUEST, "invalid_request_error", None,
                             f"encoding_format must be 'float' or 'base64', not {encoding!r}.")
            return
        data = []
        for index, text in enumerate(texts):
            vector = hash_embedding(text, self.owner.embedding_dimensions)
            embedding: Any = vector if encoding == "float" else base64.b64encode(
                struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(len(_WORDS.findall(text)) for text in texts)
        self._send_json(HTTPStatus.OK, {"object": "list", "data": data, "model": body["model"],
                                        "usage": {"prompt_tokens": tokens,
                                                  "total_tokens": tokens}})

    # -- faults ------------------------------------------------------------------------

    def _serve_fault(self, pending: _PendingFault, body: Any) -> None:
        fault = pending.fault
        if fault in _STATUS_FAULTS:
            status, kind, code, message = _STATUS_FAULTS[fault]
            extra = {"Retry-After": "0"} if fault == "429" else {}
            self._send_error(status, kind, code, message, extra)
        elif fault == "timeout":
            self.owner._stopping.wait(pending.delay_s)
            self.close_connection = True  # never answer: the client's own time-out fires
        elif fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif isinstance(body, dict) and body.get("stream"):
            self._send_events(iter([_MALFORMED_BODY]), done=False)
        else:  # "malformed"
            self._send_bytes(HTTPStatus.OK, _MALFORMED_BODY, "application/json")

    # -- writing -----------------------------------------------------------------------

    def _send_error(self, status: HTTPStatus, kind: str, code: str | None, message: str,
                    extra_headers: dict[str, str] | None = None) -> None:
        payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._send_json(status, payload, extra_headers)

    def _send_json(self, status: HTTPStatus, payload: Any,
                   extra_headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, "application/json", extra_headers)

    def _send_bytes(self, status: HTTPStatus, data: bytes, content_type: str,
                    extra_headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_events(self, events: Iterator[bytes], *, done: bool = True) -> None:
        """Stream server-sent events with chunked transfer encoding, as the real API does."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        self.end_headers()
        for data in itertools.chain(events, [b"[DONE]"] if done else []):
            self._write_chunk(b"data: " + data + b"\n\n")
        self._write_chunk(b"")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()


# -- response bodies -------------------------------------------------------------------

_WORDS = re.compile(r"\w+")


def hash_embedding(text: str, dimensions: int = 256) -> list[float]:
    """The vector ``/v1/embeddings`` answers for ``text``: deterministic, unit length.

    Each lower-cased word adds ±1 at a position chosen by its SHA-256; the sum is
    L2-normalised (a text without words gets a fixed unit vector). Texts sharing words are
    close, so tests can tell a relevant match from an unrelated one.
    """
    vector = [0.0] * dimensions
    for word in _WORDS.findall(text.lower()):
        digest = hashlib.sha256(word.encode("utf-8")).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        return [1.0] + [0.0] * (dimensions - 1)
    return [v / norm for v in vector]



def _normalise(path: str) -> str:
    return "/" + path.strip("/")


def _strip_provider(model: str) -> str:
    """``"openai:gpt-4.1"`` -> ``"gpt-4.1"``."""
    return model.split(":", 1)[1] if ":" in model else model


def _model_ids(cassette: Cassette, extra: Iterable[str]) -> list[str]:
    ids = [_strip_provider(cassette.get(key).model) for key in cassette.order]
    return list(dict.fromkeys(i for i in (*ids, *extra) if i))


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "multicoder-cassette"}


def _usage(interaction: Interaction) -> dict[str, int]:
    prompt = int(interaction.usage.get("input_tokens", 0))
    completion = int(interaction.usage.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _arguments(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def _completion(interaction: Interaction, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object for a non-streaming request."""
    response = interaction.response
    message: dict[str, Any] = {
        "role": "assistant",
        "content": response.content if response.content or not response.tool_calls else None,
        "refusal": None,
    }
    if response.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": _arguments(call.args)}}
            for call in response.tool_calls]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if response.tool_calls else "stop"}],
        "usage": _usage(interaction),
        "system_fingerprint": None,
    }


def _pieces(text: str, longest: int) -> list[str]:
    """Split ``text`` into about three pieces, none longer than ``longest``."""
    size = max(1, min(longest, math.ceil(len(text) / 3)))
    return [text[i:i + size] for i in range(0, len(text), size)]


def _chunks(interaction: Interaction, model: str, include_usage: bool,
            longest: int) -> Iterator[bytes]:
    """The ``chat.completion.chunk`` events of a streamed answer (without ``[DONE]``)."""
    response = interaction.response
    base: dict[str, Any] = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                            "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model, "system_fingerprint": None}
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return json.dumps({**base, "choices": [choice]}, ensure_ascii=False).encode("utf-8")

    yield chunk({"role": "assistant", "content": "" if not response.tool_calls else None,
                 "refusal": None})
    for piece in _pieces(response.content, longest):
        yield chunk({"content": piece})
    for index, call in enumerate(response.tool_calls):
        yield chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                     "function": {"name": call.name, "arguments": ""}}]})
        for piece in _pieces(_arguments(call.args), longest):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls" if response.tool_calls else "stop")
    if include_usage:
        final = {**base, "choices": [], "usage": _usage(interaction)}
        yield json.dumps(final, ensure_ascii=False).encode("utf-8")


# -- command line ----------------------------------------------------------------------


def _fault_spec(text: str) -> tuple[Fault, int]:
    name, _, times = text.partition(":")
    if name not in FAULTS:
        raise argparse.ArgumentTypeError(
            f"unknown fault {name!r}; expected one of {', '.join(FAULTS)}")
    try:
        count = int(times) if times else 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"TIMES in {text!r} must be a whole number") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"TIMES in {text!r} must be at least 1")
    return name, count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.openai_server",
        description="Serve a MultiCoder cassette (JSON lines of recorded model answers) as\n"
                    "an OpenAI-compatible API, for manual testing of clients and of\n"
                    "MultiCoder itself. A chat request carrying the X-MultiCoder-Call header\n"
                    "gets the answer recorded under that call key; a request without it gets\n"
                    "the cassette's answers in recorded order. Endpoints: GET /v1/models,\n"
                    "POST /v1/chat/completions (plain or \"stream\": true), POST\n"
                    "/v1/embeddings (deterministic vectors hashed from the words).",
        epilog="example: uv run python -m tests.support.openai_server run/cassette.jsonl "
               "--port 8765 --fault 429 --fault 500:2\n"
               "then: OPENAI_BASE_URL=http://127.0.0.1:8765/v1 OPENAI_API_KEY=test-key ...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("cassette", type=Path, metavar="CASSETTE.jsonl",
                        help="the cassette file to serve")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765,
                        help="TCP port; 0 picks a free one (default: %(default)s)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--api-key", default="test-key",
                      help="the only accepted 'Authorization: Bearer' key "
                           "(default: %(default)s)")
    auth.add_argument("--no-auth", action="store_true",
                      help="accept requests with any Authorization header, or none")
    parser.add_argument("--model", action="append", default=[], metavar="ID",
                        help="extra model id for GET /v1/models (repeatable)")
    parser.add_argument("--fault", action="append", default=[], type=_fault_spec,
                        metavar="FAULT[:TIMES]",
                        help="inject a fault into the first chat requests, in order "
                             f"(repeatable); FAULT is one of: {', '.join(FAULTS)}")
    parser.add_argument("--timeout-delay", type=float, default=DEFAULT_TIMEOUT_DELAY_S,
                        metavar="SECONDS",
                        help="how long a 'timeout' fault holds a request "
                             "(default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="do not log each request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a cassette until interrupted; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(message)s")
    try:
        cassette = Cassette.load(args.cassette)
    except CassetteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    api_key = None if args.no_auth else args.api_key
    server = CassetteServer(cassette, api_key=api_key, host=args.host, port=args.port,
                            extra_models=args.model)
    for fault, times in args.fault:
        server.inject(fault, times, delay_s=args.timeout_delay)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    print(f"Serving {len(cassette)} interactions from {cassette.source}")
    print(f"  base_url: {server.base_url}")
    print(f"  api key:  {api_key if api_key is not None else '(any)'}")
    print(f"  models:   {', '.join(server.model_ids) or '(none)'}")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
