"""`MemoryStore` keeps the store contract: ordered ids, replay and snapshot, every outcome,
cancel that closes the upstream, readers at their own pace (asyncio and trio)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import pytest
import reactivex
from reactivex import abc

from rxstream import AsyncClient, OverloadedError, SharedStream
from rxstream.accumulate import MessageAccumulator, SnapshotEvent
from rxstream.durable import (
    Entry,
    MemoryStore,
    ProducerConflictError,
    ProducerLostError,
    Source,
    StreamCancelledError,
    StreamNotFound,
)
from rxstream.emulator import Emulator, reply_text_for
from rxstream.types import MessageStreamEvent

pytestmark = pytest.mark.anyio

BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Write a story about a lighthouse in 150 words"}],
}
TEXT = reply_text_for(BODY)


async def upstream(client: AsyncClient, **headers: str) -> AsyncIterator[MessageStreamEvent]:
    async with await client.messages.create(
        stream=True, extra_headers=headers or None, **BODY
    ) as stream:
        async for event in stream:
            yield event


async def publishing(
    group: anyio.abc.TaskGroup, store: MemoryStore, stream_id: str, source: Source
) -> None:
    """Start publishing in `group`; the stream exists when this returns (a `MemoryStore`
    registers it before `publish` first waits)."""

    async def run(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        task_status.started()
        await store.publish(stream_id, source)

    await group.start(run)


async def collect(store: MemoryStore, stream_id: str, **kwargs: Any) -> list[Entry]:
    return [entry async for entry in store.aentries(stream_id, **kwargs)]


def text_of(entries: list[Entry]) -> str:
    accumulator = MessageAccumulator()
    for entry in entries:
        accumulator.feed(entry.item)
    return accumulator.snapshot().text


async def test_a_published_stream_replays_in_order_with_increasing_ids(emulator: Emulator) -> None:
    store = MemoryStore()
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        await store.publish("s", upstream(client))
    entries = await collect(store, "s", mode="replay")
    assert [e.id for e in entries] == [str(i) for i in range(1, len(entries) + 1)]
    assert entries[0].item.type == "message_start"
    assert entries[-1].item.type == "message_stop"
    assert text_of(entries) == TEXT
    after = await collect(store, "s", after="5", mode="replay")
    assert after == entries[5:]


async def test_a_late_reader_in_snapshot_mode_gets_one_snapshot_then_the_tail(
    emulator: Emulator,
) -> None:
    store = MemoryStore()
    seen: list[Entry] = []
    async with (
        AsyncClient(base_url=emulator.base_url, api_key="k") as client,
        anyio.create_task_group() as group,
    ):
        await publishing(group, store, "s", upstream(client, **{"x-emulator-tps": "400"}))
        async with aclosing(store.aentries("s", mode="replay")) as reader:
            async for entry in reader:
                seen.append(entry)
                if len(seen) == 20:
                    break
        late = await collect(store, "s", mode="snapshot")
    assert isinstance(late[0].item, SnapshotEvent)
    assert int(late[0].id) >= 20
    head = int(late[0].id)
    assert [int(e.id) for e in late[1:]] == list(range(head + 1, head + len(late)))
    assert text_of(late) == TEXT


async def test_a_failed_stream_raises_the_producers_error_in_every_reader(
    emulator: Emulator,
) -> None:
    store = MemoryStore()
    fault = {"x-emulator-fault": "error=overloaded_error;after=8;message=busy"}
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        await store.publish("s", upstream(client, **fault))
    for _ in range(2):
        with pytest.raises(OverloadedError) as caught:
            await collect(store, "s", mode="replay")
        assert caught.value.status_code == 529
        assert caught.value.error_type == "overloaded_error"
        assert caught.value.message == "overloaded_error: busy"
        assert caught.value.partial_message is not None


async def test_cancel_closes_the_upstream_and_records_cancelled_with_the_partial_message(
    emulator: Emulator,
) -> None:
    store = MemoryStore()
    async with (
        AsyncClient(base_url=emulator.base_url, api_key="k") as client,
        anyio.create_task_group() as group,
    ):
        await publishing(group, store, "s", upstream(client, **{"x-emulator-tps": "50"}))
        count = 0
        async with aclosing(store.aentries("s", mode="replay")) as reader:
            async for _ in reader:
                count += 1
                if count == 10:
                    break
        record = emulator.records[-1]
        assert await store.cancel("s") is True
        # Closed on our side before cancel returned; the emulator sees the FIN just after.
        assert await anyio.to_thread.run_sync(emulator.wait_closed, record, 5.0)
        assert not record.completed
    with pytest.raises(StreamCancelledError) as caught:
        await collect(store, "s", mode="replay")
    partial = caught.value.partial_message
    assert partial is not None
    assert TEXT.startswith("".join(getattr(b, "text", "") for b in partial.content))
    assert await store.cancel("s") is False
    assert await store.cancel("unknown") is False


async def test_unknown_streams_and_ids_are_refused(emulator: Emulator) -> None:
    store = MemoryStore()
    with pytest.raises(StreamNotFound):
        await collect(store, "nope")
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        await store.publish("s", upstream(client))
        with pytest.raises(ProducerConflictError):
            await store.publish("s", upstream(client))
    for after in ("0", "9999", "x", "-1"):
        with pytest.raises(ValueError, match=f"after='{after}' is not an entry id of stream 's'"):
            await collect(store, "s", after=after)


async def test_a_producer_cancelled_from_outside_is_recorded_as_lost(emulator: Emulator) -> None:
    store = MemoryStore()
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        with anyio.move_on_after(0.3):
            await store.publish("s", upstream(client, **{"x-emulator-tps": "50"}))
    with pytest.raises(ProducerLostError):
        await collect(store, "s", mode="replay")


async def test_observables_and_shared_streams_are_sources(emulator: Emulator) -> None:
    store = MemoryStore()
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        await store.publish("observable", client.messages.observe(**BODY))
        await store.publish("shared", SharedStream(client.messages.observe(**BODY)))
    for name in ("observable", "shared"):
        assert text_of(await collect(store, name, mode="replay")) == TEXT


async def test_an_observable_calling_back_from_another_thread(emulator: Emulator) -> None:
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        events = [e async for e in upstream(client)]

    def from_a_thread(
        observer: abc.ObserverBase[MessageStreamEvent], _: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        def run() -> None:
            for event in events:
                observer.on_next(event)
            observer.on_completed()

        threading.Thread(target=run).start()
        return reactivex.disposable.Disposable()

    store = MemoryStore()
    await store.publish("s", reactivex.create(from_a_thread))
    assert [e.item for e in await collect(store, "s", mode="replay")] == events


async def test_a_reader_that_stops_costs_no_one_anything(emulator: Emulator) -> None:
    store = MemoryStore()
    async with (
        AsyncClient(base_url=emulator.base_url, api_key="k") as client,
        anyio.create_task_group() as group,
    ):
        await publishing(group, store, "s", upstream(client))
        stalled = [store.aentries("s", mode="replay") for _ in range(100)]
        for reader in stalled:
            await anext(reader)  # each reads one entry, then stops
        entries = await collect(store, "s", mode="replay")  # the others are not held up
        for reader in stalled:  # and each resumes where it stopped, at its own pace
            assert [e async for e in reader] == entries[1:]
    assert text_of(entries) == TEXT


async def test_ended_streams_beyond_max_streams_are_forgotten(emulator: Emulator) -> None:
    store = MemoryStore(max_streams=2)
    async with AsyncClient(base_url=emulator.base_url, api_key="k") as client:
        for name in ("a", "b", "c"):
            await store.publish(name, upstream(client))
    with pytest.raises(StreamNotFound):
        await collect(store, "a")
    assert text_of(await collect(store, "c", mode="replay")) == TEXT
    store.forget("c")
    with pytest.raises(StreamNotFound):
        await collect(store, "c")
    with pytest.raises(ValueError, match="max_streams must be at least 1, not 0"):
        MemoryStore(max_streams=0)
