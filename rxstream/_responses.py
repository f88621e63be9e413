"""What a response means, I/O-free: the error for an error status, whether a 2xx answer is an
event stream, a non-streaming body as a `Message`."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Final

import msgspec

from ._decode import decode_event
from ._errors import APIStatusError, StreamDecodeError, error_class_for_status
from ._http import Response
from ._retry import header
from ._types import Message, MessageStartEvent

__all__ = [
    "EXCERPT_SIZE",
    "decode_message",
    "error_from_response",
    "is_event_stream",
    "not_an_event_stream",
]


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, response: Response | None = None
) -> APIStatusError:
    """The exception for an error response: its class by status, `.body` the JSON or the text."""
    text = body.decode("utf-8", "replace").strip()
    decoded: object = text
    if text:
        with contextlib.suppress(msgspec.DecodeError):
            decoded = msgspec.json.decode(text)
    message = f"Error code: {status} - {decoded}" if text else f"Error code: {status}"
    error = decoded.get("error") if isinstance(decoded, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    request_id = header(headers, "request-id")
    if request_id is None and isinstance(decoded, dict):
        request_id = decoded.get("request_id")
    return error_class_for_status(status)(
        message,
        status_code=status,
        error_type=kind if isinstance(kind, str) else None,
        body=decoded,
        request_id=request_id if isinstance(request_id, str) else None,
        workspace_id=header(headers, "anthropic-workspace-id"),
        response=response,
    )


_EVENT_STREAM: Final = "text/event-stream"
EXCERPT_SIZE: Final = 256
"""How much of a body that is not an event stream to show in the error."""


def is_event_stream(headers: Mapping[str, str]) -> bool:
    """Whether a 2xx answer to a streaming request may be read as an event stream: its
    content type is `text/event-stream`, or missing (some proxies drop it)."""
    value = header(headers, "content-type")
    return not value or value.partition(";")[0].strip().lower() == _EVENT_STREAM


def not_an_event_stream(
    status: int, headers: Mapping[str, str], excerpt: bytes
) -> StreamDecodeError:
    """The error for a 2xx answer to a streaming request that is not an event stream (an HTML
    page from a proxy or a captive portal, a JSON body): it names the status, the content
    type, and shows the start of the body."""
    kind = header(headers, "content-type")
    shown = excerpt[:EXCERPT_SIZE].decode("utf-8", "replace")
    more = "..." if len(excerpt) > EXCERPT_SIZE else ""
    return StreamDecodeError(
        f"expected an event stream (text/event-stream), but the server answered {status} "
        f"with content-type {kind!r}; the body starts {shown!r}{more}",
        request_id=header(headers, "request-id"),
    )


_message_decoder: Final = msgspec.json.Decoder(Message)


def decode_message(data: bytes) -> Message:
    """A non-streaming response body as a `Message`; unknown blocks decode to `UnknownBlock`.

    Raises `StreamDecodeError` when the body is not a message.
    """
    try:
        return _message_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass  # an unknown block type, or a real error: the event decoder tells them apart
    wrapped = b'{"type":"message_start","message":' + data + b"}"
    try:
        event = decode_event((b"message_start", wrapped, 0, 0, "", None))
    except StreamDecodeError as exc:
        raise StreamDecodeError(f"the response body is not a Message: {exc.message}") from None
    if not isinstance(event, MessageStartEvent):  # pragma: no cover - decode_event's contract
        raise StreamDecodeError("the response body is not a Message")
    return event.message
