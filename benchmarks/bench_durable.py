"""Durable streams on a real redis-server (started here on a free loopback port, no persistence).

Run: `.venv/bin/pytest benchmarks/bench_durable.py -p no:cacheprovider --benchmark-only`

(a) Publish: 20,000 text deltas (~2.5 MB, 4 KiB chunks) decoded by `from_sse` and published
    with `publish_sync`, against decoding the same bytes with no store: target <= 2x the time.
    Round trips per event (script calls counted by Redis) reported.
(b) Resume at the end of a 100,000-event stream with `mode="snapshot"` against reading it from
    the start: target <= 1.5x; `mode="replay"` at the end and a snapshot at the middle reported.
(c) 1,000 subscribers of one stream over 4 processes (250 asyncio consumers each): the Redis
    connections they use (target 4), whether every subscriber got every event, and the latency
    the store adds per event (p50 / p99: producer's emit to a subscriber's receipt).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from conftest import NOTES, RATIOS, TIMINGS, Timing, WireStream, chunked, text_reply
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream
from rxstream import MessageStreamEvent
from rxstream.durable import RedisStore

RATIOS.extend(
    [
        (
            "time publish vs read alone, 20k deltas",
            "publish",
            "read",
            False,
            "<= 2x",
            lambda r: r <= 2,
        ),
        (
            "time resume at end (snapshot) vs from start, 100k events",
            "resume_end",
            "resume_start",
            False,
            "<= 1.5x",
            lambda r: r <= 1.5,
        ),
        (
            "time resume at end (replay) vs from start, 100k events",
            "replay_end",
            "resume_start",
            False,
            "(reported)",
            lambda r: True,
        ),
        (
            "time resume at middle (snapshot) vs from start, 100k events",
            "resume_middle",
            "resume_start",
            False,
            "(reported)",
            lambda r: True,
        ),
    ]
)

SUBSCRIBERS, PROCESSES, FANOUT_EVENTS, FANOUT_GAP = 1000, 4, 200, 0.005


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, directory = _free_port(), tmp_path_factory.mktemp("redis")
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    server = subprocess.Popen(
        ["redis-server", *args, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    client = redis.Redis(port=port)
    for _ in range(500):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.01)
    client.close()
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


def _script_calls(client: redis.Redis) -> int:
    stats: dict[str, Any] = client.info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


def test_read_alone(benchmark: BenchmarkFixture, text_stream: WireStream) -> None:
    def read() -> int:
        count = 0

        def on_next(_: MessageStreamEvent) -> None:
            nonlocal count
            count += 1

        rxstream.from_sse(text_stream.chunks).subscribe(on_next)
        return count

    assert benchmark(read) == text_stream.events
    _keep(benchmark, "read", text_stream.events)


def test_publish(benchmark: BenchmarkFixture, text_stream: WireStream, redis_url: str) -> None:
    store = RedisStore(redis_url, maxlen=None)
    client = redis.Redis.from_url(redis_url)
    ids: list[str] = []

    def publish() -> None:
        ids.append(f"bench-{uuid.uuid4()}")
        store.publish_sync(ids[-1], rxstream.from_sse(text_stream.chunks))

    before = _script_calls(client)
    benchmark(publish)
    calls = (_script_calls(client) - before) / len(ids)
    entries = client.xlen(f"rxstream:{{{ids[-1]}}}:log")
    NOTES.append(
        f"publish: {calls / text_stream.events:.4f} round trips per event "
        f"({calls:.0f} script calls, {entries} log entries for {text_stream.events} events)"
    )
    _keep(benchmark, "publish", text_stream.events)
    store.close()
    client.close()


def test_publish_paced(benchmark: BenchmarkFixture, redis_url: str) -> None:
    """Events 1 ms apart (a fast model): each goes alone, at once; round trips reported."""
    store = RedisStore(redis_url, maxlen=None)
    client = redis.Redis.from_url(redis_url)
    events = 1000

    def publish() -> None:
        store.publish_sync(f"bench-{uuid.uuid4()}", _events(events, 0.001))

    before = _script_calls(client)
    benchmark.pedantic(publish, rounds=1)
    calls = _script_calls(client) - before
    NOTES.append(
        f"publish, one event every 1 ms: {calls / (events + 6):.2f} round trips per event "
        f"({calls} script calls for {events + 6} events)"
    )
    store.close()
    client.close()


@pytest.fixture(scope="module")
def long_stream(redis_url: str) -> tuple[str, str, str]:
    """A published stream of 100,000 text deltas: its id, its last and its middle entry id."""
    texts = [f" word{i % 97}" for i in range(100_000)]
    store = RedisStore(redis_url, maxlen=None)
    stream_id = f"bench-long-{uuid.uuid4()}"
    store.publish_sync(stream_id, rxstream.from_sse(chunked(text_reply(texts), 4096)))
    ids = [e.id for e in store.entries(stream_id, mode="replay")]
    store.close()
    return stream_id, ids[-1], ids[len(ids) // 2]


def _resume(redis_url: str, stream_id: str, after: str | None, mode: Any) -> int:
    store = RedisStore(redis_url)  # a fresh process's view: nothing cached
    count = sum(1 for _ in store.entries(stream_id, after=after, mode=mode))
    store.close()
    return count


@pytest.mark.parametrize(
    ("key", "where", "mode"),
    [
        ("resume_start", None, "snapshot"),
        ("resume_end", "last", "snapshot"),
        ("replay_end", "last", "replay"),
        ("resume_middle", "middle", "snapshot"),
    ],
)
def test_resume(
    benchmark: BenchmarkFixture,
    redis_url: str,
    long_stream: tuple[str, str, str],
    key: str,
    where: str | None,
    mode: str,
) -> None:
    stream_id, last, middle = long_stream
    after = {"last": last, "middle": middle}.get(where or "")
    count = benchmark(_resume, redis_url, stream_id, after, mode)
    assert count == {"resume_start": 100_006, "resume_end": 1, "replay_end": 0}.get(key, count)
    _keep(benchmark, key, max(count, 1))


def _keep(benchmark: BenchmarkFixture, key: str, events: int) -> None:
    benchmark.extra_info["events"] = events
    if benchmark.stats is not None:
        TIMINGS[key] = Timing(benchmark.stats.stats.min, events)


# --- (c) 1,000 subscribers over 4 processes -----------------------------------------------


def _events(count: int, gap: float) -> Iterator[MessageStreamEvent]:
    """A text reply whose every delta carries the wall-clock time it was emitted."""
    start = rxstream.from_sse([text_reply(["x"])])
    items: list[MessageStreamEvent] = []
    start.subscribe(items.append)
    head, tail = items[:3], items[4:]  # message_start, block start, ping | stop, delta, stop
    yield from head
    for _ in range(count):
        time.sleep(gap)
        yield rxstream.ContentBlockDeltaEvent(
            index=0, delta=rxstream.TextDelta(text=f"{time.time():.6f} ")
        )
    yield from tail


async def _subscribers(url: str, stream_id: str, count: int) -> dict[str, Any]:
    named = redis.Redis.from_url(url, client_name="bench-subscriber")
    store = RedisStore(named, lease=2.0)
    latencies: list[float] = []
    received: list[int] = []

    async def one() -> None:
        n = 0
        async for entry in store.aentries(stream_id, mode="replay"):
            item = entry.item
            if isinstance(item, rxstream.ContentBlockDeltaEvent) and isinstance(
                item.delta, rxstream.TextDelta
            ):
                latencies.append(time.time() - float(item.delta.text))
                n += 1
        received.append(n)

    await asyncio.gather(*(one() for _ in range(count)))
    store.close()
    return {"received": received, "latencies": latencies}


def _worker(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("stream_id")
    parser.add_argument("count", type=int)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_subscribers(args.url, args.stream_id, args.count))))


def _fan_out(redis_url: str) -> tuple[list[dict[str, Any]], int]:
    """Publish a paced stream to 4 processes of 250 subscribers; their results, and the
    Redis connections they held."""
    store = RedisStore(redis_url, lease=2.0)
    client = redis.Redis.from_url(redis_url)
    stream_id = f"bench-fanout-{uuid.uuid4()}"
    attached = threading.Event()

    def events() -> Iterator[MessageStreamEvent]:
        paced = _events(FANOUT_EVENTS, FANOUT_GAP)
        yield from (next(paced) for _ in range(3))  # the stream exists: subscribers attach
        attached.wait(60)
        yield from paced

    producer = threading.Thread(target=store.publish_sync, args=(stream_id, events()))
    producer.start()
    while not client.exists(f"rxstream:{{{stream_id}}}:log"):
        time.sleep(0.01)
    per = SUBSCRIBERS // PROCESSES
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "worker", redis_url, stream_id, str(per)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while True:  # until every subscriber process has its reader connected
        named = [c for c in client.client_list() if c.get("name") == "bench-subscriber"]
        if len(named) >= PROCESSES or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # and every subscriber joined
    connections = len([c for c in client.client_list() if c.get("name") == "bench-subscriber"])
    attached.set()
    results = [json.loads(w.communicate(timeout=120)[0]) for w in workers]
    producer.join()
    client.close()
    store.close()
    return results, connections


def test_thousand_subscribers_over_four_processes(
    benchmark: BenchmarkFixture, redis_url: str
) -> None:
    results, connections = benchmark.pedantic(_fan_out, args=(redis_url,), rounds=1)
    NOTES.append(f"fan-out: {connections} Redis connections for {SUBSCRIBERS} subscribers")
    received = [n for r in results for n in r["received"]]
    latencies = sorted(x for r in results for x in r["latencies"])
    assert len(received) == SUBSCRIBERS
    every = all(n == FANOUT_EVENTS for n in received)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    NOTES.append(
        f"fan-out: every subscriber got every event: {every} ({len(latencies)} deliveries); "
        f"latency added p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    benchmark.extra_info.update(p50_ms=p50, p99_ms=p99, every_event=every)
    assert every


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _worker(sys.argv[2:])
