"""What a stream's log holds, as bytes: batches of events, checkpoints, the terminal record.

No I/O here: the Redis store (and any other) writes and reads these values. A log entry is
one batch of events that arrived together; event `k` of the batch at Redis id `xid` has the
`Entry` id `xid` (k = 0) or `xid:k`, so ids are valid SSE ids and order the stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, TypeAlias

import msgspec

from .. import _errors
from .._decode import decode_event, encode
from .._errors import APIError, APIStatusError
from .._types import (
    ContentBlockDeltaEvent,
    Message,
    MessageStartEvent,
    MessageStreamEvent,
    TextDelta,
    _KnownEvent,
)
from .._unknown import UnknownEvent
from . import _store

__all__ = [
    "Outcome",
    "Position",
    "decode_events",
    "decode_outcome",
    "encode_events",
    "encode_outcome",
    "entry_id",
    "outcome_error",
    "parse_position",
]

Position: TypeAlias = tuple[int, int, int]
"""(ms, seq, k): event k of the batch at Redis id `ms-seq`; (0, 0, -1) is before the start."""

START: Final[Position] = (0, 0, -1)

_raw_list: Final = msgspec.json.Decoder(list[msgspec.Raw])


def parse_position(event_id: str) -> Position:
    """The position of an `Entry.id`; ValueError naming the id when it is not one."""
    xid, colon, k = event_id.partition(":")
    ms, dash, seq = xid.partition("-")
    parts = (ms, seq, k) if colon else (ms, seq)
    if not dash or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"not a stream entry id: {event_id!r} (expected '<ms>-<seq>[:<k>]')")
    return int(ms), int(seq), int(k) if colon else 0


def parse_xid(xid: str | bytes) -> tuple[int, int]:
    """A Redis stream id as (ms, seq)."""
    text = xid.decode() if isinstance(xid, bytes) else xid
    ms, _, seq = text.partition("-")
    return int(ms), int(seq)


def entry_id(xid: str, k: int) -> str:
    """The `Entry.id` of event `k` of the batch at Redis id `xid`."""
    return xid if k == 0 else f"{xid}:{k}"


def _encodable(event: MessageStreamEvent) -> object:
    # An unknown event keeps its data raw; data that is not a JSON object is wrapped so that
    # the batch stays one JSON array.
    if type(event) is UnknownEvent:
        raw = event.raw
        if raw[:1] == b"{" and isinstance(_safe_json(raw), dict):
            return msgspec.Raw(raw)
        return {"type": "x_rxstream_raw", "name": event.wire_type, "data": raw.decode("latin-1")}
    return event


def _safe_json(raw: bytes) -> object:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


def encode_events(events: Sequence[MessageStreamEvent]) -> bytes:
    """One batch of events as a JSON array; a text delta, most of any stream, is written as
    `[index, text]` (a fifth of its wire size)."""
    return encode(
        [
            (e.index, e.delta.text)
            if type(e) is ContentBlockDeltaEvent and type(e.delta) is TextDelta
            else (_encodable(e) if type(e) is UnknownEvent else e)
            for e in events
        ]
    )


_batch: Final = msgspec.json.Decoder(list[tuple[int, str] | _KnownEvent])
_text_delta: Final = msgspec.json.Decoder(tuple[int, str])


def _text_event(index: int, text: str) -> ContentBlockDeltaEvent:
    return ContentBlockDeltaEvent(index=index, delta=TextDelta(text=text))


def decode_events(data: bytes) -> list[MessageStreamEvent]:
    """The events of a batch written by `encode_events`."""
    try:
        items = _batch.decode(data)  # the whole batch in C when every type is known
    except msgspec.ValidationError:
        return [_decode_one(bytes(raw)) for raw in _raw_list.decode(data)]
    return [_text_event(x[0], x[1]) if isinstance(x, tuple) else x for x in items]


def _decode_one(raw: bytes) -> MessageStreamEvent:
    if raw[:1] == b"[":
        return _text_event(*_text_delta.decode(raw))
    event = decode_event((None, raw, 0, 0, "", None))
    if type(event) is UnknownEvent and event.wire_type == "x_rxstream_raw":
        wrapped = msgspec.json.decode(event.raw)
        event = UnknownEvent(wrapped["name"], wrapped["data"].encode("latin-1"))
    return event


class Outcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """How a stream ended, as the terminal record stores it."""

    outcome: Literal["completed", "failed", "cancelled"]
    stop_reason: str | None = None
    usage: Any = None
    error_class: str | None = None
    status_code: int | None = None
    error_type: str | None = None
    message: str | None = None
    request_id: str | None = None
    partial_message: Any = None
    """The message so far (JSON; written as `msgspec.Raw`)."""


_outcome_decoder: Final = msgspec.json.Decoder(Outcome)


def encode_outcome(outcome: Outcome) -> bytes:
    """The terminal record's bytes."""
    return msgspec.json.encode(outcome)


def decode_outcome(data: bytes) -> Outcome:
    """A terminal record."""
    return _outcome_decoder.decode(data)


def completed(message: Message | None) -> Outcome:
    """The record of a stream that ended with its whole message."""
    if message is None:
        return Outcome("completed")
    usage = msgspec.json.decode(encode(message.usage))
    return Outcome("completed", stop_reason=message.stop_reason, usage=usage)


def failed(error: Exception, partial: Message | None) -> Outcome:
    """The record of a stream that failed with `error` (any exception; non-rxstream ones are
    kept as `APIError` with their class in the message)."""
    raw = msgspec.Raw(encode(partial)) if partial is not None else None
    if isinstance(error, APIError):
        return Outcome(
            "failed",
            error_class=type(error).__name__,
            status_code=error.status_code if isinstance(error, APIStatusError) else None,
            error_type=error.error_type if isinstance(error, APIStatusError) else None,
            message=error.message,
            request_id=error.request_id,
            partial_message=raw,
        )
    return Outcome(
        "failed", error_class="APIError", message=_errors.describe(error), partial_message=raw
    )


def cancelled(partial: Message | None) -> Outcome:
    """The record of a stream stopped by `store.cancel`."""
    raw = msgspec.Raw(encode(partial)) if partial is not None else None
    return Outcome("cancelled", partial_message=raw)


def _error_class(name: str | None) -> type[APIError]:
    for module in (_errors, _store):
        cls = getattr(module, name or "", None)
        if isinstance(cls, type) and issubclass(cls, APIError):
            return cls
    return APIError


def _message(value: Any) -> Message | None:
    if value is None:
        return None
    # Through the event decoder, so that block types this version does not know survive.
    data = b'{"type":"message_start","message":' + msgspec.json.encode(value) + b"}"
    start = decode_event((None, data, 0, 0, "", None))
    return start.message if isinstance(start, MessageStartEvent) else None


def outcome_error(outcome: Outcome) -> APIError | None:
    """The exception a consumer raises for this ending; None for a completed stream."""
    if outcome.outcome == "completed":
        return None
    partial = _message(outcome.partial_message)
    if outcome.outcome == "cancelled":
        return _store.StreamCancelledError("the stream was cancelled", partial_message=partial)
    cls = _error_class(outcome.error_class)
    text = outcome.message or "the stream failed"
    if issubclass(cls, APIStatusError):
        return cls(
            text,
            status_code=outcome.status_code or 500,
            error_type=outcome.error_type,
            request_id=outcome.request_id,
            partial_message=partial,
        )
    error = cls(text, request_id=outcome.request_id)
    error.partial_message = partial
    return error
