"""RedisStore against a real redis-server: the log, exact resume, snapshots, outcomes, expiry,
fencing, cancel, shared readers, a Redis restart. One process; see test_durable_processes.py
for producers and consumers in separate processes."""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
import redis
from reactivex import operators as ops
from redis_server import RedisServer

import rxstream
from rxstream import MessageStreamEvent, SnapshotEvent, StreamItem
from rxstream import operators as rxo
from rxstream.accumulate import MessageAccumulator
from rxstream.durable import (
    Entry,
    ProducerConflictError,
    RedisStore,
    StoreUnavailableError,
    StreamCancelledError,
    StreamNotFound,
    StreamStore,
)
from rxstream.durable._codec import parse_position
from rxstream.emulator import Emulator

TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    },
}
REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1100,
    "messages": [{"role": "user", "content": "What is the weather in Paris? Then a poem."}],
    "tools": [TOOL],
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}
STORY: dict[str, Any] = {  # merged over REQUEST: a long text reply, stopped in the middle
    "max_tokens": 2000,
    "messages": [{"role": "user", "content": "Write a long story about a lighthouse"}],
    "tools": [],
    "thinking": {"type": "disabled"},
}
PACED = {"x-emulator-tps": "100"}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisStore]:
    made = RedisStore(redis_server.url, ttl=30, lease=0.5, checkpoint_every=5)
    yield made
    made.close()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[rxstream.Client]:
    with rxstream.Client(base_url=emulator.base_url, api_key="test") as made:
        yield made


def new_id() -> str:
    return f"test-{uuid.uuid4()}"


def publish(
    store: RedisStore,
    client: rxstream.Client,
    stream_id: str,
    errors: list[Exception] | None = None,
    **extra: Any,
) -> list[MessageStreamEvent]:
    """Publish one reply; the events the producer read (and its error, into `errors`)."""
    seen: list[MessageStreamEvent] = []
    request = {**REQUEST, **extra}
    failed = errors.append if errors is not None else None
    source = client.messages.observe(**request).pipe(ops.do_action(seen.append, failed))
    store.publish_sync(stream_id, source)
    return seen


def start_producer(
    store: RedisStore,
    client: rxstream.Client,
    stream_id: str,
    failures: list[BaseException] | None = None,
    **extra: Any,
) -> threading.Thread:
    """Publish in a thread (what it raises goes to `failures`); return once its lease is
    taken, so that a consumer finds the stream."""

    def run() -> None:
        try:
            publish(store, client, stream_id, **extra)
        except BaseException as exc:
            if failures is None:
                raise
            failures.append(exc)

    producer = threading.Thread(target=run)
    producer.start()
    keys = (f"rxstream:{{{stream_id}}}:lease", f"rxstream:{{{stream_id}}}:log")
    deadline = time.monotonic() + 5
    while not store._sync.exists(*keys) and time.monotonic() < deadline:
        time.sleep(0.005)
    return producer


def final(items: list[StreamItem]) -> rxstream.Message:
    accumulator = MessageAccumulator()
    for item in items:
        accumulator.feed(item)
    return accumulator.message()


def test_replay_gives_every_event_in_order_with_increasing_sse_ids(
    store: RedisStore, client: rxstream.Client
) -> None:
    stream_id = new_id()
    events = publish(store, client, stream_id)
    entries = list(store.entries(stream_id, mode="replay"))
    assert [e.item for e in entries] == events
    kinds = {e.type for e in events}
    assert {"thinking", "tool_use", "text"} <= {b.type for b in final(list(events)).content}
    assert "ping" in kinds
    positions = [rxstream.durable._codec.parse_position(e.id) for e in entries]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert all("\n" not in e.id and "\r" not in e.id and "\0" not in e.id for e in entries)
    assert any(":" in e.id for e in entries)  # events that arrived together share an entry


def test_resume_after_any_id_continues_with_exactly_the_next_event(
    store: RedisStore, client: rxstream.Client
) -> None:
    stream_id = new_id()
    events = publish(store, client, stream_id)
    ids = [e.id for e in store.entries(stream_id, mode="replay")]
    for i, entry_id in enumerate(ids):
        rest = [e.item for e in store.entries(stream_id, after=entry_id, mode="replay")]
        assert rest == events[i + 1 :], entry_id


def test_snapshot_resume_from_every_position_rebuilds_the_exact_message(
    store: RedisStore, client: rxstream.Client
) -> None:
    stream_id = new_id()
    events = publish(store, client, stream_id)
    whole = final(list(events))
    ids = [e.id for e in store.entries(stream_id, mode="replay")]
    for i, entry_id in enumerate(ids):
        items = [e.item for e in store.entries(stream_id, after=entry_id)]
        tail = events[i + 1 :]
        if i >= 0 and isinstance(items[0], SnapshotEvent):
            assert items[0].snapshot.to_message() == final(list(events[: i + 1]))
            assert items[1:] == tail
        else:  # nothing to snapshot yet (before message_start)
            assert items == tail
        assert final(items) == whole


def test_consumer_at_the_start_in_snapshot_mode_gets_every_event(
    store: RedisStore, client: rxstream.Client
) -> None:
    stream_id = new_id()
    events = publish(store, client, stream_id)
    assert [e.item for e in store.entries(stream_id)] == events


def test_observe_is_an_observable_every_operator_works_on(
    store: RedisStore, client: rxstream.Client
) -> None:
    stream_id = new_id()
    events = publish(store, client, stream_id)
    got: list[rxstream.Message] = []
    done = threading.Event()
    store.observe(stream_id).pipe(rxo.final_message()).subscribe(
        got.append, lambda e: done.set(), done.set
    )
    assert done.wait(10)
    assert got == [final(list(events))]


@pytest.mark.parametrize(
    ("error_type", "cls", "status"),
    [
        ("overloaded_error", rxstream.OverloadedError, 529),
        ("rate_limit_error", rxstream.RateLimitError, 429),
        ("invalid_request_error", rxstream.errors.BadRequestError, 400),
    ],
)
def test_a_failed_stream_raises_the_same_error_class_for_every_consumer(
    store: RedisStore, client: rxstream.Client, error_type: str, cls: type[Exception], status: int
) -> None:
    stream_id = new_id()
    fault = {"x-emulator-fault": f"error={error_type};after=6;message=try later"}
    errors: list[Exception] = []
    publish(store, client, stream_id, errors, extra_headers=fault)  # records, does not raise
    (producer_error,) = errors
    assert isinstance(producer_error, rxstream.APIStatusError)
    assert isinstance(producer_error, cls)
    for _ in range(2):
        got: list[Entry] = []
        with pytest.raises(cls) as raised:
            got.extend(store.entries(stream_id, mode="replay"))
        error = raised.value
        assert isinstance(error, rxstream.APIStatusError)
        assert error.status_code == status
        assert error.error_type == error_type
        assert error.message == producer_error.message
        assert "try later" in error.message
        assert error.request_id == producer_error.request_id
        assert error.request_id is not None
        assert error.partial_message == producer_error.partial_message
        assert error.partial_message is not None


def test_unknown_stream_raises_stream_not_found(store: RedisStore) -> None:
    with pytest.raises(StreamNotFound):
        list(store.entries(new_id()))


def test_expired_stream_raises_stream_not_found(
    redis_server: RedisServer, client: rxstream.Client
) -> None:
    short = RedisStore(redis_server.url, ttl=0.3, lease=0.5)
    stream_id = new_id()
    events = publish(short, client, stream_id)
    assert [e.item for e in short.entries(stream_id, mode="replay")] == events
    time.sleep(0.5)
    with pytest.raises(StreamNotFound):
        list(short.entries(stream_id))
    assert not redis.Redis.from_url(redis_server.url).keys(f"*{stream_id}*")
    short.close()


def test_second_producer_is_refused(store: RedisStore, client: rxstream.Client) -> None:
    stream_id = new_id()
    first = start_producer(store, client, stream_id, extra_headers=PACED)
    with pytest.raises(ProducerConflictError):
        publish(store, client, stream_id)
    first.join()
    with pytest.raises(ProducerConflictError):  # a finished stream id is not reused either
        publish(store, client, stream_id)


def test_a_producer_that_lost_its_lease_can_no_longer_append(
    store: RedisStore, client: rxstream.Client, redis_server: RedisServer
) -> None:
    stream_id = new_id()
    failure: list[BaseException] = []
    producer = start_producer(store, client, stream_id, failure, extra_headers=PACED)
    entries = iter(store.entries(stream_id, mode="replay"))
    next(entries)
    raw = redis.Redis.from_url(redis_server.url)
    raw.set(f"rxstream:{{{stream_id}}}:lease", "999", px=60_000)  # another generation holds it
    length = raw.xlen(f"rxstream:{{{stream_id}}}:log")
    producer.join(10)
    assert not producer.is_alive()
    assert len(failure) == 1
    assert isinstance(failure[0], ProducerConflictError)
    assert raw.xlen(f"rxstream:{{{stream_id}}}:log") <= length + 1  # at most one in flight
    raw.close()


def test_cancel_closes_the_upstream_within_100_ms_and_records_the_partial_message(
    store: RedisStore, client: rxstream.Client, emulator: Emulator
) -> None:
    stream_id = new_id()
    producer = start_producer(store, client, stream_id, extra_headers=PACED, **STORY)
    seen: list[Entry] = []
    entries = store.entries(stream_id, mode="replay")
    seen.extend(next(entries) for _ in range(12))
    record = emulator.records[-1]
    asked = time.monotonic()
    assert store.cancel_sync(stream_id) is True
    with pytest.raises(StreamCancelledError) as raised:
        seen.extend(entries)
    assert emulator.wait_closed(record)
    assert record.closed_at is not None
    assert record.closed_at - asked < 0.1
    assert not record.completed
    producer.join(5)
    partial = raised.value.partial_message
    assert partial is not None
    assert partial == final([e.item for e in seen])
    assert store.cancel_sync(stream_id) is False  # ended
    assert store.cancel_sync(new_id()) is False  # unknown


def test_local_consumers_share_one_redis_connection(
    redis_server: RedisServer, client: rxstream.Client, store: RedisStore
) -> None:
    named = redis.Redis(port=redis_server.port, client_name="consumers")
    consumers = RedisStore(named, lease=0.5)
    stream_id = new_id()
    producer = start_producer(store, client, stream_id, extra_headers=PACED)
    results: list[list[StreamItem]] = [[] for _ in range(50)]

    def consume(into: list[StreamItem]) -> None:
        into.extend(e.item for e in consumers.entries(stream_id))

    threads = [threading.Thread(target=consume, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    mine = [c for c in store._sync.client_list() if c.get("name") == "consumers"]
    producer.join()
    for thread in threads:
        thread.join(10)
    assert len(mine) == 1
    whole = results[0]
    assert all(r == whole for r in results)
    assert whole
    named.close()


@pytest.mark.anyio
async def test_async_producer_and_consumers(
    redis_server: RedisServer, emulator: Emulator, anyio_backend: str
) -> None:
    store = RedisStore(redis_server.url, lease=0.5, checkpoint_every=5)
    stream_id = new_id()
    published: list[MessageStreamEvent] = []

    async def produce() -> None:
        if anyio_backend == "asyncio":  # redis.asyncio
            async with rxstream.AsyncClient(base_url=emulator.base_url, api_key="t") as aclient:
                source = aclient.messages.observe(**REQUEST, extra_headers=PACED)
                await store.publish(stream_id, source.pipe(ops.do_action(published.append)))
        else:  # trio: redis-py has no trio support, so the sync producer runs in a thread
            with rxstream.Client(base_url=emulator.base_url, api_key="t") as sync_client:
                run = functools.partial(publish, extra_headers=PACED)
                published.extend(await anyio.to_thread.run_sync(run, store, sync_client, stream_id))

    async def consume(into: list[Entry]) -> None:
        async for entry in store.aentries(stream_id, mode="replay"):
            into.append(entry)

    first: list[Entry] = []
    second: list[Entry] = []
    async with anyio.create_task_group() as group:
        group.start_soon(produce)
        keys = (f"rxstream:{{{stream_id}}}:lease", f"rxstream:{{{stream_id}}}:log")
        while not store._sync.exists(*keys):  # the producer has started (or even ended)
            await anyio.sleep(0.005)
        group.start_soon(consume, first)
        group.start_soon(consume, second)
    assert [e.item for e in first] == published == [e.item for e in second]
    resumed = [e.item async for e in store.aentries(stream_id, after=first[20].id)]
    assert isinstance(resumed[0], SnapshotEvent)
    assert resumed[1:] == published[21:]
    store.close()


def test_bad_arguments_fail_with_clear_errors(store: RedisStore) -> None:
    with pytest.raises(ValueError, match="not a stream entry id: 'nope'"):
        list(store.entries(new_id(), after="nope"))
    with pytest.raises(ValueError, match="invalid stream id"):
        list(store.entries("a{b}"))
    with pytest.raises(ValueError, match="mode must be"):
        list(store.entries(new_id(), mode="all"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl and lease"):
        RedisStore("redis://127.0.0.1:1/0", ttl=0)


def test_redis_restarted_mid_stream_gives_typed_errors_not_a_hang(
    tmp_path: Path, client: rxstream.Client
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    store = RedisStore(server.url, lease=0.5)
    stream_id = new_id()
    failures: list[BaseException] = []
    producer = start_producer(store, client, stream_id, failures, extra_headers=PACED, **STORY)
    entries = store.entries(stream_id, mode="replay")
    next(entries)
    server.restart()
    started = time.monotonic()
    with pytest.raises((StoreUnavailableError, StreamNotFound)):
        list(entries)
    producer.join(10)
    assert time.monotonic() - started < 5
    assert len(failures) == 1
    assert isinstance(failures[0], (StoreUnavailableError, ProducerConflictError))
    store.close()
    server.stop()


def test_cancel_while_the_upstream_is_silent_still_closes_it_within_100_ms(
    store: RedisStore, client: rxstream.Client, emulator: Emulator
) -> None:
    # The producer's read is blocked (the server stalls 3 s): the cancel must wake it.
    stream_id = new_id()
    stall = {"x-emulator-fault": "stall=3;after=10"}
    producer = start_producer(store, client, stream_id, extra_headers=stall, **STORY)
    entries = iter(store.entries(stream_id, mode="replay"))
    seen = [next(entries) for _ in range(10)]
    record = emulator.records[-1]
    asked = time.monotonic()
    assert store.cancel_sync(stream_id) is True
    assert emulator.wait_closed(record)
    assert record.closed_at is not None
    assert record.closed_at - asked < 0.1
    with pytest.raises(StreamCancelledError) as raised:
        seen.extend(entries)
    assert raised.value.partial_message == final([e.item for e in seen])
    producer.join(5)
    assert not producer.is_alive()


def test_a_consumer_ahead_of_this_process_reader_gets_no_duplicate(
    store: RedisStore, client: rxstream.Client
) -> None:
    # A reconnect whose id is ahead of what this process's reader has read yet (another
    # process served it): the entries up to that id must be skipped when they arrive here.
    stream_id = new_id()
    producer = start_producer(store, client, stream_id, extra_headers=PACED, **STORY)
    first = iter(store.entries(stream_id, mode="replay"))
    seen = [next(first) for _ in range(5)]
    ms = parse_position(seen[-1].id)[0]
    ahead = f"{ms + 300}-0"  # about 30 events later, not read by anyone yet
    items = [e.item for e in store.entries(stream_id, after=ahead, mode="replay")]
    producer.join()
    whole = list(store.entries(stream_id, mode="replay"))
    before = [e.item for e in whole if parse_position(e.id) <= parse_position(ahead)]
    after = [e.item for e in whole if parse_position(e.id) > parse_position(ahead)]
    assert 5 < len(before) < len(whole)
    assert items == after
    seen.extend(first)


def test_redis_store_keeps_the_stream_store_contract(store: RedisStore) -> None:
    contract: StreamStore = store  # checked by mypy --strict: the relay's protocol
    assert contract is store


def test_publish_sync_of_a_shared_stream_other_subscribers_see_the_same(
    store: RedisStore, client: rxstream.Client
) -> None:
    stream_id = new_id()
    shared = rxstream.SharedStream(client.messages.observe(**REQUEST))
    local: list[StreamItem] = []
    shared.subscribe(local.append)
    store.publish_sync(stream_id, shared)  # subscribes, connects, reads to the end
    assert [e.item for e in store.entries(stream_id, mode="replay")] == local


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_async_publish_of_a_shared_stream_and_of_an_async_iterator(
    redis_server: RedisServer, emulator: Emulator, anyio_backend: str
) -> None:
    store = RedisStore(redis_server.url, lease=0.5)
    async with rxstream.AsyncClient(base_url=emulator.base_url, api_key="t") as aclient:
        shared = rxstream.SharedStream(aclient.messages.observe(**REQUEST))
        local: list[StreamItem] = []
        shared.subscribe(local.append)
        first, second = new_id(), new_id()
        await store.publish(first, shared)
        assert [e.item async for e in store.aentries(first, mode="replay")] == local

        async def events() -> AsyncIterator[MessageStreamEvent]:
            for item in local:
                assert not isinstance(item, SnapshotEvent)
                yield item

        await store.publish(second, events())
        assert [e.item async for e in store.aentries(second, mode="replay")] == local
    store.close()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_async_cancel_closes_the_async_producers_upstream_within_100_ms(
    redis_server: RedisServer, emulator: Emulator, anyio_backend: str
) -> None:
    store = RedisStore(redis_server.url, lease=0.5)
    stream_id = new_id()
    async with rxstream.AsyncClient(base_url=emulator.base_url, api_key="t") as aclient:
        source = aclient.messages.observe(**{**REQUEST, **STORY}, extra_headers=PACED)
        async with anyio.create_task_group() as group:
            group.start_soon(store.publish, stream_id, source)
            while not store._sync.exists(f"rxstream:{{{stream_id}}}:lease"):
                await anyio.sleep(0.005)
            entries = store.aentries(stream_id, mode="replay")
            seen = [await anext(entries) for _ in range(10)]
            record = emulator.records[-1]
            asked = time.monotonic()
            assert await store.cancel(stream_id) is True
            with pytest.raises(StreamCancelledError) as raised:
                seen.extend([entry async for entry in entries])
        assert await anyio.to_thread.run_sync(emulator.wait_closed, record)
        assert record.closed_at is not None
        assert record.closed_at - asked < 0.1
        assert raised.value.partial_message == final([e.item for e in seen])
    store.close()
