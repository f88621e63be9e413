"""`publish_sync` on redis-py: the source read on the calling thread, appends and the cancel
watch on two helper threads (the same batching as `publish`: what waits goes in one round trip).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import reactivex
import redis
import redis.exceptions
from reactivex import abc
from reactivex.scheduler import CurrentThreadScheduler

from .._fanout import SharedStream
from .._types import MessageStreamEvent
from ._appender import Appender, Settings
from ._keys import ACQUIRE, APPEND, RENEW, Keys
from ._publish import conflict, store_failure
from ._store import ProducerConflictError

__all__ = ["SyncSource", "publish_sync"]

SyncSource = reactivex.Observable[MessageStreamEvent] | SharedStream | Iterable[MessageStreamEvent]


class _Run:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: list[Any] = []
        self.waiting = False
        self.done = False
        self.error: Exception | None = None
        self.failure: Exception | None = None
        self.cancelled = False
        self.lost = False
        self._stops: list[Callable[[], None]] = []

    def pusher(self) -> Callable[[Any], None]:
        """The function that takes each event (the hot path: no lock unless the appender
        sleeps; it sets `waiting` under the lock and looks at `pending` again before it
        sleeps, so no event goes unnoticed)."""
        append, cond = self.pending.append, self.cond

        def push(item: Any) -> None:
            append(item)
            if self.waiting:
                with cond:
                    cond.notify_all()

        return push

    def finish(self, error: Exception | None = None) -> None:
        with self.cond:
            if not self.done:
                self.done, self.error = True, error
            self.cond.notify_all()

    def on_stop(self, stop: Callable[[], None]) -> None:
        with self.cond:
            stopped = self.done and (self.cancelled or self.lost or self.failure is not None)
            self._stops.append(stop)
        if stopped:
            stop()

    def stop_upstream(self) -> None:
        with self.cond:
            stops, self._stops = self._stops, []
        for stop in stops:
            stop()


def _read(source: SyncSource, run: _Run) -> None:
    """Read `source` on this thread until it ends or `run` stops it."""
    if isinstance(source, reactivex.Observable):
        observable: reactivex.Observable[Any] = source

        def start(_: abc.SchedulerBase, __: Any = None) -> None:
            # Inside the trampoline the source's reading is queued, not run, so its
            # disposable exists before it starts reading and another thread can stop it.
            run.on_stop(observable.subscribe(run.pusher(), run.finish, run.finish).dispose)
            if isinstance(observable, SharedStream):
                run.on_stop(observable.connect().dispose)

        CurrentThreadScheduler.singleton().schedule(start)
        run.finish()  # a stopped source signals nothing: the run ends here
        return
    push = run.pusher()
    try:
        for event in source:
            push(event)
            if run.done:
                break
    except Exception as exc:
        run.finish(exc)
    else:
        run.finish()


def _append_loop(
    client: redis.Redis, keys: Keys, stream_id: str, appender: Appender, run: _Run
) -> None:
    append = client.register_script(APPEND)
    try:
        while True:
            with run.cond:
                run.waiting = True
                while not run.pending and not run.done:
                    run.cond.wait()
                run.waiting = False
            # Let the reader finish the burst it is in (it holds the GIL while it decodes):
            # a lone event loses nothing, a burst goes in one round trip, not one per event.
            time.sleep(0)
            with run.cond:
                finished = run.done
                # Take what is there in place: a push on another thread may append meanwhile.
                taken = len(run.pending)
                events = run.pending[:taken]
                del run.pending[:taken]
            args = appender.batch(events) if events else []
            if args:
                append(keys=keys.all(), args=args)
            if appender.error is not None:
                run.finish(appender.error)
                run.stop_upstream()
                finished = True
            if finished:
                with run.cond:
                    if run.pending:
                        continue
                break
        if run.lost:
            run.failure = ProducerConflictError(
                f"the producer of stream {stream_id!r} lost its lease"
            )
            return
        append(keys=keys.all(), args=appender.end(appender.outcome(run.error, run.cancelled)))
    except redis.exceptions.RedisError as exc:
        run.failure = store_failure(stream_id, exc)
        run.finish()
        run.stop_upstream()


def _watch(
    client: redis.Redis,
    connection: Any,
    keys: Keys,
    generation: int,
    settings: Settings,
    run: _Run,
) -> None:
    """Block on the control stream on a connection of its own (closing it ends the wait at
    once); renew the lease between waits."""
    renew = client.register_script(RENEW)
    every = max(settings.lease_ms // 3, 1)
    while not run.done:
        try:
            connection.send_command("XREAD", "COUNT", 1, "BLOCK", every, "STREAMS", keys.ctl, "0-0")
            if connection.read_response():
                run.cancelled = True
            elif not renew(keys=keys.all(), args=[generation, settings.lease_ms, settings.keep_ms]):
                run.lost = True
        except Exception:
            if run.done:  # the producer closed the connection: the run is over
                return
            run.lost = True
        if run.cancelled or run.lost:
            run.finish()
            run.stop_upstream()
            return


def publish_sync(
    client: redis.Redis, keys: Keys, stream_id: str, source: SyncSource, settings: Settings
) -> None:
    """Publish `source` as `stream_id` (see `RedisStore.publish_sync`)."""
    try:
        generation = client.eval(ACQUIRE, 6, *keys.all(), settings.lease_ms, settings.keep_ms)
    except redis.exceptions.RedisError as exc:
        raise store_failure(stream_id, exc) from exc
    if not generation:
        raise conflict(stream_id)
    appender = Appender(int(generation), settings)
    run = _Run()
    appending = threading.Thread(
        target=_append_loop, args=(client, keys, stream_id, appender, run), daemon=True
    )
    # redis-py's Connection is untyped: Any, so that strict mypy needs no ignore.
    connection: Any = client.connection_pool.get_connection()
    watching = threading.Thread(
        target=_watch,
        args=(client, connection, keys, int(generation), settings, run),
        daemon=True,
    )
    appending.start()
    watching.start()
    try:
        _read(source, run)
    except BaseException:
        run.stop_upstream()
        run.finish()
        raise
    finally:
        appending.join()
        run.finish()
        connection.disconnect()  # ends the watcher's blocking read
        watching.join()
        client.connection_pool.release(connection)
    if run.failure is not None:
        raise run.failure
