"""Cancellation: however a reader stops early, the server sees the connection closed at once,
long before the reply was sent, and a thousand stopped streams leave no socket behind.

The emulator paces a long story (`x-emulator-tps`), so a stream stopped after a few events
would otherwise have seconds left to run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import anyio.to_thread
import pytest
from reactivex import operators as ops
from reactivex.abc import DisposableBase
from reactivex.scheduler import CurrentThreadScheduler

from rxstream import AsyncClient, Client, MessageStreamEvent
from rxstream.emulator import Emulator, RequestRecord

KEY = "sk-ant-reliability-cancellation"
RUN_HEADER = "x-reliability-run"
STORY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 2000,
    "messages": [{"role": "user", "content": "Write a long story about a fox"}],
}
PACED = {"x-emulator-tps": "200"}  # the story takes a few seconds to send
STOP_AFTER = 3  # events read before stopping
PROMPT_CLOSE = 1.0  # seconds within which the server must see the connection closed


class Stopped(Exception):
    """What a reader raises to leave its `with` block early."""


@pytest.fixture(scope="module")
def story_events(emulator: Emulator) -> int:
    """How many events the whole story has."""
    with Client(base_url=emulator.base_url, api_key=KEY) as client:
        return sum(1 for _ in client.messages.create(stream=True, **STORY))


def headers() -> tuple[str, dict[str, str]]:
    run = uuid.uuid4().hex
    return run, {**PACED, RUN_HEADER: run}


def record_of(emulator: Emulator, run: str) -> RequestRecord:
    assert emulator.wait_for(lambda e: any(r.headers.get(RUN_HEADER) == run for r in e.records))
    return next(r for r in emulator.records if r.headers.get(RUN_HEADER) == run)


def assert_closed_promptly(
    emulator: Emulator, run: str, stopped_at: float, story_events: int
) -> None:
    record = record_of(emulator, run)
    assert emulator.wait_closed(record, timeout=PROMPT_CLOSE), "the connection is still open"
    assert record.closed_at is not None
    assert record.closed_at - stopped_at < PROMPT_CLOSE
    assert record.events_sent < story_events // 2, "most of the reply was sent anyway"


# --- sync -------------------------------------------------------------------------------


def break_out_of_the_loop(client: Client, extra: dict[str, str]) -> float:
    with client.messages.stream(**STORY, extra_headers=extra) as stream:
        for count, _ in enumerate(stream, 1):
            if count == STOP_AFTER:
                break
        stopped_at = time.monotonic()
    return stopped_at


def break_out_of_text_stream(client: Client, extra: dict[str, str]) -> float:
    with client.messages.stream(**STORY, extra_headers=extra) as stream:
        for _ in stream.text_stream:
            break
        stopped_at = time.monotonic()
    return stopped_at


def leave_the_with_block_by_an_exception(client: Client, extra: dict[str, str]) -> float:
    stopped: list[float] = []

    def read() -> None:
        with client.messages.stream(**STORY, extra_headers=extra) as stream:
            for count, _ in enumerate(stream, 1):
                if count == STOP_AFTER:
                    stopped.append(time.monotonic())
                    raise Stopped

    with pytest.raises(Stopped):
        read()
    return stopped[0]


def close_the_stream(client: Client, extra: dict[str, str]) -> float:
    manager = client.messages.stream(**STORY, extra_headers=extra)
    stream = manager.__enter__()
    for count, _ in enumerate(stream, 1):
        if count == STOP_AFTER:
            break
    stopped_at = time.monotonic()
    stream.close()
    return stopped_at


def break_out_of_a_raw_stream(client: Client, extra: dict[str, str]) -> float:
    with client.messages.create(stream=True, **STORY, extra_headers=extra) as stream:
        for count, _ in enumerate(stream, 1):
            if count == STOP_AFTER:
                break
        stopped_at = time.monotonic()
    return stopped_at


def take_a_few_events_from_observe(client: Client, extra: dict[str, str]) -> float:
    seen: list[MessageStreamEvent] = []
    client.messages.observe(**STORY, extra_headers=extra).pipe(ops.take(STOP_AFTER)).subscribe(
        seen.append
    )
    assert len(seen) == STOP_AFTER
    return time.monotonic()


def dispose_from_on_next(client: Client, extra: dict[str, str]) -> float:
    subscription: list[DisposableBase] = []
    stopped: list[float] = []

    def on_next(_: MessageStreamEvent) -> None:
        if len(stopped) == 0 and len(subscription) == 1:
            stopped.append(time.monotonic())
            subscription[0].dispose()

    def subscribe(*_: Any) -> None:
        # Inside a running trampoline, `subscribe` returns its disposable before the source
        # reads: on_next can then dispose the subscription it belongs to.
        subscription.append(
            client.messages.observe(**STORY, extra_headers=extra).subscribe(on_next)
        )

    CurrentThreadScheduler.singleton().schedule(subscribe)
    assert stopped
    return stopped[0]


SYNC_STOPS: dict[str, Callable[[Client, dict[str, str]], float]] = {
    "break out of the loop": break_out_of_the_loop,
    "break out of text_stream": break_out_of_text_stream,
    "leave the with block by an exception": leave_the_with_block_by_an_exception,
    "close() the stream": close_the_stream,
    "break out of a raw create(stream=True)": break_out_of_a_raw_stream,
    "take(3) from observe()": take_a_few_events_from_observe,
    "dispose the subscription from on_next": dispose_from_on_next,
}


@pytest.mark.parametrize("how", SYNC_STOPS)
def test_stopping_a_sync_stream_closes_the_connection_promptly(
    how: str, emulator: Emulator, story_events: int
) -> None:
    run, extra = headers()
    with Client(base_url=emulator.base_url, api_key=KEY) as client:
        stopped_at = SYNC_STOPS[how](client, extra)
        assert_closed_promptly(emulator, run, stopped_at, story_events)


# --- async (asyncio and trio) -----------------------------------------------------------


async def abreak_out_of_the_loop(client: AsyncClient, extra: dict[str, str]) -> float:
    async with client.messages.stream(**STORY, extra_headers=extra) as stream:
        count = 0
        async for _ in stream:
            count += 1
            if count == STOP_AFTER:
                break
        stopped_at = time.monotonic()
    return stopped_at


async def aleave_the_with_block_by_an_exception(
    client: AsyncClient, extra: dict[str, str]
) -> float:
    stopped: list[float] = []

    async def read() -> None:
        async with client.messages.stream(**STORY, extra_headers=extra) as stream:
            count = 0
            async for _ in stream:
                count += 1
                if count == STOP_AFTER:
                    stopped.append(time.monotonic())
                    raise Stopped

    with pytest.raises(Stopped):
        await read()
    return stopped[0]


async def cancel_the_reading_task(client: AsyncClient, extra: dict[str, str]) -> float:
    reading = anyio.Event()

    async def read() -> None:
        async with client.messages.stream(**STORY, extra_headers=extra) as stream:
            count = 0
            async for _ in stream:
                count += 1
                if count == STOP_AFTER:
                    reading.set()
        pytest.fail("the task was not cancelled")

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        await reading.wait()
        stopped_at = time.monotonic()
        group.cancel_scope.cancel()
    return stopped_at


async def time_out_the_reader(client: AsyncClient, extra: dict[str, str]) -> float:
    with anyio.move_on_after(0.2) as scope:
        async with client.messages.stream(**STORY, extra_headers=extra) as stream:
            await stream.until_done()
    assert scope.cancelled_caught
    return time.monotonic()


async def cancel_a_raw_stream_task(client: AsyncClient, extra: dict[str, str]) -> float:
    reading = anyio.Event()

    async def read() -> None:
        async with await client.messages.create(
            stream=True, **STORY, extra_headers=extra
        ) as stream:
            count = 0
            async for _ in stream:
                count += 1
                if count == STOP_AFTER:
                    reading.set()

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        await reading.wait()
        stopped_at = time.monotonic()
        group.cancel_scope.cancel()
    return stopped_at


async def dispose_while_the_task_runs(client: AsyncClient, extra: dict[str, str]) -> float:
    reading = anyio.Event()
    seen: list[MessageStreamEvent] = []
    ended: list[object] = []

    def on_next(event: MessageStreamEvent) -> None:
        seen.append(event)
        if len(seen) == STOP_AFTER:
            reading.set()

    subscription = client.messages.observe(**STORY, extra_headers=extra).subscribe(
        on_next, ended.append, lambda: ended.append("completed")
    )
    await reading.wait()
    stopped_at = time.monotonic()
    subscription.dispose()
    await anyio.sleep(0.05)
    assert ended == [], "a disposed subscription must hear nothing more"
    return stopped_at


ASYNC_STOPS: dict[str, Callable[[AsyncClient, dict[str, str]], Awaitable[float]]] = {
    "break out of the loop": abreak_out_of_the_loop,
    "leave the with block by an exception": aleave_the_with_block_by_an_exception,
    "cancel the task reading it": cancel_the_reading_task,
    "a deadline (move_on_after) around it": time_out_the_reader,
    "cancel the task reading a raw create(stream=True)": cancel_a_raw_stream_task,
    "dispose observe() while its task runs": dispose_while_the_task_runs,
}


@pytest.mark.anyio
@pytest.mark.parametrize("how", ASYNC_STOPS)
async def test_stopping_an_async_stream_closes_the_connection_promptly(
    how: str, emulator: Emulator, story_events: int
) -> None:
    run, extra = headers()
    async with AsyncClient(base_url=emulator.base_url, api_key=KEY) as client:
        stopped_at = await ASYNC_STOPS[how](client, extra)
        await anyio.to_thread.run_sync(
            assert_closed_promptly, emulator, run, stopped_at, story_events
        )


# --- no leaks ---------------------------------------------------------------------------

SHORT: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello there"}],
}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def short_stops(client: Client) -> Iterator[Callable[[], None]]:
    """Each way of stopping a short stream early, in turn, forever."""

    def break_out() -> None:
        with client.messages.stream(**SHORT) as stream:
            for _ in stream:
                break

    def read_then_raise() -> None:
        with client.messages.stream(**SHORT) as stream:
            next(iter(stream))
            raise Stopped

    def raise_out() -> None:
        with pytest.raises(Stopped):
            read_then_raise()

    def raw_break() -> None:
        with client.messages.create(stream=True, **SHORT) as stream:
            next(iter(stream))

    def take_one() -> None:
        client.messages.observe(**SHORT).pipe(ops.take(1)).subscribe(lambda _: None)

    def read_all() -> None:
        with client.messages.stream(**SHORT) as stream:
            stream.until_done()

    while True:
        yield from (break_out, raise_out, raw_break, take_one, read_all)


SLACK = 4  # pooled keep-alive connections (client and server ends) may stay open


def test_a_thousand_stopped_streams_leave_no_file_descriptor_behind(emulator: Emulator) -> None:
    with Client(base_url=emulator.base_url, api_key=KEY) as client:
        stops = short_stops(client)
        for stop in [next(stops) for _ in range(5)]:  # warm up: imports, pool, first sockets
            stop()
        assert emulator.wait_for(lambda e: e.open_connections <= 1)
        before = open_fds()

        for _ in range(1000):
            next(stops)()

        emulator.wait_for(lambda e: e.open_connections <= 1)
        after = open_fds()
    assert after <= before + SLACK, (before, after)
