"""rxstream: the Anthropic Messages API stream as composable ReactiveX Observables."""

from ._accumulate import MessageAccumulator as MessageAccumulator
from ._accumulate import MessageSnapshot as MessageSnapshot
from ._accumulate import SnapshotEvent as SnapshotEvent
from ._accumulate import StreamItem as StreamItem
from ._async_client import AsyncClient as AsyncClient
from ._client import Client as Client
from ._client_core import NOT_GIVEN as NOT_GIVEN
from ._client_core import NotGiven as NotGiven
from ._decode import aiter_events as aiter_events
from ._decode import aiter_sse as aiter_sse
from ._decode import decode_event as decode_event
from ._decode import encode as encode
from ._decode import iter_events as iter_events
from ._decode import iter_sse as iter_sse
from ._errors import APIConnectionError as APIConnectionError
from ._errors import APIError as APIError
from ._errors import APIStatusError as APIStatusError
from ._errors import APITimeoutError as APITimeoutError
from ._errors import AuthenticationError as AuthenticationError
from ._errors import BadRequestError as BadRequestError
from ._errors import BillingError as BillingError
from ._errors import ConflictError as ConflictError
from ._errors import CredentialsError as CredentialsError
from ._errors import IncompleteStreamError as IncompleteStreamError
from ._errors import InternalServerError as InternalServerError
from ._errors import NotFoundError as NotFoundError
from ._errors import OverloadedError as OverloadedError
from ._errors import PermissionDeniedError as PermissionDeniedError
from ._errors import RateLimitError as RateLimitError
from ._errors import RequestTooLargeError as RequestTooLargeError
from ._errors import StreamDecodeError as StreamDecodeError
from ._errors import SubscriberLagError as SubscriberLagError
from ._errors import UnprocessableEntityError as UnprocessableEntityError
from ._fanout import SharedStream as SharedStream
from ._sources import from_async_response as from_async_response
from ._sources import from_async_sse as from_async_sse
from ._sources import from_response as from_response
from ._sources import from_sse as from_sse
from ._sse import ServerSentEvent as ServerSentEvent
from ._sse import SSEDecoder as SSEDecoder
from ._types import *  # noqa: F403  (the wire types; `_types.__all__` is the list)
from ._types import __all__ as _wire_names
from ._unknown import UnknownBlock as UnknownBlock
from ._unknown import UnknownCitation as UnknownCitation
from ._unknown import UnknownDelta as UnknownDelta
from ._unknown import UnknownEvent as UnknownEvent
from ._unknown import UnknownValue as UnknownValue

__version__ = "0.1.0"

# The official SDK's client names, so `from anthropic import Anthropic` becomes
# `from rxstream import Anthropic` and nothing else changes.
Anthropic = Client
AsyncAnthropic = AsyncClient

__all__ = [
    *_wire_names,
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Anthropic",
    "AsyncAnthropic",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BillingError",
    "Client",
    "ConflictError",
    "CredentialsError",
    "IncompleteStreamError",
    "MessageAccumulator",
    "MessageSnapshot",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "SSEDecoder",
    "SharedStream",
    "SnapshotEvent",
    "StreamItem",
    "ServerSentEvent",
    "StreamDecodeError",
    "SubscriberLagError",
    "UnknownBlock",
    "UnknownCitation",
    "UnknownDelta",
    "UnknownEvent",
    "UnknownValue",
    "UnprocessableEntityError",
    "aiter_events",
    "aiter_sse",
    "decode_event",
    "encode",
    "from_async_response",
    "from_async_sse",
    "from_response",
    "from_sse",
    "iter_events",
    "iter_sse",
]
