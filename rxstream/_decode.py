"""Typed events from SSE bytes: one msgspec decode per event, unknown types kept raw."""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
)
from typing import Any, Final, TypeVar

import msgspec

from ._errors import StreamDecodeError
from ._sse import DEFAULT_MAX_EVENT_SIZE, EventRun, RawEvent, ServerSentEvent, SSEDecoder
from ._types import (
    CitationsDelta,
    ContentBlock,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStreamEvent,
    TextBlock,
    _KnownBlock,
    _KnownCitation,
    _KnownDelta,
    _KnownEvent,
)
from ._unknown import UnknownBlock, UnknownCitation, UnknownDelta, UnknownEvent, UnknownValue

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

_T = TypeVar("_T")


def _tags(union: Any) -> frozenset[str]:
    return frozenset(t.__struct_config__.tag for t in union.__args__)


_EVENT_TAGS: Final = _tags(_KnownEvent)
_BLOCK_TAGS: Final = _tags(_KnownBlock)
_DELTA_TAGS: Final = _tags(_KnownDelta)
_CITATION_TAGS: Final = _tags(_KnownCitation)


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, UnknownValue):
        return msgspec.Raw(obj.raw)
    raise NotImplementedError(f"rxstream cannot encode {type(obj).__name__}")


_encoder: Final = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode(value: Any) -> bytes:
    """Encode a wire value (event, message, block, ...) back to its JSON bytes."""
    return _encoder.encode(value)


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
    if name and name.decode("utf-8", "replace") not in _EVENT_TAGS:
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
        if name and name.decode("utf-8", "replace") not in _EVENT_TAGS:
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
    if kind not in _EVENT_TAGS:
        return UnknownEvent(kind, data)
    try:
        return _convert_event(kind, obj)
    except msgspec.ValidationError as error:
        raise StreamDecodeError(
            f"{_where(name, ordinal, offset)} ({kind}) does not match the schema: {error}",
            offset=offset,
        ) from None


def _at(path: str, convert: Callable[[Any], _T], obj: Any) -> _T:
    """`convert(obj)`, its validation errors located at `path` inside the enclosing value."""
    try:
        return convert(obj)
    except msgspec.ValidationError as exc:
        text, at, rest = str(exc).rpartition(" - at `$")
        where = f" - at `${path}{rest}" if at else f" - at `${path}`"
        raise msgspec.ValidationError((text if at else str(exc)) + where) from None


# Stand-ins for a nested value converted on its own, so that the enclosing struct is still
# validated by msgspec (missing and mistyped fields reported by name).
_SOME_BLOCK: Final = {"type": "redacted_thinking", "data": ""}
_SOME_DELTA: Final = {"type": "signature_delta", "signature": ""}


def _convert_event(kind: str, obj: dict[str, Any]) -> MessageStreamEvent:
    # msgspec cannot decode a tagged union with an unknown tag, so the nested values that may
    # hold one are converted on their own and put in place.
    block = obj.get("content_block")
    if kind == "content_block_start" and isinstance(block, dict):
        start = msgspec.convert({**obj, "content_block": _SOME_BLOCK}, ContentBlockStartEvent)
        return msgspec.structs.replace(
            start, content_block=_at(".content_block", _convert_block, block)
        )
    delta = obj.get("delta")
    if kind == "content_block_delta" and isinstance(delta, dict):
        event = msgspec.convert({**obj, "delta": _SOME_DELTA}, ContentBlockDeltaEvent)
        return msgspec.structs.replace(event, delta=_at(".delta", _convert_delta, delta))
    if kind == "message_delta" and isinstance(delta, dict):
        # Some proxies drop the nullable stop fields the API always sends.
        changed = {"stop_reason": None, "stop_sequence": None, **delta}
        return msgspec.convert({**obj, "delta": changed}, MessageDeltaEvent)
    message = obj.get("message")
    if kind == "message_start" and isinstance(message, dict):
        content = message.get("content")
        if isinstance(content, list):
            skeleton = {**obj, "message": {**message, "content": []}}
            begun = msgspec.convert(skeleton, MessageStartEvent)
            blocks = tuple(
                _at(f".message.content[{i}]", _convert_block, b) for i, b in enumerate(content)
            )
            return MessageStartEvent(message=msgspec.structs.replace(begun.message, content=blocks))
    converted: MessageStreamEvent = msgspec.convert(obj, _KnownEvent)
    return converted


def _convert_tagged(
    obj: Any, tags: frozenset[str], union: Any, unknown: Callable[[str, bytes], UnknownValue]
) -> Any:
    if isinstance(obj, dict):
        kind = obj.get("type")
        if isinstance(kind, str) and kind not in tags:
            return unknown(kind, msgspec.json.encode(obj))
    return msgspec.convert(obj, union)


def _convert_citation(obj: Any) -> Any:
    return _convert_tagged(obj, _CITATION_TAGS, _KnownCitation, UnknownCitation)


def _convert_block(obj: Any) -> ContentBlock:
    if (
        isinstance(obj, dict)
        and obj.get("type") == "text"
        and isinstance(obj.get("citations"), list)
    ):
        citations = tuple(
            _at(f".citations[{i}]", _convert_citation, c) for i, c in enumerate(obj["citations"])
        )
        block = msgspec.convert({**obj, "citations": None}, TextBlock)
        return msgspec.structs.replace(block, citations=citations)
    converted_block: ContentBlock = _convert_tagged(obj, _BLOCK_TAGS, _KnownBlock, UnknownBlock)
    return converted_block


def _convert_delta(obj: Any) -> Any:
    if obj.get("type") == "citations_delta" and isinstance(obj.get("citation"), dict):
        return CitationsDelta(citation=_at(".citation", _convert_citation, obj["citation"]))
    return _convert_tagged(obj, _DELTA_TAGS, _KnownDelta, UnknownDelta)


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
