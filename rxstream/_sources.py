"""Cold Observables of stream events: one source opened per subscription, closed on dispose.

`from_sse` / `from_response` read synchronously on the subscribing thread (through the
trampoline, so a downstream `take` can stop them mid-stream); `from_async_sse` /
`from_async_response` run as a task on the subscriber's event loop, asyncio or trio.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

import reactivex
from reactivex import abc
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.observer.autodetachobserver import AutoDetachObserver
from reactivex.scheduler import CurrentThreadScheduler

from ._http import Response, async_body, body, shut_down_socket
from ._lanes import PRESSURE, wait_for_room
from ._pump import AsyncEventPump, AsyncOpened, EventPump, Opened
from ._sse import DEFAULT_MAX_EVENT_SIZE
from ._types import MessageStreamEvent

if TYPE_CHECKING:
    import trio

__all__ = [
    "from_async_response",
    "from_async_sse",
    "from_response",
    "from_sse",
    "opened_async_response",
]

ByteSource: TypeAlias = Iterable[bytes] | Callable[[], Iterable[bytes]]
AsyncByteSource: TypeAlias = AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]]


def _sync_observable(
    make_pump: Callable[[], EventPump],
) -> reactivex.Observable[MessageStreamEvent]:
    return EventSource(make_pump)


class EventSource(reactivex.Observable[MessageStreamEvent]):
    """What `from_sse` and `from_response` return: the events of a stream read on the
    subscribing thread. `reads` is the same source with the events that one read completes
    as one list (when there are several), for rxstream's operators that take several events at
    once (`tool_fields`)."""

    def __init__(self, make_pump: Callable[[], EventPump]) -> None:
        super().__init__(partial(_subscribe_pump, make_pump, False))
        self.reads: reactivex.Observable[MessageStreamEvent | list[MessageStreamEvent]] = (
            reactivex.Observable(partial(_subscribe_pump, make_pump, True))
        )


def _subscribe_pump(
    make_pump: Callable[[], EventPump],
    by_read: bool,
    observer: abc.ObserverBase[Any],
    scheduler: abc.SchedulerBase | None = None,
) -> abc.DisposableBase:
    pump = make_pump()
    disposed = False
    outermost = _outermost_subscriber(observer)

    def run(_: abc.SchedulerBase, __: Any = None) -> None:
        items = pump.reads() if by_read else iter(pump)
        escaped: Exception | None = None
        try:
            for item in items:
                if disposed or outermost.is_stopped:
                    return
                try:
                    observer.on_next(item)
                except Exception as exc:
                    # Raised by a subscriber that has already unsubscribed (an operator
                    # passed its own error to an observer without `on_error`, which
                    # re-raised it): nobody else can report it, so it must escape.
                    if disposed:
                        escaped = exc
                    raise
        except Exception as exc:
            if exc is escaped:
                raise
            if not disposed:
                observer.on_error(_without_this_frame(exc))
        else:
            if not disposed:
                observer.on_completed()
        finally:
            items.close()

    def dispose() -> None:
        nonlocal disposed
        disposed = True
        pump.close()

    trampoline = scheduler or CurrentThreadScheduler.singleton()
    return CompositeDisposable(trampoline.schedule(run), Disposable(dispose))


def _without_this_frame(exc: Exception) -> Exception:
    """`exc`, its traceback starting below the reading loop that caught it: that frame
    refers to the subscriber, which may keep the error (a `SharedStream` does, for late
    subscribers), and the two would make a reference cycle."""
    traceback = exc.__traceback__
    if traceback is not None and traceback.tb_next is not None:
        exc.__traceback__ = traceback.tb_next
    return exc


def _outermost_subscriber(observer: abc.ObserverBase[Any]) -> Any:
    """The last of the reactivex `AutoDetachObserver`s that `observer` forwards to.

    Disposing a subscription made through `subscribe_on` cannot reach this source while it
    reads (its disposable is handed over only when `subscribe` returns, after the stream);
    but it stops the subscriber's own observer, which the reading loop watches.
    """
    current: Any = observer
    for _ in range(16):
        forward = getattr(getattr(current, "_on_next", None), "__self__", None)
        if type(forward) is not AutoDetachObserver:
            break
        current = forward
    return current if type(current) is AutoDetachObserver else _NEVER_STOPPED


class _NeverStopped:
    is_stopped = False


_NEVER_STOPPED = _NeverStopped()


def _opened_from_iterable(chunks: Iterable[bytes]) -> Opened:
    iterator = iter(chunks)
    close = getattr(iterator, "close", None)
    return Opened(iterator, close) if callable(close) else Opened(iterator)


def from_sse(
    source: ByteSource, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> reactivex.Observable[MessageStreamEvent]:
    """A cold Observable of the typed events of a byte stream.

    `source` is an iterable of byte chunks, or a callable returning one (called once per
    subscription: pass a callable to subscribe more than once to a generator). Disposing
    stops reading at once and closes a generator source. Errors reach `on_error` as
    `APIError`s: the class of an in-stream `error` event, `IncompleteStreamError` when the
    bytes end before `message_stop`, `StreamDecodeError` for bad bytes.
    """

    def open_source() -> Opened:
        return _opened_from_iterable(source() if callable(source) else source)

    return _sync_observable(lambda: EventPump(open_source, max_event_size=max_event_size))


def opened_response(response: Response) -> Opened:
    """A streaming response as a pump's source: closing it closes the response; a read
    blocked on it in another thread is interrupted by shutting its socket down."""
    chunks, close = body(response)
    return Opened(
        chunks,
        close,
        response.headers.get("request-id"),
        response,
        interrupt=lambda: shut_down_socket(response),
    )


def from_response(
    open_response: Callable[[], Response],
    *,
    retries: int = 0,
    idle_timeout: float | None = None,
) -> reactivex.Observable[MessageStreamEvent]:
    """A cold Observable over an HTTP streaming response: `open_response` is called once per
    subscription and must return a 2xx `httpx2.Response` (or `httpx.Response`) whose body is
    still unread."""
    return _sync_observable(
        lambda: EventPump(
            lambda: opened_response(open_response()), retries=retries, idle_timeout=idle_timeout
        )
    )


def _spawn(run: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Start `run` as a task on the running event loop (asyncio or trio); return a function
    that cancels it. `run` must not raise."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _spawn_trio(run)
    task = loop.create_task(_as_coroutine(run))
    _TASKS.add(task)  # the loop keeps only a weak reference to its tasks
    task.add_done_callback(_TASKS.discard)

    def cancel() -> None:
        loop.call_soon_threadsafe(task.cancel)

    return cancel


async def _as_coroutine(run: Callable[[], Awaitable[None]]) -> None:
    await run()


_TASKS: set[asyncio.Task[None]] = set()


def _spawn_trio(run: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    try:
        import trio
    except ImportError:  # pragma: no cover - trio is optional
        raise RuntimeError("subscribe to an async source from inside an event loop") from None
    try:
        token = trio.lowlevel.current_trio_token()
    except RuntimeError:
        raise RuntimeError("subscribe to an async source from inside an event loop") from None
    scope = trio.CancelScope()

    async def task() -> None:
        with scope:
            await run()

    trio.lowlevel.spawn_system_task(task)
    return lambda: _cancel_trio(token, scope)


def _cancel_trio(token: trio.lowlevel.TrioToken, scope: trio.CancelScope) -> None:
    with contextlib.suppress(RuntimeError):  # once the run has finished, nothing is left
        token.run_sync_soon(scope.cancel)


def _async_observable(
    make_pump: Callable[[], AsyncEventPump],
) -> reactivex.Observable[MessageStreamEvent]:
    def subscribe(
        observer: abc.ObserverBase[MessageStreamEvent], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        pump = make_pump()
        disposed = False

        async def run() -> None:
            events = pump.__aiter__()
            pressure = PRESSURE
            try:
                async for event in events:
                    if disposed:
                        return
                    pressure.collecting += 1
                    try:
                        observer.on_next(event)
                    finally:
                        pressure.collecting -= 1
                    if pressure.full:  # a consumer on this loop chose "block" and is full
                        await wait_for_room(pressure.full)
            except Exception as exc:
                if not disposed:
                    observer.on_error(_without_this_frame(exc))
            else:
                if not disposed:
                    observer.on_completed()
            finally:
                await events.aclose()

        cancel = _spawn(run)

        def dispose() -> None:
            nonlocal disposed
            disposed = True
            cancel()

        return Disposable(dispose)

    return reactivex.Observable(subscribe)


def _opened_from_async_iterable(chunks: AsyncIterable[bytes]) -> AsyncOpened:
    iterator = chunks.__aiter__()
    aclose = getattr(iterator, "aclose", None)
    return AsyncOpened(iterator, aclose) if callable(aclose) else AsyncOpened(iterator)


def from_async_sse(
    source: AsyncByteSource, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> reactivex.Observable[MessageStreamEvent]:
    """The async twin of `from_sse`: reads an async byte source as a task on the event loop
    that subscribes (asyncio or trio); disposing cancels the task and closes the source."""

    async def open_source() -> AsyncOpened:
        chunks = source() if callable(source) else source
        return _opened_from_async_iterable(chunks)

    return _async_observable(lambda: AsyncEventPump(open_source, max_event_size=max_event_size))


def from_async_response(
    open_response: Callable[[], Awaitable[Response]],
    *,
    retries: int = 0,
    idle_timeout: float | None = None,
) -> reactivex.Observable[MessageStreamEvent]:
    """The async twin of `from_response`."""

    async def open_source() -> AsyncOpened:
        return opened_async_response(await open_response())

    return _async_observable(
        lambda: AsyncEventPump(open_source, retries=retries, idle_timeout=idle_timeout)
    )


def opened_async_response(response: Response) -> AsyncOpened:
    """An async streaming response as a pump's source: closing it closes the response and
    the HTTP library's generators behind its body (see `_http.async_body`)."""
    chunks, aclose = async_body(response)
    return AsyncOpened(chunks, aclose, response.headers.get("request-id"), response)
