"""What the relay writes: the API's own SSE wire format plus `id:`, and the API's error bodies.

An entry goes out as `event: NAME`, `id: ENTRY_ID`, `data: JSON` (a snapshot as
`event: snapshot`); a stream that did not complete ends with the API's in-stream error
event, `event: error` with `{"type": "error", "error": {"type": ..., "message": ...}}`.
"""

from __future__ import annotations

from typing import Any, Final

from .._accumulate import SnapshotEvent
from .._decode import encode
from .._errors import APIError, APIStatusError
from .._snapshot_wire import encode_snapshot
from ..durable import Entry, ProducerLostError, StreamCancelledError, StreamNotFound

__all__ = ["EncodedEntries", "error_body", "error_type_of", "sse_end", "sse_entry", "sse_retry"]

# The API's own keep-alive event (no `id:`, so a reader's resume position stays): unlike an
# SSE comment, a browser's EventSource dispatches it, so a page can tell a live connection
# from a dead one.
PING: Final = b'event: ping\ndata: {"type": "ping"}\n\n'


def sse_entry(entry: Entry) -> bytes:
    """One entry as an SSE event with its id."""
    item = entry.item
    if isinstance(item, SnapshotEvent):
        name, data = b"snapshot", encode_snapshot(item.snapshot)
    else:
        name, data = item.type.encode(), encode(item)
    return b"event: " + name + b"\nid: " + entry.id.encode() + b"\ndata: " + data + b"\n\n"


class EncodedEntries:
    """`sse_entry` with the bytes of recent entries kept, keyed by stream and entry id: the
    readers of one stream are mostly at its head, so each entry is encoded once, not once
    per reader. Holds at most `size` entries (the oldest go first)."""

    def __init__(self, size: int = 8192) -> None:
        self._size = size
        self._bytes: dict[tuple[str, str], bytes] = {}

    def of(self, stream_id: str, entry: Entry) -> bytes:
        """The SSE bytes of `entry` of `stream_id`."""
        if isinstance(entry.item, SnapshotEvent):
            return sse_entry(entry)  # one reader's view, with the id of the entry it sums up
        key = (stream_id, entry.id)
        data = self._bytes.get(key)
        if data is None:
            data = sse_entry(entry)
            if len(self._bytes) >= self._size:
                del self._bytes[next(iter(self._bytes))]
            self._bytes[key] = data
        return data


def sse_retry(milliseconds: int) -> bytes:
    """The `retry:` field that sets a browser's reconnect delay."""
    return b"retry: " + str(milliseconds).encode() + b"\n\n"


def error_type_of(error: APIError) -> str:
    """The `error.type` a stream's failure goes out as."""
    if isinstance(error, StreamCancelledError):
        return "stream_cancelled"
    if isinstance(error, ProducerLostError):
        return "producer_lost"
    if isinstance(error, StreamNotFound):
        return "not_found_error"
    if isinstance(error, APIStatusError) and error.error_type:
        return error.error_type
    return "api_error"


def error_body(error_type: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """The API's error body."""
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return body


def sse_end(error: APIError) -> bytes:
    """The in-stream `error` event that ends a stream which failed or was cancelled."""
    body = error_body(error_type_of(error), error.message, error.request_id)
    return b"event: error\ndata: " + encode(body) + b"\n\n"
