"""The rxstream exception hierarchy: every error a user can catch is an `APIError`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._http import Response
    from ._types import Message

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BillingError",
    "ConflictError",
    "CredentialsError",
    "IncompleteStreamError",
    "InternalServerError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "StreamDecodeError",
    "SubscriberLagError",
    "UnprocessableEntityError",
    "error_class_for_status",
    "error_class_for_type",
]


class APIError(Exception):
    """Root of every error rxstream raises.

    `partial_message` holds the message accumulated before a stream failed, when
    the failure happened after `message_start`; `request_id` is the server's
    `request-id` when known. As in the official SDK: `body` is the error response's body
    (its JSON, else its text; None without one), `type` the body's `error.type`
    (`"overloaded_error"`, ...; None when there is no error body).
    """

    message: str
    body: object | None
    request_id: str | None
    partial_message: Message | None
    type: str | None

    def __init__(
        self,
        message: str,
        *,
        body: object | None = None,
        request_id: str | None = None,
        partial_message: Message | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.request_id = request_id
        self.partial_message = partial_message
        self.type = None


class APIStatusError(APIError):
    """The server answered with an error: an HTTP status >= 400, or an in-stream `error` event.

    `status_code` is the HTTP status (200 for an error event inside a stream that
    had started), `type` (also `error_type`) the `error.type` of the body
    (`"overloaded_error"`, ...), `workspace_id` the `anthropic-workspace-id` header.
    """

    status_code: int
    error_type: str | None
    workspace_id: str | None
    response: Response | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: str | None = None,
        body: object | None = None,
        request_id: str | None = None,
        workspace_id: str | None = None,
        response: Response | None = None,
        partial_message: Message | None = None,
    ) -> None:
        super().__init__(message, body=body, request_id=request_id, partial_message=partial_message)
        self.status_code = status_code
        self.error_type = error_type
        self.type = error_type
        self.workspace_id = workspace_id
        self.response = response


class BadRequestError(APIStatusError):
    """400 / `invalid_request_error`."""


class AuthenticationError(APIStatusError):
    """401 / `authentication_error`."""


class BillingError(APIStatusError):
    """402 / `billing_error`."""


class PermissionDeniedError(APIStatusError):
    """403 / `permission_error`."""


class NotFoundError(APIStatusError):
    """404 / `not_found_error`."""


class ConflictError(APIStatusError):
    """409."""


class RequestTooLargeError(APIStatusError):
    """413 / `request_too_large`."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429 / `rate_limit_error`."""


class InternalServerError(APIStatusError):
    """Any status >= 500 without a more specific class / `api_error`, `timeout_error`."""


class OverloadedError(InternalServerError):
    """529 / `overloaded_error`."""


class APIConnectionError(APIError):
    """The connection failed or dropped: no answer, or an answer cut short."""


class APITimeoutError(APIConnectionError):
    """The request, or the wait for the next event (idle timeout), took too long."""


class IncompleteStreamError(APIConnectionError):
    """The body ended cleanly but before `message_stop`: the message is incomplete."""


class StreamDecodeError(APIError):
    """The bytes received are not a valid event stream.

    The message names what was wrong and where: the event's name and ordinal, the
    byte offset in the stream, the block index or field when those are known.
    """

    offset: int | None

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        request_id: str | None = None,
        partial_message: Message | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, partial_message=partial_message)
        self.offset = offset


class SubscriberLagError(APIError):
    """A subscriber with `on_overflow="error"` fell more than `max_lag` events behind.

    Only that subscriber ends with it; the stream and the others go on. `lag` is how many
    events it had not taken yet, `max_lag` the bound it chose.
    """

    lag: int
    max_lag: int

    def __init__(self, message: str, *, lag: int, max_lag: int) -> None:
        super().__init__(message)
        self.lag = lag
        self.max_lag = max_lag


_BY_STATUS: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: BillingError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    529: OverloadedError,
}

_BY_TYPE: Final[dict[str, type[APIStatusError]]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "billing_error": BillingError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "request_too_large": RequestTooLargeError,
    "rate_limit_error": RateLimitError,
    "timeout_error": InternalServerError,
    "api_error": InternalServerError,
    "overloaded_error": OverloadedError,
}

# The HTTP status an in-stream error of each type would have had as a response.
STATUS_FOR_TYPE: Final[dict[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "api_error": 500,
    "overloaded_error": 529,
}


def error_class_for_status(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status (>= 400)."""
    cls = _BY_STATUS.get(status_code)
    if cls is not None:
        return cls
    return InternalServerError if status_code >= 500 else APIStatusError


def error_class_for_type(error_type: str | None) -> type[APIStatusError]:
    """The exception class for an error body's `error.type`; unknown types give `APIStatusError`."""
    if error_type is None:
        return APIStatusError
    return _BY_TYPE.get(error_type, APIStatusError)


def describe(exc: Any) -> str:
    """A one-line description of a foreign exception, for wrapping it."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CredentialsError(APIError):
    """No usable API key or auth token: raised when a request is about to be sent, unsent."""
