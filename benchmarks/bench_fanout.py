"""Fan-out that isolates every subscriber: pace, event-loop stalls, per-event cost, memory.

Run: `.venv/bin/pytest benchmarks/bench_fanout.py -p no:cacheprovider --benchmark-only` (or
all of `benchmarks`); the ratios are printed at the end (see conftest.py). Lines in "us" or
"ms" are absolute figures (the ratio to one microsecond / millisecond).

(a) A fast subscriber's finishing time beside a 10 ms/event subscriber behind `decouple()`,
    against the fast one alone (<= 1.2x); the same without `decouple()`, for contrast.
(b) The longest event-loop stall with that slow subscriber behind `decouple()` on an async
    source (<= 20 ms); without `decouple()`, for contrast.
(c) 1,000 `SharedStream.aiter()` consumers of one async stream (606 events at ~330 events/s),
    10% of them slow (10 ms per item): the fast ones' finishing time against 1,000 fast ones
    (<= 1.2x); every lag within `max_lag`.
(d) The sync adapter's `text_stream` + `get_final_message()` per event, against the floor
    (split + one msgspec decode per event, as bench_wire.py measures it): <= 3x.
(e) Each extra `text_deltas()` subscriber of a `SharedStream`, per event: <= 0.3 us.
(f) Peak memory (tracemalloc) of the sync adapter against the SDK's `messages.stream()` on
    the same 200,000 text deltas: <= 1x. The SDK takes minutes here (quadratic text).
"""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import msgspec
import pytest
from conftest import _WORDS, RATIOS, TIMINGS, Timing, WireStream, chunked, text_reply
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream
from rxstream import operators as rxo

TIMINGS["us"] = Timing(1e-6, 1)  # units for the absolute figures below
TIMINGS["ms"] = Timing(1e-3, 1)

RATIOS.extend(
    [
        (
            "time fast subscriber beside a 10 ms/event one behind decouple() vs alone",
            "fast_beside_decoupled",
            "fast_alone",
            False,
            "<= 1.2x",
            lambda r: r <= 1.2,
        ),
        (
            "time the same beside it without decouple() (what decouple() removes)",
            "fast_beside_coupled",
            "fast_alone",
            False,
            "none",
            lambda r: True,
        ),
        (
            "ms longest event-loop stall, 10 ms/event subscriber behind decouple()",
            "stall_decoupled",
            "ms",
            False,
            "<= 20",
            lambda r: r <= 20,
        ),
        (
            "ms the same stall without decouple()",
            "stall_coupled",
            "ms",
            False,
            "none",
            lambda r: True,
        ),
        (
            "time 1,000 aiter() consumers 10% slow: the fast ones vs all fast",
            "aiter_mixed",
            "aiter_all_fast",
            False,
            "<= 1.2x",
            lambda r: r <= 1.2,
        ),
        (
            "time per event MessageStream text_stream + get_final_message() vs floor",
            "adapter_text_stream",
            "floor",
            False,
            "<= 3x",
            lambda r: r <= 3,
        ),
        (
            "us per event of each extra text_deltas() subscriber of a SharedStream",
            "text_deltas_extra",
            "us",
            False,
            "<= 0.3",
            lambda r: r <= 0.3,
        ),
        (
            "peak memory MessageStream vs SDK messages.stream(), 200k text deltas",
            "memory_adapter",
            "memory_sdk",
            False,
            "<= 1x",
            lambda r: r <= 1,
        ),
    ]
)


def words(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [" " + " ".join(rnd.choices(_WORDS, k=rnd.randint(1, 5))) for _ in range(n)]


def event_chunks(texts: list[str], per_chunk: int) -> list[bytes]:
    """The reply's events, `per_chunk` whole events per chunk (as a server flushes them)."""
    events = [e + b"\n\n" for e in text_reply(texts).split(b"\n\n") if e]
    return [b"".join(events[i : i + per_chunk]) for i in range(0, len(events), per_chunk)]


# --- (a) a fast subscriber beside a slow one ----------------------------------------------------

PACED = event_chunks(words(60, 60), 1)  # 66 events, one per chunk, 3 ms apart: ~0.2 s


def paced(chunks: list[bytes], pause: float) -> Callable[[], Iterator[bytes]]:
    def source() -> Iterator[bytes]:
        for chunk in chunks:
            time.sleep(pause)
            yield chunk

    return source


def fast_finish(slow: str) -> float:
    """Seconds until the fast subscriber has the whole text; `slow`: "none", "coupled" (a
    10 ms/event subscriber called inline) or "decoupled" (the same behind `decouple()`)."""
    shared = rxstream.SharedStream(rxstream.from_sse(paced(PACED, 0.003)))
    finished: list[float] = []
    done = threading.Event()
    started = time.perf_counter()
    shared.pipe(rxo.text_deltas()).subscribe(
        lambda _: None, on_completed=lambda: finished.append(time.perf_counter() - started)
    )

    def work(_: Any) -> None:
        time.sleep(0.01)

    slow_subscription = None
    if slow == "coupled":
        shared.subscribe(work)
    elif slow == "decoupled":
        slow_subscription = shared.pipe(rxo.decouple()).subscribe(work, on_completed=done.set)
    shared.connect()
    if slow_subscription is not None:
        slow_subscription.dispose()  # not waited for: it is not what is measured
    return finished[0]


@pytest.mark.parametrize(
    ("slow", "key", "rounds"),
    [
        ("none", "fast_alone", 3),
        ("decoupled", "fast_beside_decoupled", 3),
        ("coupled", "fast_beside_coupled", 1),
    ],
    ids=["alone", "beside_decoupled", "beside_coupled"],
)
def test_fast_subscriber_beside_a_slow_one(
    benchmark: BenchmarkFixture, slow: str, key: str, rounds: int
) -> None:
    times: list[float] = []
    benchmark.pedantic(lambda: times.append(fast_finish(slow)), rounds=rounds, iterations=1)
    TIMINGS[key] = Timing(min(times), len(PACED))
    benchmark.extra_info["fast_finish_s"] = min(times)


# --- (b) the event loop's longest stall ---------------------------------------------------------

BURSTS = event_chunks(words(40, 40), 10)  # 46 events in 5 chunks, 20 ms apart


async def bursts() -> AsyncIterator[bytes]:
    for chunk in BURSTS:
        await asyncio.sleep(0.02)
        yield chunk


async def longest_stall(decoupled: bool) -> float:
    gc.collect()  # not the garbage of the benchmarks before: a full collection stalls too
    shared = rxstream.SharedStream(rxstream.from_async_sse(bursts))
    done = asyncio.Event()

    def work(_: Any) -> None:
        time.sleep(0.01)  # 10 ms of blocking work per event

    source = shared.pipe(rxo.decouple()) if decoupled else shared
    source.subscribe(work, on_completed=done.set)
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest = max(longest, now - last - 0.001)
            last = now

    tick = asyncio.create_task(ticker())
    shared.connect()
    await done.wait()
    await tick
    return longest


@pytest.mark.parametrize(
    ("decoupled", "key"), [(True, "stall_decoupled"), (False, "stall_coupled")]
)
def test_event_loop_stall_with_a_slow_subscriber(
    benchmark: BenchmarkFixture, decoupled: bool, key: str
) -> None:
    stalls: list[float] = []
    benchmark.pedantic(
        lambda: stalls.append(asyncio.run(longest_stall(decoupled))), rounds=2, iterations=1
    )
    TIMINGS[key] = Timing(max(stalls), 1)  # the worst round
    benchmark.extra_info["longest_stall_ms"] = round(max(stalls) * 1000, 1)


# --- (c) 1,000 aiter() consumers, 10% slow ------------------------------------------------------

MANY = event_chunks(words(600, 600), 10)  # 606 events in 61 chunks, 30 ms apart (~1.8 s)
CONSUMERS = 1000
MAX_LAG = 32


async def many_consumers(slow_every: int) -> tuple[float, int]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in MANY:
            await asyncio.sleep(0.03)  # ~330 events/s: several times what a model writes
            yield chunk

    shared = rxstream.SharedStream(rxstream.from_async_sse(source))
    iterators = [shared.aiter(max_lag=MAX_LAG) for _ in range(CONSUMERS)]
    fast_done: list[float] = []
    started = time.perf_counter()

    async def consume(iterator: Any, slow: bool) -> None:
        async for _ in iterator:
            if slow:
                await asyncio.sleep(0.01)
        if not slow:
            fast_done.append(time.perf_counter() - started)

    tasks = [
        asyncio.create_task(consume(it, slow_every > 0 and k % slow_every == 0))
        for k, it in enumerate(iterators)
    ]
    shared.connect()
    await asyncio.gather(*tasks)
    worst_lag = max(it.stats.max_lag_seen for it in iterators)
    return max(fast_done), worst_lag


@pytest.mark.parametrize(("slow_every", "key"), [(0, "aiter_all_fast"), (10, "aiter_mixed")])
def test_a_thousand_aiter_consumers(benchmark: BenchmarkFixture, slow_every: int, key: str) -> None:
    results: list[tuple[float, int]] = []
    benchmark.pedantic(
        lambda: results.append(asyncio.run(many_consumers(slow_every))), rounds=3, iterations=1
    )
    assert all(lag <= MAX_LAG for _, lag in results)  # memory bounded by max_lag
    TIMINGS[key] = Timing(min(t for t, _ in results), len(MANY))
    benchmark.extra_info["worst_lag"] = max(lag for _, lag in results)


# --- (d) the sync adapter's cost per event against the floor ------------------------------------


def floor_events(chunks: list[bytes]) -> int:
    """The floor, as bench_wire.py has it: split on blank lines, one msgspec decode each."""
    decode = msgspec.json.decode
    n = 0
    for block in b"".join(chunks).split(b"\n\n"):
        if block:
            decode(block[block.index(b"\ndata: ") + 7 :])
            n += 1
    return n


def test_floor(
    benchmark: BenchmarkFixture, text_stream: WireStream, record: Callable[[str, int], None]
) -> None:
    assert benchmark(floor_events, text_stream.chunks) == text_stream.events
    record("floor", text_stream.events)


def adapter_client(chunks: list[bytes]) -> rxstream.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
        )

    return rxstream.Client(
        api_key="test", http_client=httpx.Client(transport=httpx.MockTransport(answer))
    )


PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 32_000,
    "messages": [{"role": "user", "content": "Go."}],
}


def text_stream_then_final(client: rxstream.Client) -> int:
    with client.messages.stream(**PARAMS) as stream:
        n = sum(1 for _ in stream.text_stream)
        stream.get_final_message()
    return n


def test_adapter_text_stream_and_final_message(
    benchmark: BenchmarkFixture, text_stream: WireStream, record: Callable[[str, int], None]
) -> None:
    client = adapter_client(text_stream.chunks)
    texts = benchmark.pedantic(text_stream_then_final, args=(client,), rounds=10, warmup_rounds=1)
    assert texts == 20_000
    record("adapter_text_stream", text_stream.events)
    client.close()


# --- (e) each extra text_deltas() subscriber -----------------------------------------------------


def text_deltas_fan_out(chunks: list[bytes], subscribers: int) -> int:
    shared = rxstream.SharedStream(rxstream.from_sse(chunks))
    count = [0]

    def on_next(_: str) -> None:
        count[0] += 1

    for _ in range(subscribers):
        shared.pipe(rxo.text_deltas()).subscribe(on_next)
    shared.connect()
    return count[0]


@pytest.mark.parametrize("subscribers", [1, 51])
def test_extra_text_deltas_subscribers(
    benchmark: BenchmarkFixture, text_stream: WireStream, subscribers: int
) -> None:
    delivered = benchmark.pedantic(
        text_deltas_fan_out, args=(text_stream.chunks, subscribers), rounds=5, warmup_rounds=1
    )
    assert delivered == subscribers * 20_000
    assert benchmark.stats is not None
    TIMINGS[f"text_deltas_{subscribers}"] = Timing(benchmark.stats.stats.min, text_stream.events)
    one, many = TIMINGS.get("text_deltas_1"), TIMINGS.get("text_deltas_51")
    if one is not None and many is not None:
        per_event = (many.seconds - one.seconds) / (50 * text_stream.events)
        TIMINGS["text_deltas_extra"] = Timing(per_event, 1)
        benchmark.extra_info["us_per_extra_subscriber_per_event"] = round(per_event * 1e6, 3)


# --- (f) peak memory against the SDK -------------------------------------------------------------

BIG = 200_000


@pytest.fixture(scope="module")
def big_stream() -> list[bytes]:
    return chunked(text_reply(words(BIG, BIG)), 4096)


def sdk_client(chunks: list[bytes]) -> anthropic.Anthropic:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
        )

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    return anthropic.Anthropic(api_key="test", http_client=http, max_retries=0)


def peak_of(client: Any) -> float:
    """MB: the peak of memory allocated while streaming (text_stream, then the final message)."""
    gc.collect()
    tracemalloc.start()
    try:
        with client.messages.stream(**PARAMS) as stream:
            n = sum(1 for _ in stream.text_stream)
            stream.get_final_message()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == BIG
    return peak / 1e6


@pytest.mark.timeout(1800)  # the SDK's round: minutes here (its text is quadratic)
@pytest.mark.parametrize(("kind", "key"), [("rxstream", "memory_adapter"), ("sdk", "memory_sdk")])
def test_peak_memory(
    benchmark: BenchmarkFixture, big_stream: list[bytes], kind: str, key: str
) -> None:
    client: Any = adapter_client(big_stream) if kind == "rxstream" else sdk_client(big_stream)
    peaks: list[float] = []
    benchmark.pedantic(lambda: peaks.append(peak_of(client)), rounds=1, iterations=1)
    client.close()
    TIMINGS[key] = Timing(peaks[0], 1)
    benchmark.extra_info["peak_mb"] = round(peaks[0], 1)
