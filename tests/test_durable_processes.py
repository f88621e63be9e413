"""Durable streams across processes: producers and consumers are `python -m rxstream.durable`
commands (subprocesses of this interpreter) on a real redis-server; the paced emulator in
this process is the Messages API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import redis
from redis_server import RedisServer

import rxstream
from rxstream import MessageStartEvent
from rxstream.accumulate import MessageAccumulator
from rxstream.durable import RedisStore
from rxstream.emulator import Emulator, serve
from rxstream.sse import decode_event

PROMPT = "Write a long story about a lighthouse keeper"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def paced() -> Iterator[Emulator]:
    """The emulator, sending 150 tokens a second: a reply takes a few seconds."""
    with serve(tps=150) as emulator:
        yield emulator


def command(url: str, *args: str, ttl: float = 30.0) -> list[str]:
    base = [sys.executable, "-m", "rxstream.durable", "--redis", url, "--lease", "0.5"]
    return [*base, "--ttl", str(ttl), "--checkpoint-every", "10", *args]


_RUNNING: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    """Every process a test started is gone, and its pipes closed, after the test."""
    yield
    while _RUNNING:
        process = _RUNNING.pop()
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def spawn(argv: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "ANTHROPIC_API_KEY": "test"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    _RUNNING.append(process)
    return process


def produce(url: str, emulator: Emulator, stream_id: str, **kw: Any) -> subprocess.Popen[str]:
    """A producer process; returns once it holds the stream's lease."""
    args = ["produce", stream_id, "--base-url", emulator.base_url, "--prompt", PROMPT]
    process = spawn(command(url, *args, "--max-tokens", "600", **kw))
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while not client.exists(f"rxstream:{{{stream_id}}}:lease"):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the producer did not start"
        time.sleep(0.01)
    client.close()
    return process


def consume(url: str, stream_id: str, *args: str, ttl: float = 30.0) -> subprocess.Popen[str]:
    return spawn(command(url, "consume", stream_id, "--jsonl", *args, ttl=ttl))


def lines(stream: IO[str] | None, count: int | None = None) -> list[dict[str, Any]]:
    """`count` JSON lines from a consumer's output (all of them when None)."""
    assert stream is not None
    out: list[dict[str, Any]] = []
    while count is None or len(out) < count:
        line = stream.readline()
        if not line:
            break
        out.append(json.loads(line))
    return out


def finish(process: subprocess.Popen[str], timeout: float = 30) -> list[dict[str, Any]]:
    got = lines(process.stdout)
    process.wait(timeout)
    return got


def message_of(items: list[dict[str, Any]]) -> rxstream.Message:
    """The message a consumer's lines build (a snapshot line first, or events only)."""
    accumulator = MessageAccumulator()
    for item in items:
        if "snapshot" in item:
            data = json.dumps({"type": "message_start", "message": item["snapshot"]}).encode()
            start = decode_event((None, data, 0, 0, "", None))
            assert isinstance(start, MessageStartEvent)
            accumulator.feed(start)
        elif "event" in item:
            accumulator.feed(
                decode_event((None, json.dumps(item["event"]).encode(), 0, 0, "", None))
            )
    return accumulator.message()


def new_id() -> str:
    return f"proc-{uuid.uuid4()}"


def test_two_consumer_processes_and_one_killed_then_resumed_by_its_last_id(
    redis_server: RedisServer, paced: Emulator
) -> None:
    url, stream_id = redis_server.url, new_id()
    producer = produce(url, paced, stream_id)
    first = consume(url, stream_id, "--mode", "replay")
    second = consume(url, stream_id, "--mode", "replay")
    before = lines(second.stdout, 15)
    second.send_signal(signal.SIGKILL)
    second.wait()
    resumed = consume(url, stream_id, "--mode", "replay", "--after", before[-1]["id"])
    late_snapshot = consume(url, stream_id, "--after", before[7]["id"])
    whole = finish(first)
    rest = finish(resumed)
    snapshot_then_tail = finish(late_snapshot)
    assert producer.wait(30) == 0
    assert whole[-1] == {"end": "completed"}
    assert before + rest == whole  # no gap, no duplicate: the exact same entries and ids
    assert message_of(snapshot_then_tail) == message_of(whole[:-1])
    assert "snapshot" in snapshot_then_tail[0]
    assert snapshot_then_tail[1:] == whole[8:]
    assert message_of(whole[:-1]).stop_reason in ("end_turn", "max_tokens")


def test_a_killed_producer_gives_its_consumers_producer_lost_error(
    redis_server: RedisServer, paced: Emulator
) -> None:
    url, stream_id = redis_server.url, new_id()
    producer = produce(url, paced, stream_id)
    consumer = consume(url, stream_id)
    lines(consumer.stdout, 5)
    producer.send_signal(signal.SIGKILL)
    producer.wait()
    killed = time.monotonic()
    rest = finish(consumer)
    assert rest[-1]["end"] == "error"
    assert rest[-1]["class"] == "ProducerLostError"
    assert consumer.returncode == 1
    assert time.monotonic() - killed < 5  # about two leases (0.5 s), never forever


def test_cancel_from_a_third_process_stops_the_producer_within_100_ms(
    redis_server: RedisServer, paced: Emulator
) -> None:
    url, stream_id = redis_server.url, new_id()
    producer = produce(url, paced, stream_id)
    consumer = consume(url, stream_id, "--mode", "replay")
    seen = lines(consumer.stdout, 10)
    record = paced.records[-1]
    canceller = subprocess.run(command(url, "cancel", stream_id), capture_output=True, text=True)
    done = time.monotonic()
    assert canceller.returncode == 0
    assert canceller.stdout.strip() == "cancelled"
    assert paced.wait_closed(record)
    assert record.closed_at is not None
    assert record.closed_at - done < 0.1  # the upstream connection closed, not run to the end
    assert not record.completed
    assert producer.wait(10) == 0
    rest = finish(consumer)
    assert rest[-1]["class"] == "StreamCancelledError"
    assert len(seen + rest) > 10
    again = subprocess.run(command(url, "cancel", stream_id), capture_output=True, text=True)
    assert again.returncode == 1  # already ended


def test_resume_after_the_end_then_after_expiry(redis_server: RedisServer, paced: Emulator) -> None:
    url, stream_id = redis_server.url, new_id()
    producer = produce(url, paced, stream_id, ttl=5.0)
    assert producer.wait(30) == 0
    ended = time.monotonic()
    whole = finish(consume(url, stream_id, "--mode", "replay"))
    assert whole[-1] == {"end": "completed"}
    middle = len(whole) // 2
    tail = finish(consume(url, stream_id, "--mode", "replay", "--after", whole[middle]["id"]))
    assert tail == whole[middle + 1 :]
    at_end = finish(consume(url, stream_id, "--after", whole[-2]["id"]))
    assert "snapshot" in at_end[0]
    assert at_end[1:] == [{"end": "completed"}]
    assert message_of(at_end) == message_of(whole[:-1])
    time.sleep(max(0.0, ended + 5.3 - time.monotonic()))  # past the 5 s ttl
    expired = finish(consume(url, stream_id, "--after", whole[middle]["id"]))
    assert expired == [expired[-1]]
    assert expired[-1]["class"] == "StreamNotFound"


def test_redis_restarted_mid_stream_ends_every_process_with_a_typed_error(
    tmp_path: Path, paced: Emulator
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    url, stream_id = server.url, new_id()
    producer = produce(url, paced, stream_id)
    consumer = consume(url, stream_id)
    lines(consumer.stdout, 5)
    server.restart()
    restarted = time.monotonic()
    rest = finish(consumer)
    assert producer.wait(10) == 1
    assert time.monotonic() - restarted < 10
    assert rest[-1]["class"] in ("StoreUnavailableError", "StreamNotFound")
    assert producer.stderr is not None
    error = producer.stderr.read()
    assert error.startswith(("StoreUnavailableError", "ProducerConflictError")), error
    server.stop()


def test_the_readme_two_process_example_runs(redis_server: RedisServer) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("<!-- durable-example -->")[1].split("<!-- /durable-example -->")[0]
    produce_line, consume_line = (
        line.split("#")[0].split() for line in block.splitlines() if line.startswith("python")
    )
    assert produce_line[:3] == consume_line[:3] == ["python", "-m", "rxstream.durable"]
    env = {**os.environ, "REDIS_URL": redis_server.url}
    stream_id = produce_line[4]
    producer = subprocess.Popen(
        [sys.executable, *produce_line[1:], "--tps", "400"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    _RUNNING.append(producer)
    client = redis.Redis.from_url(redis_server.url)
    while not client.exists(f"rxstream:{{{stream_id}}}:log"):
        assert producer.poll() is None
        time.sleep(0.01)
    consumer = subprocess.run(
        [sys.executable, *consume_line[1:]], env=env, capture_output=True, text=True, timeout=60
    )
    assert producer.wait(60) == 0
    assert consumer.returncode == 0
    text = consumer.stdout.strip()
    store = RedisStore(redis_server.url)
    whole = MessageAccumulator()
    for entry in store.entries(stream_id, mode="replay"):
        whole.feed(entry.item)
    assert text == whole.message().content[0].text.strip()  # type: ignore[union-attr]
    assert len(text) > 100
    store.close()
    client.close()
