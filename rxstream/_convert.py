"""The rare decode path: a JSON object that the one-pass typed decode refused, converted to
its typed event with msgspec still validating every declared field.

msgspec cannot decode a tagged union with an unknown tag, nor keep fields a struct does not
declare, so the nested values that may hold either (blocks, deltas, citations, a message and
its usage) are converted on their own: unknown tags become `Unknown...` values, undeclared
fields of messages, usage and blocks go into `extras`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import msgspec

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
from ._unknown import UnknownBlock, UnknownCitation, UnknownDelta, UnknownValue
from ._wire import EXTRAS_KEY

__all__ = ["EVENT_TAGS", "convert_event"]

_T = TypeVar("_T")


def _tags(union: Any) -> frozenset[str]:
    return frozenset(t.__struct_config__.tag for t in union.__args__)


def _classes(union: Any) -> dict[str, Any]:
    return {t.__struct_config__.tag: t for t in union.__args__}


EVENT_TAGS: Final = _tags(_KnownEvent)
"""The event types rxstream knows."""
_BLOCK_CLASSES: Final = _classes(_KnownBlock)
_DELTA_TAGS: Final = _tags(_KnownDelta)
_CITATION_TAGS: Final = _tags(_KnownCitation)


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


def convert_event(kind: str, obj: dict[str, Any]) -> MessageStreamEvent:
    """The event of known type `kind` from its decoded JSON; raises `msgspec.ValidationError`
    (located at the field) when a declared field is missing or of the wrong type."""
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
    body = {**obj, "delta": changed}
    usage, extras = obj.get("usage"), None
    if isinstance(usage, dict):
        body["usage"], extras = _split(MessageDeltaUsage, usage)
    event = msgspec.convert(body, MessageDeltaEvent)
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
