"""The one subscribe wrapper every rxstream operator is built on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import reactivex
from reactivex import abc

from .._accumulate import StreamItem

__all__ = ["EventHandler", "Operator", "event_operator"]

_B = TypeVar("_B")

Operator = Callable[[reactivex.Observable[StreamItem]], reactivex.Observable[_B]]
EventHandler = tuple[Callable[[StreamItem], None], Callable[[], None] | None]


def event_operator(
    make_handler: Callable[[abc.ObserverBase[_B]], EventHandler],
) -> Operator[_B]:
    """An operator whose subscriptions each get fresh state from `make_handler(observer)`:
    an `on_next` for the events, and an optional `on_completed` run before completion."""

    def operator(source: reactivex.Observable[StreamItem]) -> reactivex.Observable[_B]:
        def subscribe(
            observer: abc.ObserverBase[_B], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            on_next, before_completed = make_handler(observer)

            def on_completed() -> None:
                if before_completed is not None:
                    try:
                        before_completed()
                    except Exception as exc:
                        observer.on_error(exc)
                        return
                observer.on_completed()

            return source.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler)

        return reactivex.Observable(subscribe)

    return operator
