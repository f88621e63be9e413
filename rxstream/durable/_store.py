"""The contract every stream store keeps: a response as an ordered log of entries.

A store holds one log per response (`stream_id`). A producer appends every event of the
response, then one terminal record (completed, failed or cancelled). Consumers in any
process read the log from any position, then follow it live until its terminal record.
`RedisStore` (Redis Streams, many processes) and `MemoryStore` (one process) both keep it,
so a relay (`rxstream.web`) works with either.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

import reactivex

from .._accumulate import StreamItem
from .._errors import APIConnectionError, APIError
from .._fanout import SharedStream
from .._types import MessageStreamEvent

__all__ = [
    "Entry",
    "Mode",
    "ProducerConflictError",
    "ProducerLostError",
    "Source",
    "StoreUnavailableError",
    "StreamCancelledError",
    "StreamNotFound",
    "StreamStore",
]

Mode: TypeAlias = Literal["snapshot", "replay"]
"""How a consumer that starts behind the head catches up.

`"snapshot"`: one `SnapshotEvent` of the message up to its position, then the live tail
(constant cost however long the stream). `"replay"`: every entry after its position.
"""

Source: TypeAlias = (
    "reactivex.Observable[MessageStreamEvent] | SharedStream | AsyncIterable[MessageStreamEvent]"
)
"""What a producer publishes: an `observe()` Observable, a `SharedStream`, or an async
iterator of events."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a stream's log, with the id that orders it.

    `id` is a valid SSE `id:` (no CR, LF or NUL) and increases along the log: a consumer
    that saw `id` resumes with `after=id` and gets exactly the next item.
    """

    id: str
    item: StreamItem


class StreamNotFound(APIError):
    """No stream has this id: it never existed, or its keys expired `ttl` after its end."""


class StreamCancelledError(APIError):
    """The stream was cancelled (`store.cancel(stream_id)`); `partial_message` is what it had."""


class ProducerLostError(APIError):
    """The stream's producer stopped holding its lease without writing an end: it died."""


class ProducerConflictError(APIError):
    """Another producer holds this stream (a second `publish` of one `stream_id`), or this
    producer lost its lease and may no longer append."""


class StoreUnavailableError(APIConnectionError):
    """The store itself failed: Redis down, restarted or unreachable mid-stream."""


class StreamStore(Protocol):
    """What `rxstream.web` and other relays need from a store.

    Consumers end the way the stream ended: a completed stream's iterator finishes, a failed
    one raises the same rxstream exception class as the producer saw (status, type, message
    and request id kept), a cancelled one raises `StreamCancelledError`, one whose producer
    died raises `ProducerLostError`, an unknown or expired one raises `StreamNotFound`.
    """

    async def publish(self, stream_id: str, source: Source) -> None:
        """Read `source` to its end, appending every event, then the terminal record."""
        ...

    def aentries(
        self, stream_id: str, *, after: str | None = None, mode: Mode = "snapshot"
    ) -> AsyncIterator[Entry]:
        """The log after `after` (from the start when None), then the live tail."""
        ...

    async def cancel(self, stream_id: str) -> bool:
        """Ask the producer to stop: it closes its upstream connection and records
        `cancelled`. False when the stream is unknown or already ended."""
        ...
