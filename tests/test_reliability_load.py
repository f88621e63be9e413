"""Load: 200 concurrent streams from one `AsyncClient` all end with the right message, and
1,000 subscribers fanned out from one stream all see every event."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import msgspec
import pytest

from rxstream import (
    AsyncClient,
    Client,
    Message,
    MessageStartEvent,
    MessageStreamEvent,
    SharedStream,
    StreamItem,
    TextBlock,
)
from rxstream import operators as rxo
from rxstream.emulator import Emulator, reply_text_for

KEY = "sk-ant-reliability-load"
CONCURRENT = 200
FIRST_TOKEN = 0.25  # seconds each reply waits before its first token: serially, 50 s in all
SUBSCRIBERS = 1000


def body(n: int) -> dict[str, Any]:
    """A request whose reply differs with `n` (so a mixed-up stream would show)."""
    question = f"What is {n} + {n * 7}?" if n % 3 else f"Count to {n % 40 + 1}" if n % 2 else "Hi!"
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": question}],
    }


async def through_the_adapter(client: AsyncClient, params: dict[str, Any], run: str) -> Message:
    headers = {"x-emulator-ttft": str(FIRST_TOKEN), "x-reliability-run": run}
    async with client.messages.stream(**params, extra_headers=headers) as stream:
        return await stream.get_final_message()


async def through_observe(client: AsyncClient, params: dict[str, Any], run: str) -> Message:
    headers = {"x-emulator-ttft": str(FIRST_TOKEN), "x-reliability-run": run}
    finals: list[Message] = []
    errors: list[Exception] = []
    ended = anyio.Event()

    def failed(error: Exception) -> None:
        errors.append(error)
        ended.set()

    client.messages.observe(**params, extra_headers=headers).pipe(rxo.final_message()).subscribe(
        finals.append, failed, ended.set
    )
    await ended.wait()
    assert errors == []
    return finals[0]


@pytest.mark.anyio
async def test_200_concurrent_streams_from_one_client_all_end_with_their_own_message(
    emulator: Emulator,
) -> None:
    run = uuid.uuid4().hex
    finals: dict[int, Message] = {}

    async def one(client: AsyncClient, n: int) -> None:
        read = through_the_adapter if n % 2 else through_observe
        finals[n] = await read(client, body(n), run)

    started = time.monotonic()
    async with AsyncClient(base_url=emulator.base_url, api_key=KEY) as client:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for n in range(CONCURRENT):
                    group.start_soon(one, client, n)
    elapsed = time.monotonic() - started

    assert sorted(finals) == list(range(CONCURRENT))
    for n, message in finals.items():
        assert message.content == (TextBlock(reply_text_for(body(n))),), n
        assert message.stop_reason == "end_turn"
    mine = [r for r in emulator.records if r.headers.get("x-reliability-run") == run]
    assert len(mine) == CONCURRENT  # one request each, none retried
    assert elapsed < CONCURRENT * FIRST_TOKEN / 5  # they really ran at the same time


def story() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "Write a short story about a lighthouse"}],
    }


def expected_events(emulator: Emulator) -> list[MessageStreamEvent]:
    with Client(base_url=emulator.base_url, api_key=KEY) as client:
        return list(client.messages.create(stream=True, **story()))


def same_events(seen: list[Any], expected: list[MessageStreamEvent]) -> bool:
    """The same events, but for the message id (every response has a new one, as with the API)."""
    start = seen[0] if seen else None
    if not isinstance(start, MessageStartEvent) or not isinstance(expected[0], MessageStartEvent):
        return seen == expected
    message = msgspec.structs.replace(start.message, id=expected[0].message.id)
    return [msgspec.structs.replace(start, message=message), *seen[1:]] == expected


class Subscriber:
    """Records everything it is told."""

    def __init__(self) -> None:
        self.items: list[StreamItem] = []
        self.completed = False
        self.error: Exception | None = None

    def on_completed(self) -> None:
        self.completed = True

    def on_error(self, error: Exception) -> None:
        self.error = error


def fan_out(shared: SharedStream) -> list[Subscriber]:
    subscribers = [Subscriber() for _ in range(SUBSCRIBERS)]
    for s in subscribers:
        shared.subscribe(s.items.append, s.on_error, s.on_completed)
    return subscribers


def test_1000_subscribers_of_one_sync_stream_all_see_every_event(emulator: Emulator) -> None:
    expected = expected_events(emulator)
    before = emulator.requests_total

    with Client(base_url=emulator.base_url, api_key=KEY) as client:
        shared = SharedStream(client.messages.observe(**story()))
        subscribers = fan_out(shared)
        shared.connect()  # a sync source: it has run to its end here

    assert emulator.requests_total == before + 1
    for s in subscribers:
        assert (s.completed, s.error) == (True, None)
        assert same_events(s.items, expected)


@pytest.mark.anyio
async def test_1000_subscribers_of_one_async_stream_all_see_every_event(emulator: Emulator) -> None:
    expected = await anyio.to_thread.run_sync(expected_events, emulator)
    before = emulator.requests_total
    done = anyio.Event()

    async with AsyncClient(base_url=emulator.base_url, api_key=KEY) as client:
        shared = SharedStream(client.messages.observe(**story()))
        subscribers = fan_out(shared)
        shared.subscribe(on_completed=done.set, on_error=lambda _: done.set())
        shared.connect()
        with anyio.fail_after(10):
            await done.wait()

    assert emulator.requests_total == before + 1
    for s in subscribers:
        assert (s.completed, s.error) == (True, None)
        assert same_events(s.items, expected)
