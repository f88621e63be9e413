"""Any thread: close() / dispose() from another thread end a read blocked on a silent server
at once (the server sees the connection closed); subscribe, iter and dispose never wait for
the stream; late joiners from many threads get every event exactly once after their
snapshot; `subscribe_on` subscriptions stop reading when disposed."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.scheduler import NewThreadScheduler
from streams import Stream, Text, chunked

import rxstream
from rxstream import SharedStream, SnapshotEvent, StreamItem
from rxstream import operators as rxo
from rxstream.accumulate import MessageAccumulator

STREAM = Stream([Text("tick " * 200, chunk=5)])
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


@dataclass
class SilentServer:
    """Sends the headers and the first `events` events, then nothing: it waits for the
    client to close, and records when it saw the connection closed."""

    events: int = 4
    url: str = ""
    closed_at: list[float] = field(default_factory=list)
    requests: int = 0

    def serve(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            parts = STREAM.sse().split(b"\n\n")
            sent = b"\n\n".join(parts[: self.events]) + b"\n\n"
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (len(sent), sent)
            )
            conn.settimeout(10)
            try:
                while conn.recv(65536):  # silent: only waits for the client to go
                    pass
            except OSError:
                pass
            self.closed_at.append(time.monotonic())


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    server.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
    thread.start()
    yield server
    listener.close()


def client_for(server: SilentServer) -> rxstream.Client:
    return rxstream.Client(base_url=server.url, api_key="test-key", max_retries=0, timeout=10)


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_message_stream_close_from_another_thread_ends_a_blocked_read(
    silent: SilentServer,
) -> None:
    with client_for(silent) as client:
        stream = client.messages.stream(**PARAMS).__enter__()
        seen: list[str] = []
        ended: list[float] = []

        def read() -> None:
            for event in stream:
                seen.append(event.type)
            ended.append(time.monotonic())

        reader = threading.Thread(target=read)
        reader.start()
        wait_until(lambda: len(seen) >= 3)
        time.sleep(0.05)  # the reader is now blocked in recv on the silent server
        closed = time.monotonic()
        stream.close()
        reader.join(5)
        assert ended, "the reader is still blocked"
        assert ended[0] - closed < 0.05
        wait_until(lambda: bool(silent.closed_at))
        assert silent.closed_at[0] - closed < 0.05


def test_disposing_a_shared_streams_connection_from_another_thread(silent: SilentServer) -> None:
    with client_for(silent) as client:
        shared = SharedStream(client.messages.observe(**PARAMS))
        seen: list[StreamItem] = []
        completed: list[float] = []
        errors: list[Exception] = []
        shared.subscribe(seen.append, errors.append, lambda: completed.append(time.monotonic()))
        connection: list[Any] = []
        returned: list[float] = []

        def run() -> None:
            connection.append(shared.connect())
            returned.append(time.monotonic())

        reader = threading.Thread(target=run)
        reader.start()
        wait_until(lambda: len(seen) >= 3)
        time.sleep(0.05)
        closed = time.monotonic()
        shared.connect().dispose()  # connected already: the same connection, at once
        reader.join(5)
        assert returned, "connect() is still blocked"
        assert returned[0] - closed < 0.05
        wait_until(lambda: bool(silent.closed_at))
        assert silent.closed_at[0] - closed < 0.05
        assert errors == []  # disposed: no error to anyone


def test_subscribe_and_dispose_from_another_thread_never_wait_for_the_stream(
    silent: SilentServer,
) -> None:
    with client_for(silent) as client:
        shared = SharedStream(client.messages.observe(**PARAMS))
        seen: list[StreamItem] = []
        shared.subscribe(seen.append)
        connection: list[Any] = []
        reader = threading.Thread(target=lambda: connection.append(shared.connect()))
        reader.start()
        wait_until(lambda: len(seen) >= 3)
        started = time.monotonic()
        late: list[StreamItem] = []
        subscription = shared.subscribe(late.append)
        iterator = shared.iter()
        subscription.dispose()
        iterator.close()
        assert time.monotonic() - started < 0.05
        assert isinstance(late[0], SnapshotEvent)
        shared.connect().dispose()
        reader.join(5)
        assert not reader.is_alive()


def test_dispose_honours_subscribe_on() -> None:
    """Disposing an `observe(...).pipe(subscribe_on(...))` subscription stops the reading."""
    pulled: list[int] = []
    gate = threading.Event()

    def chunks() -> Iterator[bytes]:
        for k, chunk in enumerate(chunked(STREAM.sse(), 64)):
            pulled.append(k)
            if k == 3:
                gate.wait(5)  # the subscriber disposes meanwhile
            yield chunk

    got: list[StreamItem] = []
    subscription = (
        rxstream.from_sse(chunks).pipe(ops.subscribe_on(NewThreadScheduler())).subscribe(got.append)
    )
    wait_until(lambda: len(pulled) >= 4)
    subscription.dispose()
    gate.set()
    time.sleep(0.1)
    assert len(pulled) <= 8  # up to the next event at most, not the whole reply
    assert len(chunked(STREAM.sse(), 64)) > 20


# --- late joiners: exactly once, under many concurrent joins from other threads -----------


def check_exactly_once(items: list[StreamItem], full: list[StreamItem]) -> None:
    """`items` is a snapshot of a prefix of `full`, then exactly the events after it."""
    first, *rest = items
    if isinstance(first, SnapshotEvent):
        accumulator = MessageAccumulator()
        accumulator.feed(first)
        skipped = len(full) - len(rest)
        assert rest == full[skipped:]
        replay = MessageAccumulator()
        for event in full[:skipped]:
            replay.feed(event)
        assert rxstream.encode(first.snapshot.to_message()) == rxstream.encode(replay.message())
    else:
        assert items == full


@pytest.mark.parametrize("where", ["shared_stream", "message_stream_events"])
def test_thousands_of_cross_thread_joins_each_see_every_event_once(where: str) -> None:
    data = STREAM.sse()
    joins = 2000
    full: list[StreamItem] = []
    results: list[list[StreamItem]] = [[] for _ in range(joins)]
    start = threading.Barrier(9)

    if where == "shared_stream":
        shared = SharedStream(rxstream.from_sse(chunked(data, 48)))
        shared.subscribe(full.append)
        source: reactivex.Observable[StreamItem] = shared
        run: Callable[[], object] = shared.connect
    else:
        client = rxstream.Client(
            api_key="k",
            http_client=_mock_http(data),
            max_retries=0,
        )
        stream = client.messages.stream(**PARAMS).__enter__()
        source = stream.events
        source.subscribe(full.append)
        run = stream.until_done

    def joiner(worker: int) -> None:
        start.wait()
        for k in range(worker, joins, 8):
            source.subscribe(results[k].append)
            if k % 50 == 0:
                time.sleep(0.0005)

    threads = [threading.Thread(target=joiner, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    start.wait()
    run()
    for thread in threads:
        thread.join(10)
    for items in results:
        check_exactly_once(items, full)


def _mock_http(data: bytes) -> Any:
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(chunked(data, 48))
        )

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_randomized_cross_thread_joins_disposes_iterators_and_closes() -> None:
    """Thousands of random operations from 8 threads while the stream runs: every consumer
    that stays sees a consistent stream, nothing deadlocks, everything detaches."""
    rnd = random.Random(2026)
    plans = [[rnd.choice("sdiIkc") for _ in range(400)] for _ in range(8)]
    data = STREAM.sse()

    def chunks() -> Iterator[bytes]:
        for chunk in chunked(data, 48):
            time.sleep(0.0002)
            yield chunk

    shared = SharedStream(rxstream.from_sse(chunks))
    full: list[StreamItem] = []
    shared.subscribe(full.append)
    kept: list[list[StreamItem]] = []
    finals: list[list[Any]] = []
    connection: list[Any] = []

    def worker(plan: list[str]) -> None:
        live: list[Any] = []
        for op in plan:
            if op == "s":
                items: list[StreamItem] = []
                kept.append(items)
                shared.subscribe(items.append)
            elif op == "d":
                out: list[StreamItem] = []
                live.append(shared.subscribe(out.append))
            elif op == "i":
                live.append(shared.iter(max_lag=rnd.randint(1, 8)))
            elif op == "I":
                live.append(shared.iter(on_overflow="drop_oldest", max_lag=2))
            elif op == "k" and live:
                thing = live.pop(rnd.randrange(len(live)))
                (thing.close if hasattr(thing, "close") else thing.dispose)()
            elif op == "c":
                message: list[Any] = []
                finals.append(message)
                shared.pipe(rxo.final_message()).subscribe(message.append)
        for thing in live:
            (thing.close if hasattr(thing, "close") else thing.dispose)()

    threads = [threading.Thread(target=worker, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    connection.append(shared.connect())
    for thread in threads:
        thread.join(20)
        assert not thread.is_alive()
    for items in kept:
        check_exactly_once(items, full)
    message = rxstream.encode(_message_of(full))
    for got in finals:
        assert [rxstream.encode(m) for m in got] == [message]
    assert shared.subscriber_count == 0


def _message_of(events: list[StreamItem]) -> rxstream.Message:
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    return accumulator.message()
