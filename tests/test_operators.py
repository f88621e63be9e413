"""Marble tests of rxstream.operators on reactivex's TestScheduler: what each operator emits,
at which virtual time, and how it ends."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from types import FunctionType
from typing import Any

import msgspec
import pytest
from reactivex import Observable
from reactivex import operators as ops
from reactivex.notification import Notification
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.recorded import Recorded
from streams import CITATIONS, Stream, Text, Thinking, ToolUse, server_tool_use, sse

import rxstream
from rxstream import IncompleteStreamError, MessageSnapshot, StreamDecodeError
from rxstream import operators as rxo

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)

FIRST, STEP = 210, 10  # the k-th event of a stream is pushed at FIRST + STEP * k


def at(k: int) -> int:
    return FIRST + STEP * k


def typed(events: list[dict[str, Any]]) -> list[rxstream.MessageStreamEvent]:
    return list(rxstream.sse.iter_events([sse(events)]))


def hot(scheduler: TestScheduler, events: list[Any], *, end: str = "completed") -> Observable[Any]:
    """The events pushed at FIRST, FIRST + STEP, ..., then completion (or an error, or nothing)."""
    messages = [on_next(at(k), event) for k, event in enumerate(events)]
    if end == "completed":
        messages.append(on_completed(at(len(events))))
    elif end == "error":
        messages.append(on_error(at(len(events)), "connection reset"))
    return scheduler.create_hot_observable(messages)


def run(events: list[dict[str, Any]], operator: Any, *, end: str = "completed") -> list[Any]:
    scheduler = TestScheduler()
    source = hot(scheduler, typed(events), end=end)
    operators = operator if isinstance(operator, list) else [operator]
    return scheduler.start(lambda: source.pipe(*operators)).messages


def ticks_of(events: list[dict[str, Any]], wanted: Any) -> list[int]:
    return [at(k) for k, event in enumerate(events) if wanted(event)]


def is_delta(kind: str) -> Any:
    return lambda e: e["type"] == "content_block_delta" and e["delta"]["type"] == kind


def notification(recorded: Recorded[Any]) -> Notification[Any]:
    """The notification a recorded message holds (not an on_next/on_error predicate)."""
    assert isinstance(recorded.value, Notification)
    return recorded.value


def citation_of(event: rxstream.MessageStreamEvent) -> rxstream.types.Citation:
    """The citation a `citations_delta` event carries."""
    assert isinstance(event, rxstream.ContentBlockDeltaEvent)
    assert isinstance(event.delta, rxstream.types.CitationsDelta)
    return event.delta.citation


MIXED = Stream(
    [
        Thinking("Think: 2+2 → 4", chunk=5),
        Text("Héllo ", chunk=2, citations=[CITATIONS["char_location"], CITATIONS["page_location"]]),
        ToolUse({"city": "Paris", "n": [12, True]}, fragment=6),
        Text("wörld 🌍", chunk=3, citations=[CITATIONS["web_search_result_location"]]),
    ],
    delta_usage={"output_tokens": 57, "input_tokens": 480},
)
EVENTS = MIXED.events()
END = at(len(EVENTS))


def test_text_deltas_emits_each_text_delta_when_it_arrives() -> None:
    expected = [
        on_next(at(k), e["delta"]["text"])
        for k, e in enumerate(EVENTS)
        if is_delta("text_delta")(e)
    ]
    assert run(EVENTS, rxo.text_deltas()) == [*expected, on_completed(END)]
    assert "".join(notification(m).value for m in expected) == "Héllo wörld 🌍"


def test_thinking_deltas_emits_each_thinking_delta_when_it_arrives() -> None:
    expected = [
        on_next(at(k), e["delta"]["thinking"])
        for k, e in enumerate(EVENTS)
        if is_delta("thinking_delta")(e)
    ]
    assert run(EVENTS, rxo.thinking_deltas()) == [*expected, on_completed(END)]
    assert "".join(notification(m).value for m in expected) == "Think: 2+2 → 4"


def test_citations_emits_each_citation_in_order() -> None:
    decoded = typed(EVENTS)
    expected = [
        on_next(at(k), citation_of(decoded[k]))
        for k, e in enumerate(EVENTS)
        if is_delta("citations_delta")(e)
    ]
    messages = run(EVENTS, rxo.citations())
    assert messages == [*expected, on_completed(END)]
    assert [json.loads(rxstream.encode(notification(m).value)) for m in messages[:-1]] == [
        CITATIONS["char_location"],
        CITATIONS["page_location"],
        CITATIONS["web_search_result_location"],
    ]


def describe(update: rxo.ToolInputDelta | rxo.ToolInput) -> tuple[Any, ...]:
    if isinstance(update, rxo.ToolInputDelta):
        return ("delta", update.index, update.id, update.name, update.partial_json, update.partial)
    return ("input", update.index, update.id, update.name, update.input)


def test_tool_inputs_gives_a_partial_value_per_delta_then_the_input_at_block_stop() -> None:
    tool_id, name = "toolu_01A09q90qw90lq917835lq9", "get_weather"
    expected_partials = [
        ("", {}),  # the API's empty first fragment: still the block's {}
        ('{"city', {}),  # a key shows once its value has begun
        ('": "Pa', {"city": "Pa"}),  # strings may be cut short
        ('ris", ', {"city": "Paris"}),
        ('"n": [', {"city": "Paris", "n": []}),
        ("12, tr", {"city": "Paris", "n": [12]}),  # no literal before it is complete
        ("ue]}", {"city": "Paris", "n": [12, True]}),
    ]
    delta_ticks = ticks_of(EVENTS, is_delta("input_json_delta"))
    stop_tick = next(
        at(k) for k, e in enumerate(EVENTS) if e["type"] == "content_block_stop" and e["index"] == 2
    )
    assert run(EVENTS, [rxo.tool_inputs(), ops.map(describe)]) == [
        *(
            on_next(tick, ("delta", 2, tool_id, name, fragment, partial))
            for tick, (fragment, partial) in zip(delta_ticks, expected_partials, strict=True)
        ),
        on_next(stop_tick, ("input", 2, tool_id, name, {"city": "Paris", "n": [12, True]})),
        on_completed(END),
    ]


def test_tool_inputs_covers_server_tool_use_blocks() -> None:
    events = Stream([server_tool_use("météo", fragment=4)]).events()
    messages = run(events, rxo.tool_inputs())
    assert notification(messages[-2]).value == rxo.ToolInput(
        0, "srvtoolu_014hJH82Qum7Td6UZxVM6z", "web_search", {"query": "météo"}
    )
    assert [notification(m).value.partial for m in messages[:-2]][-1] == {"query": "météo"}


def test_tool_input_partials_read_late_still_show_their_own_moment() -> None:
    updates: list[Any] = []
    rxstream.from_sse([MIXED.sse()]).pipe(rxo.tool_inputs()).subscribe(updates.append)
    deltas = [u for u in updates if isinstance(u, rxo.ToolInputDelta)]
    assert [d.partial for d in deltas][2:4] == [{"city": "Pa"}, {"city": "Paris"}]


def test_tool_inputs_ends_with_stream_decode_error_for_invalid_json() -> None:
    tool = ToolUse(None, name="lookup", json_text='{"city": "Paris",}', fragment=5)
    events = Stream([tool]).events()
    stop = next(k for k, e in enumerate(events) if e["type"] == "content_block_stop")
    messages = run(events, rxo.tool_inputs())
    assert len(messages) == len(tool.fragments()) + 1
    why = "invalid input JSON for tool 'lookup' (block 0) at offset 17: expected a string key"

    def decode_error(error: Exception) -> bool:
        return isinstance(error, StreamDecodeError) and str(error) == why

    # (an on_error predicate only matches on the left of ==; on_error types it as a FunctionType)
    assert isinstance(decode_error, FunctionType)
    assert on_error(at(stop), decode_error) == messages[-1]


def test_snapshots_emits_one_immutable_snapshot_per_event_that_changes_the_message() -> None:
    messages = run(EVENTS, rxo.snapshots())
    changing = ticks_of(EVENTS, lambda e: e["type"] != "ping")
    assert [m.time for m in messages] == [*changing, END]
    snapshots: list[MessageSnapshot] = [notification(m).value for m in messages[:-1]]
    for count, snapshot in zip(
        (k + 1 for k, e in enumerate(EVENTS) if e["type"] != "ping"), snapshots, strict=True
    ):
        replay = rxstream.accumulate.MessageAccumulator()
        for event in typed(EVENTS[:count]):
            replay.feed(event)
        assert rxstream.encode(snapshot.to_message()) == rxstream.encode(replay.message())
    assert snapshots[-1].complete
    assert json.loads(rxstream.encode(snapshots[-1].to_message())) == MIXED.message()


def test_final_message_emits_the_message_once_at_completion() -> None:
    messages = run(EVENTS, rxo.final_message())
    assert [m.time for m in messages] == [END, END]
    assert json.loads(rxstream.encode(notification(messages[0]).value)) == MIXED.message()
    assert messages[1] == on_completed(END)


def test_final_message_errors_with_the_partial_message_when_message_stop_never_came() -> None:
    cut = EVENTS[:-3]
    messages = run(cut, rxo.final_message())

    def incomplete_with_partial(error: Exception) -> bool:
        assert isinstance(error, IncompleteStreamError)
        assert error.partial_message is not None
        assert error.partial_message.content[-1] == rxstream.TextBlock(
            text="wörld 🌍",
            citations=(
                msgspec.convert(CITATIONS["web_search_result_location"], rxstream.types.Citation),
            ),
        )
        return True

    assert isinstance(incomplete_with_partial, FunctionType)
    assert [on_error(at(len(cut)), incomplete_with_partial)] == messages


def test_final_text_is_the_text_of_all_text_blocks() -> None:
    assert run(EVENTS, rxo.final_text()) == [
        on_next(END, "Héllo wörld 🌍"),
        on_completed(END),
    ]


def test_usage_after_message_start_and_each_message_delta() -> None:
    start = rxstream.Usage(
        input_tokens=472,
        output_tokens=2,
        cache_creation_input_tokens=0,
        cache_read_input_tokens=0,
        cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        service_tier="standard",
    )
    final = msgspec.structs.replace(start, input_tokens=480, output_tokens=57)
    delta_tick = next(at(k) for k, e in enumerate(EVENTS) if e["type"] == "message_delta")
    assert run(EVENTS, rxo.usage()) == [
        on_next(at(0), start),
        on_next(delta_tick, final),
        on_completed(END),
    ]


OPERATORS = {
    "text_deltas": rxo.text_deltas,
    "thinking_deltas": rxo.thinking_deltas,
    "citations": rxo.citations,
    "tool_inputs": rxo.tool_inputs,
    "snapshots": rxo.snapshots,
    "final_message": rxo.final_message,
    "final_text": rxo.final_text,
    "usage": rxo.usage,
    "metrics": rxo.metrics,
}


@pytest.mark.parametrize("make", OPERATORS.values(), ids=OPERATORS.keys())
def test_upstream_errors_pass_through_unchanged(
    make: Callable[[], Callable[[Observable[Any]], Observable[Any]]],
) -> None:
    messages = run(EVENTS[:5], make(), end="error")
    assert messages[-1] == on_error(at(5), "connection reset")


def test_metrics_measure_time_to_first_token_rate_and_elapsed_on_a_virtual_clock() -> None:
    stream = Stream([Text("abcdef", chunk=2)], delta_usage={"output_tokens": 9})
    events = stream.events()  # start, ping, block start, 3 deltas, stop, message_delta, stop
    scheduler = TestScheduler()
    source = hot(scheduler, typed(events))
    # TestScheduler.clock is the virtual time as a number (`now` is a datetime).
    messages = scheduler.start(
        lambda: source.pipe(rxo.metrics(clock=lambda: scheduler.clock))
    ).messages
    subscribed = ReactiveTest.subscribed  # 200: the operator's clock starts here
    first = at(3) - subscribed
    assert messages == [
        on_next(at(3), rxo.StreamMetrics(first, first, 1, 1, None)),
        on_next(at(4), rxo.StreamMetrics(first + 10, first, 2, 2, 1 / 10)),
        on_next(at(5), rxo.StreamMetrics(first + 20, first, 3, 3, 2 / 20)),
        on_next(at(7), rxo.StreamMetrics(first + 40, first, 3, 9, 8 / 40)),
        on_completed(at(9)),
    ]


def test_coalesce_text_joins_deltas_into_at_most_one_emission_per_interval() -> None:
    scheduler = TestScheduler()
    texts = ["Hé", "llo", " ", "wö", "rld", " 🌍", "!"]
    ticks = [205, 210, 249, 251, 260, 380, 390]  # none in [300, 350): that frame is silent
    events = typed(Stream([Text("".join(texts))]).events()[:3])
    deltas = [
        typed(
            [
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": t},
                }
            ]
        )[0]
        for t in texts
    ]
    source = scheduler.create_hot_observable(
        on_next(201, events[0]),
        on_next(202, events[1]),
        on_next(203, events[2]),
        *(on_next(t, d) for t, d in zip(ticks, deltas, strict=True)),
        on_completed(420),
    )
    messages = scheduler.start(
        lambda: source.pipe(rxo.coalesce_text(50, scheduler=scheduler))
    ).messages
    assert messages == [
        on_next(250, "Héllo "),  # frame [200, 250)
        on_next(300, "wörld"),  # frame [250, 300)
        on_next(400, " 🌍!"),  # frame [350, 400); [300, 350) had no text
        on_completed(420),  # the last, empty, frame emits nothing
    ]
    times = [m.time for m in messages if notification(m).kind == "N"]
    assert all(b - a >= 50 for a, b in itertools.pairwise(times))
    assert "".join(notification(m).value for m in messages[:-1]) == "".join(texts)


def test_coalesce_text_flushes_the_last_frame_at_completion() -> None:
    scheduler = TestScheduler()
    events = typed(Stream([Text("abc", chunk=1)]).events())
    source = scheduler.create_hot_observable(
        *(on_next(201 + k, e) for k, e in enumerate(events)), on_completed(201 + len(events))
    )
    messages = scheduler.start(
        lambda: source.pipe(rxo.coalesce_text(1000, scheduler=scheduler))
    ).messages
    end = 201 + len(events)
    assert messages == [on_next(end, "abc"), on_completed(end)]
