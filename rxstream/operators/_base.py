"""The one subscribe wrapper every rxstream operator is built on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import reactivex
from reactivex import abc
from reactivex.disposable import SingleAssignmentDisposable

from .._accumulate import StreamItem

__all__ = ["EventHandler", "Operator", "event_operator"]

_B = TypeVar("_B")

Operator = Callable[[reactivex.Observable[StreamItem]], reactivex.Observable[_B]]
EventHandler = tuple[Callable[[StreamItem], None], Callable[[], None] | None]


class Downstream(abc.ObserverBase[_B]):
    """The observer a handler emits to; remembers an exception raised by the observer's own
    `on_next`, so that it goes back upstream instead of being taken for the operator's."""

    __slots__ = ("_observer", "raised")

    def __init__(self, observer: abc.ObserverBase[_B]) -> None:
        self._observer = observer
        self.raised: BaseException | None = None

    def on_next(self, value: _B) -> None:
        try:
            self._observer.on_next(value)
        except BaseException as exc:
            self.raised = exc
            raise

    def on_error(self, error: Exception) -> None:
        self._observer.on_error(error)

    def on_completed(self) -> None:
        self._observer.on_completed()


def event_operator(
    make_handler: Callable[[abc.ObserverBase[_B]], EventHandler],
    *,
    can_fail: bool = True,
) -> Operator[_B]:
    """An operator whose subscriptions each get fresh state from `make_handler(observer)`:
    an `on_next` for the events, and an optional `on_completed` run before completion.

    An exception raised by the handler itself (invalid tool JSON, an event that cannot
    apply) ends the subscription with `on_error`, as the Rx contract wants; one raised by
    the downstream observer's `on_next` propagates upstream unchanged. Handlers that only
    read events and emit pass `can_fail=False`, which spares two calls per event."""

    def operator(source: reactivex.Observable[StreamItem]) -> reactivex.Observable[_B]:
        def subscribe(
            observer: abc.ObserverBase[_B], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if not can_fail:
                handle, _ = make_handler(observer)
                return source.subscribe(
                    handle, observer.on_error, observer.on_completed, scheduler=scheduler
                )
            downstream = Downstream(observer)
            handle, before_completed = make_handler(downstream)
            upstream = SingleAssignmentDisposable()

            def on_next(event: StreamItem) -> None:
                try:
                    handle(event)
                except Exception as exc:
                    if exc is downstream.raised:
                        downstream.raised = None
                        raise
                    upstream.dispose()
                    observer.on_error(exc)

            def on_completed() -> None:
                if before_completed is not None:
                    try:
                        before_completed()
                    except Exception as exc:
                        if exc is downstream.raised:
                            downstream.raised = None
                            raise
                        observer.on_error(exc)
                        return
                observer.on_completed()

            upstream.disposable = source.subscribe(
                on_next, observer.on_error, on_completed, scheduler=scheduler
            )
            return upstream

        return reactivex.Observable(subscribe)

    return operator
