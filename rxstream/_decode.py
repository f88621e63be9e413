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
    Message,
    MessageDeltaEvent,
    MessageDeltaUsage,
    MessageStartEvent,
    MessageStreamEvent,
    TextBlock,
    Usage,
    _KnownBlock,
    _KnownCitation,
    _KnownDelta,
    _KnownEvent,
)
from ._unknown import UnknownBlock, UnknownCitation, UnknownDelta, UnknownEvent, UnknownValue
from ._wire import EXTRAS_KEY

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


def _classes(union: Any) -> dict[str, Any]:
    return {t.__struct_config__.tag: t for t in union.__args__}


_EVENT_TAGS: Final = _tags(_KnownEvent)
_BLOCK_CLASSES: Final = _classes(_KnownBlock)
_DELTA_TAGS: Final = _tags(_KnownDelta)
_CITATION_TAGS: Final = _tags(_KnownCitation)


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, UnknownValue):
        return msgspec.Raw(obj.raw)
    raise NotImplementedError(f"rxstream cannot encode {type(obj).__name__}")


_encoder: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
_EXTRAS_MARK: Final = b'"' + EXTRAS_KEY.encode() + b'":'


def encode(value: Any) -> bytes:
    """Encode a wire value (event, message, block, ...) back to its JSON bytes; fields that
    were kept in `extras` are written back in place, after the declared ones."""
    data = _encoder.encode(value)
    # Deltas (the hot path of a relay) never hold extras: no need to look for them.
    if type(value) is not ContentBlockDeltaEvent and _EXTRAS_MARK in data:
        data = _encoder.encode(_spread_extras(_json_decoder.decode(data)))
    return data


# Where an `extras` may sit inside an encoded value: messages, their usage and content
# blocks, the events that carry them, a `CutBlock`'s block. Tool inputs and tool results are
# never visited, so a key there that happens to be named like the extras field stays as is.
_NESTED: Final = ("message", "content_block", "usage", "block")


def _spread_extras(value: Any) -> Any:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            extras = item.pop(EXTRAS_KEY, None)
            if isinstance(extras, dict):
                for key, extra in extras.items():
                    item.setdefault(key, extra)
            pending.extend(item[key] for key in _NESTED if isinstance(item.get(key), dict))
            if item.get("type") == "message" and isinstance(item.get("content"), list):
                pending.extend(item["content"])
    return value


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
    # msgspec cannot decode a tagged union with an unknown tag, nor keep undeclared fields, so
    # the nested values that may hold either are converted on their own and put in place.
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
        return _convert_message_delta(obj, delta)
    message = obj.get("message")
    if kind == "message_start" and isinstance(message, dict):
        return MessageStartEvent(message=_at(".message", _convert_message, message))
    converted: MessageStreamEvent = msgspec.convert(obj, _KnownEvent)
    return converted


def _convert_message_delta(obj: dict[str, Any], delta: dict[str, Any]) -> MessageDeltaEvent:
    # Some proxies drop the nullable stop fields the API always sends.
    changed = {"stop_reason": None, "stop_sequence": None, **delta}
    usage, extras = obj.get("usage"), None
    if isinstance(usage, dict):
        usage, extras = _split(MessageDeltaUsage, usage)
    event = msgspec.convert({**obj, "delta": changed, "usage": usage}, MessageDeltaEvent)
    if extras is not None:
        event = msgspec.structs.replace(
            event, usage=msgspec.structs.replace(event.usage, extras=extras)
        )
    return event


def _convert_message(obj: dict[str, Any]) -> Message:
    """A message (of `message_start`, or a whole response), keeping undeclared fields."""
    known, extras = _split(Message, obj)
    body = dict(known)
    usage, usage_extras = known.get("usage"), None
    if isinstance(usage, dict):
        body["usage"], usage_extras = _split(Usage, usage)
    content = known.get("content")
    if isinstance(content, list):
        body["content"] = []
    message = msgspec.convert(body, Message)
    changes: dict[str, Any] = {}
    if isinstance(content, list):
        changes["content"] = tuple(
            _at(f".content[{i}]", _convert_block, b) for i, b in enumerate(content)
        )
    if extras is not None:
        changes["extras"] = extras
    if usage_extras is not None:
        changes["usage"] = msgspec.structs.replace(message.usage, extras=usage_extras)
    return msgspec.structs.replace(message, **changes) if changes else message


def _declared(cls: Any) -> frozenset[str]:
    names = _DECLARED.get(cls)
    if names is None:
        names = _DECLARED[cls] = frozenset(cls.__struct_encode_fields__) - {EXTRAS_KEY} | {"type"}
    return names


_DECLARED: Final[dict[Any, frozenset[str]]] = {}


def _split(cls: Any, obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`obj` without the fields `cls` does not declare, and those fields (None: none)."""
    names = _declared(cls)
    extras = {k: v for k, v in obj.items() if k not in names}
    if not extras:
        return obj, None
    return {k: v for k, v in obj.items() if k in names}, extras


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
    if isinstance(obj, dict):
        kind = obj.get("type")
        cls = _BLOCK_CLASSES.get(kind) if isinstance(kind, str) else None
        if isinstance(kind, str) and cls is None:
            return UnknownBlock(kind, msgspec.json.encode(obj))
        if cls is not None:
            known, extras = _split(cls, obj)
            citations = known.get("citations")
            if cls is TextBlock and isinstance(citations, list):
                block = msgspec.structs.replace(
                    msgspec.convert({**known, "citations": None}, TextBlock),
                    citations=tuple(
                        _at(f".citations[{i}]", _convert_citation, c)
                        for i, c in enumerate(citations)
                    ),
                )
            else:
                block = msgspec.convert(known, cls)
            return block if extras is None else msgspec.structs.replace(block, extras=extras)
    converted_block: ContentBlock = msgspec.convert(obj, _KnownBlock)
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
