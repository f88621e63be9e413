"""Typed events from SSE bytes: one msgspec decode per event, unknown types kept raw."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, Final, cast

import msgspec

from ._convert import EVENT_TAGS, convert_event
from ._encode import encode as encode
from ._errors import StreamDecodeError
from ._sse import DEFAULT_MAX_EVENT_SIZE, EventRun, RawEvent, ServerSentEvent, SSEDecoder
from ._types import MessageStreamEvent, _KnownEvent
from ._unknown import UnknownEvent

__all__ = [
    "aiter_events",
    "aiter_sse",
    "decode_event",
    "encode",
    "iter_events",
    "iter_sse",
]

_event_decoder: Final = msgspec.json.Decoder(_KnownEvent)
_decode_known: Final = _event_decoder.decode
_json_decoder: Final = msgspec.json.Decoder()

# What msgspec raises for bytes that are not JSON: malformed or truncated input, invalid UTF-8
# in a string, a number out of range (a ValidationError), nesting deeper than it recurses.
_NOT_JSON: Final = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def _excerpt(data: bytes) -> str:
    return repr(data[:60]) + ("..." if len(data) > 60 else "")


def _where(name: bytes | None, ordinal: int, offset: int) -> str:
    label = f" {name.decode('utf-8', 'replace')!r}" if name else ""
    return f"event #{ordinal}{label} at byte {offset}"


def decode_event(raw: RawEvent) -> MessageStreamEvent:
    """Decode one raw SSE event into its typed value.

    Raises `StreamDecodeError` naming the event, its ordinal and byte offset when the data is
    not JSON, or when a known event type lacks a field or has one of the wrong type.
    """
    try:
        event: MessageStreamEvent = _event_decoder.decode(raw[1])
        return event
    except msgspec.ValidationError:
        return _decode_slow(raw)
    except _NOT_JSON as exc:
        return _not_json(raw, exc)


def _not_json(raw: RawEvent, exc: Exception) -> MessageStreamEvent:
    """Data that is not JSON: an unknown event keeps it raw, a known one is an error."""
    name = raw[0]
    if name and name.decode("utf-8", "replace") not in EVENT_TAGS:
        return UnknownEvent(name.decode("utf-8", "replace"), raw[1])
    raise StreamDecodeError(
        f"invalid JSON in {_where(name, raw[2], raw[3])}: {exc}; data starts {_excerpt(raw[1])}",
        offset=raw[3],
    ) from None


def _decode_slow(raw: RawEvent) -> MessageStreamEvent:
    """The rare path: an unknown type somewhere, a missing `type`, or a real schema error."""
    name, data, ordinal, offset = raw[0], raw[1], raw[2], raw[3]
    try:
        # The typed decoder may have stopped at an unknown tag before seeing that the rest
        # is not JSON at all.
        obj = _json_decoder.decode(data)
    except _NOT_JSON as exc:
        return _not_json(raw, exc)
    if not isinstance(obj, dict):
        if name and name.decode("utf-8", "replace") not in EVENT_TAGS:
            return UnknownEvent(name.decode("utf-8", "replace"), data)
        raise StreamDecodeError(
            f"{_where(name, ordinal, offset)} is not a JSON object; data starts {_excerpt(data)}",
            offset=offset,
        ) from None
    kind = obj.get("type")
    if not isinstance(kind, str):
        if not name:
            raise StreamDecodeError(
                f"{_where(name, ordinal, offset)} has neither an event name nor a JSON `type`",
                offset=offset,
            ) from None
        kind = name.decode("utf-8", "replace")
        obj = {"type": kind, **obj}
    if kind == "snapshot":
        return _snapshot(obj)
    if kind not in EVENT_TAGS:
        return UnknownEvent(kind, data)
    try:
        return convert_event(kind, obj)
    except msgspec.ValidationError as error:
        raise StreamDecodeError(
            f"{_where(name, ordinal, offset)} ({kind}) does not match the schema: {error}",
            offset=offset,
        ) from None


def _snapshot(obj: dict[str, Any]) -> MessageStreamEvent:
    """An `event: snapshot` (what `rxstream.web` sends a reader that starts mid-stream) as
    the `SnapshotEvent` it stands for, so accumulators and operators resume from it."""
    from ._snapshot_wire import decode_snapshot  # imports this module: resolved on first use

    # Not a wire event, but every consumer of decoded events (accumulators, operators) takes
    # a `StreamItem`, which a `SnapshotEvent` is; only relays ever send one.
    return cast(MessageStreamEvent, decode_snapshot(obj))


def _to_sse(raw: RawEvent) -> ServerSentEvent:
    name = raw[0]
    return ServerSentEvent(
        event=name.decode("utf-8", "replace") if name else "message",
        data=raw[1].decode("utf-8", "replace"),
        id=raw[4],
        retry=raw[5],
    )


def iter_sse(
    chunks: Iterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> Iterator[ServerSentEvent]:
    """Yield the raw `ServerSentEvent`s of a byte stream (for relays and debugging)."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    for chunk in chunks:
        for raw in decoder.feed(chunk):
            yield _to_sse(raw)
    for raw in decoder.end()[0]:
        yield _to_sse(raw)


async def aiter_sse(
    chunks: AsyncIterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> AsyncGenerator[ServerSentEvent, None]:
    """Async twin of `iter_sse`; closes the chunk iterator when it stops, early or not."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    iterator = aiter(chunks)
    try:
        async for chunk in iterator:
            for raw in decoder.feed(chunk):
                yield _to_sse(raw)
    finally:
        await _aclose(iterator)
    for raw in decoder.end()[0]:
        yield _to_sse(raw)


def iter_events(
    chunks: Iterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> Iterator[MessageStreamEvent]:
    """Yield the typed events of a byte stream.

    Raises `StreamDecodeError` for bytes that are not a valid event stream. The stream's
    completeness (a `message_stop`) is the accumulator's concern, not this function's.
    """
    decoder = SSEDecoder(max_event_size=max_event_size)
    for chunk in chunks:
        items = decoder._feed_runs(chunk)
        if items:
            events, error = _decode_items(items)
            yield from events
            if error is not None:
                raise error
    for raw in decoder.end()[0]:
        yield decode_event(raw)


def _decode_items(
    items: list[RawEvent | EventRun],
) -> tuple[list[MessageStreamEvent], StreamDecodeError | None]:
    """The events of one chunk; at a bad one, those before it and the error."""
    events: list[MessageStreamEvent] = []
    try:
        for item in items:
            if isinstance(item, EventRun):
                try:  # a run at once, in C; a failure redoes it one event at a time
                    events.extend(list(map(_decode_known, item.data)))
                except _NOT_JSON:
                    for raw in item.raw_events():
                        events.append(decode_event(raw))
            else:
                events.append(decode_event(item))
    except StreamDecodeError as exc:
        return events, exc
    return events, None


async def aiter_events(
    chunks: AsyncIterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> AsyncGenerator[MessageStreamEvent, None]:
    """Async twin of `iter_events`; closes the chunk iterator when it stops, early or not."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    iterator = aiter(chunks)
    try:
        async for chunk in iterator:
            items = decoder._feed_runs(chunk)
            if items:
                events, error = _decode_items(items)
                for event in events:
                    yield event
                if error is not None:
                    raise error
    finally:
        await _aclose(iterator)
    for raw in decoder.end()[0]:
        yield decode_event(raw)


async def _aclose(iterator: AsyncIterator[bytes]) -> None:
    # An async generator abandoned mid-way (a decode error, a consumer that stopped) is
    # otherwise finalized by the garbage collector, outside its event loop.
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
