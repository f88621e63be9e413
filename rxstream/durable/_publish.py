"""`publish` on redis.asyncio: read a source, append what arrived together in one round trip.

Three tasks share the work: the source pushes events into a list; the appender sends all
that is waiting as one fenced `APPEND` (a lone event goes at once, events that arrive during
a round trip go together in the next); the watcher blocks on the control stream (a cancel
wakes it at once) and renews the lease between waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterable, Callable
from typing import Any

import reactivex
import redis.asyncio
import redis.exceptions

from .._accumulate import StreamItem
from .._fanout import SharedStream
from ._appender import Appender, Settings
from ._keys import ACQUIRE, APPEND, RENEW, Keys
from ._store import ProducerConflictError, Source, StoreUnavailableError

__all__ = ["conflict", "publish_async", "store_failure"]

_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def store_failure(stream_id: str, exc: Exception) -> Exception:
    """The typed error for a redis-py failure while producing."""
    if isinstance(exc, redis.exceptions.ResponseError) and "FENCED" in str(exc):
        return ProducerConflictError(
            f"the producer of stream {stream_id!r} lost its lease: another producer may hold it"
        )
    return StoreUnavailableError(f"Redis unavailable while producing {stream_id!r}: {exc}")


def conflict(stream_id: str) -> ProducerConflictError:
    """A second producer for one stream id."""
    return ProducerConflictError(
        f"stream {stream_id!r} already has a producer, or was already written"
    )


class _Run:
    """The state of one producer run, shared by its three tasks (all on one loop)."""

    def __init__(self) -> None:
        self.pending: list[Any] = []
        self.wake = asyncio.Event()
        self.done = False
        self.error: Exception | None = None
        self.cancelled = False
        self.lost = False
        self.stop_upstream: Callable[[], None] = lambda: None

    def finish(self, error: Exception | None = None) -> None:
        if not self.done:
            self.done, self.error = True, error
        self.wake.set()


def _start(source: Source, run: _Run) -> None:
    """Start reading `source`, pushing into `run` (on this loop, from any thread)."""
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()

    def on_loop(action: Callable[[], None]) -> None:
        if threading.get_ident() == loop_thread:
            action()
        else:
            loop.call_soon_threadsafe(action)

    def push(item: StreamItem) -> None:
        def add() -> None:
            run.pending.append(item)
            run.wake.set()

        on_loop(add)

    if isinstance(source, reactivex.Observable):
        subscription = source.subscribe(
            push,
            lambda e: on_loop(lambda: run.finish(e)),
            lambda: on_loop(run.finish),
        )
        connection = source.connect() if isinstance(source, SharedStream) else None

        def stop() -> None:
            subscription.dispose()
            if connection is not None:
                connection.dispose()

        run.stop_upstream = stop
        return

    async def pump(events: AsyncIterable[Any]) -> None:
        try:
            async for event in events:
                run.pending.append(event)
                run.wake.set()
        except Exception as exc:
            run.finish(exc)
        else:
            run.finish()

    task = loop.create_task(pump(source))

    def stop_task() -> None:
        task.cancel()

    run.stop_upstream = stop_task


def _lease_args(settings: Settings) -> list[int]:
    return [settings.lease_ms, settings.keep_ms]


async def _watch(
    client: redis.asyncio.Redis, keys: Keys, generation: int, settings: Settings, run: _Run
) -> None:
    """Block on the control stream; renew the lease between waits."""
    renew = client.register_script(RENEW)
    every = max(settings.lease_ms // 3, 1)
    while not run.done:
        try:
            reply = await client.xread({keys.ctl: "0-0"}, count=1, block=every)
            if reply:
                run.cancelled = True
            elif not await renew(
                keys=keys.all(), args=[generation, settings.lease_ms, settings.keep_ms]
            ):
                run.lost = True
        except _REDIS_DOWN:
            run.lost = True
        if run.cancelled or run.lost:
            run.stop_upstream()
            run.finish()
            return


async def publish_async(
    client: redis.asyncio.Redis, keys: Keys, stream_id: str, source: Source, settings: Settings
) -> None:
    """Publish `source` as `stream_id` (see `RedisStore.publish`)."""
    try:
        generation = await client.eval(ACQUIRE, 6, *keys.all(), settings.lease_ms, settings.keep_ms)
    except redis.exceptions.RedisError as exc:
        raise store_failure(stream_id, exc) from exc
    if not generation:
        raise conflict(stream_id)
    appender = Appender(int(generation), settings)
    append = client.register_script(APPEND)
    run = _Run()
    _start(source, run)
    watcher = asyncio.get_running_loop().create_task(
        _watch(client, keys, generation, settings, run)
    )
    try:
        while True:
            await run.wake.wait()
            run.wake.clear()
            events, run.pending = run.pending, []
            args = appender.batch(events) if events else []
            if args:
                await append(keys=keys.all(), args=args)
            if appender.error is not None:
                run.stop_upstream()
                run.finish(appender.error)
            if run.done and not run.pending:
                break
        if run.lost:
            raise ProducerConflictError(
                f"the producer of stream {stream_id!r} lost its lease (Redis lost it, or it "
                "was not renewed in time)"
            )
        await append(keys=keys.all(), args=appender.end(appender.outcome(run.error, run.cancelled)))
    except redis.exceptions.RedisError as exc:
        raise store_failure(stream_id, exc) from exc
    finally:
        run.done = True
        run.stop_upstream()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
