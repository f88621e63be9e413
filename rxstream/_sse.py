"""A sans-IO, incremental WHATWG event-stream decoder working on bytes.

Events are found with C-level `bytes.find` / `bytes.split`; each byte is copied a constant
number of times however the input is chunked, so decoding is linear in the input.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import msgspec

from ._errors import StreamDecodeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "RawEvent", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_SIZE: Final = 16 * 1024 * 1024
_BOM: Final = b"\xef\xbb\xbf"

RawEvent: TypeAlias = tuple[bytes | None, bytes, int, int, str, int | None]
"""(event name or None, data, ordinal, byte offset, last event id, retry)."""


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
        if self._error is not None:
            raise self._error
        out: list[RawEvent] = []
        try:
            self._feed(chunk, out)
        except StreamDecodeError as exc:
            self._pending = []  # memory stays bounded however the input continues
            self._pending_size = 0
            self._error = exc
            if not out:
                raise
        return out

    def _feed(self, chunk: bytes, out: list[RawEvent]) -> None:
        if self._at_start is not None:
            chunk = self._strip_bom(chunk)
            if not chunk:
                return
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
        if self._pending:
            if self._pending[-1][-1] == 10 and chunk[0] == 10:
                start = 1
                block = b"".join(self._pending)[:-1]
            else:
                end = chunk.find(b"\n\n")
                if end < 0:
                    self._pending.append(chunk)
                    self._pending_size += len(chunk)
                    self._check_pending()
                    return
                start = end + 2
                self._pending.append(chunk[:end])
                block = b"".join(self._pending)
            self._pending = []
            self._pending_size = 0
            self._parse(block, self._pending_start, out)
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

    def _parse(self, block: bytes, offset: int, out: list[RawEvent]) -> None:
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
        at = offset
        for line in block.split(b"\n"):
            line_at = at
            at += len(line) + 1
            if not line:
                if data:
                    self._dispatch(name, data, line_at, out)
                name = None
                data = []
                continue
            colon = line.find(b":")
            if colon == 0:
                continue  # a comment
            if colon < 0:
                field, value = line, b""
            else:
                field = line[:colon]
                value = (
                    line[colon + 2 :] if line[colon + 1 : colon + 2] == b" " else line[colon + 1 :]
                )
            if field == b"data":
                data.append(value)
            elif field == b"event":
                name = value
            elif field == b"id":
                if b"\x00" not in value:
                    self._last_id = value.decode("utf-8", "replace")
            elif field == b"retry" and value.isdigit():  # bytes.isdigit: ASCII digits only
                self._retry = int(value)
        if data:
            self._dispatch(name, data, offset, out)

    def _dispatch(
        self, name: bytes | None, data: list[bytes], offset: int, out: list[RawEvent]
    ) -> None:
        self._count += 1
        payload = data[0] if len(data) == 1 else b"\n".join(data)
        out.append((name, payload, self._count, offset, self._last_id, self._retry))
