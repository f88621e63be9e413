"""The idle timeout measures the network only: the time the reader waits on the socket,
never the time the consumer spends. Every interface, sync and async, with a slow consumer
of a reply the server sent at once, over a real socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from loopback import Reply, loopback
from streams import Stream, Text

import rxstream
from rxstream import operators as rxo

DELTAS = 120
STREAM = Stream([Text("word " * DELTAS, chunk=5)])
TEXT = "word " * DELTAS
IDLE = 0.15
WORK = 0.003  # the consumer's time per text delta: 0.36 s in all, more than IDLE
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hi"}],
}


def reply_chunks() -> list[bytes]:
    """The whole reply, sent at once but in three writes: the first ends mid-event after
    about half the deltas (the consumer then works longer than IDLE before the next read),
    the second completes no event."""
    data = STREAM.sse()
    cut = data.index(b"event: content_block_delta", len(data) // 2) + 10
    return [data[:cut], data[cut : cut + 5], data[cut + 5 :]]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with loopback(Reply(chunks=reply_chunks(), delay=0.01)) as server:
        yield server.url


def work(text: str, out: list[str]) -> None:
    time.sleep(WORK)
    out.append(text)


def client(url: str) -> rxstream.Client:
    return rxstream.Client(base_url=url, api_key="test-key", idle_timeout=IDLE, max_retries=0)


def async_client(url: str) -> rxstream.AsyncClient:
    return rxstream.AsyncClient(base_url=url, api_key="test-key", idle_timeout=IDLE, max_retries=0)


def sync_stream(url: str) -> list[str]:
    out: list[str] = []
    with client(url) as c, c.messages.stream(**PARAMS) as stream:
        for text in stream.text_stream:
            work(text, out)
    return out


def sync_create(url: str) -> list[str]:
    out: list[str] = []
    with client(url) as c:
        for event in c.messages.create(**PARAMS, stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                work(event.delta.text, out)
    return out


def sync_shared_observe(url: str) -> list[str]:
    out: list[str] = []
    errors: list[Exception] = []
    with client(url) as c:
        shared = rxstream.SharedStream(c.messages.observe(**PARAMS))
        shared.pipe(rxo.text_deltas()).subscribe(lambda t: work(t, out), errors.append)
        shared.connect()
    if errors:
        raise errors[0]
    return out


def sync_shared_iter(url: str) -> list[str]:
    out: list[str] = []
    with client(url) as c:
        shared = rxstream.SharedStream(c.messages.observe(**PARAMS))
        iterator = shared.iter(on_overflow="block", max_lag=4)
        reader = threading.Thread(target=shared.connect)
        reader.start()
        for item in iterator:
            if item.type == "content_block_delta" and item.delta.type == "text_delta":
                work(item.delta.text, out)
        reader.join()
    return out


SYNC: dict[str, Callable[[str], list[str]]] = {
    "stream": sync_stream,
    "create": sync_create,
    "shared_observe": sync_shared_observe,
    "shared_iter_block": sync_shared_iter,
}


@pytest.mark.parametrize("way", SYNC.values(), ids=SYNC.keys())
def test_a_slow_sync_consumer_never_trips_the_idle_timeout(
    way: Callable[[str], list[str]], server_url: str
) -> None:
    assert "".join(way(server_url)) == TEXT


async def async_stream(url: str) -> list[str]:
    out: list[str] = []
    async with async_client(url) as c, c.messages.stream(**PARAMS) as stream:
        async for text in stream.text_stream:
            work(text, out)
    return out


async def async_create(url: str) -> list[str]:
    out: list[str] = []
    async with async_client(url) as c:
        async for event in await c.messages.create(**PARAMS, stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                work(event.delta.text, out)
    return out


async def async_shared_observe(url: str) -> list[str]:
    out: list[str] = []
    errors: list[Exception] = []
    done = anyio.Event()

    def on_error(error: Exception) -> None:
        errors.append(error)
        done.set()

    async with async_client(url) as c:
        shared = rxstream.SharedStream(c.messages.observe(**PARAMS))
        shared.pipe(rxo.text_deltas()).subscribe(lambda t: work(t, out), on_error, done.set)
        shared.connect()
        await done.wait()
    if errors:
        raise errors[0]
    return out


async def async_shared_aiter(url: str) -> list[str]:
    out: list[str] = []
    async with async_client(url) as c:
        shared = rxstream.SharedStream(c.messages.observe(**PARAMS))
        iterator = shared.aiter(on_overflow="block", max_lag=4)
        shared.connect()
        async for item in iterator:
            if item.type == "content_block_delta" and item.delta.type == "text_delta":
                work(item.delta.text, out)
                await anyio.sleep(0)
    return out


ASYNC = {
    "stream": async_stream,
    "create": async_create,
    "shared_observe": async_shared_observe,
    "shared_aiter_block": async_shared_aiter,
}


@pytest.mark.anyio
@pytest.mark.parametrize("way", ASYNC.values(), ids=ASYNC.keys())
async def test_a_slow_async_consumer_never_trips_the_idle_timeout(
    way: Callable[[str], Any], server_url: str, anyio_backend: str
) -> None:
    assert "".join(await way(server_url)) == TEXT


def test_a_silent_server_still_times_out() -> None:
    """The bound still holds on the socket: a server that stops sending is caught."""
    data = STREAM.sse()
    cut = data.index(b"event: content_block_delta") + 10
    with loopback(Reply(chunks=[data[:cut], data[cut:]], delay=0.6)) as server:
        started = time.monotonic()
        with pytest.raises(rxstream.APITimeoutError):
            sync_stream(server.url)
        assert time.monotonic() - started < 0.6 + 0.4
