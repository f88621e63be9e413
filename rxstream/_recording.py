"""Recordings of a stream: its bytes as received, with each event's arrival time.

Before each event the recorder writes one SSE comment line, `: rxstream-at <seconds>`, the
time since the request was sent at which the event's last byte arrived. Every SSE reader
ignores comments, so a recording is still a valid stream for any client; `replay` reads the
times back and plays the events at the recorded pace. Files without them (a `curl` capture)
replay at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

__all__ = ["Playback", "TimedChunk", "read_timed", "write_timed"]

_MARK = re.compile(rb"^: rxstream-at (\d+(?:\.\d+)?)\r?$", re.M)
# An event ends at an empty line; the API ends lines with "\n" (also accepted: "\r\n").
_EVENT_END = re.compile(rb"\r?\n\r?\n")

TimedChunk = tuple[float, bytes]
"""(seconds after the request was sent, the bytes that arrived by then)."""


def write_timed(
    chunks: Iterable[bytes],
    out: BinaryIO,
    *,
    start: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> int:
    """Copy `chunks` to `out`, each whole event preceded by its arrival-time comment.

    Times count from `start` (a `clock()` reading taken before the request was sent;
    default: now). Returns the number of events written; bytes after the last complete event (a
    stream cut short) are written too, stamped with the time the stream ended.
    """
    start = clock() if start is None else start
    buffer = bytearray()
    events = 0
    for chunk in chunks:
        # Only the new bytes and the 3 before them can complete an event end: linear overall.
        scan_from = max(0, len(buffer) - 3)
        buffer += chunk
        at = clock() - start
        written = 0
        while match := _EVENT_END.search(buffer, scan_from):
            out.write(b": rxstream-at %.4f\n" % at + bytes(buffer[written : match.end()]))
            written = scan_from = match.end()
            events += 1
        del buffer[:written]
    if buffer.strip():
        out.write(b": rxstream-at %.4f\n" % (clock() - start) + bytes(buffer))
    return events


def read_timed(data: bytes) -> list[TimedChunk]:
    """Split a recording into (arrival time, bytes) pieces, in order.

    A recording without time comments becomes one piece per event, all at time 0.
    """
    marks = list(_MARK.finditer(data))
    if not marks:
        return [(0.0, block + b"\n\n") for block in data.split(b"\n\n") if block.strip()]
    pieces: list[TimedChunk] = []
    if data[: marks[0].start()].strip():
        pieces.append((0.0, data[: marks[0].start()]))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(data)
        pieces.append((float(mark.group(1)), data[mark.start() : end]))
    return pieces


class Playback:
    """Plays a recording's pieces at their recorded times divided by `speed` (None: at once).

    `clock()` reads the recorded arrival time of the piece being delivered, so metrics
    measured with it are the recording's own, whatever the playback speed.
    """

    def __init__(
        self,
        pieces: list[TimedChunk],
        *,
        speed: float | None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._pieces = pieces
        self._speed = speed
        self._wall = clock
        self._sleep = sleep
        self._at = 0.0

    def clock(self) -> float:
        """Seconds since the recorded request was sent, at the piece being delivered."""
        return self._at

    def chunks(self) -> Iterator[bytes]:
        """The pieces, each when its time comes (the clock starts at the first `next()`)."""
        start = self._wall()
        for at, piece in self._pieces:
            if self._speed is not None:
                wait = start + at / self._speed - self._wall()
                if wait > 0:
                    self._sleep(wait)
            self._at = at
            yield piece
