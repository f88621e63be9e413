"""Errors reach the caller: an error no SharedStream subscriber handled is raised by
`connect()` (sync source) once the stream has ended, or by `await aconnect()`; a subscriber's
own exception stays isolated from the others and is reported the same way."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from streams import Stream, Text, chunked, error_event, sse

import rxstream
from rxstream import OverloadedError, SharedStream
from rxstream import operators as rxo

STREAM = Stream([Text("Hello there, general Kenobi", chunk=4)])
EVENTS = STREAM.events()
FAILING = sse([*EVENTS[:5], error_event("overloaded_error")])


class Recorder:
    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name
        self.errors: list[Exception] = []
        self.completed = 0

    def on_error(self, error: Exception) -> None:
        self.errors.append(error)
        self.log.append(f"{self.name} on_error")

    def on_completed(self) -> None:
        self.completed += 1


def shared_of(data: bytes) -> SharedStream:
    return SharedStream(rxstream.from_sse(chunked(data, 32)))


def test_connect_raises_the_error_no_subscriber_handled_after_every_on_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    order: list[str] = []
    shared = shared_of(FAILING)
    first = Recorder(order, "first")
    shared.subscribe(on_error=first.on_error)
    shared.pipe(rxo.text_deltas()).subscribe(lambda _: None)  # no on_error
    shared.pipe(rxo.final_message()).subscribe(lambda _: None)  # no on_error either
    last = Recorder(order, "last")
    shared.subscribe(on_error=last.on_error)
    with pytest.raises(OverloadedError) as caught:
        shared.connect()
    assert order == ["first on_error", "last on_error"]  # before connect() raised
    assert first.errors == last.errors == [caught.value]
    assert caplog.records == []  # raised once, not logged per subscriber


def test_connect_returns_normally_when_every_subscriber_handled_the_error() -> None:
    shared = shared_of(FAILING)
    recorders = [Recorder([], str(k)) for k in range(3)]
    for recorder in recorders:
        shared.subscribe(on_error=recorder.on_error)
    shared.connect()
    assert all(isinstance(r.errors[0], OverloadedError) for r in recorders)


def test_a_subscribers_own_exception_is_isolated_then_raised_by_connect() -> None:
    shared = shared_of(STREAM.sse())
    boom = RuntimeError("subscriber bug")
    before = Recorder([], "before")
    shared.subscribe(on_completed=before.on_completed)

    def failing(item: Any) -> None:
        if item.type == "content_block_delta":
            raise boom

    shared.subscribe(failing)  # no on_error: nobody handles it
    texts: list[str] = []
    shared.pipe(rxo.text_deltas()).subscribe(texts.append)
    with pytest.raises(RuntimeError) as caught:
        shared.connect()
    assert caught.value is boom
    assert before.completed == 1
    assert "".join(texts) == "Hello there, general Kenobi"


def test_distinct_unhandled_errors_are_raised_together() -> None:
    shared = shared_of(FAILING)
    boom = RuntimeError("subscriber bug")

    def failing(item: Any) -> None:
        raise boom

    shared.subscribe(failing)
    shared.subscribe(lambda _: None)
    with pytest.raises(BaseExceptionGroup) as caught:
        shared.connect()
    assert [type(e) for e in caught.value.exceptions] == [RuntimeError, OverloadedError]


def test_on_subscriber_error_takes_them_instead() -> None:
    reported: list[BaseException] = []
    shared = SharedStream(
        rxstream.from_sse(chunked(FAILING, 32)), on_subscriber_error=reported.append
    )
    shared.subscribe(lambda _: None)
    shared.connect()
    assert [type(e) for e in reported] == [OverloadedError]


def test_connect_again_does_not_raise_again() -> None:
    shared = shared_of(FAILING)
    shared.subscribe(lambda _: None)
    with pytest.raises(OverloadedError):
        shared.connect()
    shared.connect()  # already connected: the error was raised once, where it was started


def test_an_error_after_connect_returned_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A late subscriber without on_error, after the stream ended: nobody else to tell."""
    shared = shared_of(FAILING)
    shared.subscribe(on_error=lambda _: None)
    shared.connect()
    with caplog.at_level(logging.ERROR, logger="rxstream"):
        shared.subscribe(lambda _: None)
    assert [r.message for r in caplog.records] == ["a SharedStream subscriber failed"]


async def async_chunks(data: bytes) -> AsyncIterator[bytes]:
    for chunk in chunked(data, 32):
        await anyio.sleep(0)
        yield chunk


@pytest.mark.anyio
async def test_aconnect_raises_in_the_awaiting_task(anyio_backend: str) -> None:
    shared = SharedStream(rxstream.from_async_sse(lambda: async_chunks(FAILING)))
    handled: list[Exception] = []
    shared.subscribe(on_error=handled.append)
    shared.pipe(rxo.text_deltas()).subscribe(lambda _: None)
    with pytest.raises(OverloadedError) as caught:
        await shared.aconnect()
    assert handled == [caught.value]


@pytest.mark.anyio
async def test_aconnect_returns_at_the_end_of_a_healthy_stream(anyio_backend: str) -> None:
    data = STREAM.sse()
    shared = SharedStream(rxstream.from_async_sse(lambda: async_chunks(data)))
    texts: list[str] = []
    shared.pipe(rxo.text_deltas()).subscribe(texts.append)
    await shared.aconnect()
    assert "".join(texts) == "Hello there, general Kenobi"
    await shared.aconnect()  # after the end: returns at once
