"""The Messages API wire format: JSON encoding, SSE framing and error bodies."""

from __future__ import annotations

import json
from typing import Any

_ERROR_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_STATUS_BY_ERROR_TYPE = {kind: status for status, kind in _ERROR_TYPE_BY_STATUS.items()}


def encode_json(value: Any) -> str:
    """Compact JSON, UTF-8 text kept as is (the API does not escape non-ASCII)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sse_frame(event: dict[str, Any]) -> bytes:
    """One SSE event as the API frames it: `event: <type>`, `data: <json>`, a blank line."""
    return f"event: {event['type']}\ndata: {encode_json(event)}\n\n".encode()


def error_type_for_status(status: int) -> str:
    """The `error.type` the API reports with an HTTP status."""
    if status in _ERROR_TYPE_BY_STATUS:
        return _ERROR_TYPE_BY_STATUS[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def status_for_error_type(error_type: str) -> int:
    """The HTTP status that goes with an `error.type` (500 for types the API does not list)."""
    return _STATUS_BY_ERROR_TYPE.get(error_type, 500)


def error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    """The error object the API sends as a response body or as an in-stream `error` event."""
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
