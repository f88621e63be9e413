"""Every exception rxstream raises: one hierarchy, rooted in `APIError`.

The everyday ones are also in `rxstream` itself; the rest (one class per HTTP status / error
type, as in the official SDK) live here.

    try:
        message = client.messages.create(...)
    except rxstream.errors.NotFoundError:
        ...
"""

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
]
