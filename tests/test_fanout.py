"""SharedStream: one request for any number of subscribers, late joiners resumed from a
snapshot, a failing subscriber isolated from the others."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import reactivex
from reactivex import operators as ops
from streams import Stream, Text, Thinking, ToolUse, chunked, error_event, sse

import rxstream
from rxstream import (
    IncompleteStreamError,
    OverloadedError,
    SharedStream,
    SnapshotEvent,
    StreamDecodeError,
)
from rxstream import operators as rxo

TOOL_INPUT = {"city": "Zürich", "days": [1, 2, 3], "note": "naïve ☂️"}
STREAM = Stream(
    [
        Thinking("Weather first.", chunk=4),
        Text("Let me check — ", chunk=3),
        ToolUse(TOOL_INPUT, fragment=5),
        Text("Done ✅", chunk=2),
    ]
)
EVENTS = STREAM.events()
FULL_TEXT = "Let me check — Done ✅"


class Recorder:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.errors: list[Exception] = []
        self.completed = 0

    def on_next(self, item: Any) -> None:
        self.items.append(item)

    def on_error(self, error: Exception) -> None:
        self.errors.append(error)

    def on_completed(self) -> None:
        self.completed += 1

    def attach(self, source: reactivex.Observable[Any]) -> Recorder:
        source.subscribe(self.on_next, self.on_error, self.on_completed)
        return self


def counted_source(data: bytes = STREAM.sse()) -> tuple[reactivex.Observable[Any], list[int]]:
    opened: list[int] = []

    def open_chunks() -> Iterator[bytes]:
        opened.append(1)
        yield from chunked(data, 64)

    return rxstream.from_sse(open_chunks), opened


def index_of(predicate: Callable[[dict[str, Any]], bool]) -> int:
    return next(k for k, e in enumerate(EVENTS) if predicate(e))


def test_a_thousand_subscribers_see_every_event_from_one_request() -> None:
    source, opened = counted_source()
    shared = SharedStream(source)
    recorders = [Recorder().attach(shared) for _ in range(1000)]
    assert shared.subscriber_count == 1000
    shared.connect()
    assert opened == [1]
    first = recorders[0].items
    assert [e.type for e in first] == [e["type"] for e in EVENTS]
    for recorder in recorders:
        assert recorder.items == first
        assert (recorder.errors, recorder.completed) == ([], 1)
    assert shared.subscriber_count == 0


def test_a_thousand_operator_pipelines_share_one_request() -> None:
    source, opened = counted_source()
    shared = SharedStream(source)
    texts = [Recorder().attach(shared.pipe(rxo.final_text())) for _ in range(1000)]
    shared.connect()
    assert opened == [1]
    assert all(r.items == [FULL_TEXT] for r in texts)


def test_connect_is_idempotent() -> None:
    source, opened = counted_source()
    shared = SharedStream(source)
    assert shared.connect() is shared.connect()
    assert opened == [1]


# --- late joiners ------------------------------------------------------------------------------


def join_at(
    k: int, make: Callable[[reactivex.Observable[Any]], reactivex.Observable[Any]]
) -> tuple[Recorder, Recorder]:
    """Run the shared stream; while the k-th event is delivered, a late subscriber joins
    through `make(shared)`. Returns (the first subscriber, the late one)."""
    source, _ = counted_source()
    shared = SharedStream(source)
    late = Recorder()
    first = Recorder()

    def on_next(event: Any) -> None:
        first.on_next(event)
        if len(first.items) == k + 1:
            late.attach(make(shared))

    shared.subscribe(on_next, first.on_error, first.on_completed)
    shared.connect()
    return first, late


JOIN_POINTS = {
    "after_message_start": 0,
    "mid_thinking": index_of(lambda e: e.get("delta", {}).get("type") == "thinking_delta") + 1,
    "mid_text": index_of(lambda e: e.get("delta", {}).get("text") == " ch"),
    "mid_tool_input": index_of(lambda e: e.get("delta", {}).get("partial_json") == 'h", "'),
    "before_message_stop": len(EVENTS) - 2,
}


@pytest.mark.parametrize("k", JOIN_POINTS.values(), ids=JOIN_POINTS.keys())
def test_a_late_joiner_gets_a_snapshot_then_every_following_event(k: int) -> None:
    first, late = join_at(k, lambda shared: shared)
    snapshot_event, *following = late.items
    assert isinstance(snapshot_event, SnapshotEvent)
    assert following == first.items[k + 1 :]
    replay = rxstream.accumulate.MessageAccumulator()
    for event in first.items[: k + 1]:
        replay.feed(event)
    assert rxstream.encode(snapshot_event.snapshot.to_message()) == rxstream.encode(
        replay.message()
    )
    assert late.completed == 1


@pytest.mark.parametrize("k", JOIN_POINTS.values(), ids=JOIN_POINTS.keys())
def test_a_late_joiner_through_final_message_gets_the_whole_message(k: int) -> None:
    _, late = join_at(k, lambda shared: shared.pipe(rxo.final_message()))
    assert [json.loads(rxstream.encode(m)) for m in late.items] == [STREAM.message()]


@pytest.mark.parametrize("k", JOIN_POINTS.values(), ids=JOIN_POINTS.keys())
def test_a_late_joiner_through_text_deltas_gets_the_text_so_far_then_the_rest(k: int) -> None:
    _, late = join_at(k, lambda shared: shared.pipe(rxo.text_deltas()))
    assert "".join(late.items) == FULL_TEXT
    if k == JOIN_POINTS["mid_text"]:
        assert late.items[0] == "Let me ch"  # the text so far, as one string


def test_a_late_joiner_through_tool_inputs_mid_tool_input_gets_the_full_input() -> None:
    k = JOIN_POINTS["mid_tool_input"]
    _, late = join_at(k, lambda shared: shared.pipe(rxo.tool_inputs()))
    *deltas, final = late.items
    assert final == rxo.ToolInput(2, "toolu_01A09q90qw90lq917835lq9", "get_weather", TOOL_INPUT)
    assert deltas
    assert all(isinstance(d, rxo.ToolInputDelta) for d in deltas)
    assert deltas[0].partial["city"] == "Zürich"  # it resumed with the fragments before it
    assert deltas[-1].partial == TOOL_INPUT
    fragments = ToolUse(TOOL_INPUT, fragment=5).fragments()
    assert [d.partial_json for d in deltas] == fragments[-len(deltas) :]


def test_joining_after_completion_gets_the_snapshot_and_the_completion() -> None:
    source, _ = counted_source()
    shared = SharedStream(source)
    shared.connect()
    late = Recorder().attach(shared)
    (snapshot_event,) = late.items
    assert isinstance(snapshot_event, SnapshotEvent)
    assert snapshot_event.snapshot.complete
    assert json.loads(rxstream.encode(snapshot_event.snapshot.to_message())) == STREAM.message()
    assert (late.errors, late.completed) == ([], 1)
    final = Recorder().attach(shared.pipe(rxo.final_message()))
    assert [json.loads(rxstream.encode(m)) for m in final.items] == [STREAM.message()]


def test_joining_after_a_failure_gets_the_snapshot_and_the_error() -> None:
    source, _ = counted_source(sse([*EVENTS[:6], error_event("overloaded_error")]))
    shared = SharedStream(source)
    early = Recorder().attach(shared)
    shared.connect()
    late = Recorder().attach(shared)
    assert isinstance(late.items[0], SnapshotEvent)
    assert late.errors == early.errors
    assert isinstance(late.errors[0], OverloadedError)


def test_a_source_error_reaches_every_subscriber() -> None:
    source, _ = counted_source(sse(EVENTS[:8]))
    shared = SharedStream(source)
    recorders = [Recorder().attach(shared) for _ in range(3)]
    shared.connect()
    for recorder in recorders:
        (error,) = recorder.errors
        assert isinstance(error, IncompleteStreamError)
        assert len(recorder.items) == 8


# --- failing subscribers -----------------------------------------------------------------------


def test_a_raising_subscriber_is_removed_and_told_while_the_others_go_on() -> None:
    source, _ = counted_source()
    shared = SharedStream(source)
    before = Recorder().attach(shared)
    failing = Recorder()
    boom = RuntimeError("subscriber bug")

    def on_next(event: Any) -> None:
        failing.on_next(event)
        if len(failing.items) == 5:
            raise boom

    shared.subscribe(on_next, failing.on_error, failing.on_completed)
    after = Recorder().attach(shared)
    shared.connect()
    assert len(failing.items) == 5
    assert (failing.errors, failing.completed) == ([boom], 0)
    for recorder in (before, after):
        assert len(recorder.items) == len(EVENTS)
        assert (recorder.errors, recorder.completed) == ([], 1)


def test_on_subscriber_error_gets_the_error_when_on_error_raises_too() -> None:
    reported: list[BaseException] = []
    source, _ = counted_source()
    shared = SharedStream(source, on_subscriber_error=reported.append)
    first = RuntimeError("on_next failed")
    second = ValueError("on_error failed too")

    def on_next(event: Any) -> None:
        raise first

    def on_error(error: Exception) -> None:
        assert error is first
        raise second

    shared.subscribe(on_next, on_error)
    shared.subscribe(on_next)  # no on_error at all: its error is reported as well
    other = Recorder().attach(shared)
    shared.connect()
    assert reported == [second, first]
    assert other.completed == 1


def failing_after(n: int) -> Callable[[Any], Any]:
    seen: list[Any] = []

    def mapper(event: Any) -> Any:
        seen.append(event)
        if len(seen) == n:
            raise ValueError("mapper failed")
        return event

    return mapper


def test_an_operator_failing_for_one_subscriber_leaves_the_others() -> None:
    reported: list[BaseException] = []
    source, _ = counted_source()
    shared = SharedStream(source, on_subscriber_error=reported.append)
    told = Recorder().attach(shared.pipe(ops.map(failing_after(3))))
    # Without on_error, the operator's error has nobody to go to but the reporter.
    shared.pipe(ops.map(failing_after(4))).subscribe(lambda e: None)
    others = Recorder().attach(shared.pipe(rxo.final_message()))
    shared.connect()
    assert (len(told.items), [str(e) for e in told.errors]) == (2, ["mapper failed"])
    assert [str(e) for e in reported] == ["mapper failed"]
    assert [json.loads(rxstream.encode(m)) for m in others.items] == [STREAM.message()]


def test_invalid_tool_json_fails_the_shared_stream_after_the_events_before_it() -> None:
    bad = ToolUse(None, json_text='{"a": 1,,}')
    source, _ = counted_source(Stream([Text("hi"), bad]).sse())
    shared = SharedStream(source)
    tools = Recorder().attach(shared.pipe(rxo.tool_inputs()))
    events = Recorder().attach(shared)
    shared.connect()
    assert isinstance(tools.errors[0], StreamDecodeError)
    assert [d.partial_json for d in tools.items] == bad.fragments()
    assert events.items[-1].type == "content_block_delta"
    assert events.errors == tools.errors


def test_disposing_one_subscription_leaves_the_others() -> None:
    source, _ = counted_source()
    shared = SharedStream(source)
    leaving = Recorder()
    subscription: list[Any] = []

    def on_next(event: Any) -> None:
        leaving.on_next(event)
        if len(leaving.items) == 3:
            subscription[0].dispose()

    subscription.append(shared.subscribe(on_next))
    staying = Recorder().attach(shared)
    shared.connect()
    assert len(leaving.items) == 3
    assert len(staying.items) == len(EVENTS)


def test_disposing_the_connection_closes_the_source_for_everyone() -> None:
    closed: list[bool] = []

    def open_chunks() -> Iterator[bytes]:
        try:
            yield from chunked(STREAM.sse(), 16)
        finally:
            closed.append(True)

    shared = SharedStream(rxstream.from_sse(open_chunks))
    connection: list[Any] = []
    recorder = Recorder()

    def on_next(event: Any) -> None:
        recorder.on_next(event)
        if len(recorder.items) == 4:
            connection[0].dispose()

    shared.subscribe(on_next, recorder.on_error, recorder.on_completed)

    def connect(*_: Any) -> None:
        connection.append(shared.connect())

    reactivex.scheduler.CurrentThreadScheduler.singleton().schedule(connect)
    assert len(recorder.items) == 4
    assert closed == [True]
