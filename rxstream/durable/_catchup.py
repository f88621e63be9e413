"""Reading a stream's log from Redis (sync redis-py): ranges, checkpoints, liveness.

Every read turns Redis' connection failures into `StoreUnavailableError`, so a consumer
sees a typed error, never a redis-py exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, cast

import redis
import redis.exceptions

from .._accumulate import SnapshotEvent
from .._errors import APIError
from .._types import MessageStreamEvent
from . import _codec
from ._codec import Outcome, Position
from ._compact import snapshot_from
from ._keys import Keys
from ._store import Entry, Mode, ProducerLostError, StoreUnavailableError, StreamNotFound

__all__ = ["Batch", "LogReader", "store_errors"]

_PAGE: Final = 512
_REDIS_DOWN: Final = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@contextlib.contextmanager
def store_errors(stream_id: str) -> Iterator[None]:
    """Redis unreachable (down, restarted, timed out) becomes `StoreUnavailableError`."""
    try:
        yield
    except _REDIS_DOWN as exc:
        raise StoreUnavailableError(
            f"Redis unavailable while reading stream {stream_id!r}: {exc}"
        ) from exc


@dataclass(slots=True)
class Batch:
    """One log entry, decoded: its events with their positions and ids, or the end."""

    xid: str
    position: tuple[int, int]
    events: list[MessageStreamEvent] = field(default_factory=list)
    outcome: Outcome | None = None

    def entries(self, after: Position) -> Iterator[tuple[Position, Entry]]:
        """Its events after `after`, as (position, Entry)."""
        ms, seq = self.position
        for k, event in enumerate(self.events):
            position = (ms, seq, k)
            if position > after:
                yield position, Entry(_codec.entry_id(self.xid, k), event)


def _batch(xid: Any, fields: dict[bytes, bytes]) -> Batch:
    text = xid.decode() if isinstance(xid, bytes) else str(xid)
    batch = Batch(text, _codec.parse_xid(text))
    data = fields.get(b"e")
    if data is not None:
        batch.events = _codec.decode_events(data)
    else:
        batch.outcome = _codec.decode_outcome(fields[b"end"])
    return batch


Rows: TypeAlias = list[tuple[Any, dict[bytes, bytes]]]


def _rows(reply: Any) -> Rows:
    """redis-py's XRANGE reply, typed (its stubs allow str and None for a bytes client)."""
    return cast(Rows, reply or [])


def _xid(position: Position) -> str:
    return f"{position[0]}-{position[1]}"


class LogReader:
    """The reads of one stream's log over a sync client."""

    def __init__(self, client: redis.Redis, keys: Keys, stream_id: str) -> None:
        self.client = client
        self.keys = keys
        self.stream_id = stream_id

    def range_after(self, xid: str, count: int = _PAGE) -> list[Batch]:
        """Entries strictly after Redis id `xid` (`XRANGE (xid +`), at most `count`."""
        with store_errors(self.stream_id):
            rows = _rows(self.client.xrange(self.keys.log, f"({xid}", "+", count=count))
        return [_batch(x, f) for x, f in rows]

    def range_between(self, low: str, high: str) -> Iterator[Batch]:
        """Entries with low < id <= high, page by page."""
        while True:
            with store_errors(self.stream_id):
                rows = _rows(self.client.xrange(self.keys.log, f"({low}", high, count=_PAGE))
            batches = [_batch(x, f) for x, f in rows]
            yield from batches
            if len(batches) < _PAGE:
                return
            low = batches[-1].xid

    def block(self, xid: str, timeout_ms: int) -> list[Batch]:
        """Entries after `xid`, waiting up to `timeout_ms` for the first (`XREAD BLOCK`)."""
        with store_errors(self.stream_id):
            reply = self.client.xread({self.keys.log: xid}, count=_PAGE, block=timeout_ms)
        if not reply:
            return []
        if isinstance(reply, dict):  # RESP3: {key: [rows]}
            rows = _rows(next(iter(cast(dict[Any, list[Any]], reply).values()))[0])
        else:
            rows = _rows(cast(list[Any], reply)[0][1])  # [[key, rows]]
        return [_batch(x, f) for x, f in rows]

    def check_exists(self) -> None:
        """StreamNotFound unless the log or a producer's lease exists."""
        with store_errors(self.stream_id):
            found = self.client.exists(self.keys.log, self.keys.lease)
        if not found:
            raise StreamNotFound(f"no stream {self.stream_id!r} (unknown, or expired)")

    def quiet_error(self, last_xid: str) -> tuple[list[Batch], APIError | None]:
        """After a silence as long as a lease: the entries that came meanwhile, and the error
        to raise when the producer is gone without an end (None while it holds its lease)."""
        with store_errors(self.stream_id):
            alive = self.client.exists(self.keys.lease)
        # The end may have been written just before the lease went: read once more.
        batches = self.range_after(last_xid)
        if alive or any(b.outcome is not None for b in batches):
            return batches, None
        with store_errors(self.stream_id):
            log = self.client.exists(self.keys.log)
        if not log:
            return batches, StreamNotFound(
                f"stream {self.stream_id!r} is gone (expired, or Redis lost it)"
            )
        return batches, ProducerLostError(
            f"the producer of stream {self.stream_id!r} stopped without ending it (lease expired)"
        )

    def snapshot_at(self, position: Position) -> tuple[SnapshotEvent | None, list[Batch]]:
        """The message at `position` (latest checkpoint before it + the entries between), and
        the log entry holding `position` when events follow it in the same entry."""
        xid = _xid(position)
        with store_errors(self.stream_id):
            rows = _rows(self.client.xrevrange(self.keys.cp, f"({xid}", "-", count=1))
        events: list[MessageStreamEvent] = []
        low = "0-0"
        if rows:
            cp_xid, fields = rows[0]
            low = cp_xid.decode() if isinstance(cp_xid, bytes) else str(cp_xid)
            events = _codec.decode_events(fields[b"c"])
        holder: list[Batch] = []
        for batch in self.range_between(low, xid):
            if batch.position == position[:2]:
                events.extend(batch.events[: position[2] + 1])
                holder.append(batch)
            elif batch.outcome is None:
                events.extend(batch.events)
        return snapshot_from(events), holder


def catch_up(
    reader: LogReader, after: Position, mode: Mode
) -> tuple[SnapshotEvent | None, list[Batch], str]:
    """What a consumer at `after` needs before the entries after `after`'s log entry:
    the snapshot (snapshot mode), the rest of that entry, and the Redis id to read on from."""
    reader.check_exists()
    if after == _codec.START:
        return None, [], "0-0"
    snapshot: SnapshotEvent | None = None
    if mode == "snapshot":
        snapshot, holder = reader.snapshot_at(after)
    else:
        with store_errors(reader.stream_id):
            rows = _rows(reader.client.xrange(reader.keys.log, _xid(after), _xid(after)))
        holder = [_batch(x, f) for x, f in rows]
    return snapshot, holder, _xid(after)
