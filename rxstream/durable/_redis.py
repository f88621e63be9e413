"""`RedisStore`: the `StreamStore` contract on Redis Streams (redis-py, sync and asyncio)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import reactivex
import redis.exceptions
from redis import Redis as SyncRedis
from redis.asyncio import Redis as AsyncRedis

from .._accumulate import StreamItem
from . import _codec
from ._appender import Settings
from ._catchup import LogReader
from ._consume import aiter_cursor, iter_cursor, observe_cursor
from ._keys import CANCEL, Keys
from ._publish import publish_async, store_failure
from ._publish_sync import SyncSource, publish_sync
from ._store import Entry, Mode, Source
from ._tail import Cursor, Tail

__all__ = ["RedisStore"]

_ASYNC_ONLY = ("connection_class", "retry", "redis_connect_func", "connection_pool")


def _kwargs(client: SyncRedis | AsyncRedis) -> dict[str, Any]:
    """The connection settings of a client (host, port, db, password, ...), to build its twin."""
    kwargs = dict(client.connection_pool.connection_kwargs)
    for key in _ASYNC_ONLY:
        kwargs.pop(key, None)
    return kwargs


class RedisStore:
    """Streams that outlive a connection and span processes, on Redis Streams.

    `redis` is a URL (`"redis://localhost:6379/0"`), a `SyncRedis` or a
    `AsyncRedis` (the other kind is made from its settings when needed).

    - `ttl` (seconds): how long a stream stays readable after its end.
    - `checkpoint_every`: events between two checkpoints (message snapshots), so resuming
      deep into a long stream costs about as much as resuming at its start.
    - `maxlen`: the `XADD MAXLEN ~` bound on log entries (None: unbounded).
    - `lease` (seconds): how long a producer that stops renewing keeps its stream; after
      that, its consumers get `ProducerLostError`.
    - `prefix`: the prefix of every key (`<prefix>:{<stream_id>}:log`, ...).

    Producers: `publish` (asyncio, redis.asyncio) / `publish_sync` (a thread). Consumers:
    `observe`, `entries`, `aentries` (asyncio or trio: Redis is read on threads). One
    blocking reader per stream per store feeds all its local consumers. Not picklable; make
    one per process.
    """

    def __init__(
        self,
        redis: str | SyncRedis | AsyncRedis,
        *,
        ttl: float = 3600.0,
        checkpoint_every: int = 1000,
        maxlen: int | None = 1_000_000,
        lease: float = 5.0,
        prefix: str = "rxstream",
    ) -> None:
        if ttl <= 0 or lease <= 0:
            raise ValueError(f"ttl and lease must be positive, got ttl={ttl!r} lease={lease!r}")
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every!r}")
        if maxlen is not None and maxlen < 1:
            raise ValueError(f"maxlen must be >= 1 or None, got {maxlen!r}")
        self._settings = Settings(int(ttl * 1000), int(lease * 1000), maxlen, checkpoint_every)
        self._prefix = prefix
        self._url: str | None = None
        self._async: AsyncRedis | None = None
        if isinstance(redis, str):
            self._url = redis
            self._sync = SyncRedis.from_url(redis)
        elif isinstance(redis, AsyncRedis):
            self._async = redis
            self._sync = SyncRedis(**_kwargs(redis))
        else:
            self._sync = redis
        self._owns_sync = not isinstance(redis, SyncRedis)
        self._tails: dict[str, Tail] = {}
        self._lock = threading.Lock()

    # -- producing -------------------------------------------------------------------------

    async def publish(self, stream_id: str, source: Source) -> None:
        """Read `source` to its end, appending its events, then the terminal record.

        `source`: an async `observe()` Observable, a `SharedStream` not yet connected (this
        connects it), or an async iterator of events. Events that arrive together go in one
        entry and one round trip; a lone event goes at once. How the source ended is
        recorded (completed, failed with its error, cancelled), not raised. Raises
        `ProducerConflictError` when the stream already has a producer (or was written) or
        this producer lost its lease, `StoreUnavailableError` when Redis fails. Runs on
        asyncio (redis.asyncio); under trio, run `publish_sync` in a thread.
        """
        keys = Keys.of(self._prefix, stream_id)
        if self._async is not None:
            await publish_async(self._async, keys, stream_id, source, self._settings)
            return
        client = self._new_async()
        try:
            await publish_async(client, keys, stream_id, source, self._settings)
        finally:
            await client.aclose()

    def publish_sync(self, stream_id: str, source: SyncSource) -> None:
        """The blocking twin of `publish`, for a sync `observe()` Observable, a `SharedStream`
        over one, or an iterable of events (read on the calling thread)."""
        publish_sync(
            self._sync, Keys.of(self._prefix, stream_id), stream_id, source, self._settings
        )

    async def cancel(self, stream_id: str) -> bool:
        """Ask the producer of `stream_id`, in any process, to stop: it closes its upstream
        connection at once and records `cancelled` with the partial message. False when no
        live producer holds the stream (unknown, ended, or its producer died)."""
        keys = Keys.of(self._prefix, stream_id)
        client = self._async or self._new_async()
        try:
            done = await client.eval(CANCEL, 6, *keys.all(), self._settings.keep_ms)
        except redis.exceptions.RedisError as exc:
            raise store_failure(stream_id, exc) from exc
        finally:
            if client is not self._async:
                await client.aclose()
        return bool(done)

    def cancel_sync(self, stream_id: str) -> bool:
        """The blocking twin of `cancel`."""
        keys = Keys.of(self._prefix, stream_id)
        try:
            return bool(self._sync.eval(CANCEL, 6, *keys.all(), self._settings.keep_ms))
        except redis.exceptions.RedisError as exc:
            raise store_failure(stream_id, exc) from exc

    # -- consuming -------------------------------------------------------------------------

    def _join(self, stream_id: str, after: str | None, mode: Mode) -> Cursor:
        if mode not in ("snapshot", "replay"):
            raise ValueError(f"mode must be 'snapshot' or 'replay', got {mode!r}")
        position = _codec.START if after is None else _codec.parse_position(after)
        keys = Keys.of(self._prefix, stream_id)
        with self._lock:
            tail = self._tails.get(stream_id)
            if tail is None or not tail.reserve():
                reader = LogReader(self._sync, keys, stream_id)
                tail = Tail(reader, self._settings.lease_ms, self._forget)
                tail.reserve()
                self._tails[stream_id] = tail
        try:
            return tail.join(position, mode)
        except BaseException:
            tail.leave()
            raise

    def _forget(self, tail: Tail) -> None:
        with self._lock:
            if tail.users == 0:
                stream_id = tail.stream_id
                if self._tails.get(stream_id) is tail:
                    del self._tails[stream_id]

    def entries(
        self, stream_id: str, *, after: str | None = None, mode: Mode = "snapshot"
    ) -> Iterator[Entry]:
        """The log of `stream_id` after `after` (an `Entry.id`; None: from the start), then
        its live tail, as `Entry(id, item)`; ends as the stream ended (see `StreamStore`).

        `mode="snapshot"`: first one `SnapshotEvent` of the message up to `after` (when
        `after` is given), then the entries after it. `mode="replay"`: only the entries.
        """
        return iter_cursor(self._join(stream_id, after, mode))

    def aentries(
        self, stream_id: str, *, after: str | None = None, mode: Mode = "snapshot"
    ) -> AsyncIterator[Entry]:
        """The async twin of `entries` (asyncio or trio)."""
        if mode not in ("snapshot", "replay"):
            raise ValueError(f"mode must be 'snapshot' or 'replay', got {mode!r}")
        if after is not None:
            _codec.parse_position(after)  # a bad id fails here, not at the first iteration
        return aiter_cursor(lambda: self._join(stream_id, after, mode))

    def observe(
        self, stream_id: str, *, after: str | None = None, mode: Mode = "snapshot"
    ) -> reactivex.Observable[StreamItem]:
        """The stream's items as a cold Observable (every rxstream operator works on it):
        each subscription reads on its own daemon thread; disposing stops it at once."""
        Keys.of(self._prefix, stream_id)
        if after is not None:
            _codec.parse_position(after)
        return observe_cursor(lambda: self._join(stream_id, after, mode))

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections this store opened (not those of a client it was given)."""
        if self._owns_sync:
            self._sync.close()

    def _new_async(self) -> AsyncRedis:
        if self._url is not None:
            return AsyncRedis.from_url(self._url)
        return AsyncRedis(**_kwargs(self._sync))
