"""Writing a response body over time: pacing, keep-alive pings, and the injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ._faults import Faults
from ._wire import error_body, sse_frame

_PING = sse_frame({"type": "ping"})
_DRAIN_POLL = 0.001
_FLUSH_BYTES = 64 * 1024


@dataclass(frozen=True)
class Pacing:
    """How fast the emulated model writes: seconds to first token, tokens per second."""

    ttft: float = 0.0
    tps: float | None = None
    ping_interval: float = 5.0

    def generation_time(self, tokens: int) -> float:
        """Seconds to produce a whole reply of `tokens` output tokens."""
        return self.ttft + (tokens / self.tps if self.tps else 0.0)


class BodyWriter:
    """Writes a prepared response's body: queued frames go out together when the stream is
    about to wait (or the queue is large), one byte per write when trickling."""

    def __init__(
        self, response: web.StreamResponse, request: web.BaseRequest, trickle: bool
    ) -> None:
        self._response = response
        self._transport = request.transport
        self._trickle = trickle
        self._pending = bytearray()
        self._loop = asyncio.get_running_loop()
        self.last_write = self._loop.time()

    def queue(self, data: bytes) -> None:
        self._pending += data

    async def flush(self) -> None:
        data, self._pending = bytes(self._pending), bytearray()
        if self._trickle:
            for i in range(len(data)):
                await self._response.write(data[i : i + 1])
                await asyncio.sleep(0)
        elif data:
            await self._response.write(data)
        self.last_write = self._loop.time()

    async def write(self, data: bytes) -> None:
        self.queue(data)
        await self.flush()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def idle_until(self, due: float, ping_interval: float) -> None:
        """Flush, then wait for `due` (loop time), pinging whenever the line was quiet too long."""
        await self.flush()
        while (now := self._loop.time()) < due:
            next_ping = self.last_write + ping_interval
            if ping_interval > 0 and next_ping < due:
                await asyncio.sleep(max(0.0, next_ping - now))
                await self.write(_PING)
            else:
                await asyncio.sleep(due - now)

    async def abort(self) -> None:
        """Cut the connection once what was written has reached the socket (no terminator)."""
        await self.flush()
        transport = self._transport
        if transport is None:
            return
        while transport.get_write_buffer_size() and not transport.is_closing():
            await asyncio.sleep(_DRAIN_POLL)
        transport.abort()


async def write_events(
    writer: BodyWriter,
    events: Sequence[tuple[dict[str, Any], int]],
    *,
    faults: Faults,
    pacing: Pacing,
    request_id: str,
    on_event: Callable[[], None],
) -> bool:
    """Stream the events as SSE, applying faults; True if the body should end cleanly.

    Fault positions count the reply's own events (keep-alive pings are not counted).
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    shift = 0.0
    tokens = 0
    for position in range(len(events) + 1):
        if faults.stall is not None and position == faults.after:
            await writer.flush()
            await asyncio.sleep(faults.stall)  # silence: no pings either
            shift += faults.stall
        if faults.error is not None and position == faults.after:
            body = error_body(faults.error, faults.error_message(faults.error), request_id)
            await writer.write(sse_frame(body))
            return True
        if faults.drop == position:
            await writer.abort()
            return False
        if faults.drop_mid == position:
            if position < len(events):
                frame = sse_frame(events[position][0])
                writer.queue(frame[: len(frame) // 2])
            await writer.abort()
            return False
        if faults.end == position or position == len(events):
            await writer.flush()
            return True
        if position >= 1:  # message_start leaves at once; the content takes time
            tokens += events[position][1]
            due = start + shift + pacing.generation_time(tokens)
            if due > loop.time():
                await writer.idle_until(due, pacing.ping_interval)
        writer.queue(sse_frame(events[position][0]))
        on_event()
        if writer.pending >= _FLUSH_BYTES:
            await writer.flush()
    return True
