"""A sans-IO, incremental WHATWG event-stream decoder working on bytes.

Events are found with C-level `bytes.find` / `bytes.split`, and runs of events of the API's
shape with one `re.findall`; each byte is copied a constant number of times however the input
is chunked, so decoding is linear in the input.
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import add, itemgetter
from typing import Final, TypeAlias, cast

import msgspec

from ._errors import StreamDecodeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "EventRun", "RawEvent", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_SIZE: Final = 16 * 1024 * 1024
_BOM: Final = b"\xef\xbb\xbf"

# The shape of (nearly) every event the API sends. A run of such events is taken apart by
# one C-level `findall`, with no Python code per event. The match may only begin at a line
# start (`^`, multiline): unanchored, every `event: ` inside a line of an event that is not of
# this shape (an `id:` line, a comment) started an attempt that read to the end of that line,
# quadratic in the line's length; anchored, each line is read by at most two attempts.
_API_EVENT: Final = re.compile(rb"^event: ([^\n]*)\ndata: ([^\n]*)\n\n", re.MULTILINE)
_API_EVENT_FRAME: Final = len(b"event: \ndata: \n\n")
_name: Final = itemgetter(0)
_data: Final = itemgetter(1)

RawEvent: TypeAlias = tuple[bytes | None, bytes, int, int, str, int | None]
"""(event name or None, data, ordinal, byte offset, last event id, retry)."""


class EventRun:
    """Consecutive events of the API's shape: their `data`, and their `RawEvent`s on demand
    (most consumers only ever need the data, and building tuples costs as much as finding)."""

    __slots__ = ("_first", "_found", "_last_id", "_offset", "_retry", "data")

    def __init__(
        self,
        found: list[tuple[bytes, bytes]],
        first: int,
        offset: int,
        last_id: str,
        retry: int | None,
    ) -> None:
        self._found = found
        self._first = first
        self._offset = offset
        self._last_id = last_id
        self._retry = retry
        self.data: list[bytes] = list(map(_data, found))

    def raw_events(self) -> list[RawEvent]:
        """The events as `RawEvent`s, ordinals and offsets included."""
        names = list(map(_name, self._found))
        sizes = map(add, map(add, map(len, names), map(len, self.data)), repeat(_API_EVENT_FRAME))
        return list(
            zip(
                names,
                self.data,
                range(self._first, self._first + len(names)),
                accumulate(sizes, initial=self._offset),
                repeat(self._last_id),
                repeat(self._retry),
            )
        )


class ServerSentEvent(msgspec.Struct, frozen=True):
    """One dispatched event: `event` defaults to "message"; `id` is the last event id."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Feed it byte chunks; it returns the events each chunk completes.

    Line ends may be LF, CR or CRLF (a CRLF split across chunks is one line end); a UTF-8
    BOM at the very start is dropped. An event still open when the input ends is not
    dispatched (the WHATWG rule): `end()` reports whether one was left. Offsets count bytes
    of the stream after CRLF and CR line ends are read as LF.
    """

    __slots__ = (
        "_at_start",
        "_count",
        "_error",
        "_held_cr",
        "_last_id",
        "_offset",
        "_pending",
        "_pending_size",
        "_pending_start",
        "_retry",
        "max_event_size",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.max_event_size = max_event_size
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._pending_start = 0
        self._offset = 0
        self._count = 0
        self._held_cr = False
        self._at_start: bytes | None = b""
        self._last_id = ""
        self._retry: int | None = None
        self._error: StreamDecodeError | None = None

    @property
    def last_event_id(self) -> str:
        """The last `id` field seen (it persists across events)."""
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The last valid `retry` field, in milliseconds."""
        return self._retry

    @property
    def events_dispatched(self) -> int:
        """How many events have been returned so far."""
        return self._count

    def feed(self, chunk: bytes) -> list[RawEvent]:
        """Consume `chunk`; return the events it completes, in order.

        Raises `StreamDecodeError` when an event passes `max_event_size`; the events that
        chunk completed before it are returned first, and the error is raised by the next call.
        """
        out = self._feed_runs(chunk)
        last = out[-1] if out else None
        if isinstance(last, EventRun):  # only ever the last
            out[-1:] = last.raw_events()
        return cast(list[RawEvent], out)

    def _feed_runs(self, chunk: bytes) -> list[RawEvent | EventRun]:
        """`feed`, with runs of events of the API's shape left as `EventRun`s."""
        if self._error is not None:
            raise self._error
        out: list[RawEvent | EventRun] = []
        try:
            self._feed(chunk, out)
        except StreamDecodeError as exc:
            self._pending = []  # memory stays bounded however the input continues
            self._pending_size = 0
            self._error = exc
            if not out:
                raise
        return out

    def _feed(self, chunk: bytes, out: list[RawEvent | EventRun]) -> None:
        if self._at_start is not None:
            chunk = self._strip_bom(chunk)
        if self._held_cr:
            chunk = b"\r" + chunk
            self._held_cr = False
        if b"\r" in chunk:
            if chunk[-1] == 13:  # a CR that may be the first half of a CRLF
                chunk = chunk[:-1]
                self._held_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not chunk:
            return
        base = self._offset
        self._offset += len(chunk)
        start = 0
        pending = self._pending
        if pending:
            # The middle of a long event: no line end at all (a one-byte search is the fastest).
            if b"\n" not in chunk:
                pending.append(chunk)
                self._pending_size += len(chunk)
                if self._pending_size > self.max_event_size:
                    self._check_pending()
                return
            if pending[-1][-1] == 10 and chunk[0] == 10:
                start = 1
                block = b"".join(pending)[:-1]
            else:
                end = chunk.find(b"\n\n")
                if end < 0:
                    pending.append(chunk)
                    self._pending_size += len(chunk)
                    if self._pending_size > self.max_event_size:
                        self._check_pending()
                    return
                start = end + 2
                pending.append(chunk[:end])
                block = b"".join(pending)
            self._pending = []
            self._pending_size = 0
            self._parse(block, self._pending_start, out)
        end = chunk.rfind(b"\n\n", start) + 2
        if end > start + 2 and self._parse_api_events(chunk, start, end, base + start, out):
            last = chunk[end:]
            at = base + end
        else:
            parts = (chunk[start:] if start else chunk).split(b"\n\n")
            at = base + start
            for i in range(len(parts) - 1):
                part = parts[i]
                if part:
                    self._parse(part, at, out)
                at += len(part) + 2
            last = parts[-1]
        if last:
            self._pending = [last]
            self._pending_size = len(last)
            self._pending_start = at
            if len(last) > self.max_event_size:
                self._check_pending()

    def end(self) -> tuple[list[RawEvent], bool]:
        """Finish the input: return the events a held-back line end completes, and whether
        an unterminated event was left (and discarded)."""
        if self._error is not None:
            raise self._error
        out: list[RawEvent] = []
        if self._held_cr:
            self._held_cr = False
            self._at_start = None
            out = self.feed(b"\n")
        leftover = any(p.strip(b"\n") for p in self._pending)
        self._pending = []
        self._pending_size = 0
        return out, leftover

    def _strip_bom(self, chunk: bytes) -> bytes:
        seen = self._at_start
        assert seen is not None
        data = seen + chunk
        if len(data) < 3 and _BOM.startswith(data):
            self._at_start = data
            return b""
        self._at_start = None
        return data[3:] if data.startswith(_BOM) else data

    def _check_pending(self) -> None:
        # A trailing LF may be the first half of the blank line that ends the event, not
        # part of the event: the limit must not depend on where the chunks were cut.
        if self._pending_size - (self._pending[-1][-1] == 10) > self.max_event_size:
            self._too_big(self._pending_start)

    def _too_big(self, offset: int) -> None:
        raise StreamDecodeError(
            f"event #{self._count + 1} at byte {offset} exceeds the maximum "
            f"event size of {self.max_event_size} bytes",
            offset=offset,
        )

    def _parse_api_events(
        self, chunk: bytes, start: int, end: int, offset: int, out: list[RawEvent | EventRun]
    ) -> bool:
        """Dispatch the complete events in `chunk[start:end]` as one `EventRun` if all have
        the API's shape, `event: NAME` then `data: DATA`; return False if not."""
        found = _API_EVENT.findall(chunk, start, end)
        run = EventRun(found, self._count + 1, offset, self._last_id, self._retry)
        n = len(found)
        if sum(map(len, run.data)) + sum(map(len, map(_name, found))) + n * _API_EVENT_FRAME != (
            end - start
        ):
            return False  # something else is in there: take the general path
        if end - start > self.max_event_size and (
            max(map(add, map(len, run.data), map(len, map(_name, found)))) + 14
            > self.max_event_size
        ):
            return False  # the general path raises, after the events before the big one
        out.append(run)
        self._count += n
        return True

    def _parse(self, block: bytes, offset: int, out: list[RawEvent | EventRun]) -> None:
        if len(block) > self.max_event_size:
            self._too_big(offset)
        # The common shape, `event: NAME\ndata: JSON`, without the general line loop.
        if block.startswith(b"event: "):
            nl = block.find(b"\n")
            if nl > 0 and block.startswith(b"data: ", nl + 1) and block.find(b"\n", nl + 1) < 0:
                self._count += 1
                out.append(
                    (block[7:nl], block[nl + 7 :], self._count, offset, self._last_id, self._retry)
                )
                return
        if block[:1] == b"\n":  # the rest of a run of blank lines: the event starts after it
            stripped = block.lstrip(b"\n")
            offset += len(block) - len(stripped)
            block = stripped
        name: bytes | None = None
        data: list[bytes] = []
        # Lines are found in place and only the values of known fields are copied out: a
        # huge line costs one copy, not three (split, field, value).
        find = block.find
        size = len(block)
        pos = 0
        while pos <= size:
            nl = find(b"\n", pos)
            if nl < 0:
                nl = size
            if nl == pos:
                if data:
                    self._dispatch(name, data, offset + pos, out)
                name = None
                data = []
                pos = nl + 1
                continue
            colon = find(b":", pos, nl)
            if colon == pos:
                pos = nl + 1
                continue  # a comment
            if colon < 0:
                field, start = block[pos:nl], nl
            else:
                field = block[pos:colon]
                start = colon + 2 if block[colon + 1 : colon + 2] == b" " else colon + 1
            pos = nl + 1
            if field == b"data":
                data.append(block[start:nl])
            elif field == b"event":
                name = block[start:nl]
            elif field == b"id":
                value = block[start:nl]
                if b"\x00" not in value:
                    self._last_id = value.decode("utf-8", "replace")
            elif field == b"retry":
                value = block[start:nl]
                if value.isdigit():  # bytes.isdigit: ASCII digits only
                    self._retry = int(value)
        if data:
            self._dispatch(name, data, offset, out)

    def _dispatch(
        self, name: bytes | None, data: list[bytes], offset: int, out: list[RawEvent | EventRun]
    ) -> None:
        self._count += 1
        payload = data[0] if len(data) == 1 else b"\n".join(data)
        out.append((name, payload, self._count, offset, self._last_id, self._retry))
