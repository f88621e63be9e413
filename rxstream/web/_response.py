"""The SSE response of one reader: its own pace, pings while idle, gone on disconnect.

Each connection iterates the store on its own, writing each entry as it comes; a reader
that stops reading blocks only its own `send` (the server stops buffering at its write
high-water mark), so it slows no one and holds no more than that buffer. The upstream
belongs to the store's producer: nothing here can cancel it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.types import Message, Receive, Scope, Send

from .._errors import APIError
from ..durable import Entry, StreamNotFound
from ._wire import PING, error_body, sse_end, sse_entry, sse_retry

__all__ = ["EventStreamResponse"]

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    # Fan-out proxies must not cache one reader's stream for another; nginx must not buffer.
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


class _First:
    """The first entry (or the error), fetched in a task so the reply can wait for it a
    little: an unknown stream or id then gets a 404 / 400 instead of an empty stream."""

    def __init__(self) -> None:
        self.ready = anyio.Event()
        self.entry: Entry | None = None
        self.error: BaseException | None = None

    async def fetch(self, entries: AsyncIterator[Entry]) -> None:
        try:
            self.entry = await anext(entries)
        except StopAsyncIteration:
            pass
        except Exception as exc:
            self.error = exc
        finally:
            self.ready.set()


class EventStreamResponse:
    """An ASGI response streaming `open_entries()` as `text/event-stream`.

    Args:
        open_entries: opens the store's iterator for this reader.
        encode: an entry as SSE bytes (readers of one stream can share a cache of them).
        retry_ms: the `retry:` sent first (a browser's reconnect delay).
        ping_interval: seconds of silence before a `ping` event (the API's own, no `id:`).
        status_wait: how long to wait for the first entry before sending the headers
            (errors found by then get their HTTP status).
    """

    def __init__(
        self,
        open_entries: Callable[[], AsyncIterator[Entry]],
        *,
        encode: Callable[[Entry], bytes] = sse_entry,
        retry_ms: int,
        ping_interval: float,
        status_wait: float = 1.0,
    ) -> None:
        self._open = open_entries
        self._retry_ms = retry_ms
        self._ping_interval = ping_interval if ping_interval > 0 else math.inf
        self._status_wait = status_wait
        self._encode = encode
        self._last_send = time.monotonic()
        # Two tasks write (entries, pings); a ping goes only between two writes, and a write
        # waits for a ping in flight. Flags, not a lock: a lock would cost every event a
        # trip through the event loop.
        self._sending = False
        self._pinging: anyio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            entries = self._open()
        except (StreamNotFound, ValueError) as exc:  # a store that checks when opened
            await _send_error(send, exc)
            return
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_watch_disconnect, receive, group.cancel_scope)
                await self._respond(entries, send, group)
                group.cancel_scope.cancel()
        except* OSError:
            pass  # a server that raises when the client went away (uvicorn just drops it)
        finally:
            with anyio.CancelScope(shield=True):
                await _aclose(entries)

    async def _respond(
        self, entries: AsyncIterator[Entry], send: Send, group: anyio.abc.TaskGroup
    ) -> None:
        first = _First()
        group.start_soon(first.fetch, entries)
        with anyio.move_on_after(self._status_wait):
            await first.ready.wait()
        if first.ready.is_set() and isinstance(first.error, StreamNotFound | ValueError):
            await _send_error(send, first.error)
            return
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await self._write(send, sse_retry(self._retry_ms))
        group.start_soon(self._ping, send)
        await first.ready.wait()
        try:
            if first.error is not None:
                raise first.error
            if first.entry is not None:
                encode = self._encode
                await self._write(send, encode(first.entry))
                async for entry in entries:
                    await self._write(send, encode(entry))
        except APIError as exc:
            await self._write(send, sse_end(exc))
        await self._write(send, b"", more=False)

    async def _write(self, send: Send, data: bytes, *, more: bool = True) -> None:
        while self._pinging is not None:
            await self._pinging.wait()
        self._sending = True
        try:
            await send({"type": "http.response.body", "body": data, "more_body": more})
        finally:
            self._sending = False
        self._last_send = time.monotonic()

    async def _ping(self, send: Send) -> None:
        while True:
            await anyio.sleep(self._last_send + self._ping_interval - time.monotonic())
            if not self._sending and time.monotonic() - self._last_send >= self._ping_interval:
                self._pinging = pinging = anyio.Event()
                try:
                    await send({"type": "http.response.body", "body": PING, "more_body": True})
                finally:
                    self._pinging = None
                    pinging.set()
                self._last_send = time.monotonic()


async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


async def _send_error(send: Send, error: BaseException) -> None:
    if isinstance(error, StreamNotFound):
        status, body = 404, error_body("not_found_error", error.message)
    else:
        status, body = 400, error_body("invalid_request_error", str(error))
    await send_json(send, status, body)


async def send_json(send: Send, status: int, body: Any) -> None:
    """A complete JSON response."""
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def _aclose(entries: AsyncIterator[Entry]) -> None:
    aclose = getattr(entries, "aclose", None)
    if aclose is not None:
        await aclose()
